"""Recruitment funnel counts by band and WRES ethnicity group (report section 2).

Result table ``funnel_counts``: one row per (band, wres_group), including the
margins band = "All" and wres_group = "All", with the number of applications
and of those shortlisted, interviewed, offered and appointed.  Every band and
group appears (zero rows included), so the published table is a complete 2-D
table with totals, which is what the disclosure policy's complementary
suppression protects.
"""
from __future__ import annotations

import logging

import polars as pl

from tasks.core.vocabulary import SENIOR_BANDS, TOTAL_LABEL, WRES_GROUPS, WRES_UNKNOWN

log = logging.getLogger(__name__)



STAGE_COLUMNS: tuple[str, ...] = ("shortlisted", "interviewed", "offered", "appointed")


COUNT_COLUMNS: tuple[str, ...] = ("applications",) + STAGE_COLUMNS


MART = "application_funnel"


def funnel_counts(applications: pl.DataFrame) -> pl.DataFrame:
    """Counts of applications and stage outcomes by band x wres_group with "All" margins.

    ``applications`` has one row per application with ``band``, ``wres_group``
    and 0/1 stage flags (shortlisted, interviewed, offered, appointed).  A
    missing wres_group counts as Unknown.
    """
    df = applications.select(
        pl.col("band").cast(pl.Utf8),
        pl.col("wres_group").cast(pl.Utf8).fill_null(WRES_UNKNOWN),
        *[pl.col(c).cast(pl.Int64).fill_null(0) for c in STAGE_COLUMNS],
    )
    extra_bands = sorted(set(df["band"].drop_nulls().to_list()) - set(SENIOR_BANDS))
    bands = list(SENIOR_BANDS) + extra_bands
    groups = list(WRES_GROUPS) + sorted(set(df["wres_group"].to_list()) - set(WRES_GROUPS))
    aggs = [pl.len().cast(pl.Int64).alias("applications")] + [pl.col(c).sum().alias(c) for c in STAGE_COLUMNS]

    cells = df.group_by("band", "wres_group").agg(aggs)
    by_band = df.group_by("band").agg(aggs).with_columns(pl.lit(TOTAL_LABEL).alias("wres_group"))
    by_group = df.group_by("wres_group").agg(aggs).with_columns(pl.lit(TOTAL_LABEL).alias("band"))
    total = df.select(aggs).with_columns(pl.lit(TOTAL_LABEL).alias("band"), pl.lit(TOTAL_LABEL).alias("wres_group"))
    observed = pl.concat([cells, by_band, by_group, total], how="diagonal_relaxed")

    grid = pl.DataFrame(
        [(b, g) for b in bands + [TOTAL_LABEL] for g in groups + [TOTAL_LABEL]],
        schema={"band": pl.Utf8, "wres_group": pl.Utf8}, orient="row",
    )
    out = grid.join(observed, on=["band", "wres_group"], how="left", maintain_order="left").with_columns(
        [pl.col(c).fill_null(0).cast(pl.Int64) for c in COUNT_COLUMNS]
    )
    return out.select("band", "wres_group", *COUNT_COLUMNS)


def analyse(ctx) -> dict[str, pl.DataFrame]:
    from tasks.marts import load_mart

    apps = load_mart(ctx, MART, columns=["band", "wres_group", *STAGE_COLUMNS], window=True)
    log.info("funnel counts over %d applications", apps.height)
    return {"funnel_counts": funnel_counts(apps)}
