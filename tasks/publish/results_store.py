"""Hand-off of result tables between the analysis tasks and publish.

Analysis tasks never write DuckDB.  Each writes its result tables as Parquet
under ``<out_dir>/<run_id>/results/`` and passes the paths on; publish loads
them all in one transaction.
"""
from __future__ import annotations

from pathlib import Path

import polars as pl

from tasks.core.run_context import RunContext


def write_tables(ctx: RunContext, tables: dict[str, pl.DataFrame]) -> dict[str, str]:
    folder = ctx.run_dir / "results"
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, str] = {}
    for name, df in tables.items():
        if not isinstance(df, pl.DataFrame):
            raise TypeError(f"result table {name!r} must be a polars DataFrame, got {type(df).__name__}")
        if "run_id" in df.columns:
            df = df.drop("run_id")
        path = folder / f"{name}.parquet"
        df.write_parquet(path)
        paths[name] = str(path)
    return paths


def read_table(path: str | Path) -> pl.DataFrame:
    return pl.read_parquet(path)
