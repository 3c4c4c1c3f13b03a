"""Stage populations of the recruitment funnel: who is at risk of each outcome.

Reads polars frames shaped like ``marts.application_funnel`` and
``marts.workforce`` (docs/data-contract.md); returns filtered or aggregated
frames.  Implements the "Populations" rules of docs/methods.md section 1.1.
Never fits a model.
"""
from __future__ import annotations

from typing import Sequence

import polars as pl

from tasks.analyses.funnel_statistics.specs import TERM_DISABILITY_NOT_DECLARED
from tasks.core.vocabulary import TERM_DISABILITY, TERM_POST_PROGRAMME, WORKFORCE_BANDS


def not_withdrawn_at(stage_name: str) -> pl.Expr:
    """True for rows that did not withdraw at ``stage_name`` (application, interview, offer)."""
    return pl.col("withdrawn_stage").is_null() | (pl.col("withdrawn_stage") != stage_name)


def known_ethnicity(af: pl.DataFrame) -> pl.DataFrame:
    return af.filter(pl.col("bme").is_not_null())


def shortlist_population(af: pl.DataFrame) -> pl.DataFrame:
    """Applicants of known ethnicity, except those who withdrew at the application stage."""
    return known_ethnicity(af).filter(not_withdrawn_at("application"))


def offer_population(af: pl.DataFrame) -> pl.DataFrame:
    """Interviewed candidates of known ethnicity who did not withdraw at interview."""
    return known_ethnicity(af).filter((pl.col("interviewed") == 1) & not_withdrawn_at("interview"))


def appoint_population(af: pl.DataFrame) -> pl.DataFrame:
    """WRES indicator 2: shortlisted, known ethnicity, excluding offers that were declined."""
    return known_ethnicity(af).filter(
        (pl.col("shortlisted") == 1) & ~((pl.col("offered") == 1) & (pl.col("offer_declined") == 1))
    )


def apply_pool_population(af: pl.DataFrame, external_only: bool = True) -> pl.DataFrame:
    """One row per vacancy: applicants of known ethnicity (n_known) and BME among them (n_bme).

    By default only external applicants count: the pool's composition is a
    property of the labour market the advert reaches; internal applicants'
    propensity to apply is the ``apply_workforce`` model.
    """
    vac_cols = [c for c in ("band", "directorate", "letter_to_ceo", "diverse_panel", "post_programme") if c in af.columns]
    src = af.filter(pl.col("internal") == 0) if external_only else af
    return (
        known_ethnicity(src)
        .group_by("vacancy_id", maintain_order=True)  # input order, never the pseudonymous ID's
        .agg(
            pl.len().alias("n_known"),
            pl.col("bme").sum().alias("n_bme"),
            *[pl.col(c).first() for c in vac_cols],
        )
    )


def apply_workforce_population(
    workforce: pl.DataFrame,
    af: pl.DataFrame,
    programme_start,
    eligible_bands: Sequence[str] = WORKFORCE_BANDS,
) -> pl.DataFrame:
    """Eligible staff x programme period (pre / post) with ``applied`` 0/1.

    A staff member is eligible in a period if any workforce snapshot in that
    period places them in a feeder or senior band; their band, directorate,
    sex and ethnicity are taken from their last snapshot in the period.
    ``applied`` = 1 if an application with their staff_id was made to a
    vacancy of that period (the vacancy's ``post_programme``, by advert date;
    the applied date when the column is absent).  Staff of unknown ethnicity are left out.
    """
    period = (pl.col("snapshot_month") >= pl.lit(programme_start)).cast(pl.Int64)
    wf = (
        workforce.filter(pl.col("band").is_in(list(eligible_bands)) & pl.col("bme").is_not_null())
        .with_columns(period.alias(TERM_POST_PROGRAMME))
        .sort("snapshot_month", maintain_order=True)
        .group_by(["staff_id", TERM_POST_PROGRAMME], maintain_order=True)
        .agg(pl.col("band", "directorate", "bme", "female").last())
    )
    # the period of an application is its vacancy's (post_programme, by advert date) when known
    app_period = (
        pl.col(TERM_POST_PROGRAMME).cast(pl.Int64) if TERM_POST_PROGRAMME in af.columns
        else (pl.col("applied_date") >= pl.lit(programme_start)).cast(pl.Int64)
    )
    apps = (
        af.filter(pl.col("staff_id").is_not_null())
        .with_columns(app_period.alias(TERM_POST_PROGRAMME))
        .select("staff_id", TERM_POST_PROGRAMME)
        .unique(maintain_order=True)
        .with_columns(pl.lit(1).alias("applied"))
    )
    # rows in a key-independent order (earliest snapshot first), never by the pseudonymous staff_id
    return (
        wf.join(apps, on=["staff_id", TERM_POST_PROGRAMME], how="left", maintain_order="left")
        .with_columns(pl.col("applied").fill_null(0).cast(pl.Int64))
    )


def with_disability_indicator(df: pl.DataFrame) -> pl.DataFrame:
    """Disability not declared (null) -> disability = 0 plus ``disability_not_declared`` = 1."""
    if TERM_DISABILITY not in df.columns:
        return df
    return df.with_columns(
        pl.col(TERM_DISABILITY).is_null().cast(pl.Int64).alias(TERM_DISABILITY_NOT_DECLARED),
        pl.col(TERM_DISABILITY).fill_null(0).cast(pl.Int64),
    )
