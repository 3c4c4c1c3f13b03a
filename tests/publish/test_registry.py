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


# ---------------------------------------------------------------- backfill's skip rule, with the run configuration
def test_skip_rule_compares_inputs_code_and_recorded_parameters():
    from tasks.core.config import resolve_config

    cfg = resolve_config(env={}).for_month("2024-01")
    params = cfg.run_params()
    last = {"run_id": "r", "input_sha256": "abc", "code_version": "v1",
            "params_json": json.dumps(params, sort_keys=True)}
    assert registry.should_skip(last, input_sha256="abc", code_version="v1", params=dict(params))
    assert not registry.should_skip(last, input_sha256="abd", code_version="v1", params=params)   # new extracts
    assert not registry.should_skip(last, input_sha256="abc", code_version="v2", params=params)   # new code
    other_window = resolve_config(env={}, window="last_12_months").for_month("2024-01").run_params()
    assert not registry.should_skip(last, input_sha256="abc", code_version="v1", params=other_window)
    other_param = resolve_config(env={}, params={"its_frequency": "quarter"}).for_month("2024-01").run_params()
    assert not registry.should_skip(last, input_sha256="abc", code_version="v1", params=other_param)
    from_env = resolve_config(env={"EDI_FUNNEL_STATSMODELS_MAX_ROWS": "10"}).for_month("2024-01").run_params()
    assert not registry.should_skip(last, input_sha256="abc", code_version="v1", params=from_env)
    assert not registry.should_skip(None, input_sha256="abc", code_version="v1", params=params)  # never completed
    assert not registry.should_skip({**last, "params_json": "{not json"}, input_sha256="abc", code_version="v1",
                                    params=params)


def test_plan_months_skips_only_unchanged_completed_months(tmp_path):
    from tasks.core.config import resolve_config

    db = tmp_path / "p.duckdb"
    cfg = resolve_config(env={})
    params = {m: cfg.for_month(m).run_params() for m in ("2024-01", "2024-02", "2024-03")}
    version = registry.code_version()
    with writing(db) as con:
        for run_id, month, status in (("a", "2024-01", "completed"), ("b", "2024-02", "failed")):
            registry.start_run(con, run_id=run_id, flow="monthly-evaluation", as_of=month, params=params[month],
                               input_sha256="sha", version=version)
            registry.finish_run(con, run_id, status)
    plan = registry.plan_months(db, list(params), flow="monthly-evaluation", input_sha256="sha",
                                params_by_month=params, force=False)
    assert {m: p["action"] for m, p in plan.items()} == {"2024-01": "skipped", "2024-02": "run", "2024-03": "run"}
    assert plan["2024-01"]["run_id"] == "a"
    forced = registry.plan_months(db, list(params), flow="monthly-evaluation", input_sha256="sha",
                                  params_by_month=params, force=True)
    assert forced["2024-01"] == {"action": "run", "run_id": None, "note": "forced"}
    changed = registry.plan_months(db, ["2024-01"], flow="monthly-evaluation", input_sha256="new",
                                   params_by_month=params, force=False)
    assert changed["2024-01"]["action"] == "run"


