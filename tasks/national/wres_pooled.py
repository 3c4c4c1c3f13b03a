"""National WRES indicator 2 from summed trust counts, by WRES year and region.

Reads the trusts' published indicator-2 counts: a polars frame with one row per
(trust, month) holding ``trust_code``, ``region``, ``month`` (a date, or text
starting ``YYYY-MM``) and the four counts ``shortlisted_white``,
``appointed_white``, ``shortlisted_bme``, ``appointed_bme`` (null = suppressed).
Returns one row per (WRES year, region) with "All" margins
(:data:`NATIONAL_WRES_SCHEMA`): the summed counts, the relative likelihood

    RL = (appointed_white / shortlisted_white) / (appointed_bme / shortlisted_bme)

its log-method (Katz) interval ``exp(log RL -/+ z se)``,
``se^2 = 1/a_w - 1/s_w + 1/a_b - 1/s_b``, and flags.  Implements "national WRES
indicator 2" of issue 16 (docs/methods.md, national evaluation section, still to
be written); the per-trust primitive :func:`log_relative_likelihood` also feeds
:mod:`tasks.national.funnel_plot`.

Rules (the trust table's rules, docs/methods.md section 1.5, so that a trust's
row here and in its own report agree):

* **WRES year** runs 1 April - 31 March and is labelled ``"2023/24"``.
* **No data**: no shortlisted White or no shortlisted BME applicant -> RL, CI,
  log RL and SE are None, flag ``no_data``.
* **Zero cell**: 0 appointed, or all appointed, in a group -> 0.5 is added to each
  of the four cells (Haldane-Anscombe) before RL and SE, flag ``zero_cell_haldane``.
* **Suppressed counts**: a (trust, month) row with any null count is left out of
  every sum, never imputed, so no national total depends on a suppressed cell;
  the row counts in ``rows_excluded`` and the flag ``suppressed_rows_excluded``.

Never reads files or the warehouse; never computes a trust's counts from its
applications (that is the trust's own WRES table); never applies disclosure control.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import polars as pl
from scipy import stats

from tasks.analyses.funnel_statistics.fits import FLAG_NO_DATA
from tasks.analyses.funnel_statistics.wres import FLAG_ZERO_CELL, ZERO_CELLS_HALDANE, relative_likelihood
from tasks.core.vocabulary import TOTAL_LABEL

FLAG_SUPPRESSED = "suppressed_rows_excluded"


COUNT_COLUMNS: tuple[str, ...] = ("shortlisted_white", "appointed_white", "shortlisted_bme", "appointed_bme")


ERROR_COUNTS = "counts must satisfy 0 <= appointed <= shortlisted"


WRES_YEAR_START_MONTH = 4  # April


NATIONAL_WRES_SCHEMA: dict[str, pl.DataType] = {
    "wres_year": pl.String, "region": pl.String, "trusts": pl.Int64, "rows_excluded": pl.Int64,
    "shortlisted_white": pl.Int64, "appointed_white": pl.Int64, "shortlisted_bme": pl.Int64,
    "appointed_bme": pl.Int64, "relative_likelihood": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
    "log_relative_likelihood": pl.Float64, "std_error": pl.Float64, "flags": pl.String,
}


@dataclass(frozen=True)
class LogRelativeLikelihood:
    """log RL of one 2x2 table with its Katz SE (None with flag ``no_data`` when undefined)."""

    log_rl: float | None
    std_error: float | None
    flags: tuple[str, ...]


def log_relative_likelihood(*, shortlisted_white: int, appointed_white: int, shortlisted_bme: int,
                            appointed_bme: int) -> LogRelativeLikelihood:
    """log of WRES indicator 2 and its Katz standard error, with the module's zero-cell rules.

    Parameters
    ----------
    shortlisted_white, appointed_white, shortlisted_bme, appointed_bme:
        Counts with ``0 <= appointed <= shortlisted`` in each group.

    Returns
    -------
    A :class:`LogRelativeLikelihood`.
    """
    if not (0 <= appointed_white <= shortlisted_white and 0 <= appointed_bme <= shortlisted_bme):
        raise ValueError(ERROR_COUNTS)
    r = relative_likelihood(appointed_white=appointed_white, shortlisted_white=shortlisted_white,
                            appointed_bme=appointed_bme, shortlisted_bme=shortlisted_bme,
                            zero_cells=ZERO_CELLS_HALDANE)
    if r.estimate is None:
        return LogRelativeLikelihood(None, None, (FLAG_NO_DATA,))
    return LogRelativeLikelihood(math.log(r.estimate), r.std_error, (FLAG_ZERO_CELL,) if r.zero_cell_corrected else ())


def katz_row(*, shortlisted_white: int, appointed_white: int, shortlisted_bme: int, appointed_bme: int,
             level: float = 0.95) -> dict:
    """``relative_likelihood``, ``ci_low``, ``ci_high``, ``log_relative_likelihood``, ``std_error``, ``flags``."""
    r = log_relative_likelihood(shortlisted_white=shortlisted_white, appointed_white=appointed_white,
                                shortlisted_bme=shortlisted_bme, appointed_bme=appointed_bme)
    row = {"relative_likelihood": None, "ci_low": None, "ci_high": None, "log_relative_likelihood": r.log_rl,
           "std_error": r.std_error, "flags": ";".join(r.flags)}
    if r.log_rl is not None:
        z = float(stats.norm.ppf(0.5 + level / 2))
        row.update(relative_likelihood=math.exp(r.log_rl), ci_low=math.exp(r.log_rl - z * r.std_error),
                   ci_high=math.exp(r.log_rl + z * r.std_error))
    return row


def wres_year(month: dt.date | str) -> str:
    """The WRES year (1 April - 31 March) of a date or ``YYYY-MM[...]`` text: 2024-03 -> ``"2023/24"``."""
    text = month.isoformat() if isinstance(month, dt.date) else str(month)
    year, mon = int(text[:4]), int(text[5:7])
    start = year if mon >= WRES_YEAR_START_MONTH else year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def wres_year_expr(column: str) -> pl.Expr:
    """Polars expression of :func:`wres_year` over a date or ``YYYY-MM`` text column."""
    text = pl.col(column).cast(pl.String)
    year, mon = text.str.slice(0, 4).cast(pl.Int32), text.str.slice(5, 2).cast(pl.Int32)
    start = pl.when(mon >= WRES_YEAR_START_MONTH).then(year).otherwise(year - 1)
    return pl.format("{}/{}", start, ((start + 1) % 100).cast(pl.String).str.zfill(2))


def national_indicator2(counts: pl.DataFrame, *, level: float = 0.95) -> pl.DataFrame:
    """National WRES indicator 2 by WRES year and region, with "All" margins (:data:`NATIONAL_WRES_SCHEMA`).

    Parameters
    ----------
    counts:
        One row per (trust, month): ``trust_code``, ``region``, ``month`` and the four
        :data:`COUNT_COLUMNS` (null = suppressed, see the module docstring).
    level:
        Coverage of the Katz interval.

    Returns
    -------
    One row per (wres_year, region): years in order then ``"All"``; within a year the
    region ``"All"`` first, then the regions in order.
    """
    df = counts.with_columns(wres_year_expr("month").alias("wres_year"), pl.col("region").cast(pl.String))
    suppressed = pl.any_horizontal([pl.col(c).is_null() for c in COUNT_COLUMNS])
    df = df.with_columns(suppressed.alias("_suppressed"))
    years = sorted(df.get_column("wres_year").drop_nulls().unique().to_list()) + [TOTAL_LABEL]
    regions = [TOTAL_LABEL] + sorted(df.get_column("region").drop_nulls().unique().to_list())
    rows = []
    for year in years:
        for region in regions:
            part = df
            if year != TOTAL_LABEL:
                part = part.filter(pl.col("wres_year") == year)
            if region != TOTAL_LABEL:
                part = part.filter(pl.col("region") == region)
            if part.height == 0:
                continue
            rows.append(_national_row(part, wres_year=year, region=region, level=level))
    return pl.DataFrame(rows, schema=NATIONAL_WRES_SCHEMA) if rows else pl.DataFrame(schema=NATIONAL_WRES_SCHEMA)


def _national_row(part: pl.DataFrame, *, wres_year: str, region: str, level: float) -> dict:
    """One national row from the (trust, month) rows of one cell."""
    used = part.filter(~pl.col("_suppressed"))
    sums = {c: int(used.get_column(c).sum() or 0) for c in COUNT_COLUMNS}
    excluded = part.height - used.height
    row = {"wres_year": wres_year, "region": region, "trusts": used.get_column("trust_code").n_unique(),
           "rows_excluded": excluded, **sums, **katz_row(**sums, level=level)}
    if excluded:
        row["flags"] = ";".join(f for f in (row["flags"], FLAG_SUPPRESSED) if f)
    return row
