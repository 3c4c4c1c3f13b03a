"""The project's one vocabulary: machine names.

Every name that the SQL, the Python, the generator's truth file, the result
tables and the report share is defined here, once: codes and ethnic categories,
bands, canonical tables, stages, models, terms, contrasts, periods, WRES years.
Import from this module; never retype a term, stage, band or code list elsewhere.

The words a reader sees are not here: display names come only from
:mod:`tasks.core.display` (``display_stage``, ``display_term``, ...), which
translates these names.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass

from tasks.core.paths import REFERENCE_DIR

# --------------------------------------------------------------------------
# Programme and extract defaults
# --------------------------------------------------------------------------
DEFAULT_PROGRAMME_START = "2022-06"  # first month of the programme (YYYY-MM)


DEFAULT_PERIOD_START = "2021-09"


DEFAULT_PERIOD_END = "2024-01"


# --------------------------------------------------------------------------
# Agenda for Change bands
# --------------------------------------------------------------------------
SENIOR_BANDS: tuple[str, ...] = ("8a", "8b", "8c", "8d", "9", "VSM")


FEEDER_BANDS: tuple[str, ...] = ("6", "7")


WORKFORCE_BANDS: tuple[str, ...] = FEEDER_BANDS + SENIOR_BANDS


# current_band of an applicant may also be "external" or a lower band
CURRENT_BANDS: tuple[str, ...] = ("5",) + WORKFORCE_BANDS


REFERENCE_BAND = "8a"  # reference level for band terms in models


WORKFORCE_REFERENCE_BAND = "7"  # reference level of band terms in the apply_workforce model


# --------------------------------------------------------------------------
# Ethnicity (NHS Data Dictionary "Ethnic Category", 2001 census based)
# --------------------------------------------------------------------------
WRES_WHITE = "White"


WRES_BME = "BME"


WRES_UNKNOWN = "Unknown"


WRES_GROUPS: tuple[str, ...] = (WRES_WHITE, WRES_BME, WRES_UNKNOWN)


CENSUS_GROUPS: tuple[str, ...] = ("White", "Mixed", "Asian", "Black", "Other", "Not stated")


@dataclass(frozen=True)
class EthnicCategory:
    code: str
    description: str
    census_group: str
    wres_group: str


def _load_ethnic_categories() -> dict[str, EthnicCategory]:
    path = REFERENCE_DIR / "nhs_ethnic_category.csv"
    out: dict[str, EthnicCategory] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out[row["code"]] = EthnicCategory(
                row["code"], row["description"], row["census_group"], row["wres_group"]
            )
    return out


ETHNIC_CATEGORIES: dict[str, EthnicCategory] = _load_ethnic_categories()


ETHNIC_CODES: tuple[str, ...] = tuple(ETHNIC_CATEGORIES)


UNKNOWN_CODES: tuple[str, ...] = ("Z", "99")


# Extended local codes: two characters, the first a main-category letter A-S,
# the second an upper-case letter or digit (e.g. "CA", "LH").  They belong to
# the main category of their first letter.
MAIN_CATEGORY_LETTERS: tuple[str, ...] = tuple(c for c in ETHNIC_CODES if len(c) == 1 and c != "Z")


EXTENDED_CODE_PATTERN = r"^[A-HJ-NPRS][A-Z0-9]$"


ETHNIC_CODE_PATTERN = r"^([A-HJ-NPRSZ]|99|[A-HJ-NPRS][A-Z0-9])$"


def main_ethnic_code(code: str | None) -> str | None:
    """Map a code (main, extended local, or not-stated) to its main code, or None if invalid."""
    if code is None:
        return None
    c = code.strip().upper()
    if c in ETHNIC_CATEGORIES:
        return c
    if len(c) == 2 and c[0] in MAIN_CATEGORY_LETTERS and c[1].isalnum():
        return c[0]
    return None


def wres_group(code: str | None) -> str | None:
    main = main_ethnic_code(code)
    return ETHNIC_CATEGORIES[main].wres_group if main else None


def census_group(code: str | None) -> str | None:
    main = main_ethnic_code(code)
    return ETHNIC_CATEGORIES[main].census_group if main else None


# --------------------------------------------------------------------------
# Other categorical values
# --------------------------------------------------------------------------
SEXES: tuple[str, ...] = ("Female", "Male")


AGE_BANDS: tuple[str, ...] = ("<30", "30-39", "40-49", "50-59", "60+")


REFERENCE_AGE_BAND = "40-49"


DISABILITY_VALUES: tuple[str, ...] = ("Yes", "No", "Not declared")


PANEL_ROLES: tuple[str, ...] = ("Chair", "Member", "Independent", "HR")


WITHDRAWN_STAGES: tuple[str, ...] = ("application", "shortlist", "interview", "offer")


DIRECTORATES: tuple[str, ...] = (
    "Medicine", "Surgery", "Women and Children", "Clinical Support",
    "Nursing", "Finance", "Workforce", "Estates and Facilities", "Digital", "Corporate",
)


STAFF_GROUPS: tuple[str, ...] = (
    "Nursing and Midwifery", "Allied Health Professionals", "Administrative and Clerical",
    "Additional Clinical Services", "Healthcare Scientists", "Estates and Ancillary",
)


# --------------------------------------------------------------------------
# Canonical tables (see docs/data-contract.md)
# --------------------------------------------------------------------------
CANONICAL_TABLES: dict[str, dict[str, str]] = {
    "vacancies": {
        "vacancy_id": "VARCHAR", "job_title": "VARCHAR", "band": "VARCHAR",
        "directorate": "VARCHAR", "staff_group": "VARCHAR", "advert_date": "DATE",
        "closing_date": "DATE", "hiring_manager_id": "VARCHAR", "letter_to_ceo": "BOOLEAN",
        "letter_received": "BOOLEAN", "posts": "INTEGER",
    },
    "hiring_managers": {"manager_id": "VARCHAR", "ethnic_category": "VARCHAR", "sex": "VARCHAR"},
    "panel_members": {
        "vacancy_id": "VARCHAR", "member_id": "VARCHAR", "ethnic_category": "VARCHAR",
        "sex": "VARCHAR", "role": "VARCHAR",
    },
    "applications": {
        "application_id": "VARCHAR", "vacancy_id": "VARCHAR", "candidate_id": "VARCHAR",
        "staff_id": "VARCHAR", "applied_date": "DATE", "ethnic_category": "VARCHAR",
        "sex": "VARCHAR", "age_band": "VARCHAR", "disability": "VARCHAR", "internal": "BOOLEAN",
        "current_band": "VARCHAR", "shortlisted": "BOOLEAN", "interviewed": "BOOLEAN",
        "offered": "BOOLEAN", "offer_declined": "BOOLEAN", "appointed": "BOOLEAN",
        "withdrawn_stage": "VARCHAR",
        "shortlisted_date": "DATE", "interviewed_date": "DATE", "offered_date": "DATE",
        "declined_date": "DATE", "appointed_date": "DATE", "withdrawn_date": "DATE",
    },
    "interview_scores": {
        "application_id": "VARCHAR", "member_id": "VARCHAR", "criterion": "VARCHAR",
        "score": "DOUBLE", "max_score": "DOUBLE",
    },
    "assessments": {
        "application_id": "VARCHAR", "author_id": "VARCHAR", "written_date": "DATE", "text": "VARCHAR",
    },
    "ceo_letters": {"vacancy_id": "VARCHAR", "written_date": "DATE", "text": "VARCHAR"},
    "workforce": {
        "snapshot_month": "DATE", "staff_id": "VARCHAR", "band": "VARCHAR",
        "ethnic_category": "VARCHAR", "sex": "VARCHAR", "directorate": "VARCHAR",
    },
}


# Status-change dates of an application: the column each dates -> its date column (funnel order).
# A point-in-time run counts a status only if its date is on or before the as_of month's last day.
STATUS_DATE_COLUMNS: dict[str, str] = {
    "shortlisted": "shortlisted_date", "interviewed": "interviewed_date", "offered": "offered_date",
    "offer_declined": "declined_date", "appointed": "appointed_date", "withdrawn_stage": "withdrawn_date",
}


# Whether an export dates its status changes (results.runs.status_dates): every status dated,
# some undated (those read as final flags), or none (point-in-time runs use final flags)
STATUS_DATES_COMPLETE, STATUS_DATES_PARTIAL, STATUS_DATES_ABSENT = "complete", "partial", "absent"


# Canonical columns an export may leave out (staged as NULL; see docs/data-contract.md)
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {"applications": tuple(STATUS_DATE_COLUMNS.values())}


# Natural keys of each canonical table
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "vacancies": ("vacancy_id",),
    "hiring_managers": ("manager_id",),
    "panel_members": ("vacancy_id", "member_id"),
    "applications": ("application_id",),
    "interview_scores": ("application_id", "member_id", "criterion"),
    "assessments": ("application_id", "author_id"),
    "ceo_letters": ("vacancy_id",),
    "workforce": ("snapshot_month", "staff_id"),
}


# Which source system each table comes from
TABLE_SOURCE: dict[str, str] = {t: "trac" for t in CANONICAL_TABLES} | {"workforce": "esr"}


# Columns that hold pseudonymised identifiers
ID_COLUMNS: tuple[str, ...] = (
    "vacancy_id", "manager_id", "hiring_manager_id", "member_id", "application_id",
    "candidate_id", "staff_id", "author_id",
)


# The date column that places each record in time (point-in-time filtering)
TABLE_DATE_COLUMN: dict[str, str | None] = {
    "vacancies": "advert_date", "hiring_managers": None, "panel_members": None,
    "applications": "applied_date", "interview_scores": None, "assessments": "written_date",
    "ceo_letters": "written_date", "workforce": "snapshot_month",
}


TEXT_TABLES: tuple[str, ...] = ("assessments", "ceo_letters")


TEXT_QUARTER_VARIABLE = "written_quarter"  # the ``variable`` of text rows stratified by quarter of writing


# --------------------------------------------------------------------------
# Stages and model terms: shared by the generator (truth.json, effects YAML)
# and every analysis (result tables).
# --------------------------------------------------------------------------
STAGE_APPLY_POOL = "apply_pool"


STAGE_APPLY_WORKFORCE = "apply_workforce"


STAGE_SHORTLIST = "shortlist"


STAGE_OFFER = "offer"


STAGE_APPOINT_FROM_SHORTLIST = "appoint_from_shortlist"


STAGE_INTERVIEW_SCORE = "interview_score"


STAGE_ASSESSMENT_TONE = "assessment_tone"


STAGE_ASSESSMENT_TOPICS = "assessment_topics"


STAGE_PROGRAMME_IMPACT = "programme_impact"


FUNNEL_STAGES: tuple[str, ...] = (
    STAGE_APPLY_POOL, STAGE_APPLY_WORKFORCE, STAGE_SHORTLIST, STAGE_OFFER,
    STAGE_APPOINT_FROM_SHORTLIST,
)


MODEL_LOGIT = "logit"


MODEL_BINOMIAL_GLM = "binomial_glm"


MODEL_CONDITIONAL_LOGIT = "conditional_logit"


MODEL_LINEAR = "linear"


MODEL_MIXED_LINEAR = "mixed_linear"


MODEL_MULTINOMIAL_LOGIT = "multinomial_logit"


MODEL_SEGMENTED_LINEAR = "segmented_linear"


TERM_INTERCEPT = "intercept"


TERM_BME = "bme"


TERM_FEMALE = "female"


TERM_INTERNAL = "internal"


TERM_DISABILITY = "disability"


TERM_LETTER_TO_CEO = "letter_to_ceo"


TERM_DIVERSE_PANEL = "diverse_panel"


TERM_POST_PROGRAMME = "post_programme"


TERM_MANAGER_BME = "manager_bme"


TERM_MANAGER_FEMALE = "manager_female"


TERM_OFFERED = "offered"


INTERACTION_SEP = ":"


def interaction(a: str, b: str) -> str:
    """Term of an interaction, e.g. ``bme:letter_to_ceo``."""
    return f"{a}{INTERACTION_SEP}{b}"


TERM_BME_X_LETTER = interaction(TERM_BME, TERM_LETTER_TO_CEO)  # "bme:letter_to_ceo"


TERM_BME_X_PANEL = interaction(TERM_BME, TERM_DIVERSE_PANEL)  # "bme:diverse_panel"


TERM_BME_X_POST = interaction(TERM_BME, TERM_POST_PROGRAMME)  # "bme:post_programme"


TERM_LEVEL_CHANGE = "level_change"


TERM_SLOPE_CHANGE = "slope_change"


TERM_PRE_SLOPE = "pre_slope"  # pre-programme trend per month in the segmented regression


TERM_ETHNICITY_MATCH = "ethnicity_match"


BINARY_TERMS: tuple[str, ...] = (
    TERM_BME, TERM_FEMALE, TERM_INTERNAL, TERM_DISABILITY, TERM_LETTER_TO_CEO,
    TERM_DIVERSE_PANEL, TERM_POST_PROGRAMME, TERM_MANAGER_BME, TERM_MANAGER_FEMALE,
)


INTERACTION_TERMS: tuple[str, ...] = (TERM_BME_X_LETTER, TERM_BME_X_PANEL, TERM_BME_X_POST)


def band_term(band: str) -> str:
    """Term name of a band dummy, e.g. ``band=8b`` (reference 8a)."""
    return f"band={band}"


def age_band_term(age_band: str) -> str:
    return f"age_band={age_band}"


def topic_term(theme: str) -> str:
    """Term for a planted/estimated shift in the share of a theme, e.g. ``bme:theme=experience_readiness``."""
    return interaction(TERM_BME, f"theme={theme}")


CONTRAST_SEP = "@"


CONTRAST_PREFIX = f"{TERM_BME}{CONTRAST_SEP}"  # "bme@": every BME-vs-White contrast term starts with it


CONTRAST_LEVELS: tuple[int, ...] = (1, 0)  # levels of a binary feature a contrast is reported at, in order


def contrast_term(feature: str, level: int) -> str:
    """BME-vs-White contrast within a level of a programme feature, e.g. ``bme@letter_to_ceo=1``."""
    return f"{CONTRAST_PREFIX}{feature}={level}"


def contrast_terms(features: tuple[str, ...], levels: tuple[int, ...] = CONTRAST_LEVELS) -> tuple[str, ...]:
    """Contrast terms feature by feature, each at every level in order, e.g.
    ``(bme@letter_to_ceo=1, bme@letter_to_ceo=0, bme@diverse_panel=1, bme@diverse_panel=0)``."""
    return tuple(contrast_term(f, level) for f in features for level in levels)


ANALYSIS_MAIN = "main"  # the ``analysis`` label of the main (unstratified) models in odds_ratios


TOTAL_LABEL = "All"  # the margin label of band and wres_group in funnel_counts


# Competency themes of the free text (generator phrase bank and topic labels)
THEMES: tuple[str, ...] = (
    "leadership", "strategy", "communication", "finance_operations",
    "values_compassion", "experience_readiness", "stakeholder_engagement",
    "quality_improvement",
)


# Placeholders written by redaction
REDACTION_PLACEHOLDERS: tuple[str, ...] = (
    "[NAME]", "[EMAIL]", "[PHONE]", "[STAFF_NUMBER]", "[NHS_NUMBER]", "[REFERENCE]",
)


# --------------------------------------------------------------------------
# Warehouse schemas and run registry
# --------------------------------------------------------------------------
SCHEMAS: tuple[str, ...] = ("landing", "raw", "staging", "quarantine", "marts", "results", "published", "meta")


RUN_STATUSES: tuple[str, ...] = ("running", "completed", "failed")


# --------------------------------------------------------------------------
# Report keys: the first screen's five funnel steps, in funnel order, and the
# programme periods.  Their words are in tasks/core/display.py.
# --------------------------------------------------------------------------
FIRST_SCREEN_APPLYING, FIRST_SCREEN_SHORTLISTING, FIRST_SCREEN_INTERVIEW = "applying", "shortlisting", "interview"
FIRST_SCREEN_OFFER, FIRST_SCREEN_APPOINTMENT = "offer", "appointment"


PERIOD_PRE_PROGRAMME, PERIOD_POST_PROGRAMME = "pre_programme", "post_programme"


# --------------------------------------------------------------------------
# WRES years: NHS England's WRES year runs from 1 April to 31 March.  The
# national figure labelled with year Y (reference/wres_indicator2_national.csv,
# "WRES Y") counts the recruitment of the twelve months to 31 March Y, i.e.
# the financial year (Y-1)/Y.
# --------------------------------------------------------------------------
WRES_YEAR_FIRST_MONTH = 4  # April


NATIONAL_SCOPE = "England NHS trusts"  # the scope of national (all-trust) rows in the reference file


def financial_year(year: int, month: int) -> str:
    """The financial (WRES) year of a month, as "2022/23" (1 April 2022 to 31 March 2023)."""
    start = year if month >= WRES_YEAR_FIRST_MONTH else year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def financial_year_end(label: str) -> int:
    """The calendar year a financial year ends in ("2022/23" -> 2023): the national WRES period it matches."""
    start = int(str(label).split("/")[0])
    return start + 1


# --------------------------------------------------------------------------
# National evaluation (issue 16): the NHS England regions a trust belongs to,
# as the manifest of a national run names them.
# --------------------------------------------------------------------------
NHS_REGIONS: tuple[str, ...] = ("East of England", "London", "Midlands", "North East and Yorkshire", "North West",
                                "South East", "South West")