# ---------------------------------------------------------------- crash recovery: owners, heartbeats, abandonment
def _dead_pid() -> tuple[int, float]:
    """A PID and start time of a process that has exited (and been reaped)."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    started = registry.process_start_time(proc.pid)
    proc.kill()
    proc.wait()
    return proc.pid, started


def test_abandonment_reason_hand_cases():
    from datetime import datetime, timedelta

    at = datetime(2024, 2, 1, 12, 0)
    here = {"status": "running", "owner_host": "h1", "owner_pid": 42, "owner_started": 100.0, "step": "analyses",
            "started_at": at - timedelta(hours=30), "heartbeat_at": at - timedelta(hours=20)}
    alive = lambda pid, started: True  # noqa: E731
    dead = lambda pid, started: False  # noqa: E731
    # same host: the process decides, however old the heartbeat
    assert registry.abandonment_reason(here, host="h1", at=at, stale_after=60, alive=alive) is None
    reason = registry.abandonment_reason(here, host="h1", at=at, stale_after=1e9, alive=dead)
    assert reason == "abandoned: owner process 42 on h1 is gone (last step: analyses)"
    # another host: the heartbeat's age decides (20 h old)
    assert registry.abandonment_reason(here, host="h2", at=at, stale_after=21 * 3600, alive=dead) is None
    reason = registry.abandonment_reason(here, host="h2", at=at, stale_after=19 * 3600, alive=alive)
    assert reason == "abandoned: no heartbeat for 20.0 h (h1:42, last step: analyses)"
    # a run recorded before owners existed: its start time stands in for the heartbeat
    legacy = {"status": "running", "started_at": at - timedelta(hours=7)}
    assert "no heartbeat for 7.0 h (unknown owner" in registry.abandonment_reason(
        legacy, host="h1", at=at, stale_after=6 * 3600)
    # only running runs are ever abandoned
    assert registry.abandonment_reason({**here, "status": "completed"}, host="h1", at=at, stale_after=0,
                                       alive=dead) is None


def test_owner_alive_rejects_a_gone_or_reused_pid():
    import os

    me = registry.current_owner()
    assert me["owner_pid"] == os.getpid() and me["owner_started"] is not None
    assert registry.owner_alive(os.getpid(), me["owner_started"])
    assert not registry.owner_alive(os.getpid(), me["owner_started"] - 3600)   # same PID, another process
    pid, started = _dead_pid()
    assert not registry.owner_alive(pid, started)


def test_reap_marks_only_runs_whose_owner_is_gone(tmp_path):
    import socket

    db = tmp_path / "r.duckdb"
    pid, started = _dead_pid()
    host = socket.gethostname()
    with writing(db) as con:
        registry.start_run(con, run_id="dead", flow="f", as_of="2024-01", params={},
                           owner={"owner_host": host, "owner_pid": pid, "owner_started": started})
        registry.start_run(con, run_id="live", flow="f", as_of="2024-01", params={})   # this process
        registry.start_run(con, run_id="done", flow="f", as_of="2024-01", params={},
                           owner={"owner_host": host, "owner_pid": pid, "owner_started": started})
        registry.finish_run(con, "done", "completed")
    registry.heartbeat(db, "dead", "validation")
    reaped = registry.recover(db)
    assert [r["run_id"] for r in reaped] == ["dead"]
    with reading(db) as con:
        status = dict(con.execute("SELECT run_id, status FROM results.runs").fetchall())
        reason = con.execute("SELECT failure_reason FROM results.runs WHERE run_id = 'dead'").fetchone()[0]
    assert status == {"dead": "abandoned", "live": "running", "done": "completed"}
    assert reason == f"abandoned: owner process {pid} on {host} is gone (last step: validation)"
    assert registry.recover(db) == []        # nothing left to mark
    # the next run's registration marks abandoned runs too
    with writing(db) as con:
        registry.start_run(con, run_id="dead2", flow="f", as_of="2024-01", params={},
                           owner={"owner_host": host, "owner_pid": pid, "owner_started": started})
    registry.register_run(db, run_id="next", flow="f", as_of="2024-01", params={}, out_dir=tmp_path)
    with reading(db) as con:
        assert con.execute("SELECT status FROM results.runs WHERE run_id = 'dead2'").fetchone()[0] == "abandoned"


def test_an_old_registry_gains_owner_columns_and_the_abandoned_status(tmp_path):
    import duckdb

    db = tmp_path / "old.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE SCHEMA results")
        con.execute("""CREATE TABLE results.runs (run_id VARCHAR PRIMARY KEY, flow VARCHAR NOT NULL,
            as_of VARCHAR NOT NULL, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP,
            status VARCHAR NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
            code_version VARCHAR NOT NULL, input_sha256 VARCHAR, params_json VARCHAR NOT NULL,
            failure_reason VARCHAR, output_dir VARCHAR)""")
        con.execute("INSERT INTO results.runs VALUES ('old', 'f', '2023-01', TIMESTAMP '2023-02-01 06:00', NULL, "
                    "'running', 'abc', NULL, '{}', NULL, NULL)")
    reaped = registry.recover(db)   # stale (years old, no owner) -> abandoned under the widened CHECK
    assert [r["run_id"] for r in reaped] == ["old"]
    with reading(db) as con:
        row = con.execute("SELECT status, code_version, owner_host FROM results.runs").fetchone()
        assert row == ("abandoned", "abc", None)
        with pytest.raises(duckdb.ConstraintException):
            con.execute("UPDATE results.runs SET status = 'done'")


def test_outputs_are_recorded_and_missing_ones_named(tmp_path):
    db = tmp_path / "r.duckdb"
    registry.register_run(db, run_id="r1", flow="f", as_of="2024-01", params={}, out_dir=tmp_path,
                          outputs=("report", "exports", "artifacts"))
    report = tmp_path / "r1" / "report.html"
    report.parent.mkdir()
    report.write_text("<html></html>")
    registry.record_output(db, "r1", "report", status="written", path=str(report))
    registry.record_output(db, "r1", "exports", status="failed", reason="OSError: disk full")
    with writing(db) as con:
        registry.finish_run(con, "r1", "completed")
        assert registry.runs_missing_outputs(con) == [
            {"run_id": "r1", "output_dir": str(tmp_path / "r1"), "missing": ["artifacts", "exports"]}]
        registry.set_output(con, "r1", "exports", status="written", path=str(report))
        registry.set_output(con, "r1", "artifacts", status="written")
        assert registry.runs_missing_outputs(con) == []
        report.unlink()          # a file deleted after the fact is missing again
        assert registry.runs_missing_outputs(con)[0]["missing"] == ["exports", "report"]
        with pytest.raises(ValueError, match="unknown output 'slides'"):
            registry.set_output(con, "r1", "slides", status="written")
