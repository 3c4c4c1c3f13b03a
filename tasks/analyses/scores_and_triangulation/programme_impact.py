"""Programme impact over time: BME share of senior appointments and WRES indicator 2 by period, and
an interrupted time series (segmented regression, Newey-West SEs) around the programme start.

Pure functions on frames shaped like ``marts.application_funnel``; method in
docs/methods.md section 4.

Time is measured in months from the programme start (t = 0 is the first
programme month), whatever the aggregation, so the slope terms are per
month.  Monthly periods have t = month offset; quarterly periods are aligned
so the programme month opens a quarter, and sit at their middle month
(t = 3k + 1).  The segmented model, weighted by the number of appointees of
known ethnicity in each period (the binomial variance of a share is
proportional to 1/n), is

    share_t = b0 + b1 t + level_change * post_t + slope_change * t * post_t + e_t

with ``post_t = 1`` for t >= 0, so ``level_change`` is the jump at the
programme start and ``slope_change`` the change in the monthly trend.
Standard errors are Newey-West (HAC, Bartlett kernel, small-sample
correction T/(T-4)) with the lag rule floor(4 (T/100)^(2/9)) (at least 1),
floored at the conventional WLS standard error: in series of ~30 periods the
HAC estimate is biased down (a simulation with independent errors gave 79%
coverage for a nominal 95% interval) and the floor restores nominal coverage
while keeping HAC's widening when errors are autocorrelated.  Intervals use t
with T - 4 df.
"""
from __future__ import annotations

import csv
import logging
import math
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
from scipy import stats

from tasks.analyses.funnel_statistics.wres import ZERO_CELLS_UNDEFINED, relative_likelihood
from tasks.core.months import add_months, month_end, month_str
from tasks.core.paths import REFERENCE_DIR
from tasks.core.vocabulary import (
    MODEL_SEGMENTED_LINEAR,
    STAGE_PROGRAMME_IMPACT,
    TERM_INTERCEPT,
    TERM_LEVEL_CHANGE,
    TERM_PRE_SLOPE,
    TERM_SLOPE_CHANGE,
)
from tasks.stats.intervals import wilson_interval

log = logging.getLogger(__name__)


MEASURE_SHARE = "bme_share_appointed"


MEASURE_WRES2 = "wres_indicator2"


ROW_PERIOD = "period"


ROW_POOLED = "pooled"


ROW_ITS = "its"


FREQ_MONTH = "month"


FREQ_QUARTER = "quarter"


MONTHS_PER = {FREQ_MONTH: 1, FREQ_QUARTER: 3}


POOL_ALL = "all_to_date"


POOL_PRE = "pre_programme"


POOL_POST = "post_programme"


NATIONAL_REFERENCE_PATH = REFERENCE_DIR / "wres_indicator2_national.csv"


TRUST_SCOPE = "This trust (senior bands 8a-VSM)"


PROGRAMME_IMPACT_SCHEMA = {
    "row_type": pl.String, "stage": pl.String, "measure": pl.String, "model": pl.String,
    "term": pl.String, "frequency": pl.String, "period": pl.String, "period_start": pl.Date,
    "period_end": pl.Date, "t_months": pl.Float64, "post_programme": pl.Int64,
    "appointed_bme": pl.Int64, "appointed_white": pl.Int64, "shortlisted_bme": pl.Int64,
    "shortlisted_white": pl.Int64, "estimate": pl.Float64, "std_error": pl.Float64,
    "ci_low": pl.Float64, "ci_high": pl.Float64, "p_value": pl.Float64, "n_periods": pl.Int64,
    "hac_maxlags": pl.Int64,
}


NATIONAL_REFERENCE_SCHEMA = {
    "period": pl.String, "scope": pl.String, "relative_likelihood": pl.Float64, "ci_low": pl.Float64,
    "ci_high": pl.Float64, "is_trust": pl.Boolean, "note": pl.String, "source": pl.String,
}


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def period_of(advert: pl.Expr, programme_start: date, months: int) -> pl.Expr:
    """Integer period index k (0 = the period that starts at the programme start)."""
    idx = advert.dt.year().cast(pl.Int64) * 12 + advert.dt.month().cast(pl.Int64) - 1
    return ((idx - _month_index(programme_start)) / months).floor().cast(pl.Int64)


