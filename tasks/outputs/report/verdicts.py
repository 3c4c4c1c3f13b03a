"""The first screen's rows: one verdict per funnel stage and per programme rule, from published tables.

Reads a run's published odds_ratios, wres_indicator2, score_effects and
national_reference (as a :class:`~tasks.outputs.report.sections.base.Ctx`).
Returns plain rows (:class:`VerdictRow`); :mod:`tasks.outputs.report.sections.first_screen`
draws them.  Implements docs/methods.md section 1.8 (power, verdict words, national reference).

Computes no new estimate from data: every figure is a published one, except
two simple functions of published intervals - the change between two
independent published ratios (before and after the programme, or last WRES
year and this one), whose log standard error is recovered from each 95% CI,
and the minimum detectable odds ratio of :mod:`tasks.stats.power`.  Verdict
words follow from the CI of the change alone: "better" or "worse" when it
excludes 1, "no detectable change" when it does not.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import polars as pl

from tasks.core.display import FIRST_SCREEN_STAGES, INTERVIEW_GAP_ALL_PERIODS, INTERVIEW_GAP_MEASURE, PROGRAMME_RULES
from tasks.core.vocabulary import (
    ANALYSIS_MAIN,
    FIRST_SCREEN_APPLYING,
    FIRST_SCREEN_APPOINTMENT,
    FIRST_SCREEN_INTERVIEW,
    FIRST_SCREEN_OFFER,
    FIRST_SCREEN_SHORTLISTING,
    NATIONAL_SCOPE,
    STAGE_APPLY_WORKFORCE,
    STAGE_INTERVIEW_SCORE,
    STAGE_OFFER,
    STAGE_SHORTLIST,
    TERM_BME,
    TERM_DIVERSE_PANEL,
    TERM_LETTER_TO_CEO,
    TERM_POST_PROGRAMME,
    contrast_term,
    financial_year_end,
    interaction,
)
from tasks.outputs.report.format import num
from tasks.outputs.report.sections.base import Ctx
from tasks.stats.power import mdor_from_std_error

Z95 = 1.959963984540054


Z80 = 0.8416212335729143  # one-sided 80% power


BETTER, WORSE, NO_CHANGE, NOT_ESTIMATED = "better", "worse", "no detectable change", "not estimated"


VERDICTS = (BETTER, WORSE, NO_CHANGE, NOT_ESTIMATED)


# Published study (the programme's evaluation): a letter to the CEO raised BME candidates' odds of an offer
# about 1.7-fold (effects/default.yaml plants bme:letter_to_ceo = 0.55 at the offer stage, exp = 1.73).
STUDY_ODDS_RATIO: dict[str, float | None] = {TERM_LETTER_TO_CEO: 1.7, TERM_DIVERSE_PANEL: None}


# The size of effect the power statement is about: the study's letter effect
STUDY_EFFECT_SIZE = 1.7


# Funnel stage of the first screen -> the model stage whose BME-vs-White odds ratios it shows
STAGE_MODELS: dict[str, str] = {
    FIRST_SCREEN_APPLYING: STAGE_APPLY_WORKFORCE, FIRST_SCREEN_SHORTLISTING: STAGE_SHORTLIST,
    FIRST_SCREEN_OFFER: STAGE_OFFER,
}


# Where each rule is judged: the offer decision, as in the published study
RULE_STAGE = STAGE_OFFER


@dataclass(frozen=True)
class Estimate:
    """A published estimate with its 95% interval (any of them None when withheld or missing)."""

    est: float | None
    lo: float | None = None
    hi: float | None = None
    std_error: float | None = None  # of the log ratio (odds ratios, relative likelihoods)

    @property
    def present(self) -> bool:
        return self.est is not None


NONE = Estimate(None)


@dataclass(frozen=True)
class Benchmark:
    """The national figure for one WRES year, or why there is none."""

    wres_year: str | None
    value: float | None
    national_period: str | None
    note: str


@dataclass
class VerdictRow:
    key: str
    words: str
    measure: str
    before: Estimate = NONE
    after: Estimate = NONE
    change: Estimate = NONE
    verdict: str = NOT_ESTIMATED
    higher_is_better: bool = True
    mdor: float | None = None
    power_note: str = ""
    benchmark: Benchmark | None = None
    study: float | None = None
    notes: list[str] = field(default_factory=list)


def verdict_of(change: Estimate, *, higher_is_better: bool, no_change: float = 1.0) -> str:
    """better / worse when the CI of the change excludes ``no_change`` (1 for a ratio, 0 for a
    difference), otherwise no detectable change."""
    if change.lo is None or change.hi is None:
        return NOT_ESTIMATED
    if change.lo > no_change or change.hi < no_change:
        return BETTER if (change.lo > no_change) == higher_is_better else WORSE
    return NO_CHANGE


def log_se_from_interval(lo: float | None, hi: float | None) -> float | None:
    """Standard error of a log ratio recovered from its symmetric-on-the-log-scale 95% CI."""
    if lo is None or hi is None or lo <= 0 or hi <= 0:
        return None
    return (math.log(hi) - math.log(lo)) / (2 * Z95)


def ratio_change(before: Estimate, after: Estimate) -> Estimate:
    """after / before for two independent ratios: log-scale difference, se = sqrt(se_b^2 + se_a^2)."""
    if not (before.present and after.present) or before.est <= 0 or after.est <= 0:
        return NONE
    sb = before.std_error or log_se_from_interval(before.lo, before.hi)
    sa = after.std_error or log_se_from_interval(after.lo, after.hi)
    if sb is None or sa is None:
        return NONE
    d, se = math.log(after.est) - math.log(before.est), math.hypot(sa, sb)
    return Estimate(math.exp(d), math.exp(d - Z95 * se), math.exp(d + Z95 * se), se)


def power_note(mdor: float | None, *, effect: float = STUDY_EFFECT_SIZE, what: str = "a change") -> str:
    """The power sentence: whether an effect the size of the study's (OR 1.7) was detectable at 80% power."""
    if mdor is None:
        return ""
    if mdor > effect:
        return (f"Too few data to detect {what} the size of the study's (OR {effect:.1f}): the smallest detectable "
                f"at 80% power is OR {mdor:.2f} (or {1 / mdor:.2f}).")
    return f"The data can detect {what} of OR {mdor:.2f} or larger at 80% power (the study's was {effect:.1f})."


