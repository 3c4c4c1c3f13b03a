"""publish_run: one transaction, append with run_id, latest views, disclosure-controlled published tables."""
from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import polars as pl
import pytest

from tasks import registry
from tasks.disclosure import load_policy
from tasks.publish import publish_run, write_results_parquet
from tasks.warehouse import connect

POLICY = load_policy()


def _funnel(scale: int = 1) -> pl.DataFrame:
    return pl.DataFrame({
        "band": ["8a", "8a", "8a", "All", "All", "All"],
        "wres_group": ["White", "BME", "All", "White", "BME", "All"],
        "applications": [60 * scale, 3, 60 * scale + 3, 60 * scale, 3, 60 * scale + 3],
        "shortlisted": [20, 2, 22, 20, 2, 22],
        "interviewed": [12, 1, 13, 12, 1, 13],
        "offered": [9, 0, 9, 9, 0, 9],
        "appointed": [8, 0, 8, 8, 0, 8],
    })


def _odds() -> pl.DataFrame:
    return pl.DataFrame({
        "analysis": ["main"], "stage": ["shortlist"], "model": ["logit"], "term": ["bme"],
        "estimate": [-0.5], "std_error": [0.2], "odds_ratio": [0.607], "ci_low": [0.41], "ci_high": [0.9],
        "p_value": [0.01], "q_value": [0.02], "n_obs": [523], "n_events": [8], "n_clusters": [40], "flags": [None],
    })


@pytest.fixture()
def con(tmp_path):
    c = connect(tmp_path / "w.duckdb")
    registry.ensure_registry(c)
    yield c
    c.close()


def _register(con, run_id, as_of, status, finished):
    registry.start_run(con, run_id=run_id, flow="test", as_of=as_of, params={}, version="test")
    if status != "running":
        con.execute("UPDATE results.runs SET status = ?, finished_at = ? WHERE run_id = ?", [status, finished, run_id])


def test_publish_appends_with_run_id_first_and_controls_disclosure(con, tmp_path):
    paths = write_results_parquet({"funnel_counts": _funnel(), "odds_ratios": _odds()}, tmp_path / "r1")
    out = publish_run(con, "run-1", paths, POLICY)
    assert out["tables"]["funnel_counts"]["results_rows"] == 6
    assert out["published_rows"] == 7 and out["policy_version"] == POLICY.version
    cols = [r[0] for r in con.execute("DESCRIBE results.funnel_counts").fetchall()]
    assert cols[0] == "run_id"
    # results keep the exact counts; published shows none of 1..7
    assert con.execute("SELECT applications FROM results.funnel_counts WHERE band='8a' AND wres_group='BME'").fetchall()[0] == (3,)
    pub = pl.from_arrow(con.sql("SELECT * FROM published.funnel_counts WHERE run_id='run-1'").to_arrow_table())
    for c in ("applications", "shortlisted", "interviewed", "offered", "appointed"):
        for v in pub[c].to_list():
            assert v == "*" or int(v) == 0 or int(v) >= 8
    # the BME 3 applications are protected against the 8a total by a complement
    row = pub.filter((pl.col("band") == "8a"))
    assert row["applications"].to_list().count("*") >= 2
    odds = pl.from_arrow(con.sql("SELECT * FROM published.odds_ratios").to_arrow_table())
    assert odds["estimate"].to_list() == [-0.5] and odds["n_events"].to_list() == ["10"]
    assert odds["sdc_flags"].to_list() == ["small_n_events"]
    log = con.execute("SELECT table_name, policy_version, policy_sha256 FROM published.disclosure_log ORDER BY 1").fetchall()
    assert log == [("funnel_counts", POLICY.version, POLICY.sha256), ("odds_ratios", POLICY.version, POLICY.sha256)]


def test_republishing_a_run_replaces_its_rows_and_later_runs_append(con, tmp_path):
    paths = write_results_parquet({"funnel_counts": _funnel()}, tmp_path / "r1")
    publish_run(con, "run-1", paths, POLICY)
    publish_run(con, "run-1", paths, POLICY)
    publish_run(con, "run-2", write_results_parquet({"funnel_counts": _funnel(2)}, tmp_path / "r2"), POLICY)
    counts = dict(con.execute("SELECT run_id, count(*) FROM results.funnel_counts GROUP BY 1").fetchall())
    assert counts == {"run-1": 6, "run-2": 6}
    counts = dict(con.execute("SELECT run_id, count(*) FROM published.funnel_counts GROUP BY 1").fetchall())
    assert counts == {"run-1": 6, "run-2": 6}


