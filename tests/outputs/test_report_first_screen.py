"""The report's first screen: a verdict row per stage and per rule, verdicts from CIs, power, national benchmark."""
from __future__ import annotations

import math
import re

import polars as pl
import pytest

from tasks.core.display import FIRST_SCREEN_STAGES
from tasks.core.vocabulary import (
    ANALYSIS_MAIN,
    NATIONAL_SCOPE,
    TERM_BME,
    TERM_DIVERSE_PANEL,
    TERM_LETTER_TO_CEO,
    TERM_POST_PROGRAMME,
    contrast_term,
    interaction,
)
from tasks.outputs.report.sections.base import Ctx
from tasks.outputs.report.sections.first_screen import first_screen
from tasks.outputs.report.verdicts import (
    BETTER,
    NO_CHANGE,
    NOT_ESTIMATED,
    WORSE,
    Estimate,
    national_benchmark,
    ratio_change,
    rule_rows,
    stage_rows,
    verdict_of,
    wres_year_comparison,
)

Z = 1.959963984540054


def _or(stage: str, term: str, est: float, se: float, model: str = "logit") -> dict:
    b = math.log(est)
    return {"analysis": ANALYSIS_MAIN, "stage": stage, "model": model, "term": term, "odds_ratio": est,
            "ci_low": math.exp(b - Z * se), "ci_high": math.exp(b + Z * se), "std_error": se}


def _odds() -> pl.DataFrame:
    rows = []
    for stage, model in (("apply_workforce", "logit"), ("shortlist", "logit"), ("offer", "conditional_logit")):
        rows += [_or(stage, contrast_term(TERM_POST_PROGRAMME, 0), 0.7, 0.09, model),
                 _or(stage, contrast_term(TERM_POST_PROGRAMME, 1), 0.9, 0.07, model)]
    rows += [_or("apply_workforce", interaction(TERM_BME, TERM_POST_PROGRAMME), 1.29, 0.11),    # CI above 1
             _or("shortlist", interaction(TERM_BME, TERM_POST_PROGRAMME), 1.02, 0.19),          # includes 1
             _or("offer", interaction(TERM_BME, TERM_POST_PROGRAMME), 0.6, 0.2, "conditional_logit"),  # below 1
             _or("offer", interaction(TERM_BME, TERM_POST_PROGRAMME), 5.0, 0.2, "logit"),       # second model: ignored
             _or("offer", interaction(TERM_BME, TERM_LETTER_TO_CEO), 1.71, 0.16, "conditional_logit"),
             _or("offer", contrast_term(TERM_LETTER_TO_CEO, 1), 1.39, 0.075, "conditional_logit"),
             _or("offer", contrast_term(TERM_LETTER_TO_CEO, 0), 0.73, 0.088, "conditional_logit"),
             _or("offer", interaction(TERM_BME, TERM_DIVERSE_PANEL), 1.1, 0.39, "conditional_logit")]
    return pl.DataFrame(rows)


def _wres() -> pl.DataFrame:
    rows = [("programme_period", "pre_programme", 1.64, 1.11, 2.43), ("programme_period", "post_programme", 1.09, 0.86, 1.37),
            ("wres_year", "2021/22", 1.58, 1.30, 1.92), ("wres_year", "2022/23", 1.11, 0.97, 1.27),
            ("wres_year", "2023/24", 0.91, 0.79, 1.05), ("overall", "all", 1.12, 1.03, 1.22)]
    return pl.DataFrame(rows, schema=["scope", "scope_value", "relative_likelihood", "ci_low", "ci_high"], orient="row")


def _national() -> pl.DataFrame:
    return pl.DataFrame({
        "period": ["2022", "2023", "2024", "2024", "2023"],
        "scope": [NATIONAL_SCOPE, NATIONAL_SCOPE, "East of England trusts", "London trusts", "This trust (senior bands 8a-VSM)"],
        "relative_likelihood": [1.54, 1.59, 1.80, 1.16, 1.10], "is_trust": [False, False, False, False, True]})


def _ctx(**tables) -> Ctx:
    base = {"odds_ratios": _odds(), "wres_indicator2": _wres(), "national_reference": _national()}
    base.update(tables)
    return Ctx({k: v for k, v in base.items() if v is not None}, {}, {})