# --------------------------------------------------------------------------- reading published tables
def _est(row: dict | None) -> Estimate:
    if row is None:
        return NONE
    return Estimate(num(row.get("odds_ratio", row.get("relative_likelihood", row.get("estimate")))),
                    num(row.get("ci_low")), num(row.get("ci_high")), num(row.get("std_error")))


def main_odds(c: Ctx) -> pl.DataFrame | None:
    """The main analysis' odds ratios, first model of each stage (e.g. the conditional logit at offer)."""
    o = c.get("odds_ratios")
    if o is None or not {"stage", "term", "odds_ratio"} <= set(o.columns):
        return None
    if "analysis" in o.columns and (o["analysis"] == ANALYSIS_MAIN).any():
        o = o.filter(pl.col("analysis") == ANALYSIS_MAIN)
    if "model" in o.columns:
        first = o.select("stage", "model").unique(subset=["stage"], keep="first", maintain_order=True)
        o = o.join(first, on=["stage", "model"], how="semi", nulls_equal=True)
    return o


def odds_row(o: pl.DataFrame | None, stage: str, term: str) -> dict | None:
    if o is None:
        return None
    sub = o.filter((pl.col("stage") == stage) & (pl.col("term") == term))
    return sub.row(0, named=True) if sub.height else None


def wres_row(c: Ctx, scope: str, value: str) -> dict | None:
    w = c.get("wres_indicator2")
    if w is None or not {"scope", "scope_value", "relative_likelihood"} <= set(w.columns):
        return None
    sub = w.filter((pl.col("scope") == scope) & (pl.col("scope_value") == value))
    return sub.row(0, named=True) if sub.height else None


def trust_wres_years(c: Ctx) -> list[dict]:
    """The trust's WRES-year rows (scope wres_year), oldest first."""
    w = c.get("wres_indicator2")
    if w is None or "scope" not in w.columns:
        return []
    return sorted(w.filter(pl.col("scope") == "wres_year").iter_rows(named=True), key=lambda r: str(r["scope_value"]))


def national_rows(nat: pl.DataFrame | None) -> pl.DataFrame | None:
    """National (all-trust, England) rows of the published reference only: never a regional or a trust row."""
    if nat is None or not {"period", "scope", "relative_likelihood"} <= set(nat.columns):
        return None
    keep = pl.col("scope") == NATIONAL_SCOPE
    if "is_trust" in nat.columns:
        keep = keep & ~pl.col("is_trust").fill_null(False)
    return nat.filter(keep)


