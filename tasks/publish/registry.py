"""The run registry: ``results.runs``.

One row per evaluation run, keyed by the Prefect flow-run id.  A run is
``running`` while it works, and becomes ``completed`` only inside the publish
transaction (see tasks/publish/writer.py) or ``failed`` with its reason.
"""
from __future__ import annotations

import json
import subprocess
from datetime import datetime, timezone
from functools import lru_cache
from importlib import metadata

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
