"""Hand-off of result tables between the analysis steps and publish.

Analyses never write DuckDB.  :func:`run_analysis` runs one registered
analysis (:data:`tasks.analyses.ANALYSES`) on a :class:`RunContext`, giving it a
keyed progress artifact when it reports progress, and :func:`write_tables`
writes its result tables as Parquet under ``<out_dir>/<run_id>/results/``
(without ``run_id``).  The paths are passed on; publish loads them all in one
transaction (:mod:`tasks.publish.complete`).
"""
from __future__ import annotations

import inspect

import polars as pl

from tasks.core.run_context import RunContext


def write_tables(ctx: RunContext, tables: dict[str, pl.DataFrame]) -> dict[str, str]:
    """Write ``tables`` to ``<run_dir>/results/<name>.parquet`` (any ``run_id`` column dropped); name -> path."""
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


def progress_key(name: str) -> str:
    """The progress artifact key of an analysis: ``nlp-progress`` for text, else ``<name-with-dashes>-progress``."""
    from tasks.outputs.artifacts import KEY_NLP_PROGRESS

    return KEY_NLP_PROGRESS if name == "text" else f"{name.replace('_', '-')}-progress"


def run_analysis(name: str, ctx: RunContext) -> dict[str, str]:
    """Run the registered analysis ``name`` (read-only) and write its result tables; returns name -> path."""
    from tasks import analyses

    fn = analyses.ANALYSES[name]
    if "progress" not in inspect.signature(fn).parameters:
        return write_tables(ctx, fn(ctx))
    from tasks.outputs.artifacts import ProgressArtifact

    progress = ProgressArtifact(progress_key(name), f"{name} analysis, {ctx.as_of}")
    tables = fn(ctx, progress=progress)
    progress(1.0, "done")
    return write_tables(ctx, tables)
