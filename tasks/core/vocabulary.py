"""The project's one vocabulary.

Every name that the SQL, the Python, the generator's truth file, the result
tables and the report share is defined here, once.  Import from this module;
never retype a term, stage, band or code list elsewhere.
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
# Display vocabulary: the words a reader sees (report, workbook, artifacts).
# Every output turns a stage, term, group, band, period or NHS ethnic code
# into words with these helpers; raw names appear only in technical tables.
# --------------------------------------------------------------------------
STAGE_DISPLAY: dict[str, str] = {
    STAGE_APPLY_POOL: "Applying (who applies for each post)",
    STAGE_APPLY_WORKFORCE: "Applying (staff in feeder bands 6-7 who apply)",
    STAGE_SHORTLIST: "Shortlisting",
    STAGE_OFFER: "Offer (after interview)",
    STAGE_APPOINT_FROM_SHORTLIST: "Appointment (from shortlist)",
    STAGE_INTERVIEW_SCORE: "Interview scores",
    STAGE_ASSESSMENT_TONE: "Tone of written assessments",
    STAGE_ASSESSMENT_TOPICS: "Topics of written assessments",
    STAGE_PROGRAMME_IMPACT: "Programme impact over time",
}


# The first screen's five funnel steps, in funnel order: (key, words a reader uses)
FIRST_SCREEN_APPLYING, FIRST_SCREEN_SHORTLISTING, FIRST_SCREEN_INTERVIEW = "applying", "shortlisting", "interview"
FIRST_SCREEN_OFFER, FIRST_SCREEN_APPOINTMENT = "offer", "appointment"
FIRST_SCREEN_STAGES: dict[str, str] = {
    FIRST_SCREEN_APPLYING: "Applying", FIRST_SCREEN_SHORTLISTING: "Shortlisting",
    FIRST_SCREEN_INTERVIEW: "Interview", FIRST_SCREEN_OFFER: "Offer", FIRST_SCREEN_APPOINTMENT: "Appointment",
}


# The first screen's interview row: the score gap in points out of 100, before/after the programme and its change
INTERVIEW_GAP_MEASURE = "Interview score, BME minus White (points out of 100)"
INTERVIEW_GAP_CHANGE = "after − before, points"
INTERVIEW_GAP_ALL_PERIODS = "All periods together"


# The programme's two rules, as a reader names them
PROGRAMME_RULES: dict[str, str] = {TERM_LETTER_TO_CEO: "Letter to the CEO", TERM_DIVERSE_PANEL: "Diverse interview panels"}


PROGRAMME_RULE_MEANING: dict[str, str] = {
    TERM_LETTER_TO_CEO: "the vacancy requires the hiring manager to write to the chief executive about the "
                        "appointment decision",
    TERM_DIVERSE_PANEL: "the interview panel has at least one woman and at least one BME member",
}


PROGRAMME_RULE_SHORT: dict[str, str] = {TERM_LETTER_TO_CEO: "letter to the CEO", TERM_DIVERSE_PANEL: "diverse panel"}


TERM_DISPLAY: dict[str, str] = {
    TERM_INTERCEPT: "Baseline (intercept)",
    TERM_BME: "BME vs White",
    TERM_FEMALE: "Women vs men",
    TERM_INTERNAL: "Internal vs external candidates",
    TERM_DISABILITY: "Disabled vs not disabled",
    "disability_not_declared": "Disability not declared",
    TERM_LETTER_TO_CEO: "Post with a letter to the CEO",
    TERM_DIVERSE_PANEL: "Post with a diverse panel",
    TERM_POST_PROGRAMME: "After the programme started",
    TERM_MANAGER_BME: "BME hiring manager",
    TERM_MANAGER_FEMALE: "Female hiring manager",
    TERM_OFFERED: "Offered the post",
    TERM_LEVEL_CHANGE: "Step change at the programme start",
    TERM_SLOPE_CHANGE: "Change in monthly trend after the start",
    TERM_PRE_SLOPE: "Monthly trend before the programme",
    TERM_ETHNICITY_MATCH: "Candidate and assessor share an ethnic group",
}


# Words for a programme feature in a contrast: feature -> (at level 1, at level 0)
FEATURE_LEVEL_DISPLAY: dict[str, tuple[str, str]] = {
    TERM_LETTER_TO_CEO: ("with a letter to the CEO", "without a letter to the CEO"),
    TERM_DIVERSE_PANEL: ("with a diverse panel", "without a diverse panel"),
    TERM_POST_PROGRAMME: ("after the programme started", "before the programme"),
}


GROUP_DISPLAY: dict[str, str] = {
    WRES_WHITE: "White", WRES_BME: "BME (Black and minority ethnic)", WRES_UNKNOWN: "Ethnicity not known",
    "Mixed": "Mixed", "Asian": "Asian or Asian British", "Black": "Black or Black British",
    "Other": "Other ethnic group", "Not stated": "Not stated",
}


PERIOD_PRE_PROGRAMME, PERIOD_POST_PROGRAMME = "pre_programme", "post_programme"


PERIOD_DISPLAY: dict[str, str] = {PERIOD_PRE_PROGRAMME: "Before the programme",
                                  PERIOD_POST_PROGRAMME: "After the programme started", "all": "All periods",
                                  "all_to_date": "All periods to date"}


STAGE_SHORT: dict[str, str] = {
    STAGE_APPLY_POOL: "Applying", STAGE_APPLY_WORKFORCE: "Applying (staff)", STAGE_SHORTLIST: "Shortlisting",
    STAGE_OFFER: "Offer", STAGE_APPOINT_FROM_SHORTLIST: "Appointment", STAGE_INTERVIEW_SCORE: "Interview",
}


def display_stage(stage: str | None, *, short: bool = False) -> str:
    """A stage in words (``appoint_from_shortlist`` -> "Appointment (from shortlist)", or "Appointment" when
    ``short``); unknown names pass through with underscores as spaces."""
    if stage is None:
        return ""
    if short and str(stage) in STAGE_SHORT:
        return STAGE_SHORT[str(stage)]
    return STAGE_DISPLAY.get(str(stage), str(stage).replace("_", " "))


def display_band(band: str | None) -> str:
    """A band in words: "8a" -> "Band 8a", "VSM" -> "Very senior managers (VSM)", "senior" -> "Senior bands (8a-VSM)"."""
    if band is None:
        return ""
    b = str(band)
    special = {"VSM": "Very senior managers (VSM)", "senior": "Senior bands (8a-VSM)", "all": "All bands",
               TOTAL_LABEL: "All bands", "external": "External candidate"}
    return special.get(b, f"Band {b}")


GROUP_SHORT: dict[str, str] = {WRES_UNKNOWN: "Not known", "Asian": "Asian", "Black": "Black", "Other": "Other"}


def display_group(group: str | None, *, short: bool = False) -> str:
    """An ethnic group (WRES or census) in words; pairs ("White x Female", "Asian, Male") keep their order.
    ``short``: the brief form for chart labels ("BME", "Not known")."""
    if group is None:
        return ""
    g = str(group)
    for sep in (" x ", ", "):
        if sep in g:
            return " × ".join(display_group(p, short=short) for p in g.split(sep))
    if short:
        return GROUP_SHORT.get(g, g)
    return GROUP_DISPLAY.get(g, g)


def display_period(period: str | None) -> str:
    return PERIOD_DISPLAY.get(str(period), str(period)) if period is not None else ""


def display_ethnic_code(code: str | None) -> str:
    """An NHS ethnic category code with its meaning: "A" -> "A (White - British)", "AA" -> "AA (a local code
    within A: White - British)", "99" -> "99 (Not known)"."""
    if code is None:
        return ""
    c = str(code).strip().upper()
    if c in ETHNIC_CATEGORIES:
        return f"{c} ({ETHNIC_CATEGORIES[c].description})"
    main = main_ethnic_code(c)
    if main:
        return f"{c} (a local code within {main}: {ETHNIC_CATEGORIES[main].description})"
    return c


