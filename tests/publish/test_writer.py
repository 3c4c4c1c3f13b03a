"""publish_run: one transaction, append with run_id, latest views, disclosure-controlled published tables."""
from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import polars as pl
import pytest
from fake_warehouse import build_fake_warehouse, fake_results
from result_files import write_results_parquet

from tasks.privacy.disclosure import load_policy
from tasks.publish import registry
from tasks.publish.writer import publish_run
from tasks.warehouse.connection import connect

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
    row = pub.filter(pl.col("band") == "8a")
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


def _old_warehouse(con, tmp_path) -> None:
    """A warehouse published before the linked-disclosure change: published.odds_ratios.n_clusters was BIGINT."""
    publish_run(con, "run-0", write_results_parquet({"odds_ratios": _odds()}, tmp_path / "r0"), POLICY)
    con.execute("CREATE OR REPLACE TABLE published.odds_ratios AS "
                "SELECT * REPLACE (CAST(n_clusters AS BIGINT) AS n_clusters) FROM published.odds_ratios")
    assert {r[0]: r[1] for r in con.execute("DESCRIBE published.odds_ratios").fetchall()}["n_clusters"] == "BIGINT"


def test_a_column_whose_type_changed_is_migrated_and_earlier_runs_kept(con, tmp_path):
    _old_warehouse(con, tmp_path)
    few = _odds().with_columns(pl.lit(5).alias("n_clusters"))          # 5 person clusters: published as '*'
    out = publish_run(con, "run-1", write_results_parquet({"odds_ratios": few}, tmp_path / "r1"), POLICY)
    assert out["migrated"] == ["published.odds_ratios.n_clusters: BIGINT -> VARCHAR"]
    types = {r[0]: r[1] for r in con.execute("DESCRIBE published.odds_ratios").fetchall()}
    assert types["n_clusters"] == "VARCHAR"
    rows = con.execute("SELECT run_id, n_clusters FROM published.odds_ratios ORDER BY 1").fetchall()
    assert rows == [("run-0", "40"), ("run-1", "*")]               # the earlier run's value kept, as text
    # publishing again needs no migration
    again = publish_run(con, "run-2", write_results_parquet({"odds_ratios": few}, tmp_path / "r2"), POLICY)
    assert again["migrated"] == []


def test_a_type_migration_is_rolled_back_with_the_run(con, tmp_path):
    _old_warehouse(con, tmp_path)
    few = _odds().with_columns(pl.lit(5).alias("n_clusters"))
    con.execute("BEGIN TRANSACTION")
    publish_run(con, "run-1", write_results_parquet({"odds_ratios": few}, tmp_path / "r1"), POLICY,
                own_transaction=False)
    con.execute("ROLLBACK")
    types = {r[0]: r[1] for r in con.execute("DESCRIBE published.odds_ratios").fetchall()}
    assert types["n_clusters"] == "BIGINT"
    assert con.execute("SELECT run_id, n_clusters FROM published.odds_ratios").fetchall() == [("run-0", 40)]


@pytest.mark.parametrize(("existing", "incoming", "target"), [
    ("BIGINT", "VARCHAR", "VARCHAR"),       # a count now published as text ('*')
    ("INTEGER", "BIGINT", "BIGINT"),        # numbers widen
    ("BIGINT", "DOUBLE", "DOUBLE"),
    ("DATE", "TIMESTAMP", "TIMESTAMP"),
    ("DOUBLE", "TIMESTAMP", "VARCHAR"),     # no common type that keeps every value: text
    ("VARCHAR", "BIGINT", None),            # the stored type takes the new values as they are
    ("BIGINT", "INTEGER", None),
    ("DOUBLE", "DOUBLE", None),
])
def test_migrated_type(con, existing, incoming, target):
    from tasks.publish.writer import migrated_type

    assert migrated_type(con, existing, incoming) == target