def test_a_failure_rolls_back_the_whole_run(con, tmp_path):
    paths = write_results_parquet({"funnel_counts": _funnel()}, tmp_path / "r1")
    paths["zz_broken"] = str(tmp_path / "missing.parquet")  # sorted after funnel_counts
    with pytest.raises(Exception):
        publish_run(con, "run-1", paths, POLICY)
    tables = {r[0] for r in con.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE schema_name IN ('results','published')").fetchall()}
    assert "results.funnel_counts" not in tables and "published.funnel_counts" not in tables


def test_the_callers_transaction_is_used_and_left_to_the_caller(con, tmp_path):
    paths = write_results_parquet({"funnel_counts": _funnel()}, tmp_path / "r1")
    con.execute("BEGIN TRANSACTION")
    publish_run(con, "run-1", paths, POLICY, own_transaction=False)
    registry.finish_run(con, "run-1", "failed", "test")
    con.execute("ROLLBACK")
    assert con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name='results' AND table_name='funnel_counts'").fetchall()[0] == (0,)


def test_latest_views_pick_the_latest_completed_run_per_as_of(con, tmp_path):
    t0 = datetime(2024, 2, 1, 9)
    _register(con, "a-old", "2024-01", "completed", t0)
    _register(con, "a-new", "2024-01", "completed", t0 + timedelta(hours=1))
    _register(con, "a-failed", "2024-01", "failed", t0 + timedelta(hours=2))
    _register(con, "a-running", "2024-01", "running", None)
    _register(con, "b-only", "2023-12", "completed", t0)
    for i, rid in enumerate(["a-old", "a-new", "a-failed", "a-running", "b-only"]):
        publish_run(con, rid, write_results_parquet({"odds_ratios": _odds().with_columns(pl.lit(float(i)).alias("estimate"))},
                                                    tmp_path / rid), POLICY)
    rows = con.execute("SELECT run_as_of, run_id, estimate FROM results.latest_odds_ratios ORDER BY 1").fetchall()
    assert rows == [("2023-12", "b-only", 4.0), ("2024-01", "a-new", 1.0)]


def test_schema_evolution_adds_new_columns(con, tmp_path):
    publish_run(con, "run-1", write_results_parquet({"odds_ratios": _odds()}, tmp_path / "r1"), POLICY)
    later = _odds().with_columns(pl.lit("note").alias("extra_note"))
    publish_run(con, "run-2", write_results_parquet({"odds_ratios": later}, tmp_path / "r2"), POLICY)
    rows = con.execute("SELECT run_id, extra_note FROM published.odds_ratios ORDER BY 1").fetchall()
    assert rows == [("run-1", None), ("run-2", "note")]


def test_bad_table_names_are_refused(con, tmp_path):
    with pytest.raises(ValueError, match="invalid result table name"):
        publish_run(con, "r", {"runs": str(tmp_path / "x.parquet")}, POLICY)
    with pytest.raises(ValueError):
        publish_run(con, "r", {"x; DROP TABLE y": str(tmp_path / "x.parquet")}, POLICY)


def test_restricted_tables_are_stored_but_never_published(con, tmp_path):
    docs = pl.DataFrame({"document_id": ["d1"], "text": ["Strong candidate, [NAME] led the team."], "sentiment": [0.4]})
    out = publish_run(con, "run-1", write_results_parquet({"text_documents": docs}, tmp_path / "r1"), POLICY)
    assert out["restricted"] == ["text_documents"]
    assert con.execute("SELECT count(*) FROM results.text_documents").fetchall()[0] == (1,)
    assert con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name='published' AND table_name='text_documents'").fetchall()[0] == (0,)


# --------------------------------------------------------------------------
# A full set of small fake result tables shaped like the analyses' output,
# shared by the report, export and output-scan tests (import from test_publish).
# --------------------------------------------------------------------------
def fake_results(seed: int = 3) -> dict[str, pl.DataFrame]:
    import random

    from tasks.funnel_counts import funnel_counts

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
        "analysis": ["main"] * 6, "stage": ["shortlist"] * 3 + ["appoint_from_shortlist"] * 3, "model": ["logit"] * 6,
        "term": ["bme", "bme@letter_to_ceo=1", "bme@diverse_panel=1"] * 2,
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


def test_full_fake_run_publishes_every_table_without_small_counts(tmp_path):
    build_fake_warehouse(tmp_path / "w.duckdb", tmp_path / "res")
    c = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        names = [r[0] for r in c.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name='published' ORDER BY 1").fetchall()]
        assert set(fake_results()) | {"disclosure_log"} == set(names)
        for name in fake_results():
            spec = POLICY.table_spec(name)
            present = {r[0] for r in c.execute(f"DESCRIBE published.{name}").fetchall()}
            for col in [x for x in spec.get("counts", []) if x in present]:
                vals = [r[0] for r in c.execute(f'SELECT "{col}" FROM published.{name}').fetchall()]
                assert all(v is None or v == "*" or int(v) == 0 or int(v) >= 8 for v in vals), (name, col, vals)
        # the per-member severity row is not published
        assert c.execute("SELECT count(*) FROM published.interview_scores WHERE measure='member_severity'").fetchall()[0] == (0,)
        assert c.execute("SELECT status FROM results.runs").fetchall()[0] == ("completed",)
    finally:
        c.close()
