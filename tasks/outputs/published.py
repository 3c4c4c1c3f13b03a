"""The one reader of ``published.*``: every output (report, exports, artifacts) reads a run through here.

Reads, with one read-only connection per call (:func:`tasks.warehouse.connection.reading`):

* ``published.<name>``: the disclosure-controlled tables of one run
  (``sql/queries/published/select_run.sql``; the list of tables from
  ``sql/queries/published/list_tables.sql``);
* ``published.disclosure_log``: which runs have published output
  (``run_ids.sql``) and the disclosure policy a run was published under;
* ``results.runs``: the run registry row of the run (``runs_registry.sql``),
  for the report's metadata and for choosing the latest completed run.

Returns polars frames exactly as stored (published counts are text, so a
suppressed ``*`` survives).  Implements the "what is shown" rule of
docs/methods.md section 5 (Disclosure control and publication): outputs show ``published.*``
only.  It never reads ``results.<table>`` (undisclosed figures), never writes,
and never formats anything.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import NamedTuple

import duckdb
import polars as pl

from tasks.warehouse.connection import reading, table_exists
from tasks.warehouse.sql import query

log = logging.getLogger(__name__)


DISCLOSURE_LOG = "disclosure_log"


RUN_REGISTRY = "results.runs"


NO_PUBLISHED_RUN = "no published run in {db}: run the monthly evaluation first"


class PublishedRun(NamedTuple):
    """One run as the outputs see it (a tuple, so ``rid, run, tables, policy = load_run(...)`` works)."""

    run_id: str
    run: dict                       # its row of results.runs ({"run_id": ...} only when the registry lacks it)
    tables: dict[str, pl.DataFrame]  # published table name -> the run's rows, in table-name order
    policy: dict                    # policy_version, policy_sha256, policy_summary, tables (names logged)


def _rows(df: pl.DataFrame) -> list[dict]:
    return df.to_dicts() if df.height else []


def published_tables(con: duckdb.DuckDBPyConnection, run_id: str,
                     names: tuple[str, ...] | None = None) -> dict[str, pl.DataFrame]:
    """The run's rows of each published table (all of them, or those of ``names`` that exist, in that order)."""
    present = [r["table_name"] for r in _rows(query(con, "queries/published/list_tables"))]
    wanted = present if names is None else [n for n in names if n in present]
    return {n: query(con, "queries/published/select_run", {"run_id": run_id}, table=f"published.{n}") for n in wanted}


def _choose_run(runs: list[dict], published_runs: list[str]) -> str | None:
    """The latest completed run with published output, else the latest run with published output."""
    done = [r["run_id"] for r in runs if r.get("status") == "completed" and r["run_id"] in published_runs]
    return done[0] if done else (published_runs[0] if published_runs else None)


def _policy(tables: dict[str, pl.DataFrame]) -> dict:
    """The disclosure policy of a run, from its rows of published.disclosure_log."""
    logdf = tables.get(DISCLOSURE_LOG)
    if logdf is None or not logdf.height:
        return {"tables": []}
    first = logdf.row(0, named=True)
    return {"policy_version": first["policy_version"], "policy_sha256": first["policy_sha256"],
            "policy_summary": first["policy_summary"], "tables": sorted(logdf["table_name"].to_list())}


def load_run(db_path: str | Path, run_id: str | None = None) -> PublishedRun:
    """Every published table of a run, its registry row and its disclosure policy.

    Parameters
    ----------
    db_path : the warehouse file.
    run_id : the run; default the latest completed run that has published output.

    Returns
    -------
    PublishedRun(run_id, run, tables, policy).  Raises ``ValueError`` (:data:`NO_PUBLISHED_RUN`)
    when no run is given and none has published output.
    """
    with reading(db_path) as con:
        runs = _rows(query(con, "queries/published/runs_registry")) if table_exists(con, RUN_REGISTRY) else []
        has_log = table_exists(con, f"published.{DISCLOSURE_LOG}")
        published_runs = [r["run_id"] for r in _rows(query(con, "queries/published/run_ids"))] if has_log else []
        if run_id is None:
            run_id = _choose_run(runs, published_runs)
        if run_id is None:
            raise ValueError(NO_PUBLISHED_RUN.format(db=db_path))
        run = next((r for r in runs if r["run_id"] == run_id), {"run_id": run_id})
        tables = published_tables(con, run_id)
    if run_id not in published_runs:
        log.warning("run %s has no published tables", run_id)
    return PublishedRun(run_id, run, tables, _policy(tables))


def load_published(db: str | Path, run_id: str, names: tuple[str, ...]) -> dict[str, pl.DataFrame]:
    """The run's rows of the named published tables, in the order of ``names`` (missing tables are skipped)."""
    with reading(db) as con:
        return published_tables(con, run_id, names)
