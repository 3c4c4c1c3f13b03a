"""publish_and_complete without Prefect: it runs (rows + completed), fails (a fault injected through
``before_commit``) and rolls back (no rows in results.* or published.* for the run, status not completed)."""
from __future__ import annotations

import polars as pl
import pytest
from result_files import write_results_parquet

from tasks.publish import registry
from tasks.publish.complete import publish_and_complete
from tasks.warehouse.connection import reading, writing

FUNNEL = pl.DataFrame({
    "band": ["8a", "8a", "8a", "All", "All", "All"],
    "wres_group": ["White", "BME", "All", "White", "BME", "All"],
    "applications": [60, 3, 63, 60, 3, 63], "shortlisted": [20, 2, 22, 20, 2, 22],
    "interviewed": [12, 1, 13, 12, 1, 13], "offered": [9, 0, 9, 9, 0, 9], "appointed": [8, 0, 8, 8, 0, 8],
})


class InjectedFailure(RuntimeError):
    """The fault a test injects inside the publish transaction."""


def _inject(con) -> None:
    raise InjectedFailure("failure injected inside the publish transaction")


@pytest.fixture()
def warehouse(tmp_path):
    db = tmp_path / "w.duckdb"
    for run_id in ("run-ok", "run-bad"):
        registry.register_run(db, run_id=run_id, flow="monthly-evaluation", as_of="2024-01", params={},
                              out_dir=tmp_path / "out")
    return db, write_results_parquet({"funnel_counts": FUNNEL}, tmp_path / "results")


def _rows(db, run_id) -> dict[str, int]:
    """Rows of ``run_id`` in every results.* and published.* base table that exists."""
    with reading(db) as con:
        tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                             "WHERE table_schema IN ('results', 'published') AND table_type = 'BASE TABLE' "
                             "AND table_name <> 'runs'").fetchall()
        return {f"{s}.{t}": con.execute(f"SELECT count(*) FROM {s}.{t} WHERE run_id = ?", [run_id]).fetchone()[0]
                for s, t in tables}


def _status(db, run_id) -> str:
    with reading(db) as con:
        return con.execute("SELECT status FROM results.runs WHERE run_id = ?", [run_id]).fetchone()[0]


def test_publish_and_complete_writes_every_table_and_completes_the_run(warehouse):
    db, paths = warehouse
    summary = publish_and_complete(db, "run-ok", paths)
    assert summary["tables"] == ["funnel_counts"]
    assert summary["results_rows"] == FUNNEL.height and summary["published_rows"] == FUNNEL.height
    assert _status(db, "run-ok") == "completed"
    rows = _rows(db, "run-ok")
    assert rows["results.funnel_counts"] == FUNNEL.height and rows["published.funnel_counts"] == FUNNEL.height
    assert rows["published.disclosure_log"] == 1
    with reading(db) as con:
        assert con.execute("SELECT DISTINCT run_id FROM results.latest_funnel_counts").fetchall() == [("run-ok",)]


def test_a_failure_inside_the_transaction_rolls_everything_back(warehouse):
    db, paths = warehouse
    with pytest.raises(InjectedFailure):
        publish_and_complete(db, "run-bad", paths, before_commit=_inject)
    assert _status(db, "run-bad") == "running"      # not completed; the caller marks it failed
    assert all(n == 0 for n in _rows(db, "run-bad").values())


def test_a_rolled_back_run_leaves_an_earlier_completed_run_untouched(warehouse):
    db, paths = warehouse
    publish_and_complete(db, "run-ok", paths)
    before = _rows(db, "run-ok")
    with pytest.raises(InjectedFailure):
        publish_and_complete(db, "run-bad", paths, before_commit=_inject)
    registry.mark_failed(db, "run-bad", "InjectedFailure: failure injected inside the publish transaction")
    assert _status(db, "run-bad") == "failed" and _status(db, "run-ok") == "completed"
    rows = _rows(db, "run-bad")
    assert rows and all(n == 0 for n in rows.values()), rows
    assert _rows(db, "run-ok") == before
    with reading(db) as con:
        assert con.execute("SELECT DISTINCT run_id FROM results.latest_funnel_counts").fetchall() == [("run-ok",)]


def test_the_hook_sees_the_run_completed_inside_the_transaction(warehouse):
    db, paths = warehouse
    seen = {}

    def check(con) -> None:
        seen["status"] = con.execute("SELECT status FROM results.runs WHERE run_id = 'run-ok'").fetchone()[0]
        seen["rows"] = con.execute("SELECT count(*) FROM results.funnel_counts WHERE run_id = 'run-ok'").fetchone()[0]

    publish_and_complete(db, "run-ok", paths, before_commit=check)
    assert seen == {"status": "completed", "rows": FUNNEL.height}


def test_a_bad_result_file_fails_before_anything_is_written(warehouse, tmp_path):
    db, paths = warehouse
    with pytest.raises(Exception):
        publish_and_complete(db, "run-bad", {**paths, "odds_ratios": str(tmp_path / "missing.parquet")})
    assert _status(db, "run-bad") == "running"
    assert all(n == 0 for n in _rows(db, "run-bad").values())
    with writing(db):
        pass   # the writer lock was released
