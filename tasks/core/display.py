"""The project's display names: the words a reader sees (report, workbook, artifacts).

Every output turns a stage, term, model, group, band, period or NHS ethnic code into
words with the ``display_*`` helpers and the tables of this module; raw names appear
only in technical tables.  Display names come only from here.  The machine names they
translate (stage, term, model, band and group names, NHS codes, periods) are defined
once in :mod:`tasks.core.vocabulary`; this module imports them and defines none.
"""
from __future__ import annotations

from tasks.core.vocabulary import (
    CONTRAST_PREFIX,
    ETHNIC_CATEGORIES,
    FIRST_SCREEN_APPLYING,
    FIRST_SCREEN_APPOINTMENT,
    FIRST_SCREEN_INTERVIEW,
    FIRST_SCREEN_OFFER,
    FIRST_SCREEN_SHORTLISTING,
    INTERACTION_SEP,
    MODEL_BINOMIAL_GLM,
    MODEL_CONDITIONAL_LOGIT,
    MODEL_LINEAR,
    MODEL_LOGIT,
    MODEL_MIXED_LINEAR,
    MODEL_MULTINOMIAL_LOGIT,
    MODEL_SEGMENTED_LINEAR,
    PERIOD_POST_PROGRAMME,
    PERIOD_PRE_PROGRAMME,
    REFERENCE_AGE_BAND,
    REFERENCE_BAND,
    STAGE_APPLY_POOL,
    STAGE_APPLY_WORKFORCE,
    STAGE_APPOINT_FROM_SHORTLIST,
    STAGE_ASSESSMENT_TONE,
    STAGE_ASSESSMENT_TOPICS,
    STAGE_INTERVIEW_SCORE,
    STAGE_OFFER,
    STAGE_PROGRAMME_IMPACT,
    STAGE_SHORTLIST,
    TERM_BME,
    TERM_DISABILITY,
    TERM_DIVERSE_PANEL,
    TERM_ETHNICITY_MATCH,
    TERM_FEMALE,
    TERM_INTERCEPT,
    TERM_INTERNAL,
    TERM_LETTER_TO_CEO,
    TERM_LEVEL_CHANGE,
    TERM_MANAGER_BME,
    TERM_MANAGER_FEMALE,
    TERM_OFFERED,
    TERM_POST_PROGRAMME,
    TERM_PRE_SLOPE,
    TERM_SLOPE_CHANGE,
    TOTAL_LABEL,
    WRES_BME,
    WRES_UNKNOWN,
    WRES_WHITE,
    main_ethnic_code,
)


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


# The first screen's five funnel steps, in funnel order: key -> words a reader uses
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