# --------------------------------------------------------------------------
# WRES indicator 2 and shares
# --------------------------------------------------------------------------
def wres_population(funnel: pl.DataFrame) -> pl.DataFrame:
    """Shortlisted applicants of known ethnicity, excluding offers declined (WRES indicator 2)."""
    return funnel.filter(
        pl.col("bme").is_not_null() & (pl.col("shortlisted") == 1)
        & ~((pl.col("offered") == 1) & (pl.col("offer_declined").fill_null(0) == 1))
    )


def period_indicator2(c: dict) -> tuple[float | None, float | None, float | None]:
    """WRES indicator 2 of one period's counts: no zero-cell correction (RL 0 when no White appointee,
    undefined when no BME appointee), Katz interval as ``RL * exp(-/+ z se)``."""
    r = relative_likelihood(appointed_white=c["_aw"], shortlisted_white=c["shortlisted_white"],
                            appointed_bme=c["_ab"], shortlisted_bme=c["shortlisted_bme"],
                            zero_cells=ZERO_CELLS_UNDEFINED, ci_arithmetic="multiply")
    return r.estimate, r.ci_low, r.ci_high


def _counts(f: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Appointed and WRES-shortlisted counts by ethnicity per group."""
    pop = wres_population(f)
    app = f.filter((pl.col("appointed") == 1) & pl.col("bme").is_not_null())
    a = app.group_by(by).agg((pl.col("bme") == 1).sum().cast(pl.Int64).alias("appointed_bme"),
                             (pl.col("bme") == 0).sum().cast(pl.Int64).alias("appointed_white"))
    s = pop.group_by(by).agg((pl.col("bme") == 1).sum().cast(pl.Int64).alias("shortlisted_bme"),
                             (pl.col("bme") == 0).sum().cast(pl.Int64).alias("shortlisted_white"),
                             ((pl.col("bme") == 1) & (pl.col("appointed") == 1)).sum().cast(pl.Int64).alias("_ab"),
                             ((pl.col("bme") == 0) & (pl.col("appointed") == 1)).sum().cast(pl.Int64).alias("_aw"))
    return a.join(s, on=by, how="full", coalesce=True).fill_null(0)


def _measure_rows(c: dict, base: dict) -> list[dict]:
    """A bme_share row and a wres_indicator2 row for one period's counts."""
    n = c["appointed_bme"] + c["appointed_white"]
    lo, hi = wilson_interval(successes=c["appointed_bme"], trials=n)
    share = {**base, "measure": MEASURE_SHARE, "appointed_bme": c["appointed_bme"],
             "appointed_white": c["appointed_white"], "estimate": c["appointed_bme"] / n if n else None,
             "ci_low": lo, "ci_high": hi}
    rl, rlo, rhi = period_indicator2(c)
    wres = {**base, "measure": MEASURE_WRES2, "appointed_bme": c["_ab"], "appointed_white": c["_aw"],
            "shortlisted_bme": c["shortlisted_bme"], "shortlisted_white": c["shortlisted_white"],
            "estimate": rl, "ci_low": rlo, "ci_high": rhi}
    return [share, wres]


def period_series(funnel: pl.DataFrame, programme_start: date, frequency: str = FREQ_MONTH,
                  last_month: date | None = None) -> pl.DataFrame:
    """BME share of appointments and WRES indicator 2 per period (every period in range, empty ones with 0 counts)."""
    m = MONTHS_PER[frequency]
    f = funnel.with_columns(period_of(pl.col("advert_date"), programme_start, m).alias("_k"))
    counts = {r["_k"]: r for r in _counts(f, ["_k"]).iter_rows(named=True)}
    if not counts:
        return pl.DataFrame(schema=PROGRAMME_IMPACT_SCHEMA)
    ks = f["_k"].drop_nulls()
    kmin, kmax = int(ks.min()), int(ks.max())  # every period from the first to the last advert
    if last_month is not None:
        kmax = max(kmax, (_month_index(last_month) - _month_index(programme_start)) // m)
    zero = {"appointed_bme": 0, "appointed_white": 0, "shortlisted_bme": 0, "shortlisted_white": 0, "_ab": 0, "_aw": 0}
    rows = []
    for k in range(kmin, kmax + 1):
        start = add_months(programme_start, k * m)
        end = month_end(add_months(start, m - 1))
        label = month_str(start) if m == 1 else f"{month_str(start)}..{month_str(add_months(start, m - 1))}"
        base = {"row_type": ROW_PERIOD, "stage": STAGE_PROGRAMME_IMPACT, "frequency": frequency, "period": label,
                "period_start": start, "period_end": end, "t_months": float(k * m + (m - 1) / 2),
                "post_programme": int(k >= 0)}
        rows.extend(_measure_rows(counts.get(k, zero), base))
    return pl.DataFrame(rows, schema=PROGRAMME_IMPACT_SCHEMA)


def pooled_rows(funnel: pl.DataFrame, programme_start: date) -> pl.DataFrame:
    rows = []
    for label, cond in ((POOL_ALL, pl.lit(True)), (POOL_PRE, pl.col("advert_date") < programme_start),
                        (POOL_POST, pl.col("advert_date") >= programme_start)):
        sub = funnel.filter(cond).with_columns(pl.lit(1).alias("_g"))
        c = _counts(sub, ["_g"]).to_dicts()
        c = c[0] if c else {"appointed_bme": 0, "appointed_white": 0, "shortlisted_bme": 0,
                            "shortlisted_white": 0, "_ab": 0, "_aw": 0}
        base = {"row_type": ROW_POOLED, "stage": STAGE_PROGRAMME_IMPACT, "period": label,
                "post_programme": None if label == POOL_ALL else int(label == POOL_POST)}
        rows.extend(_measure_rows(c, base))
    return pl.DataFrame(rows, schema=PROGRAMME_IMPACT_SCHEMA)


# --------------------------------------------------------------------------
# Interrupted time series
# --------------------------------------------------------------------------
def newey_west_lags(n_periods: int) -> int:
    return max(1, int(math.floor(4 * (n_periods / 100) ** (2 / 9))))


def segmented_regression(t: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None,
                         maxlags: int | None = None) -> dict[str, dict[str, float]]:
    """Weighted segmented regression with Newey-West SEs.

    Returns {term: {estimate, std_error, ci_low, ci_high, p_value}} for
    intercept, level_change and slope_change, plus ``_pre_slope`` (the
    pre-programme monthly trend, not a result-table term) and ``_meta``.
    """
    import statsmodels.api as sm

    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float)
    keep = np.isfinite(y) & (w > 0)
    t, y, w = t[keep], y[keep], w[keep]
    post = (t >= 0).astype(float)
    X = np.column_stack([np.ones_like(t), t, post, t * post])
    T = len(y)
    if T < 6 or post.sum() < 2 or (1 - post).sum() < 2:
        raise ValueError(f"interrupted time series needs >= 2 periods each side and >= 6 in all; got {T}")
    lags = maxlags if maxlags is not None else newey_west_lags(T)
    model = sm.WLS(y, X, weights=w)
    res = model.fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}, use_t=True)
    conventional = model.fit().bse
    crit = stats.t.ppf(0.975, T - 4)
    names = [TERM_INTERCEPT, "_pre_slope", TERM_LEVEL_CHANGE, TERM_SLOPE_CHANGE]
    out: dict[str, dict[str, float]] = {}
    for j, name in enumerate(names):
        # Newey-West SEs are biased down in short series (T ~ 30); never report one narrower
        # than the conventional (i.i.d.) WLS SE.
        b, se = float(res.params[j]), max(float(res.bse[j]), float(conventional[j]))
        out[name] = {"estimate": b, "std_error": se, "ci_low": b - crit * se, "ci_high": b + crit * se,
                     "p_value": float(2 * stats.t.sf(abs(b / se), T - 4)) if se > 0 else None,
                     "hac_std_error": float(res.bse[j]), "conventional_std_error": float(conventional[j])}
    out["_meta"] = {"n_periods": T, "maxlags": lags}
    return out


