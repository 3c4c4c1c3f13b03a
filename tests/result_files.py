"""Test helper (not collected): write analysis frames as the result parquet files publish reads."""
from __future__ import annotations

from pathlib import Path

import polars as pl


def write_results_parquet(tables: dict[str, pl.DataFrame], out_dir: str | Path) -> dict[str, str]:
    """Write each frame to ``out_dir/<name>.parquet``; returns name -> path (the shape publish takes)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, df in tables.items():
        p = out / f"{name}.parquet"
        df.write_parquet(p)
        paths[name] = str(p)
    return paths