def national_benchmark(nat: pl.DataFrame | None, wres_year: str | None) -> Benchmark:
    """The national WRES indicator 2 for the same WRES year (national year Y = financial year (Y-1)/Y),
    or absent with a note saying why.  Regional rows are never used."""
    if wres_year is None:
        return Benchmark(None, None, None, "No WRES year of this trust to compare.")
    rows = national_rows(nat)
    target = str(financial_year_end(wres_year))
    if rows is None or rows.height == 0:
        return Benchmark(wres_year, None, None, "No national reference published with this run.")
    hit = rows.filter(pl.col("period").cast(pl.String) == target)
    if hit.height and num(hit["relative_likelihood"][0]) is not None:
        return Benchmark(wres_year, num(hit["relative_likelihood"][0]), target,
                         f"WRES {target}: recruitment 1 April {int(target) - 1} to 31 March {target}")
    latest = rows.sort("period")["period"][-1]
    return Benchmark(wres_year, None, None, f"No national figure for WRES year {wres_year} "
                                            f"(WRES {target}) in the reference; the latest national year is {latest}.")


# --------------------------------------------------------------------------- the rows
def _odds_stage_row(o: pl.DataFrame | None, key: str, stage: str, measure: str) -> VerdictRow:
    row = VerdictRow(key, FIRST_SCREEN_STAGES[key], measure)
    row.before = _est(odds_row(o, stage, contrast_term(TERM_POST_PROGRAMME, 0)))
    row.after = _est(odds_row(o, stage, contrast_term(TERM_POST_PROGRAMME, 1)))
    row.change = _est(odds_row(o, stage, interaction(TERM_BME, TERM_POST_PROGRAMME)))
    row.verdict = verdict_of(row.change, higher_is_better=True)
    row.mdor = mdor_from_std_error(row.change.std_error)
    row.power_note = power_note(row.mdor) if row.verdict == NO_CHANGE else ""
    if not row.change.present:
        row.notes.append("No before/after estimate published for this stage in this run.")
    return row


def stage_rows(c: Ctx) -> list[VerdictRow]:
    """One row per funnel stage, in funnel order: applying, shortlisting, interview, offer, appointment."""
    o = main_odds(c)
    rows = [
        _odds_stage_row(o, FIRST_SCREEN_APPLYING, STAGE_APPLY_WORKFORCE,
                        "Odds that staff in bands 6-7 apply for a senior post, BME vs White"),
        _odds_stage_row(o, FIRST_SCREEN_SHORTLISTING, STAGE_SHORTLIST, "Odds of being shortlisted, BME vs White"),
        _interview_row(c),
        _odds_stage_row(o, FIRST_SCREEN_OFFER, STAGE_OFFER,
                        "Odds of an offer after interview, BME vs White, same vacancy"),
        _appointment_row(c),
    ]
    return rows


def _points(r: dict | None) -> Estimate:
    """A published score-effect row (normalised score, 0-1) as points out of 100."""
    if r is None:
        return NONE
    v = [num(r.get(k)) for k in ("estimate", "ci_low", "ci_high", "std_error")]
    return Estimate(*(None if x is None else 100 * x for x in v))


def _interview_row(c: Ctx) -> VerdictRow:
    """The score gap (BME minus White, points out of 100) before and after the programme and its change
    (after minus before), from the mixed model with a bme:post_programme interaction; the verdict follows from
    the change's CI (0 = no change; a higher, less negative gap is better for BME candidates)."""
    row = VerdictRow(FIRST_SCREEN_INTERVIEW, FIRST_SCREEN_STAGES[FIRST_SCREEN_INTERVIEW], INTERVIEW_GAP_MEASURE)
    e = c.get("score_effects")
    if e is None or not {"stage", "term", "estimate"} <= set(e.columns):
        row.notes.append("No interview-score estimate published in this run.")
        return row
    e = e.filter(pl.col("stage") == STAGE_INTERVIEW_SCORE)

    def first(term: str) -> dict | None:
        sub = e.filter(pl.col("term") == term)
        if term == TERM_BME and "primary" in sub.columns and sub["primary"].fill_null(False).any():
            sub = sub.filter(pl.col("primary").fill_null(False))
        return sub.row(0, named=True) if sub.height else None

    row.before = _points(first(contrast_term(TERM_POST_PROGRAMME, 0)))
    row.after = _points(first(contrast_term(TERM_POST_PROGRAMME, 1)))
    row.change = _points(first(interaction(TERM_BME, TERM_POST_PROGRAMME)))
    row.verdict = verdict_of(row.change, higher_is_better=True, no_change=0.0)
    if row.verdict == NO_CHANGE and row.change.std_error:
        mdd = (Z95 + Z80) * row.change.std_error
        row.power_note = f"The smallest change these data could detect at 80% power is {mdd:.1f} points."
    overall = _points(first(TERM_BME))
    if overall.present:
        ci = f" ({overall.lo:+.1f} to {overall.hi:+.1f})" if overall.lo is not None and overall.hi is not None else ""
        row.notes.append(f"{INTERVIEW_GAP_ALL_PERIODS}: {overall.est:+.1f} points{ci}.")
    if not row.change.present:
        row.notes.append("No before/after interview-score estimate published in this run.")
    return row


