"""WRES indicator 2: relative likelihood of White shortlisted applicants being
appointed compared with BME shortlisted applicants.

    RL = (appointed_White / shortlisted_White) / (appointed_BME / shortlisted_BME)

Population (NHS England WRES technical guidance, ../shared/reference/README.md):
shortlisted applicants of known ethnicity (WRES group White or BME; codes Z
and 99 are left out), excluding shortlisted applicants who were offered a post
and declined it (they are removed from both the numerator and the denominator).

95% CI by the log method (Katz): se(log RL) = sqrt(1/aW - 1/sW + 1/aB - 1/sB).
Significance: Fisher's exact test of the 2x2 table (appointed / not appointed
x White / BME), two-sided.  When a count of appointed (or not appointed) is 0
the RL and its CI use the Haldane-Anscombe correction (0.5 added to each of the
four cells) and the row is flagged; the p-value is always the exact one on the
raw counts.  Scopes: overall, band, programme period, directorate, month, WRES year
(1 April to 31 March, labelled "2022/23") and calendar year.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import polars as pl
from scipy import stats

from tasks.analyses.funnel_statistics.fits import FLAG_NO_DATA, FLAG_SMALL
from tasks.core.vocabulary import WORKFORCE_BANDS, WRES_YEAR_FIRST_MONTH
from tasks.stats.intervals import KatzArithmetic, katz_interval, log_ratio_std_error
from tasks.stats.multiple_testing import bh_qvalues

log = logging.getLogger(__name__)


NON_ADVERSE_LOW, NON_ADVERSE_HIGH = 0.80, 1.25


FLAG_ZERO_CELL = "zero_cell_haldane"


SMALL_COUNT = 10


SCOPE_OVERALL = "overall"


SCOPE_BAND = "band"


SCOPE_PERIOD = "programme_period"


SCOPE_DIRECTORATE = "directorate"


SCOPE_MONTH = "month"


SCOPE_WRES_YEAR = "wres_year"  # NHS England's WRES (financial) year, 1 April to 31 March, e.g. "2022/23"


SCOPE_CALENDAR_YEAR = "calendar_year"


PERIOD_PRE, PERIOD_POST = "pre_programme", "post_programme"


WRES_SCHEMA: dict[str, pl.DataType] = {
    "scope": pl.String, "scope_value": pl.String,
    "shortlisted_white": pl.Int64, "appointed_white": pl.Int64,
    "shortlisted_bme": pl.Int64, "appointed_bme": pl.Int64,
    "proportion_white": pl.Float64, "proportion_bme": pl.Float64,
    "relative_likelihood": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
    "p_value": pl.Float64, "q_value": pl.Float64, "in_non_adverse_band": pl.Boolean,
    "orientation": pl.String, "excluded_unknown_ethnicity": pl.Int64,
    "excluded_declined_offer": pl.Int64, "flags": pl.String,
}


def wres_population(af: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(population, excluded) among shortlisted applicants; ``excluded`` carries an ``exclusion`` column."""
    sl = af.filter(pl.col("shortlisted") == 1)
    unknown = pl.col("wres_group").is_null() | ~pl.col("wres_group").is_in(["White", "BME"])
    declined = (pl.col("offered") == 1) & (pl.col("offer_declined") == 1)
    reason = (
        pl.when(unknown).then(pl.lit("unknown_ethnicity"))
        .when(declined).then(pl.lit("declined_offer"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    tagged = sl.with_columns(reason.alias("exclusion"))
    return tagged.filter(pl.col("exclusion").is_null()).drop("exclusion"), tagged.filter(pl.col("exclusion").is_not_null())


ZeroCells = Literal["haldane", "undefined"]


ZERO_CELLS_HALDANE: ZeroCells = "haldane"


ZERO_CELLS_UNDEFINED: ZeroCells = "undefined"


@dataclass(frozen=True)
class RelativeLikelihood:
    """WRES indicator 2 of one 2x2 table: estimate and 95% interval (None when undefined)."""

    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    zero_cell_corrected: bool = False
    std_error: float | None = None  # of log RL (Katz), after any zero-cell correction


def relative_likelihood(
    *,
    appointed_white: int,
    shortlisted_white: int,
    appointed_bme: int,
    shortlisted_bme: int,
    zero_cells: ZeroCells = ZERO_CELLS_HALDANE,
    ci_arithmetic: KatzArithmetic = "exp_log",
) -> RelativeLikelihood:
    """WRES indicator 2 = (appointed_white / shortlisted_white) / (appointed_bme / shortlisted_bme).

    95% interval by the log (Katz) method, se(log RL) = sqrt(1/aW - 1/sW + 1/aB - 1/sB).

    Zero-cell rules (``zero_cells``):

    * either group has nobody shortlisted: undefined (all None), whatever the rule;
    * ``"haldane"`` (the ``wres_indicator2`` table): when any of the four cells
      (appointed / not appointed x White / BME) is 0, 0.5 is added to each cell
      and ``zero_cell_corrected`` is True;
    * ``"undefined"`` (the ``programme_impact`` table): no correction; no White
      appointee gives RL = 0 with no interval, no BME appointee gives None.

    ``ci_arithmetic`` is passed to :func:`tasks.stats.intervals.katz_interval`
    (``"exp_log"`` for the WRES table, ``"multiply"`` for programme impact).
    """
    a_w, s_w, a_b, s_b = appointed_white, shortlisted_white, appointed_bme, shortlisted_bme
    if s_w == 0 or s_b == 0:
        return RelativeLikelihood(None, None, None)
    aw, nw, ab, nb = float(a_w), float(s_w - a_w), float(a_b), float(s_b - a_b)
    corrected = False
    if zero_cells == ZERO_CELLS_HALDANE:
        if min(aw, nw, ab, nb) == 0:
            corrected = True
            aw, nw, ab, nb = aw + 0.5, nw + 0.5, ab + 0.5, nb + 0.5
    elif a_b == 0 or a_w == 0:
        return RelativeLikelihood(0.0 if a_b else None, None, None)
    rl = (aw / (aw + nw)) / (ab / (ab + nb))
    se = log_ratio_std_error(events_a=aw, trials_a=aw + nw, events_b=ab, trials_b=ab + nb)
    low, high = katz_interval(ratio=rl, std_error=se, arithmetic=ci_arithmetic)
    return RelativeLikelihood(rl, low, high, corrected, se)


def indicator2_row(*, appointed_white: int, shortlisted_white: int, appointed_bme: int,
                   shortlisted_bme: int) -> dict:
    """One row of the ``wres_indicator2`` table: counts, RL with CI, Fisher exact p, band, orientation, flags."""
    s_w, a_w, s_b, a_b = shortlisted_white, appointed_white, shortlisted_bme, appointed_bme
    flags: set[str] = set()
    out = {
        "shortlisted_white": s_w, "appointed_white": a_w, "shortlisted_bme": s_b, "appointed_bme": a_b,
        "proportion_white": a_w / s_w if s_w else None,
        "proportion_bme": a_b / s_b if s_b else None,
        "relative_likelihood": None, "ci_low": None, "ci_high": None, "p_value": None,
        "in_non_adverse_band": None, "orientation": "no shortlisted applicants in one of the groups",
    }
    if min(s_w, s_b) < SMALL_COUNT or a_w + a_b < SMALL_COUNT:
        flags.add(FLAG_SMALL)
    if s_w == 0 or s_b == 0:
        flags.add(FLAG_NO_DATA)
        out["flags"] = ";".join(sorted(flags))
        return out
    r = relative_likelihood(appointed_white=a_w, shortlisted_white=s_w, appointed_bme=a_b, shortlisted_bme=s_b)
    if r.zero_cell_corrected:
        flags.add(FLAG_ZERO_CELL)
    rl = r.estimate
    out["relative_likelihood"] = rl
    out["ci_low"] = r.ci_low
    out["ci_high"] = r.ci_high
    out["p_value"] = float(stats.fisher_exact([[a_w, s_w - a_w], [a_b, s_b - a_b]]).pvalue)
    out["in_non_adverse_band"] = bool(NON_ADVERSE_LOW <= rl <= NON_ADVERSE_HIGH)
    out["orientation"] = orientation_text(rl)
    out["flags"] = ";".join(sorted(flags))
    return out


def orientation_text(rl: float) -> str:
    base = f"White shortlisted applicants were {rl:.2f} times as likely as BME shortlisted applicants to be appointed"
    if rl > 1:
        return base
    if rl < 1:
        return base + f" (BME shortlisted applicants were {1 / rl:.2f} times as likely as White to be appointed)"
    return base + " (parity)"


def _month_label(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.String).str.slice(0, 7)


def _wres_year_label(col: str) -> pl.Expr:
    """The WRES (financial) year of a date column, "2022/23" for 1 April 2022 to 31 March 2023
    (:func:`tasks.core.vocabulary.financial_year`)."""
    ym = _month_label(col)
    year, month = ym.str.slice(0, 4).cast(pl.Int32), ym.str.slice(5, 2).cast(pl.Int32)
    start = pl.when(month >= WRES_YEAR_FIRST_MONTH).then(year).otherwise(year - 1)
    return pl.format("{}/{}", start, ((start + 1) % 100).cast(pl.String).str.zfill(2))


def wres_indicator2(af: pl.DataFrame) -> pl.DataFrame:
    """The ``wres_indicator2`` result table (without run_id), one row per scope value.

    Time scopes all place a shortlisted applicant by the vacancy's advert month: ``month``,
    ``wres_year`` (1 April to 31 March, as NHS England's WRES reports) and ``calendar_year``.
    """
    pop, excl = wres_population(af)
    when = "advert_month" if "advert_month" in af.columns else "advert_date"
    scopes: list[tuple[str, pl.Expr | None, list[str] | None]] = [
        (SCOPE_OVERALL, None, None),
        (SCOPE_BAND, pl.col("band").cast(pl.String), list(WORKFORCE_BANDS)),
        (SCOPE_PERIOD, pl.when(pl.col("post_programme") == 1).then(pl.lit(PERIOD_POST)).otherwise(pl.lit(PERIOD_PRE)),
         [PERIOD_PRE, PERIOD_POST]),
        (SCOPE_DIRECTORATE, pl.col("directorate").cast(pl.String), None),
        (SCOPE_MONTH, _month_label(when), None),
        (SCOPE_WRES_YEAR, _wres_year_label(when), None),
        (SCOPE_CALENDAR_YEAR, _month_label(when).str.slice(0, 4), None),
    ]
    rows: list[dict] = []
    for scope, key, order in scopes:
        k = key if key is not None else pl.lit("all")
        p = pop.with_columns(k.alias("_v"))
        e = excl.with_columns(k.alias("_v"))
        counts = p.group_by("_v").agg(
            ((pl.col("wres_group") == "White")).sum().alias("s_w"),
            ((pl.col("wres_group") == "White") & (pl.col("appointed") == 1)).sum().alias("a_w"),
            (pl.col("wres_group") == "BME").sum().alias("s_b"),
            ((pl.col("wres_group") == "BME") & (pl.col("appointed") == 1)).sum().alias("a_b"),
        )
        ex = e.group_by("_v").agg(
            (pl.col("exclusion") == "unknown_ethnicity").sum().alias("x_u"),
            (pl.col("exclusion") == "declined_offer").sum().alias("x_d"),
        )
        values = sorted(set(counts.get_column("_v").drop_nulls().to_list()) | set(ex.get_column("_v").drop_nulls().to_list()))
        if order:
            values = [v for v in order if v in values] + [v for v in values if v not in order]
        cmap = {r["_v"]: r for r in counts.iter_rows(named=True)}
        xmap = {r["_v"]: r for r in ex.iter_rows(named=True)}
        scope_rows = []
        for v in values:
            c = cmap.get(v, {"s_w": 0, "a_w": 0, "s_b": 0, "a_b": 0})
            r = indicator2_row(appointed_white=int(c["a_w"]), shortlisted_white=int(c["s_w"]),
                               appointed_bme=int(c["a_b"]), shortlisted_bme=int(c["s_b"]))
            x = xmap.get(v, {"x_u": 0, "x_d": 0})
            r.update(scope=scope, scope_value=str(v), excluded_unknown_ethnicity=int(x["x_u"]),
                     excluded_declined_offer=int(x["x_d"]))
            scope_rows.append(r)
        qs = bh_qvalues([r["p_value"] for r in scope_rows]) if scope != SCOPE_OVERALL else [r["p_value"] for r in scope_rows]
        for r, q in zip(scope_rows, qs):
            r["q_value"] = q
        rows += scope_rows
    log.info("WRES indicator 2: %d rows", len(rows))
    return pl.DataFrame(rows, schema=WRES_SCHEMA) if rows else pl.DataFrame(schema=WRES_SCHEMA)
