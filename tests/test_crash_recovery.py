"""Kill test: ``edi-recruit run`` killed with SIGKILL at five points heals on the next command.

One small trust (seed 11, ~1,500 applications) and one warehouse.  Each run is a
real CLI subprocess (its own process group); the test-only hook of
flows/checkpoints.py tells the test which step the run has reached
(``EDI_RECRUIT_TEST_STEP_FILE``) and, for publish and exports, holds the run
there (``EDI_RECRUIT_TEST_PAUSE_AT``): publish is paused inside the open publish
transaction, just before the commit.  Ingest, validation and analyses are
killed while they work (a moment after the step starts; the test checks the
run had not moved on).  The runs follow each other, so each run is also "the
next command" of the kill before it; ``edi-recruit runs`` is run after every
kill too.  After each kill: the warehouse opens, no run is left ``running``,
the killed run has no rows in ``results.*`` / ``published.*`` (unless it had
committed publish), and finally a run completes, regenerates the outputs the
exports kill left missing, and publishes the same figures as the run killed
after its publish.

"Figures match a clean run": one clean run on the same extracts in a separate,
FRESH warehouse (its own random pseudonymisation key) is the reference, shared
by every comparison.  Every run of the crashed warehouse that committed publish
(the one killed during exports, and the final run) publishes exactly the
reference's tables (run columns aside).  In CI the runs after the first four
kills are the next kill points' runs (each heals the run before it); the
``slow`` test follows every kill with a run to completion in its own warehouse
and compares each of those five runs with the same reference.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from flow_helpers import analysis_tables, rows_for_run, run_tables, small_trust

AS_OF = "2024-01"
EXE = [sys.executable, "-m", "edi_recruit.cli"]
# (step, pause there?) in pipeline order; a paused step is killed while held, the others while working
KILL_POINTS = [("ingest", False), ("validation", False), ("analyses", False), ("publish", True), ("exports", True)]
WORKING_STEP_GRACE = 1.0     # seconds into a working step before the kill


# columns that are about the run, not the figures
RUN_COLUMNS = ("run_id", "published_at", "created_at")


@pytest.fixture(scope="module")
def space(tmp_path_factory) -> dict:
    from edi_recruit.server import stop_local_api

    base = tmp_path_factory.mktemp("crash")
    space = {"trust": small_trust(base / "extracts"), "db": base / "w" / "edi.duckdb", "out": base / "out",
             "home": base / "prefect", "base": base}
    yield space
    stop_local_api(space["home"])


@pytest.fixture(scope="module")
def clean(space) -> dict:
    """The reference: one run on the same extracts in a separate, fresh warehouse (never crashed)."""
    ref = dict(space, db=space["base"] / "clean" / "edi.duckdb", out=space["base"] / "clean_out")
    res = _cli(ref, _run_args(ref) + ["--no-report", "--no-exports"])   # only its published tables are compared
    assert res.returncode == 0, res.stderr[-3000:]
    [run] = _registry(ref["db"]).values()
    assert run["status"] == "completed"
    return {"db": ref["db"], "run_id": run["run_id"]}


def _figures(db: Path, run_id: str) -> dict:
    """A run's published tables that describe its month (extract-level tables aside), run columns dropped."""
    return {name: df.drop([c for c in RUN_COLUMNS if c in df.columns])
            for name, df in analysis_tables(run_tables(db, run_id, "published")).items()}


def _assert_figures_match_the_clean_run(db: Path, run_id: str, clean: dict) -> None:
    ref, got = _figures(clean["db"], clean["run_id"]), _figures(db, run_id)
    assert len(ref) >= 10 and set(got) == set(ref), (sorted(ref), sorted(got))
    differ = [name for name, df in ref.items() if not (df.height == got[name].height and df.equals(got[name]))]
    assert differ == [], f"published tables that differ from the clean run: {differ}"