def test_verdict_follows_the_ci_of_the_change_only():
    assert verdict_of(Estimate(1.3, 1.03, 1.62), higher_is_better=True) == BETTER
    assert verdict_of(Estimate(1.3, 1.03, 1.62), higher_is_better=False) == WORSE
    assert verdict_of(Estimate(0.68, 0.43, 1.09), higher_is_better=False) == NO_CHANGE
    # a difference (e.g. the interview-score gap) has no change at 0, not 1
    assert verdict_of(Estimate(0.05, 0.01, 0.09), higher_is_better=True, no_change=0.0) == BETTER
    assert verdict_of(Estimate(-0.02, -0.05, 0.01), higher_is_better=True, no_change=0.0) == NO_CHANGE
    assert verdict_of(Estimate(0.5, 0.3, 0.9), higher_is_better=False) == BETTER
    assert verdict_of(Estimate(None), higher_is_better=True) == NOT_ESTIMATED


def test_change_between_two_independent_ratios_hand_computed():
    before, after = Estimate(1.64, 1.11, 2.43), Estimate(1.09, 0.86, 1.37)
    ch = ratio_change(before, after)
    sb, sa = (math.log(2.43) - math.log(1.11)) / (2 * Z), (math.log(1.37) - math.log(0.86)) / (2 * Z)
    se = math.sqrt(sb ** 2 + sa ** 2)
    assert ch.est == pytest.approx(1.09 / 1.64)
    assert ch.lo == pytest.approx(1.09 / 1.64 * math.exp(-Z * se)) and ch.hi == pytest.approx(1.09 / 1.64 * math.exp(Z * se))
    assert ratio_change(Estimate(None), after).est is None


def test_national_reference_is_a_national_row_of_the_same_wres_year_or_absent_with_a_note():
    nat = _national()
    b = national_benchmark(nat, "2022/23")  # WRES 2023 covers 1 April 2022 - 31 March 2023
    assert (b.value, b.national_period) == (1.59, "2023")
    b = national_benchmark(nat, "2021/22")
    assert (b.value, b.national_period) == (1.54, "2022")
    # 2023/24 = WRES 2024: only regional rows (East of England 1.80, ...) and no national one -> absent, with a note
    b = national_benchmark(nat, "2023/24")
    assert b.value is None and "2023/24" in b.note and "latest national year is 2023" in b.note
    # a trust row of the right year is never taken for the national figure
    only_trust = nat.filter(pl.col("is_trust"))
    assert national_benchmark(only_trust, "2022/23").value is None
    assert national_benchmark(None, "2022/23").value is None


def test_appointment_row_uses_wres_before_after_and_the_latest_year_with_a_national_figure():
    rows = {r.key: r for r in stage_rows(_ctx())}
    a = rows["appointment"]
    assert (a.before.est, a.after.est) == (1.64, 1.09)
    assert a.verdict == NO_CHANGE and "smallest detectable" in a.power_note
    assert a.benchmark.value == 1.59 and a.benchmark.wres_year == "2022/23"
    assert any("2022/23: 1.11 (0.97 to 1.27)" in n for n in a.notes)
    assert "1 April 2022 to 31 March 2023" in a.benchmark.note


def test_stage_rows_in_funnel_order_with_verdicts_from_the_change():
    rows = stage_rows(_ctx())
    assert [r.key for r in rows] == list(FIRST_SCREEN_STAGES)
    v = {r.key: r.verdict for r in rows}
    assert v["applying"] == BETTER and v["shortlisting"] == NO_CHANGE and v["offer"] == WORSE
    offer = rows[3]
    assert offer.change.est == pytest.approx(0.6)  # the first model (conditional logit), not the logit's 5.0
    assert v["interview"] == NOT_ESTIMATED


def test_rule_rows_with_study_estimate_and_power():
    letter, panel = rule_rows(_ctx())
    assert letter.key == TERM_LETTER_TO_CEO and letter.verdict == BETTER and letter.study == 1.7
    assert letter.change.est == pytest.approx(1.71) and letter.change.lo > 1
    assert panel.verdict == NO_CHANGE and panel.study is None
    # se 0.39 -> MDOR exp(2.8016 * 0.39) = 2.98 > 1.7: the row says the data are too few
    assert panel.mdor == pytest.approx(math.exp(2.801585 * 0.39), rel=1e-4)
    assert "Too few data" in panel.power_note


def test_first_screen_html_has_a_row_per_stage_and_rule_and_no_model_terms():
    html = first_screen(_ctx())
    assert re.findall(r'data-stage="([^"]+)"', html) == list(FIRST_SCREEN_STAGES)
    assert re.findall(r'data-rule="([^"]+)"', html) == [TERM_LETTER_TO_CEO, TERM_DIVERSE_PANEL]
    assert re.findall(r'data-verdict="([^"]+)"', html)[:5] == [BETTER, NO_CHANGE, NOT_ESTIMATED, WORSE, NO_CHANGE]
    assert "England 1.59" in html and "1.80" not in html
    assert "95% CI 1.11 to 2.43" in html
    for raw in ("bme@", "bme:", "post_programme", "letter_to_ceo=", "apply_workforce", "appoint_from_shortlist"):
        assert raw not in html.replace('data-rule="letter_to_ceo"', "").replace('data-rule="diverse_panel"', ""), raw


