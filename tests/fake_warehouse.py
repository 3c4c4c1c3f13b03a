"""A fake published run for the output tests (report, exports, artifacts): every result table
a real run publishes, with plausible values, written through the real publish path.
Not collected (no test_ prefix)."""
from __future__ import annotations

import polars as pl
from result_files import write_results_parquet

from tasks.core.vocabulary import ANALYSIS_MAIN, TERM_BME, TERM_DIVERSE_PANEL, TERM_LETTER_TO_CEO, contrast_term
from tasks.privacy.disclosure import load_policy
from tasks.publish import registry
from tasks.publish.writer import publish_run
from tasks.warehouse.connection import connect

POLICY = load_policy()


def fake_results(seed: int = 3) -> dict[str, pl.DataFrame]:
    import random

    from tasks.analyses.funnel_counts import funnel_counts

    rng = random.Random(seed)
    apps = []
    for band in ("8a", "8b", "8c", "8d", "9", "VSM"):
        size = {"8a": 400, "8b": 250, "8c": 120, "8d": 60, "9": 25, "VSM": 12}[band]
        for _ in range(size):
            g = rng.choices(["White", "BME", "Unknown"], [0.6, 0.33, 0.07])[0]
            s = rng.random() < (0.45 if g == "White" else 0.35)
            i = s and rng.random() < 0.7
            o = i and rng.random() < (0.35 if g == "White" else 0.25)
            a = o and rng.random() < 0.9
            apps.append((band, g, int(s), int(i), int(o), int(a)))
    af = pl.DataFrame(apps, schema=["band", "wres_group", "shortlisted", "interviewed", "offered", "appointed"], orient="row")
    odds = pl.DataFrame({
        "analysis": [ANALYSIS_MAIN] * 6, "stage": ["shortlist"] * 3 + ["appoint_from_shortlist"] * 3, "model": ["logit"] * 6,
        "term": [TERM_BME, contrast_term(TERM_LETTER_TO_CEO, 1), contrast_term(TERM_DIVERSE_PANEL, 1)] * 2,
        "estimate": [-0.4, -0.1, -0.2, -0.5, -0.3, 0.1], "std_error": [0.1, 0.2, 0.2, 0.25, 0.4, 0.5],
        "odds_ratio": [0.67, 0.9, 0.82, 0.61, 0.74, 1.1], "ci_low": [0.55, 0.61, 0.55, 0.37, 0.34, 0.41],
        "ci_high": [0.82, 1.33, 1.21, 0.99, 1.62, 2.9], "p_value": [0.001, 0.6, 0.3, 0.04, 0.45, 0.84],
        "q_value": [0.003, 0.6, 0.45, 0.08, 0.6, 0.84], "n_obs": [867, 400, 420, 300, 150, 140],
        "n_events": [340, 150, 160, 60, 9, 4], "n_clusters": [120, 60, 55, 100, 50, 45], "flags": [None] * 6,
    })
    wres = pl.DataFrame({
        "scope": ["overall", "band", "band", "band", "programme_period", "programme_period"],
        "scope_value": ["all", "8a", "8b", "VSM", "pre_programme", "post_programme"],
        "shortlisted_white": [300, 180, 100, 20, 150, 150], "appointed_white": [60, 40, 17, 3, 32, 28],
        "shortlisted_bme": [150, 100, 45, 5, 70, 80], "appointed_bme": [20, 13, 6, 1, 8, 12],
        "proportion_white": [0.2, 0.222, 0.17, 0.15, 0.213, 0.187], "proportion_bme": [0.133, 0.13, 0.133, 0.2, 0.114, 0.15],
        "relative_likelihood": [1.5, 1.71, 1.28, 0.75, 1.87, 1.24], "ci_low": [0.94, 0.96, 0.56, 0.1, 0.9, 0.66],
        "ci_high": [2.4, 3.0, 2.9, 5.5, 3.9, 2.3], "p_value": [0.08, 0.07, 0.6, 1.0, 0.1, 0.5],
        "q_value": [0.08, 0.2, 0.9, 1.0, 0.2, 0.5], "in_non_adverse_band": [False, False, False, False, False, True],
        "orientation": ["White more likely"] * 6, "excluded_unknown_ethnicity": [30, 20, 8, 2, 15, 15],
        "excluded_declined_offer": [9, 5, 3, 1, 4, 5], "flags": [None] * 6,
    })
    nat = pl.DataFrame({
        "period": ["2020", "2022", "all_to_date"], "scope": ["England NHS trusts", "England NHS trusts", "This trust (senior bands 8a-VSM)"],
        "relative_likelihood": [1.61, 1.54, 1.5], "ci_low": [None, None, 0.94], "ci_high": [None, None, 2.4],
        "is_trust": [False, False, True], "note": [None, None, None], "source": ["NHS England", "NHS England", "this evaluation"],
    })
    ai = pl.DataFrame({
        "stage": ["shortlist"] * 4, "period": ["all"] * 4, "grouping": ["census_group_x_sex"] * 4,
        "group": ["White x Female", "Asian x Female", "Black x Male", "Mixed x Male"],
        "n": [300, 120, 60, 6], "selected": [140, 40, 18, 2], "selection_rate": [0.467, 0.333, 0.3, 0.333],
        "share": [0.6, 0.24, 0.12, 0.012], "reference_group": ["White x Female"] * 4, "reference_rate": [0.467] * 4,
        "impact_ratio": [1.0, 0.71, 0.64, 0.71], "four_fifths_flag": [False, True, True, True],
        "p_value": [None, 0.01, 0.02, 1.0], "q_value": [None, 0.02, 0.03, 1.0], "shortfall": [0.0, 16.0, 10.0, 0.8],
        "small_group": [False, False, False, True], "flags": [None, None, None, "small_group"],
    })
    topics = pl.DataFrame({
        "source": ["assessments"] * 3, "topic_id": [0, 1, 2], "label": ["leadership / team / vision", "budget / finance", "=SUM(A1:A9)"],
        "theme": ["leadership", "finance_operations", "experience_readiness"], "term": ["bme:theme=leadership"] * 3,
        "top_terms": ["leadership, team, vision", "budget, finance, cost", "ready, experience, -time"],
        "coherence": [0.12, 0.1, 0.08], "method": ["nmf"] * 3, "k": [3] * 3, "coherence_by_k": ["3:0.1"] * 3,
        "prevalence": [0.4, 0.35, 0.25], "n_dominant": [200, 150, 6], "tone": [0.2, 0.1, -0.05],
        "tone_ci_low": [0.1, 0.0, -0.2], "tone_ci_high": [0.3, 0.2, 0.1], "n_sentences": [900, 700, 40],
    })
    prev = pl.DataFrame({
        "source": ["assessments"] * 6, "variable": ["wres_group"] * 6, "level": ["White", "BME"] * 3,
        "topic_id": [0, 0, 1, 1, 2, 2], "n": [250, 110, 250, 110, 250, 110], "n_clusters": [80] * 6,
        "mean": [0.42, 0.36, 0.34, 0.36, 0.24, 0.28], "std_error": [0.01] * 6, "ci_low": [0.4, 0.33, 0.32, 0.33, 0.22, 0.25],
        "ci_high": [0.44, 0.39, 0.36, 0.39, 0.26, 0.31], "p_value": [0.01] * 6, "q_value": [0.02] * 6, "family": ["prev"] * 6,
    })
    sent = prev.filter(pl.col("topic_id") == 0).with_columns(pl.lit(None, dtype=pl.Int64).alias("topic_id"),
                                                              pl.Series("mean", [0.31, 0.22]))
    effects = pl.DataFrame({
        "source": ["assessments"] * 2, "stage": ["assessment_tone"] * 2, "outcome": ["sentiment"] * 2, "topic_id": [None, None],
        "term": ["bme"] * 2, "adjustment": ["unadjusted", "adjusted"], "model": ["linear"] * 2, "estimate": [-0.09, -0.05],
        "std_error": [0.02, 0.02], "ci_low": [-0.13, -0.09], "ci_high": [-0.05, -0.01], "p_value": [0.001, 0.02],
        "q_value": [0.001, 0.02], "n": [360, 360], "n_clusters": [90, 90], "controls": ["", "offered, normalised_score, band"],
    }, schema_overrides={"topic_id": pl.Int64})
    scores = pl.DataFrame({
        "measure": ["mean_normalised_score"] * 4 + ["scoring_rate"] * 2 + ["member_severity"],
        "breakdown": ["wres_group"] * 6 + ["member"], "band": ["8a", "8a", "8b", "8b", "all", "all", "all"],
        "group": ["White", "BME", "White", "BME", "White", "BME", "P-a1b2c3d4e5f6"], "n": [120, 60, 40, 5, 160, 65, 30],
        "value": [0.66, 0.62, 0.64, 0.58, 0.52, 0.43, -0.02], "ci_low": [0.64, 0.59, 0.6, 0.45, 0.44, 0.31, -0.05],
        "ci_high": [0.68, 0.65, 0.68, 0.71, 0.6, 0.55, 0.01], "mean_z": [0.1, -0.1, 0.05, -0.2, None, None, None],
        "impact_ratio": [None, None, None, None, 1.0, 0.83, None], "reference_group": [None] * 4 + ["White"] * 2 + [None],
    })
    score_eff = pl.DataFrame({
        "stage": ["interview_score"], "model": ["mixed_linear"], "specification": ["candidate"], "term": ["bme"],
        "estimate": [-0.03], "std_error": [0.01], "ci_low": [-0.05], "ci_high": [-0.01], "p_value": [0.003],
        "n_obs": [225], "n_groups": [80], "primary": [True],
    })
    from datetime import date

    rep = pl.DataFrame({
        "measure": ["bme_share"] * 4 + ["representation_ratio"], "period": ["month"] * 4 + ["all_to_date"],
        "snapshot_month": [date(2024, 1, 1)] * 4 + [None], "band": ["all", "senior", "8a", "VSM", "senior"],
        "n": [5000, 800, 400, 14, 120], "n_bme": [1300, 140, 80, 2, 20], "n_unknown": [90, 12, 6, 0, 3],
        "value": [0.26, 0.175, 0.2, 0.143, 0.64], "target": [0.26] * 4 + [0.26], "gap": [0.0, -0.085, -0.06, -0.117, None],
        "ci_low": [0.25, 0.15, 0.16, 0.04, 0.4], "ci_high": [0.27, 0.2, 0.24, 0.4, 0.95],
    })
    periods = []
    for k in range(-8, 7):
        ab, aw = rng.randint(3, 12), rng.randint(15, 30)
        periods.append({"row_type": "period", "stage": "programme_impact", "measure": "bme_share_appointed",
                        "frequency": "quarter", "period": f"q{k}", "t_months": float(3 * k + 1), "post_programme": int(k >= 0),
                        "appointed_bme": ab, "appointed_white": aw, "estimate": ab / (ab + aw)})
    its = [{"row_type": "its", "stage": "programme_impact", "measure": "bme_share_appointed", "model": "segmented_linear",
            "term": t, "frequency": "quarter", "estimate": e, "std_error": 0.02, "ci_low": e - 0.04, "ci_high": e + 0.04,
            "p_value": 0.3, "n_periods": 15, "hac_maxlags": 2}
           for t, e in (("intercept", 0.22), ("level_change", 0.05), ("slope_change", 0.002))]
    prog = pl.DataFrame(periods + its)
    validation = pl.DataFrame({
        "suite": ["staging"] * 3, "expectation": ["expect_column_values_to_match_regex", "expect_column_values_to_not_be_null", "@risky"],
        "severity": ["error", "warning", "warning"], "success": [True, False, False], "unexpected_count": [0, 4, 23],
        "sample_ids": [[], ["A-1"], ["A-2"]],
    })
    quarantine = pl.DataFrame({
        "table_name": ["applications", "applications", "workforce"], "expectation": ["ethnic_code", "dates", "band"],
        "reason": ["invalid ethnic category code", "applied after closing date", "+unknown band"], "rows": [3, 12, 40],
    })
    return {
        "funnel_counts": funnel_counts(af), "odds_ratios": odds, "wres_indicator2": wres, "national_reference": nat,
        "adverse_impact": ai, "topics": topics, "topic_prevalence": prev, "sentiment_by_group": sent, "text_effects": effects,
        "interview_scores": scores, "score_effects": score_eff, "representation": rep, "programme_impact": prog,
        "validation": validation, "quarantine_summary": quarantine,
    }


def build_fake_warehouse(db_path, out_dir, run_id: str = "run-fake", as_of: str = "2024-01", tables=None) -> str:
    """A warehouse with one completed, published run of fake results; returns the run_id."""
    c = connect(db_path)
    try:
        registry.ensure_registry(c)
        registry.start_run(c, run_id=run_id, flow="test", as_of=as_of, params={}, version="test-version",
                           input_sha256="ab" * 32)
        paths = write_results_parquet(fake_results() if tables is None else tables, out_dir)
        c.execute("BEGIN TRANSACTION")
        publish_run(c, run_id, paths, POLICY, own_transaction=False)
        registry.finish_run(c, run_id, "completed")
        c.execute("COMMIT")
    finally:
        c.close()
    return run_id


