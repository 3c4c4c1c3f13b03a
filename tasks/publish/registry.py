"""The run registry: ``results.runs``.

One row per evaluation run, keyed by the Prefect flow-run id.  A run is
``running`` while it works, and becomes ``completed`` only inside the publish
transaction (:func:`tasks.publish.complete.publish_and_complete`), ``failed``
with its reason, or ``abandoned`` when its owner died without saying so.

Crash recovery.  Each run records its owner (host, PID, the process's start
time) and a heartbeat (the step it is at, and when; :func:`heartbeat`).  A
``running`` run is abandoned (:func:`abandonment_reason`, pure) when its owner
process is gone from this host (or the PID now belongs to another process), or,
for a run owned by another host, when its heartbeat is older than
``EDI_RECRUIT_STALE_RUN_HOURS`` (default 6).  :func:`reap_abandoned` marks such
runs; the next run, ``edi-recruit runs`` and ``edi-recruit serve`` call it.

Outputs.  ``outputs_json`` records each output a run plans (report, exports,
artifacts) as ``planned``, then ``written`` (with its path) or ``failed``;
:func:`missing_outputs` names the ones a completed run still lacks (flows/outputs.py
regenerates them from the published tables).

The functions taking a connection run inside the caller's transaction;
:func:`register_run`, :func:`record_input`, :func:`heartbeat`, :func:`record_output`
and :func:`mark_failed` open the single writer themselves (the flow steps call them).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import duckdb
import polars as pl

from tasks.core.paths import PROJECT_ROOT
from tasks.warehouse.sql import query, run_sql

OUTPUT_KINDS = ("report", "exports", "artifacts")
STALE_RUN_HOURS_ENV = "EDI_RECRUIT_STALE_RUN_HOURS"
DEFAULT_STALE_RUN_HOURS = 6.0


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@lru_cache(maxsize=1)
def code_version() -> str:
    """Git SHA (with ``-dirty`` when the tree has uncommitted changes), else the package version."""
    try:
        sha = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
        return f"{sha}-dirty" if dirty else sha
    except Exception:  # noqa: BLE001 - no git, or not a checkout
        try:
            return f"v{metadata.version('edi-recruit')}"
        except metadata.PackageNotFoundError:
            return "unknown"


def ensure_registry(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``results.runs`` (or bring an older one up to date: owner columns, the ``abandoned`` status)."""
    from tasks.warehouse.connection import table_exists

    if table_exists(con, "results.runs"):
        checks = [r[0] for r in run_sql(con, "ops/registry/status_check").fetchall()]
        if checks and not any("abandoned" in c for c in checks):
            run_sql(con, "ops/registry/widen_status")       # set the old table aside,
            run_sql(con, "ops/registry/create")             # make the current one,
            run_sql(con, "ops/registry/copy_set_aside")     # and copy every row back by column name
    run_sql(con, "ops/registry/create")


# ---------------------------------------------------------------- the owner of a run and its liveness
def process_start_time(pid: int) -> float | None:
    """When process ``pid`` started (epoch seconds), or None when there is no such process."""
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def current_owner() -> dict:
    """This process as a run owner: host, PID and start time."""
    return {"owner_host": socket.gethostname(), "owner_pid": os.getpid(),
            "owner_started": process_start_time(os.getpid())}


def owner_alive(pid: int, started: float | None) -> bool:
    """Is the process that owned a run still there (same PID, same start time: not a reused PID)?"""
    now_started = process_start_time(int(pid))
    if now_started is None:
        return False
    return started is None or abs(now_started - float(started)) < 1.0


def stale_after_seconds() -> float:
    try:
        return float(os.environ.get(STALE_RUN_HOURS_ENV, DEFAULT_STALE_RUN_HOURS)) * 3600.0
    except ValueError:
        return DEFAULT_STALE_RUN_HOURS * 3600.0


def abandonment_reason(run: dict, *, host: str, at: datetime, stale_after: float, alive=owner_alive) -> str | None:
    """Why a ``running`` run is abandoned, or None while its owner may still be working.

    On the owner's own host the process is checked (``alive(pid, started)``); a run owned by
    another host (or recorded without an owner) is abandoned when its last heartbeat
    (else its start) is more than ``stale_after`` seconds before ``at``.
    """
    if run.get("status") != "running":
        return None
    step = run.get("step") or "start"
    if run.get("owner_host") == host and run.get("owner_pid") is not None:
        if alive(run["owner_pid"], run.get("owner_started")):
            return None
        return f"abandoned: owner process {run['owner_pid']} on {host} is gone (last step: {step})"
    beat = run.get("heartbeat_at") or run.get("started_at")
    age = (at - beat).total_seconds() if beat is not None else float("inf")
    if age <= stale_after:
        return None
    owner = f"{run.get('owner_host')}:{run.get('owner_pid')}" if run.get("owner_host") else "unknown owner"
    return f"abandoned: no heartbeat for {age / 3600:.1f} h ({owner}, last step: {step})"