def test_first_screen_says_not_estimated_when_tables_are_missing():
    html = first_screen(Ctx({}, {}, {}))
    assert html.count('data-verdict="not estimated"') == 7


def test_last_wres_year_against_this_one():
    last, this, change = wres_year_comparison(_ctx())
    assert (last["scope_value"], this["scope_value"]) == ("2022/23", "2023/24")
    assert change.est == pytest.approx(0.91 / 1.11)


def _score_effects(pre: tuple[float, float], post: tuple[float, float], change: tuple[float, float]) -> pl.DataFrame:
    """Published score_effects rows (normalised 0-1 scale): (estimate, std_error) per term, normal 95% CIs."""
    def row(term, est, se, primary=False, spec="candidate_by_period"):
        return {"stage": "interview_score", "model": "mixed_linear", "specification": spec, "term": term,
                "estimate": est, "std_error": se, "ci_low": est - Z * se, "ci_high": est + Z * se,
                "primary": primary}
    return pl.DataFrame([row(TERM_BME, -0.03, 0.003, True, "candidate"),
                         row(TERM_BME, -0.02, 0.004, False, "candidate"),   # the OLS cross-check: not shown
                         row(contrast_term(TERM_POST_PROGRAMME, 0), *pre),
                         row(contrast_term(TERM_POST_PROGRAMME, 1), *post),
                         row(interaction(TERM_BME, TERM_POST_PROGRAMME), *change)])


def test_interview_row_has_the_score_gap_before_after_and_change_in_points():
    e = _score_effects((-0.05, 0.006), (-0.01, 0.005), (0.04, 0.0078))  # change CI 2.5 to 5.5 points: > 0
    r = stage_rows(_ctx(score_effects=e))[2]
    assert r.key == "interview"
    assert (r.before.est, r.after.est, r.change.est) == (pytest.approx(-5.0), pytest.approx(-1.0), pytest.approx(4.0))
    assert (r.change.lo, r.change.hi) == (pytest.approx(4.0 - Z * 0.78), pytest.approx(4.0 + Z * 0.78))
    assert r.verdict == BETTER  # the BME minus White gap rose (narrowed) and its CI excludes 0
    assert any("All periods together: -3.0 points" in n for n in r.notes)
    # a widening gap whose CI excludes 0 is worse; one whose CI covers 0 is no detectable change, with power
    assert stage_rows(_ctx(score_effects=_score_effects((-0.01, 0.005), (-0.05, 0.006), (-0.04, 0.0078))))[2].verdict \
        == WORSE
    r = stage_rows(_ctx(score_effects=_score_effects((-0.03, 0.005), (-0.028, 0.006), (0.002, 0.0078))))[2]
    assert r.verdict == NO_CHANGE
    assert f"{2.801585 * 0.78:.1f} points" in r.power_note
    # only the all-periods gap published (an older run): figures absent, verdict not estimated
    old = _score_effects((-0.05, 0.006), (-0.01, 0.005), (0.04, 0.0078)).filter(pl.col("term") == TERM_BME)
    r = stage_rows(_ctx(score_effects=old))[2]
    assert r.verdict == NOT_ESTIMATED and not r.change.present and any("All periods" in n for n in r.notes)


def test_first_screen_html_interview_row_has_before_after_change_and_verdict():
    html = first_screen(_ctx(score_effects=_score_effects((-0.05, 0.006), (-0.01, 0.005), (0.04, 0.0078))))
    row = re.search(r'<tr class="verdict-row" data-stage="interview"[^>]*>(.*?)</tr>', html).group(0)
    assert 'data-verdict="better"' in row
    cells = re.findall(r'<td class="n">(.*?)</td>', row)
    assert [re.search(r"<b>(.*?)</b>", c).group(1) for c in cells] == ["-5.0 points", "-1.0 points", "+4.0 points"]
    assert "95% CI -6.2 to -3.8" in cells[0] and "after − before" in cells[2]
    assert re.findall(r'data-verdict="([^"]+)"', html)[:5] == [BETTER, NO_CHANGE, BETTER, WORSE, NO_CHANGE]
    for raw in ("bme@", "bme:", "post_programme", "interview_score"):
        assert raw not in row, raw
