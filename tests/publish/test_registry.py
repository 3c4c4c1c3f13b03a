"""The run registry and the single-writer lock."""
from __future__ import annotations

import json
import re
import threading
import time

import pytest

from tasks.publish import registry
from tasks.warehouse.connection import reading, writing
from tasks.warehouse.locks import WriterLockTimeout, writer_lock


def test_run_lifecycle_and_latest_view(tmp_path):
    db = tmp_path / "r.duckdb"
    with writing(db) as con:
        registry.start_run(con, run_id="r1", flow="monthly-evaluation", as_of="2023-05", params={"b": 1, "a": 2})
        registry.set_input(con, "r1", "a" * 64)
        registry.finish_run(con, "r1", "completed")
        registry.start_run(con, run_id="r2", flow="monthly-evaluation", as_of="2023-05", params={})
        registry.finish_run(con, "r2", "failed", "ValidationCritical: applications.csv: 3 rows ...")
        registry.start_run(con, run_id="r3", flow="monthly-evaluation", as_of="2023-06", params={})
    with reading(db) as con:
        rows = {r[0]: r for r in con.execute(
            "SELECT run_id, status, finished_at, failure_reason, params_json, input_sha256 FROM results.runs").fetchall()}
        assert rows["r1"][1] == "completed" and rows["r1"][2] is not None
        assert json.loads(rows["r1"][4]) == {"a": 2, "b": 1}
        assert rows["r1"][5] == "a" * 64
        assert rows["r2"][1] == "failed" and rows["r2"][3].startswith("ValidationCritical")
        assert rows["r3"][1] == "running" and rows["r3"][2] is None
        # latest completed run per month: the failed r2 and running r3 are not "latest"
        latest = con.execute("SELECT as_of, run_id FROM results.latest_runs ORDER BY as_of").fetchall()
        assert latest == [("2023-05", "r1")]
        assert registry.last_completed(con, "2023-05", "monthly-evaluation")["run_id"] == "r1"
        assert registry.last_completed(con, "2023-06", "monthly-evaluation") is None
        listed = registry.list_runs(con)
        assert listed.height == 3 and set(listed["status"]) == {"completed", "failed", "running"}


def test_finish_rejects_unknown_status(tmp_path):
    with writing(tmp_path / "r.duckdb") as con:
        registry.ensure_registry(con)
        with pytest.raises(ValueError, match="completed or failed"):
            registry.finish_run(con, "x", "done")


def test_status_is_constrained(tmp_path):
    import duckdb

    with writing(tmp_path / "r.duckdb") as con:
        registry.start_run(con, run_id="r", flow="f", as_of="2023-01", params={})
        with pytest.raises(duckdb.ConstraintException):
            con.execute("UPDATE results.runs SET status = 'weird' WHERE run_id = 'r'")


def test_code_version_is_a_git_sha_or_package_version():
    v = registry.code_version()
    assert re.fullmatch(r"[0-9a-f]{12}(-dirty)?|v\d+\.\d+\.\d+", v), v


def test_second_writer_waits_for_the_first(tmp_path):
    db = tmp_path / "w.duckdb"
    order = []

    def first():
        with writer_lock(db, holder="first"):
            order.append("first-in")
            time.sleep(0.6)
            order.append("first-out")

    t = threading.Thread(target=first)
    t.start()
    time.sleep(0.1)
    with writer_lock(db, timeout=10, holder="second"):
        order.append("second-in")
    t.join()
    assert order == ["first-in", "first-out", "second-in"]


def test_second_writer_times_out_with_a_clear_message(tmp_path):
    db = tmp_path / "w.duckdb"
    ready, release = threading.Event(), threading.Event()

    def holder():
        with writer_lock(db, holder="run-A"):
            ready.set()
            release.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    ready.wait(5)
    try:
        with pytest.raises(WriterLockTimeout, match=r"timed out after 0s waiting to write .*w\.duckdb"):
            with writer_lock(db, timeout=0.3):
                pass
    finally:
        release.set()
        t.join()