def its_rows(series: pl.DataFrame, maxlags: int | None = None) -> pl.DataFrame:
    """ITS on the BME share of appointments (periods with no appointee of known ethnicity carry no weight)."""
    s = series.filter((pl.col("row_type") == ROW_PERIOD) & (pl.col("measure") == MEASURE_SHARE))
    n = (s["appointed_bme"] + s["appointed_white"]).to_numpy().astype(float)
    y = np.where(n > 0, s["appointed_bme"].to_numpy() / np.maximum(n, 1), np.nan)
    try:
        fit = segmented_regression(s["t_months"].to_numpy(), y, n, maxlags)
    except ValueError as exc:
        log.warning("programme impact ITS not estimated: %s", exc)
        return pl.DataFrame(schema=PROGRAMME_IMPACT_SCHEMA)
    freq = s["frequency"][0] if s.height else None
    rows = []
    for term, key in ((TERM_INTERCEPT, TERM_INTERCEPT), (TERM_PRE_SLOPE, "_pre_slope"),
                      (TERM_LEVEL_CHANGE, TERM_LEVEL_CHANGE), (TERM_SLOPE_CHANGE, TERM_SLOPE_CHANGE)):
        rows.append({"row_type": ROW_ITS, "stage": STAGE_PROGRAMME_IMPACT, "measure": MEASURE_SHARE,
                     "model": MODEL_SEGMENTED_LINEAR, "term": term, "frequency": freq,
                     "appointed_bme": int(s["appointed_bme"].sum()),
                     "appointed_white": int(s["appointed_white"].sum()),
                     **{k: fit[key][k] for k in ("estimate", "std_error", "ci_low", "ci_high", "p_value")},
                     "n_periods": fit["_meta"]["n_periods"], "hac_maxlags": fit["_meta"]["maxlags"]})
    return pl.DataFrame(rows, schema=PROGRAMME_IMPACT_SCHEMA)


