"""Funnel counts by band and WRES group with margins."""
from __future__ import annotations

import polars as pl

from tasks.analyses.funnel_counts import COUNT_COLUMNS, TOTAL_LABEL, funnel_counts
from tasks.core.vocabulary import SENIOR_BANDS, WRES_GROUPS


def _apps():
    rows = [
        # band, wres_group, shortlisted, interviewed, offered, appointed
        ("8a", "White", 1, 1, 1, 1),
        ("8a", "White", 1, 1, 0, 0),
        ("8a", "White", 0, 0, 0, 0),
        ("8a", "BME", 1, 1, 1, 0),
        ("8a", "BME", 0, 0, 0, 0),
        ("8b", "BME", 1, 0, 0, 0),
        ("8b", None, 1, 1, 1, 1),
        ("VSM", "Unknown", 0, 0, 0, 0),
    ]
    return pl.DataFrame(rows, schema=["band", "wres_group", "shortlisted", "interviewed", "offered", "appointed"], orient="row")


def test_hand_counted_cells_and_margins():
    out = funnel_counts(_apps())
    cell = {(r["band"], r["wres_group"]): tuple(r[c] for c in COUNT_COLUMNS) for r in out.iter_rows(named=True)}
    assert cell["8a", "White"] == (3, 2, 2, 1, 1)
    assert cell["8a", "BME"] == (2, 1, 1, 1, 0)
    assert cell["8b", "Unknown"] == (1, 1, 1, 1, 1)  # a missing group counts as Unknown
    assert cell["8a", TOTAL_LABEL] == (5, 3, 3, 2, 1)
    assert cell[TOTAL_LABEL, "BME"] == (3, 2, 1, 1, 0)
    assert cell[TOTAL_LABEL, TOTAL_LABEL] == (8, 5, 4, 3, 2)
    assert cell["9", "White"] == (0, 0, 0, 0, 0)  # complete grid


def test_grid_is_complete_and_margins_add_up():
    out = funnel_counts(_apps())
    assert out.height == (len(SENIOR_BANDS) + 1) * (len(WRES_GROUPS) + 1)
    inner = out.filter((pl.col("band") != TOTAL_LABEL) & (pl.col("wres_group") != TOTAL_LABEL))
    for c in COUNT_COLUMNS:
        by_band = inner.group_by("band").agg(pl.col(c).sum())
        for b, v in by_band.iter_rows():
            assert out.filter((pl.col("band") == b) & (pl.col("wres_group") == TOTAL_LABEL))[c].item() == v
        assert out.filter((pl.col("band") == TOTAL_LABEL) & (pl.col("wres_group") == TOTAL_LABEL))[c].item() == inner[c].sum()
