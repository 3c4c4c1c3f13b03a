"""Workforce representation: BME share by band and month, the Model Employer parity gap, and the
representation ratio of senior appointees against the feeder bands.

Pure functions on polars frames shaped like ``marts.workforce`` and
``marts.application_funnel``; method in docs/methods.md section 4.

* BME share = BME / (BME + White) staff in the band that month; staff of
  unknown ethnicity are counted (``n_unknown``) but left out of the share, as
  in WRES ratios.
* Parity target (NHS Model Employer): the BME share of the whole workforce in
  the extract that month (band ``all``); each band's gap = its share - target.
  ``senior`` aggregates 8a-VSM.
* Representation ratio = BME share of appointees / BME share of the feeder
  bands (6-7) over the same period; 1 = appointees mirror the feeder pool.
"""
from __future__ import annotations

import logging
import math
from datetime import date

import polars as pl
from scipy import stats

from tasks.core.vocabulary import FEEDER_BANDS, SENIOR_BANDS, WORKFORCE_BANDS
from tasks.stats.intervals import wilson_interval

log = logging.getLogger(__name__)


MEASURE_SHARE = "bme_share"


MEASURE_RATIO = "representation_ratio"


BAND_ALL = "all"


BAND_SENIOR = "senior"


PERIOD_MONTH = "month"


PERIOD_ALL = "all_to_date"


PERIOD_PRE = "pre_programme"


PERIOD_POST = "post_programme"


REPRESENTATION_SCHEMA = {
    "measure": pl.String, "period": pl.String, "snapshot_month": pl.Date, "band": pl.String,
    "n": pl.Int64, "n_bme": pl.Int64, "n_unknown": pl.Int64, "value": pl.Float64,
    "target": pl.Float64, "gap": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
}


def _counts(frame: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    return frame.group_by(by).agg(
        (pl.col("bme") == 1).sum().cast(pl.Int64).alias("n_bme"),
        (pl.col("bme") == 0).sum().cast(pl.Int64).alias("n_white"),
        pl.col("bme").is_null().sum().cast(pl.Int64).alias("n_unknown"),
    )


def share_by_band_month(workforce: pl.DataFrame) -> pl.DataFrame:
    """BME share per snapshot month and band, plus ``senior`` and ``all``, with target and gap."""
    wf = workforce.select("snapshot_month", "band", "bme")
    per_band = _counts(wf, ["snapshot_month", "band"])
    senior = _counts(wf.filter(pl.col("band").is_in(SENIOR_BANDS)), ["snapshot_month"]).with_columns(
        pl.lit(BAND_SENIOR).alias("band"))
    whole = _counts(wf, ["snapshot_month"]).with_columns(pl.lit(BAND_ALL).alias("band"))
    cols = ["snapshot_month", "band", "n_bme", "n_white", "n_unknown"]
    allc = pl.concat([per_band.select(cols), senior.select(cols), whole.select(cols)])
    allc = allc.with_columns((pl.col("n_bme") + pl.col("n_white")).alias("n")).with_columns(
        pl.when(pl.col("n") > 0).then(pl.col("n_bme") / pl.col("n")).otherwise(None).alias("value"))
    target = allc.filter(pl.col("band") == BAND_ALL).select("snapshot_month", pl.col("value").alias("target"))
    out = allc.join(target, on="snapshot_month", how="left").with_columns(
        (pl.col("value") - pl.col("target")).alias("gap"))
    cis = [wilson_interval(successes=k, trials=n) for k, n in zip(out["n_bme"].to_list(), out["n"].to_list())]
    out = out.with_columns(
        pl.Series("ci_low", [c[0] for c in cis], dtype=pl.Float64),
        pl.Series("ci_high", [c[1] for c in cis], dtype=pl.Float64),
        pl.lit(MEASURE_SHARE).alias("measure"), pl.lit(PERIOD_MONTH).alias("period"),
    )
    order = {b: i for i, b in enumerate(WORKFORCE_BANDS + (BAND_SENIOR, BAND_ALL))}
    out = out.with_columns(pl.col("band").replace_strict(order, default=99).alias("_o")).sort(
        "snapshot_month", "_o").drop("_o")
    return out.select(list(REPRESENTATION_SCHEMA)).cast(REPRESENTATION_SCHEMA)


def _period_filter(col: str, period: str, programme_start: date) -> pl.Expr:
    if period == PERIOD_PRE:
        return pl.col(col) < programme_start
    if period == PERIOD_POST:
        return pl.col(col) >= programme_start
    return pl.lit(True)


def representation_ratios(funnel: pl.DataFrame, workforce: pl.DataFrame, programme_start: date) -> pl.DataFrame:
    """BME share of appointees (by vacancy band and all senior) / BME share of the feeder bands.

    The feeder share is pooled over the snapshot months of the same period
    (staff-months); its effective n for the CI is the mean monthly feeder
    headcount of known ethnicity.  CI: Katz log interval for a ratio of two
    independent proportions.
    """
    z = stats.norm.ppf(0.975)
    rows = []
    feeder_all = workforce.filter(pl.col("band").is_in(FEEDER_BANDS))
    appointed = funnel.filter(pl.col("appointed") == 1)
    for period in (PERIOD_ALL, PERIOD_PRE, PERIOD_POST):
        fd = feeder_all.filter(_period_filter("snapshot_month", period, programme_start))
        if fd.height == 0:
            fd = feeder_all  # no snapshot in the period: use every snapshot
        known = fd.filter(pl.col("bme").is_not_null())
        n_months = max(known["snapshot_month"].n_unique(), 1)
        f_share = float(known["bme"].mean()) if known.height else None
        f_n = known.height / n_months
        ap = appointed.filter(_period_filter("advert_date", period, programme_start))
        for band in (BAND_SENIOR,) + SENIOR_BANDS:
            sub = ap if band == BAND_SENIOR else ap.filter(pl.col("band") == band)
            k = int((sub["bme"] == 1).sum())
            n = int(sub["bme"].is_not_null().sum())
            unk = int(sub["bme"].is_null().sum())
            if n == 0 and band != BAND_SENIOR:
                continue
            ratio = lo = hi = None
            if n > 0 and f_share:
                ratio = (k / n) / f_share
                fk = f_share * f_n
                if k > 0 and fk > 0:
                    se = math.sqrt(max((1 - k / n) / k + (1 - f_share) / fk, 0.0))
                    lo, hi = ratio * math.exp(-z * se), ratio * math.exp(z * se)
            rows.append({"measure": MEASURE_RATIO, "period": period, "snapshot_month": None, "band": band,
                         "n": n, "n_bme": k, "n_unknown": unk, "value": ratio, "target": f_share,
                         "gap": None, "ci_low": lo, "ci_high": hi})
    return pl.DataFrame(rows, schema=REPRESENTATION_SCHEMA)


def representation_table(workforce: pl.DataFrame, funnel: pl.DataFrame, programme_start: date) -> pl.DataFrame:
    log.info("representation: %d workforce rows, %d applications", workforce.height, funnel.height)
    return pl.concat([share_by_band_month(workforce), representation_ratios(funnel, workforce, programme_start)])