def _env(space: dict, **extra: str) -> dict:
    env = dict(os.environ, EDI_RECRUIT_QUIET="1", PYTHONWARNINGS="ignore", PREFECT_HOME=str(space["home"]),
               EDI_RECRUIT_API_IDLE_SECONDS="300", **extra)
    for key in ("EDI_RECRUIT_DEBUG", "PREFECT_API_URL", "EDI_RECRUIT_TEST_PAUSE_AT"):
        if key not in extra:
            env.pop(key, None)
    return env


def _cli(space: dict, args: list[str], timeout: float = 1800) -> subprocess.CompletedProcess:
    return subprocess.run(EXE + args, check=False, env=_env(space), capture_output=True, text=True, timeout=timeout)


def _run_args(space: dict) -> list[str]:
    return ["run", "--extracts", str(space["trust"]), "--db", str(space["db"]), "--as-of", AS_OF,
            "--out", str(space["out"])]


def _steps(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def _kill_at(space: dict, step: str, pause: bool, timeout: float = 600) -> list[str]:
    """Start a run, SIGKILL its process group at ``step``; returns the steps it had reached."""
    step_file = space["base"] / f"steps-{step}.txt"
    extra = {"EDI_RECRUIT_TEST_STEP_FILE": str(step_file)}
    if pause:
        extra["EDI_RECRUIT_TEST_PAUSE_AT"] = step
    proc = subprocess.Popen(EXE + _run_args(space), env=_env(space, **extra), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while step not in _steps(step_file):
            assert proc.poll() is None, f"the run ended before {step}: {proc.stdout.read().decode()[-2000:]}"
            assert time.monotonic() < deadline, f"the run did not reach {step} in {timeout:.0f}s"
            time.sleep(0.1)
        time.sleep(0.5 if pause else WORKING_STEP_GRACE)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    reached = _steps(step_file)
    assert reached[-1] == step, f"killed at {reached[-1]}, not during {step}"
    return reached


def _registry(db: Path) -> dict[str, dict]:
    with duckdb.connect(str(db), read_only=True) as con:   # the warehouse opens after the kill
        cur = con.execute("SELECT * FROM results.runs")
        cols = [d[0] for d in cur.description]
        return {r[0]: dict(zip(cols, r)) for r in cur.fetchall()}


def _runs_command(space: dict) -> subprocess.CompletedProcess:
    return _cli(space, ["runs", "--db", str(space["db"])], timeout=300)


def _new_run(space: dict, seen: set[str]) -> tuple[dict, dict]:
    runs = _registry(space["db"])
    [run] = [r for r in runs.values() if r["run_id"] not in seen]
    seen.add(run["run_id"])
    return run, runs


def _crash_sequence(space: dict, *, complete_after_each: bool) -> dict:
    """Kill a run at each point in turn, run ``edi-recruit runs`` after each (and, with
    ``complete_after_each``, a run to completion); then one run to completion."""
    record: dict = {"kills": {}, "completed_after": {}}
    seen: set[str] = set()
    for step, pause in KILL_POINTS:
        _kill_at(space, step, pause)
        listing = _runs_command(space)
        killed, runs = _new_run(space, seen)
        record["kills"][step] = {"run": killed, "listing": listing, "statuses": {r["status"] for r in runs.values()},
                                 "rows": rows_for_run(space["db"], killed["run_id"])}
        if complete_after_each:
            res = _cli(space, _run_args(space))
            assert res.returncode == 0, (step, res.stderr[-3000:])
            record["completed_after"][step] = _new_run(space, seen)[0]
    final = _cli(space, _run_args(space))
    record["final"] = final
    record["runs_after"] = _registry(space["db"])
    return record


@pytest.fixture(scope="module")
def crashes(space, clean) -> dict:
    """The CI sequence (after the clean reference run, so the two never compete)."""
    return _crash_sequence(space, complete_after_each=False)


@pytest.mark.parametrize("step", [s for s, _ in KILL_POINTS if s != "exports"])
def test_a_run_killed_before_publish_commits_is_abandoned_with_nothing_published(crashes, step):
    kill = crashes["kills"][step]
    run = kill["run"]
    assert kill["listing"].returncode == 0, kill["listing"].stderr[-2000:]
    assert run["status"] == "abandoned", run
    assert run["failure_reason"].startswith(f"abandoned: owner process {run['owner_pid']} on ")
    assert run["failure_reason"].endswith(f"(last step: {step})")
    assert "running" not in kill["statuses"]          # nothing stuck after the next command
    assert run["run_id"][:8] in kill["listing"].stdout and "abandoned" in kill["listing"].stdout
    partial = {name: n for name, n in kill["rows"].items() if n}
    assert partial == {}, partial                      # no partial published (or result) rows


def test_a_run_killed_during_exports_stays_completed_and_its_outputs_are_regenerated(crashes):
    kill = crashes["kills"]["exports"]
    run = kill["run"]
    assert run["status"] == "completed" and "running" not in kill["statuses"]
    outputs = json.loads(run["outputs_json"])
    assert outputs["report"]["status"] == "written" and Path(outputs["report"]["path"]).is_file()
    assert outputs["exports"] == {"status": "planned"} and outputs["artifacts"] == {"status": "planned"}
    assert kill["rows"]["published.odds_ratios"] > 0
    # the next run made them from the published tables and recorded them
    healed = json.loads(crashes["runs_after"][run["run_id"]]["outputs_json"])
    assert {k: v["status"] for k, v in healed.items()} == {"report": "written", "exports": "written",
                                                          "artifacts": "written"}
    xlsx = Path(healed["exports"]["path"])
    from tasks.core.config import trust_label
    from tasks.outputs.export import workbook_name

    assert xlsx.is_file() and xlsx.name == workbook_name(trust_label(), run["as_of"], run["run_id"])


def test_the_next_run_completes_with_the_same_figures(crashes, space):
    from tasks.publish.run_diff import diff_tables

    final = crashes["final"]
    assert final.returncode == 0, final.stderr[-3000:]
    runs = crashes["runs_after"]
    assert "running" not in {r["status"] for r in runs.values()}
    [new] = [r for r in runs.values() if r["run_id"] not in {k["run"]["run_id"] for k in crashes["kills"].values()}]
    assert new["status"] == "completed" and f"Run {new['run_id']} completed" in final.stdout
    published_before = crashes["kills"]["exports"]["run"]["run_id"]
    a = analysis_tables(run_tables(space["db"], published_before, "published"))
    b = analysis_tables(run_tables(space["db"], new["run_id"], "published"))
    assert len(a) >= 10 and set(a) == set(b)
    d = diff_tables(a, b, published_before, new["run_id"], abs_tol=1e-12, rel_tol=1e-12)
    assert d.identical, [(n, t.changed[:3], t.only_in_a[:3], t.only_in_b[:3]) for n, t in d.tables.items()
                         if not t.identical]


def test_every_published_run_of_the_crashed_warehouse_matches_a_clean_run(crashes, space, clean):
    """Figures match a clean run: the run killed during exports (publish had committed) and the final run."""
    [final] = [r for r in crashes["runs_after"].values() if r["run_id"] not in
               {k["run"]["run_id"] for k in crashes["kills"].values()}]
    for run_id in (crashes["kills"]["exports"]["run"]["run_id"], final["run_id"]):
        _assert_figures_match_the_clean_run(space["db"], run_id, clean)


@pytest.mark.slow
def test_after_each_kill_the_next_run_completes_with_a_clean_runs_figures(space, clean):
    """Acceptance, in full: every kill point is followed by a run to completion (its own warehouse)."""
    mine = dict(space, db=space["base"] / "each" / "edi.duckdb", out=space["base"] / "each_out")
    record = _crash_sequence(mine, complete_after_each=True)
    assert record["final"].returncode == 0, record["final"].stderr[-3000:]
    for step, _ in KILL_POINTS:
        killed = record["runs_after"][record["kills"][step]["run"]["run_id"]]
        assert killed["status"] == ("completed" if step == "exports" else "abandoned"), (step, killed)
        done = record["completed_after"][step]
        assert done["status"] == "completed", (step, done)
        _assert_figures_match_the_clean_run(mine["db"], done["run_id"], clean)
