"""Report test helpers (not collected: no test_ prefix): a fake run complete enough for the first screen."""
from __future__ import annotations

import math

import polars as pl
from fake_warehouse import fake_results

from tasks.core.vocabulary import (
    ANALYSIS_MAIN,
    NATIONAL_SCOPE,
    TERM_BME,
    TERM_DIVERSE_PANEL,
    TERM_LETTER_TO_CEO,
    TERM_POST_PROGRAMME,
    TEXT_QUARTER_VARIABLE,
    contrast_term,
    interaction,
)

Z = 1.959963984540054


def complete_results() -> dict[str, pl.DataFrame]:
    """The fake run plus what the first screen reads: before/after contrasts and interactions at every stage,
    the rules' interactions at offer, and WRES years with a national row for one of them."""
    t = fake_results()
    rows = []
    for stage, model in (("apply_workforce", "logit"), ("shortlist", "logit"), ("offer", "conditional_logit")):
        for term, est, se in ((contrast_term(TERM_POST_PROGRAMME, 0), 0.7, 0.1), (contrast_term(TERM_POST_PROGRAMME, 1), 0.95, 0.08),
                              (interaction(TERM_BME, TERM_POST_PROGRAMME), 1.36, 0.12)):
            rows.append((stage, model, term, est, se))
    for term, est, se in ((interaction(TERM_BME, TERM_LETTER_TO_CEO), 1.71, 0.16), (contrast_term(TERM_LETTER_TO_CEO, 0), 0.73, 0.09),
                          (contrast_term(TERM_LETTER_TO_CEO, 1), 1.25, 0.075),
                          (interaction(TERM_BME, TERM_DIVERSE_PANEL), 1.2, 0.3)):
        rows.append(("offer", "conditional_logit", term, est, se))
    extra = pl.DataFrame([{
        "analysis": ANALYSIS_MAIN, "stage": s, "model": m, "term": term, "estimate": math.log(e), "std_error": se,
        "odds_ratio": e, "ci_low": e * math.exp(-Z * se), "ci_high": e * math.exp(Z * se), "p_value": 0.01,
        "q_value": 0.02, "n_obs": 900, "n_events": 300, "n_clusters": 100, "flags": None} for s, m, term, e, se in rows])
    t["odds_ratios"] = pl.concat([t["odds_ratios"], extra], how="diagonal_relaxed")
    w = t["wres_indicator2"]
    years = pl.DataFrame({"scope": ["wres_year", "wres_year"], "scope_value": ["2022/23", "2023/24"],
                          "shortlisted_white": [150, 150], "appointed_white": [32, 28], "shortlisted_bme": [70, 80],
                          "appointed_bme": [8, 12], "relative_likelihood": [1.87, 1.24], "ci_low": [0.9, 0.66],
                          "ci_high": [3.9, 2.3]})
    t["wres_indicator2"] = pl.concat([w, years], how="diagonal_relaxed")
    nat = t["national_reference"]
    t["national_reference"] = pl.concat([nat, pl.DataFrame({
        "period": ["2023", "2024"], "scope": [NATIONAL_SCOPE, "East of England trusts"], "relative_likelihood": [1.59, 1.80],
        "is_trust": [False, False], "note": [None, "regional"], "source": ["NHS England", "HSJ"]})], how="diagonal_relaxed")
    quarters = [{"source": src, "variable": TEXT_QUARTER_VARIABLE, "level": q, "topic_id": tid, "n": 60,
                 "n_clusters": 30, "mean": m, "std_error": 0.01, "ci_low": m - 0.02, "ci_high": m + 0.02,
                 "p_value": 0.2, "q_value": 0.3, "family": "f"}
                for src in ("assessments", "ceo_letters") for q, m in (("2022-Q3", 0.3), ("2022-Q4", 0.35))
                for tid in (0, 1, None)]
    t["topic_prevalence"] = pl.concat([t["topic_prevalence"], pl.DataFrame([r for r in quarters if r["topic_id"] is not None])],
                                      how="diagonal_relaxed")
    t["sentiment_by_group"] = pl.concat([t["sentiment_by_group"], pl.DataFrame([r for r in quarters if r["topic_id"] is None],
                                                                                schema_overrides={"topic_id": pl.Int64})],
                                        how="diagonal_relaxed")
    return t
