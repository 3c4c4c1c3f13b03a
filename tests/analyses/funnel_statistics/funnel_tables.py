"""Test-only helper: individual rows of a contingency table, each row its own cluster."""
from __future__ import annotations

import polars as pl


def table_frame(cells: dict[tuple[int, ...], tuple[int, int]], names=("bme",)) -> pl.DataFrame:
    """Individual rows from {(covariates...): (events, non-events)}; each row its own cluster."""
    rows = []
    for key, (ev, non) in cells.items():
        rows += [(*key, 1)] * ev + [(*key, 0)] * non
    df = pl.DataFrame(rows, schema=[*names, "y"], orient="row")
    return df.with_row_index("cluster")