def reap_abandoned(con, *, stale_after: float | None = None) -> list[dict]:
    """Mark every abandoned ``running`` run ``abandoned`` with its reason; returns [{run_id, reason}]."""
    from tasks.warehouse.connection import table_exists

    if not table_exists(con, "results.runs"):
        return []
    ensure_registry(con)
    host, at = socket.gethostname(), now()
    limit = stale_after if stale_after is not None else stale_after_seconds()
    reaped = []
    for run in query(con, "ops/registry/running").iter_rows(named=True):
        reason = abandonment_reason(run, host=host, at=at, stale_after=limit)
        if reason:
            run_sql(con, "ops/registry/abandon", {"run_id": run["run_id"], "finished_at": at,
                                                  "failure_reason": reason})
            reaped.append({"run_id": run["run_id"], "reason": reason})
    return reaped


def start_run(con, *, run_id: str, flow: str, as_of: str, params: dict,
              input_sha256: str | None = None, output_dir: str | None = None,
              version: str | None = None, outputs: tuple[str, ...] = (), owner: dict | None = None) -> None:
    ensure_registry(con)
    planned = {kind: {"status": "planned"} for kind in outputs}
    run_sql(con, "ops/registry/start", {
        "run_id": run_id, "flow": flow, "as_of": as_of, "started_at": now(),
        "code_version": version or code_version(), "input_sha256": input_sha256,
        "params_json": json.dumps(params, sort_keys=True, default=str), "output_dir": output_dir,
        **(owner or current_owner()),
        "outputs_json": json.dumps(planned, sort_keys=True) if outputs else None,
    })


# ---------------------------------------------------------------- outputs
def outputs_of(run: dict) -> dict:
    try:
        return json.loads(run.get("outputs_json") or "{}")
    except ValueError:
        return {}


def missing_outputs(run: dict) -> list[str]:
    """The outputs a run planned and does not have: not written, or its file has gone."""
    missing = []
    for kind, rec in sorted(outputs_of(run).items()):
        path = rec.get("path")
        if rec.get("status") != "written" or (path and kind != "artifacts" and not Path(path).exists()):
            missing.append(kind)
    return missing


def set_output(con, run_id: str, kind: str, *, status: str, path: str | None = None,
               reason: str | None = None) -> None:
    if kind not in OUTPUT_KINDS:
        raise ValueError(f"unknown output {kind!r}; expected one of {', '.join(OUTPUT_KINDS)}")
    row = query(con, "ops/registry/get", {"run_id": run_id})
    current = outputs_of(row.row(0, named=True)) if row.height else {}
    current[kind] = {k: v for k, v in {"status": status, "path": path, "reason": reason}.items() if v}
    run_sql(con, "ops/registry/set_outputs", {"run_id": run_id, "outputs_json": json.dumps(current, sort_keys=True)})


def runs_missing_outputs(con) -> list[dict]:
    """Completed runs (with tracked outputs) that lack one: [{run_id, output_dir, missing}]."""
    out = []
    for run in query(con, "ops/registry/completed_with_outputs").iter_rows(named=True):
        missing = missing_outputs(run)
        if missing:
            out.append({"run_id": run["run_id"], "output_dir": run["output_dir"], "missing": missing})
    return out


def get_run(con, run_id: str) -> dict | None:
    df = query(con, "ops/registry/get", {"run_id": run_id})
    return df.row(0, named=True) if df.height else None


def set_input(con, run_id: str, input_sha256: str) -> None:
    run_sql(con, "ops/registry/set_input", {"run_id": run_id, "input_sha256": input_sha256})


def finish_run(con, run_id: str, status: str, failure_reason: str | None = None) -> None:
    """Set a run ``completed`` or ``failed`` (``abandoned`` is only set by :func:`reap_abandoned`)."""
    if status not in ("completed", "failed"):
        raise ValueError(f"a run finishes as completed or failed, not {status!r}")
    run_sql(con, "ops/registry/finish", {
        "run_id": run_id, "status": status, "finished_at": now(),
        "failure_reason": (failure_reason or None) and failure_reason[:2000],
    })


def list_runs(con) -> pl.DataFrame:
    """All runs, newest first (empty when the warehouse has none yet)."""
    from tasks.warehouse.connection import table_exists

    if not table_exists(con, "results.runs"):
        return pl.DataFrame()
    return query(con, "queries/runs_list")


def last_completed(con, as_of: str, flow: str) -> dict | None:
    df = query(con, "ops/registry/last_completed", {"as_of": as_of, "flow": flow})
    return df.row(0, named=True) if df.height else None


