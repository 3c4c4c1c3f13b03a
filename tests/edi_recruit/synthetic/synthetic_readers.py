"""Readers of a generated trust's tables for the synthetic-generator tests (test-only helper)."""
from __future__ import annotations

from pathlib import Path

import polars as pl


def read_table(path: Path, fmt: str = "csv") -> pl.DataFrame:
    """One table as strings (csv) or as written (parquet)."""
    if fmt == "parquet":
        return pl.read_parquet(path)
    return pl.read_csv(path, infer_schema=False)


def read_tables(summary, fmt: str = "csv") -> dict[str, pl.DataFrame]:
    """Every table of a ``GenerationSummary``."""
    return {t: read_table(p, fmt) for t, p in summary.files.items()}
