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