def display_term(term: str | None) -> str:
    """A model term in words.

    ``bme`` -> "BME vs White"; ``bme@letter_to_ceo=1`` -> "BME vs White, with a letter to the CEO";
    ``bme:letter_to_ceo`` -> "Change in the BME vs White gap with a letter to the CEO";
    ``band=8b`` -> "Band 8b (vs 8a)"; ``bme:theme=leadership`` -> "BME vs White: theme leadership".
    Unknown names pass through with underscores as spaces.
    """
    if term is None:
        return ""
    t = str(term)
    if t in TERM_DISPLAY:
        return TERM_DISPLAY[t]
    if t.startswith(CONTRAST_PREFIX) and "=" in t:
        feature, _, level = t[len(CONTRAST_PREFIX):].partition("=")
        words = FEATURE_LEVEL_DISPLAY.get(feature)
        if words and level in ("0", "1"):
            return f"{TERM_DISPLAY[TERM_BME]}, {words[0] if level == '1' else words[1]}"
    if INTERACTION_SEP in t:
        a, _, b = t.partition(INTERACTION_SEP)
        if a == TERM_BME and b in FEATURE_LEVEL_DISPLAY:
            return f"Change in the BME vs White gap {FEATURE_LEVEL_DISPLAY[b][0]}"
        if a == TERM_BME and b.startswith("theme="):
            return f"BME vs White: theme {b.split('=', 1)[1].replace('_', ' ')}"
        return f"{display_term(a)} × {display_term(b)}"
    if "=" in t:
        var, _, level = t.partition("=")
        if var == "band":
            return f"{display_band(level)} (vs {REFERENCE_BAND})"
        if var == "age_band":
            return f"Age {level} (vs {REFERENCE_AGE_BAND})"
        if var == "directorate":
            return f"{level} directorate"
        if var == "theme":
            return f"Theme: {level.replace('_', ' ')}"
    return t.replace("_", " ")


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


# Models in words (artifacts, workbook): model name -> what a reader is told
MODEL_DISPLAY: dict[str, str] = {
    MODEL_LOGIT: "logistic regression",
    MODEL_BINOMIAL_GLM: "binomial regression of the pool share",
    MODEL_CONDITIONAL_LOGIT: "conditional logit (within each post)",
    MODEL_LINEAR: "linear regression",
    MODEL_MIXED_LINEAR: "mixed linear model",
    MODEL_MULTINOMIAL_LOGIT: "multinomial logit",
    MODEL_SEGMENTED_LINEAR: "segmented regression (interrupted time series)",
}


def display_model(model: str | None) -> str:
    """A model in words (``conditional_logit`` -> "conditional logit (within each post)"); unknown names pass through."""
    return MODEL_DISPLAY.get(str(model), str(model).replace("_", " ")) if model is not None else ""
