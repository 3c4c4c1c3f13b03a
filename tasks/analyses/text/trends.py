"""Topic prevalence and tone by quarter: the text tables' stratified means over the quarter a text was written.

Reads the text analysis' document frame (one row per document: ``written_date``,
``vacancy_id`` and the per-document values - topic shares, sentiment).  Returns
rows shaped like the ``topic_prevalence`` / ``sentiment_by_group`` tables, with
``variable`` = ``written_quarter`` and ``level`` = "2022-Q3": the mean per quarter
with a 95% CI clustered by vacancy (:func:`tasks.stats.clustered.group_means`,
docs/methods.md section 2).  Quarters with fewer than ``min_group_n`` documents
are left out.  Never reads a text.
"""
from __future__ import annotations

import polars as pl

from tasks.core.vocabulary import TEXT_QUARTER_VARIABLE
from tasks.stats.clustered import MIN_GROUP_N, group_means

QUARTER_VARIABLE = TEXT_QUARTER_VARIABLE


def quarter_label(col: str = "written_date") -> pl.Expr:
    """'2022-Q3' for a date in July-September 2022."""
    d = pl.col(col).cast(pl.Date)
    return pl.format("{}-Q{}", d.dt.year(), d.dt.quarter())


def quarter_rows(source: str, frame: pl.DataFrame, value_cols: dict[str, int | None], *, family: str,
                 min_group_n: int = MIN_GROUP_N) -> list[dict]:
    """Mean of each value column by quarter of writing (one test of equal means per column, its p shared by levels)."""
    if "written_date" not in frame.columns or frame.height == 0:
        return []
    quarters = frame.select(quarter_label().alias("q"))["q"].to_list()
    clusters = frame["vacancy_id"].cast(pl.Utf8).fill_null("").to_list()
    rows = []
    for vcol, topic_id in value_cols.items():
        y = frame[vcol].cast(pl.Float64).to_numpy()
        levels, p = group_means(y, quarters, clusters, min_group_n=min_group_n)
        if len(levels) < 2:
            continue
        rows += [{"source": source, "variable": QUARTER_VARIABLE, "topic_id": topic_id, **r, "p_value": p,
                  "family": family} for r in levels]
    return rows