# ---------------------------------------------------------------- one write each, holding the single writer
def register_run(db: str | Path, *, run_id: str, flow: str, as_of: str, params: dict, out_dir: str | Path,
                 outputs: tuple[str, ...] = ()) -> str:
    """Create the warehouse folder if needed, mark abandoned runs, and record the run as ``running``
    owned by this process, with the outputs it plans; outputs go to <out_dir>/<run_id>/."""
    from tasks.warehouse.connection import writing

    Path(db).parent.mkdir(parents=True, exist_ok=True)
    with writing(db) as con:
        reap_abandoned(con)
        start_run(con, run_id=run_id, flow=flow, as_of=as_of, params=params, output_dir=str(Path(out_dir) / run_id),
                  outputs=outputs)
    return run_id


def recover(db: str | Path, *, wait_seconds: float = 1800) -> list[dict]:
    """Mark the warehouse's abandoned runs (no-op without a warehouse); returns what was marked."""
    from tasks.warehouse.connection import writing

    if not Path(db).exists():
        return []
    with writing(db, wait_seconds=wait_seconds) as con:
        return reap_abandoned(con)


def heartbeat(db: str | Path, run_id: str, step: str) -> None:
    """Record that a running run is alive and at ``step``."""
    from tasks.warehouse.connection import writing

    with writing(db) as con:
        run_sql(con, "ops/registry/heartbeat", {"run_id": run_id, "step": step, "heartbeat_at": now()})


def record_output(db: str | Path, run_id: str, kind: str, *, status: str, path: str | None = None,
                  reason: str | None = None) -> None:
    """Record one output of a run as ``written`` (with its path) or ``failed`` (with the reason)."""
    from tasks.warehouse.connection import writing

    with writing(db) as con:
        set_output(con, run_id, kind, status=status, path=path, reason=reason)


def record_input(db: str | Path, run_id: str, input_sha256: str) -> None:
    """Record the extract set a run ingested."""
    from tasks.warehouse.connection import writing

    with writing(db) as con:
        set_input(con, run_id, input_sha256)


def record_status_dates(db: str | Path, run_id: str, status_dates: str) -> None:
    """Record whether the run's export dates its status changes (``tasks.marts.status_dates_coverage``)."""
    from tasks.warehouse.connection import writing

    with writing(db) as con:
        run_sql(con, "ops/registry/set_status_dates", {"run_id": run_id, "status_dates": status_dates})


def record_reuse(db: str | Path, run_id: str, analysis: str, reused: dict) -> None:
    """Record what ``analysis`` reused instead of recomputing (``reuse_json``, one key per analysis)."""
    from tasks.warehouse.connection import table_exists, writing

    with writing(db) as con:
        run = get_run(con, run_id) if table_exists(con, "results.runs") else None
        if run is None:  # an analysis run outside a registered run (tests, notebooks)
            return
        current = json.loads(run.get("reuse_json") or "{}")
        current[analysis] = reused
        run_sql(con, "ops/registry/set_reuse", {"run_id": run_id, "reuse_json": json.dumps(current, sort_keys=True)})


def mark_failed(db: str | Path, run_id: str, reason: str) -> None:
    """Mark a run ``failed`` with its reason (also after publish: results.latest_* then skip it)."""
    from tasks.warehouse.connection import writing

    with writing(db) as con:
        finish_run(con, run_id, "failed", reason)


# ---------------------------------------------------------------- backfill's skip rule
def should_skip(last: dict | None, *, input_sha256: str, code_version: str, params: dict) -> bool:
    """Skip a month when its last completed run used the same inputs, code and parameters.

    ``params`` is what the new run would record (:meth:`tasks.core.config.RunConfig.run_params`);
    it is compared with the stored ``params_json`` after the same JSON round trip.
    """
    if not last:
        return False
    try:
        last_params = json.loads(last.get("params_json") or "{}")
    except ValueError:
        return False
    return (last.get("input_sha256") == input_sha256 and last.get("code_version") == code_version
            and last_params == json.loads(json.dumps(params, sort_keys=True, default=str)))


def plan_months(db: str | Path, months: list[str], *, flow: str, input_sha256: str,
                params_by_month: dict[str, dict], force: bool) -> dict[str, dict]:
    """month -> {"action": "run" | "skipped", "run_id": the last completed run when skipped, "note"}."""
    from tasks.warehouse.connection import reading

    version = code_version()
    plan: dict[str, dict] = {}
    with reading(db) as con:  # ingest has created results.runs
        for m in months:
            last = last_completed(con, m, flow)
            if not force and should_skip(last, input_sha256=input_sha256, code_version=version,
                                         params=params_by_month[m]):
                plan[m] = {"action": "skipped", "run_id": last["run_id"], "note": "unchanged inputs, code and parameters"}
            else:
                plan[m] = {"action": "run", "run_id": None, "note": "forced" if force and last else ""}
    return plan
