"""The run registry: ``results.runs``.

One row per evaluation run, keyed by the Prefect flow-run id.  A run is
``running`` while it works, and becomes ``completed`` only inside the publish
transaction (:func:`tasks.publish.complete.publish_and_complete`) or
``failed`` with its reason.  The functions taking a connection run inside the
caller's transaction; :func:`register_run`, :func:`record_input` and
:func:`mark_failed` open the single writer themselves (the flow steps call them).
"""
from __future__ import annotations

import json
import subprocess
from datetime import datetime, timezone
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import duckdb
import polars as pl

from tasks.core.paths import PROJECT_ROOT
from tasks.warehouse.sql import query, run_sql


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


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
    run_sql(con, "ops/registry/create")


def start_run(con, *, run_id: str, flow: str, as_of: str, params: dict,
              input_sha256: str | None = None, output_dir: str | None = None,
              version: str | None = None) -> None:
    ensure_registry(con)
    run_sql(con, "ops/registry/start", {
        "run_id": run_id, "flow": flow, "as_of": as_of, "started_at": now(),
        "code_version": version or code_version(), "input_sha256": input_sha256,
        "params_json": json.dumps(params, sort_keys=True, default=str), "output_dir": output_dir,
    })


def set_input(con, run_id: str, input_sha256: str) -> None:
    run_sql(con, "ops/registry/set_input", {"run_id": run_id, "input_sha256": input_sha256})


def finish_run(con, run_id: str, status: str, failure_reason: str | None = None) -> None:
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
def register_run(db: str | Path, *, run_id: str, flow: str, as_of: str, params: dict, out_dir: str | Path) -> str:
    """Create the warehouse folder if needed and record the run as ``running``; outputs go to <out_dir>/<run_id>/."""
    from tasks.warehouse.connection import writing

    Path(db).parent.mkdir(parents=True, exist_ok=True)
    with writing(db) as con:
        start_run(con, run_id=run_id, flow=flow, as_of=as_of, params=params, output_dir=str(Path(out_dir) / run_id))
    return run_id


def record_input(db: str | Path, run_id: str, input_sha256: str) -> None:
    """Record the extract set a run ingested."""
    from tasks.warehouse.connection import writing

    with writing(db) as con:
        set_input(con, run_id, input_sha256)


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
