"""The national warehouse: the national results schema, versioned like a trust's ``results.*``.

Writes one DuckDB file (the national run's ``national_db``, never a trust's warehouse):
``national_results.runs`` (the registry: running -> completed / failed, trusts completed and
failed) and one ``national_results.<table>`` per :data:`tasks.national.pooled.NATIONAL_TABLES`,
appended and keyed by ``run_id``, with a ``national_results.latest_<table>`` view of the latest
completed run per month (sql/ops/national/).  The tables and the ``completed`` status
are written in ONE transaction, so a national run is either whole or absent.

Reads a run back for the national report and workbook (:func:`load_national_run`).
"""
from __future__ import annotations

from pathlib import Path

import polars as pl

from tasks.warehouse.connection import reading, writing
from tasks.warehouse.sql import query, run_sql

FRAME = "_national_frame"


def _schema(con) -> None:
    run_sql(con, "ops/national/schema")


def register_national_run(db: str | Path, *, run_id: str, as_of: str, manifest: str, dask_address: str | None,
                          trusts: int) -> None:
    """Record the national run as ``running``."""
    Path(db).parent.mkdir(parents=True, exist_ok=True)
    with writing(db) as con:
        _schema(con)
        run_sql(con, "ops/national/register_run", {"run_id": run_id, "as_of": as_of, "manifest": manifest,
                                                    "dask_address": dask_address, "trusts": trusts})


def _write_table(con, name: str, df: pl.DataFrame, run_id: str) -> None:
    table, view = f"national_results.{name}", f"national_results.latest_{name}"
    frame = df.with_columns(pl.lit(run_id).alias("run_id")).select(["run_id", *df.columns])
    con.register(FRAME, frame.to_arrow())
    try:
        run_sql(con, "ops/national/create_table", table=table, frame=FRAME)
        run_sql(con, "ops/national/delete_run", {"run_id": run_id}, table=table)
        run_sql(con, "ops/national/insert", table=table, frame=FRAME)
        run_sql(con, "ops/national/latest_view", view=view, table=table)
    finally:
        con.unregister(FRAME)


def complete_national_run(db: str | Path, *, run_id: str, tables: dict[str, pl.DataFrame], completed: int,
                          failed: int) -> None:
    """Every national table and the ``completed`` status, in one transaction."""
    with writing(db) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            for name, df in tables.items():
                if df.width:
                    _write_table(con, name, df, run_id)
            run_sql(con, "ops/national/finish_run", {"run_id": run_id, "status": "completed",
                                                      "trusts_completed": completed, "trusts_failed": failed,
                                                      "failure_reason": None})
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


def fail_national_run(db: str | Path, *, run_id: str, reason: str, completed: int = 0, failed: int = 0) -> None:
    """Mark the national run ``failed`` with its one-line reason (no national table has its rows)."""
    with writing(db) as con:
        _schema(con)
        run_sql(con, "ops/national/finish_run", {"run_id": run_id, "status": "failed", "trusts_completed": completed,
                                                  "trusts_failed": failed, "failure_reason": reason[:500]})


def national_runs(db: str | Path) -> pl.DataFrame:
    with reading(db) as con:
        return query(con, "queries/national/runs")


def load_national_run(db: str | Path, run_id: str | None = None) -> tuple[dict, dict[str, pl.DataFrame]]:
    """``(registry row, {table: rows})`` of a national run (default: the latest completed one)."""
    with reading(db) as con:
        runs = query(con, "queries/national/runs")
        done = runs.filter(pl.col("status") == "completed")
        if run_id is None:
            if done.height == 0:
                raise ValueError(f"no completed national run in {db}")
            run_id = done.row(0, named=True)["run_id"]
        match = runs.filter(pl.col("run_id") == run_id)
        if match.height == 0:
            raise ValueError(f"no national run {run_id} in {db}")
        names = query(con, "queries/national/tables").get_column("table_name").to_list()
        tables = {n: query(con, "queries/national/select_run", {"run_id": run_id}, table=f"national_results.{n}")
                  for n in names if not n.startswith("latest_")}
    return match.row(0, named=True), tables