def _appointment_row(c: Ctx) -> VerdictRow:
    row = VerdictRow(FIRST_SCREEN_APPOINTMENT, FIRST_SCREEN_STAGES[FIRST_SCREEN_APPOINTMENT],
                     "WRES indicator 2: likelihood of appointment from shortlist, White ÷ BME "
                     "(1 = parity; above 1 favours White)", higher_is_better=False)
    row.before = _est(wres_row(c, "programme_period", "pre_programme"))
    row.after = _est(wres_row(c, "programme_period", "post_programme"))
    row.change = ratio_change(row.before, row.after)
    row.verdict = verdict_of(row.change, higher_is_better=False)
    row.mdor = mdor_from_std_error(row.change.std_error)
    row.power_note = power_note(row.mdor) if row.verdict == NO_CHANGE else ""
    years = [r for r in trust_wres_years(c) if num(r.get("relative_likelihood")) is not None]
    nat = c.get("national_reference")
    chosen = None
    for r in reversed(years):  # the latest trust year that has a national figure, else the latest year
        if national_benchmark(nat, str(r["scope_value"])).value is not None:
            chosen = r
            break
    chosen = chosen or (years[-1] if years else None)
    row.benchmark = national_benchmark(nat, str(chosen["scope_value"]) if chosen else None)
    if chosen:
        row.notes.append(f"Trust {chosen['scope_value']}: "
                         f"{num(chosen['relative_likelihood']):.2f}" + (
                             f" ({num(chosen['ci_low']):.2f} to {num(chosen['ci_high']):.2f})"
                             if num(chosen.get("ci_low")) is not None and num(chosen.get("ci_high")) is not None else ""))
    return row


def rule_rows(c: Ctx) -> list[VerdictRow]:
    """One row per programme rule (letter to the CEO, diverse panels): its effect on BME candidates' odds of an
    offer (how much the BME vs White odds ratio differs where the rule applied), beside the study's estimate."""
    o = main_odds(c)
    out = []
    for feature in (TERM_LETTER_TO_CEO, TERM_DIVERSE_PANEL):
        row = VerdictRow(feature, PROGRAMME_RULES[feature],
                         "Effect on BME candidates' odds of an offer (BME vs White odds ratio where the rule applied, "
                         "divided by the one where it did not)", study=STUDY_ODDS_RATIO.get(feature))
        row.before = _est(odds_row(o, RULE_STAGE, contrast_term(feature, 0)))
        row.after = _est(odds_row(o, RULE_STAGE, contrast_term(feature, 1)))
        row.change = _est(odds_row(o, RULE_STAGE, interaction(TERM_BME, feature)))
        row.verdict = verdict_of(row.change, higher_is_better=True)
        row.mdor = mdor_from_std_error(row.change.std_error)
        if row.verdict == NO_CHANGE:
            row.power_note = power_note(row.mdor, what="an effect")
        if not row.change.present:
            row.notes.append("Not estimated in this run.")
        out.append(row)
    return out


def wres_year_comparison(c: Ctx) -> tuple[dict, dict, Estimate] | None:
    """Last WRES year against this one (the two latest WRES years of the trust) and the change between them."""
    years = trust_wres_years(c)
    if len(years) < 2:
        return None
    last, this = years[-2], years[-1]
    return last, this, ratio_change(_est(last), _est(this))