def programme_impact_table(funnel: pl.DataFrame, programme_start: date, frequency: str = FREQ_MONTH,
                           last_month: date | None = None, maxlags: int | None = None) -> pl.DataFrame:
    series = period_series(funnel, programme_start, frequency, last_month)
    log.info("programme impact: %d %s periods", series.height // 2, frequency)
    return pl.concat([series, pooled_rows(funnel, programme_start), its_rows(series, maxlags)])


# --------------------------------------------------------------------------
# National context
# --------------------------------------------------------------------------
def load_national_reference(path: Path = NATIONAL_REFERENCE_PATH) -> pl.DataFrame:
    """The published national/regional WRES indicator-2 values, with their sources (reference/)."""
    with Path(path).open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return pl.DataFrame([{
        "period": r["period"], "scope": r["scope"], "relative_likelihood": float(r["relative_likelihood"]),
        "ci_low": None, "ci_high": None, "is_trust": False, "note": r["note"] or None, "source": r["source"],
    } for r in rows], schema=NATIONAL_REFERENCE_SCHEMA)


def national_reference_table(funnel: pl.DataFrame, path: Path = NATIONAL_REFERENCE_PATH) -> pl.DataFrame:
    """National and regional reference values with the trust's own indicator 2 beside them.

    Trust rows: each calendar year of advert date, and all to date.  The
    national figures cover all bands of every trust; the trust's figure here
    covers the senior bands in the extract only.
    """
    ref = load_national_reference(path)
    f = funnel.with_columns(pl.col("advert_date").dt.year().cast(pl.String).alias("_y"))
    rows = []
    groups = [(y, f.filter(pl.col("_y") == y)) for y in sorted(f["_y"].drop_nulls().unique().to_list())]
    groups.append((POOL_ALL, f))
    for label, sub in groups:
        c = _counts(sub.with_columns(pl.lit(1).alias("_g")), ["_g"]).to_dicts()
        if not c:
            continue
        c = c[0]
        rl, lo, hi = period_indicator2(c)
        rows.append({"period": label, "scope": TRUST_SCOPE, "relative_likelihood": rl, "ci_low": lo,
                     "ci_high": hi, "is_trust": True, "note": None, "source": "this evaluation"})
    trust = pl.DataFrame(rows, schema=NATIONAL_REFERENCE_SCHEMA)
    return pl.concat([ref, trust])
