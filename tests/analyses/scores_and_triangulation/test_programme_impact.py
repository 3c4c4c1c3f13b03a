"""Programme impact: period counts, WRES indicator 2, and the interrupted time series."""
from __future__ import annotations

import math
from datetime import date

import numpy as np
import polars as pl
import pytest
from scipy import stats

from tasks.analyses.scores_and_triangulation import programme_impact as pi
from tasks.core.months import add_months
from tasks.core.vocabulary import (
    MODEL_SEGMENTED_LINEAR,
    STAGE_PROGRAMME_IMPACT,
    TERM_INTERCEPT,
    TERM_LEVEL_CHANGE,
    TERM_SLOPE_CHANGE,
)

START = date(2022, 6, 1)
SCHEMA = {"application_id": pl.String, "advert_date": pl.Date, "bme": pl.Int64, "shortlisted": pl.Int64,
          "offered": pl.Int64, "offer_declined": pl.Int64, "appointed": pl.Int64}


def _funnel(rows):
    """rows: (advert_date, bme, shortlisted, offered, declined, appointed)."""
    return pl.DataFrame([{"application_id": f"A{i}", "advert_date": r[0], "bme": r[1], "shortlisted": r[2],
                          "offered": r[3], "offer_declined": r[4], "appointed": r[5]} for i, r in enumerate(rows)],
                        schema=SCHEMA)


SMALL = _funnel([
    (date(2022, 4, 5), 1, 1, 1, 0, 1),     # Apr: BME appointed
    (date(2022, 4, 9), 0, 1, 1, 0, 1),     # Apr: White appointed
    (date(2022, 4, 9), 0, 1, 0, 0, 0),     # Apr: White shortlisted
    (date(2022, 5, 2), None, 1, 1, 0, 1),  # May: unknown appointed (left out)
    (date(2022, 6, 1), 1, 1, 1, 1, 0),     # Jun: BME offered, declined: not in WRES population
    (date(2022, 6, 30), 0, 1, 1, 0, 1),    # Jun: White appointed
    (date(2022, 6, 30), 1, 1, 0, 0, 0),    # Jun: BME shortlisted
    (date(2022, 8, 1), 1, 0, 0, 0, 0),     # Aug: BME not shortlisted
])


def _get(t, **kw):
    for k, v in kw.items():
        t = t.filter(pl.col(k) == v)
    assert t.height == 1, kw
    return t.row(0, named=True)


def test_monthly_series_hand_count():
    s = pi.period_series(SMALL, START, pi.FREQ_MONTH)
    assert s.filter(pl.col("measure") == pi.MEASURE_SHARE)["period"].to_list() == [
        "2022-04", "2022-05", "2022-06", "2022-07", "2022-08"]
    apr = _get(s, period="2022-04", measure=pi.MEASURE_SHARE)
    assert (apr["appointed_bme"], apr["appointed_white"], apr["estimate"]) == (1, 1, 0.5)
    assert (apr["t_months"], apr["post_programme"]) == (-2.0, 0)
    may = _get(s, period="2022-05", measure=pi.MEASURE_SHARE)
    assert (may["appointed_bme"], may["appointed_white"], may["estimate"]) == (0, 0, None)
    jun = _get(s, period="2022-06", measure=pi.MEASURE_SHARE)
    assert (jun["estimate"], jun["t_months"], jun["post_programme"]) == (0.0, 0.0, 1)
    jun_w = _get(s, period="2022-06", measure=pi.MEASURE_WRES2)
    # declined offer left out: shortlisted BME = 1 (not 2), White 1 appointed of 1; BME 0 appointed
    assert (jun_w["shortlisted_bme"], jun_w["shortlisted_white"], jun_w["appointed_white"]) == (1, 1, 1)
    assert jun_w["estimate"] is None  # no BME appointee: undefined ratio
    apr_w = _get(s, period="2022-04", measure=pi.MEASURE_WRES2)
    assert apr_w["estimate"] == pytest.approx((1 / 2) / (1 / 1))
    assert set(s["stage"].to_list()) == {STAGE_PROGRAMME_IMPACT}


def test_quarters_are_aligned_to_programme_start():
    s = pi.period_series(SMALL, START, pi.FREQ_QUARTER).filter(pl.col("measure") == pi.MEASURE_SHARE)
    assert s["period"].to_list() == ["2022-03..2022-05", "2022-06..2022-08"]
    assert s["t_months"].to_list() == [-2.0, 1.0]
    assert s["appointed_bme"].to_list() == [1, 0] and s["appointed_white"].to_list() == [1, 1]


def test_pooled_pre_post_hand_count():
    p = pi.pooled_rows(SMALL, START)
    pre = _get(p, period=pi.POOL_PRE, measure=pi.MEASURE_SHARE)
    post = _get(p, period=pi.POOL_POST, measure=pi.MEASURE_SHARE)
    assert (pre["appointed_bme"], pre["appointed_white"]) == (1, 1)
    assert (post["appointed_bme"], post["appointed_white"]) == (0, 1)
    allw = _get(p, period=pi.POOL_ALL, measure=pi.MEASURE_WRES2)
    # shortlisted known, excluding the declined offer: White 3 (2 appointed), BME 2 (1 appointed)
    assert (allw["shortlisted_white"], allw["appointed_white"], allw["shortlisted_bme"], allw["appointed_bme"]) == (3, 2, 2, 1)
    assert allw["estimate"] == pytest.approx((2 / 3) / (1 / 2))


def test_relative_likelihood_and_log_interval():
    rl, lo, hi = pi.period_indicator2({"_aw": 10, "shortlisted_white": 50, "_ab": 4, "shortlisted_bme": 40})
    se = math.sqrt(1 / 10 - 1 / 50 + 1 / 4 - 1 / 40)
    z = stats.norm.ppf(0.975)
    assert rl == pytest.approx(2.0)
    assert (lo, hi) == (pytest.approx(2 * math.exp(-z * se)), pytest.approx(2 * math.exp(z * se)))
    assert pi.period_indicator2({"_aw": 3, "shortlisted_white": 10, "_ab": 0, "shortlisted_bme": 10}) == (None, None, None)


def test_segmented_regression_exact_on_noiseless_line():
    t = np.arange(-12, 18, dtype=float)
    y = 0.2 + 0.001 * t + 0.05 * (t >= 0) + 0.002 * t * (t >= 0)
    fit = pi.segmented_regression(t, y)
    assert fit[TERM_INTERCEPT]["estimate"] == pytest.approx(0.2)
    assert fit["_pre_slope"]["estimate"] == pytest.approx(0.001)
    assert fit[TERM_LEVEL_CHANGE]["estimate"] == pytest.approx(0.05)
    assert fit[TERM_SLOPE_CHANGE]["estimate"] == pytest.approx(0.002)
    assert fit["_meta"]["maxlags"] == pi.newey_west_lags(30) == 3


def test_newey_west_matches_statsmodels_hac_by_hand():
    rng = np.random.default_rng(1)
    t = np.arange(-10, 14, dtype=float)
    y = 0.3 + 0.04 * (t >= 0) + rng.normal(0, 0.02, t.size)
    fit = pi.segmented_regression(t, y, maxlags=2)
    post = (t >= 0).astype(float)
    X = np.column_stack([np.ones_like(t), t, post, t * post])
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    u = y - X @ b
    S = (X * u[:, None]).T @ (X * u[:, None])
    for lag in (1, 2):
        w = 1 - lag / 3
        G = (X[lag:] * u[lag:, None]).T @ (X[:-lag] * u[:-lag, None])
        S += w * (G + G.T)
    XtXi = np.linalg.inv(X.T @ X)
    V = XtXi @ S @ XtXi * t.size / (t.size - 4)
    lc = fit[TERM_LEVEL_CHANGE]
    assert lc["hac_std_error"] == pytest.approx(math.sqrt(V[2, 2]), rel=1e-6)
    conv = math.sqrt(np.linalg.inv(X.T @ X)[2, 2] * (u @ u) / (t.size - 4))
    assert lc["conventional_std_error"] == pytest.approx(conv, rel=1e-6)
    assert lc["std_error"] == pytest.approx(max(conv, math.sqrt(V[2, 2])))


def simulate_appointments(seed: int, level: float, slope: float = 0.0, base: float = 0.25,
                          months_pre: int = 9, months_post: int = 20, per_month: int = 25) -> pl.DataFrame:
    """Appointments whose BME probability follows the segmented model (t in months from START)."""
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(-months_pre, months_post):
        p = base + level * (t >= 0) + slope * t * (t >= 0)
        month = add_months(START, t)
        for _ in range(rng.poisson(per_month)):
            rows.append((date(month.year, month.month, int(rng.integers(1, 28))), int(rng.random() < p), 1, 1, 0, 1))
    return _funnel(rows)


def test_its_rows_name_the_model_and_count_the_periods():
    f = simulate_appointments(3, level=0.12)
    t = pi.programme_impact_table(f, START)
    lc = _get(t, row_type=pi.ROW_ITS, term=TERM_LEVEL_CHANGE)
    assert lc["model"] == MODEL_SEGMENTED_LINEAR and lc["stage"] == STAGE_PROGRAMME_IMPACT
    assert lc["n_periods"] == 29 and _get(t, row_type=pi.ROW_ITS, term=TERM_SLOPE_CHANGE)["n_periods"] == 29


ITS_SEEDS = range(50, 70)  # fixed in advance


def test_its_coverage_over_seeds():
    """Planted level 0.12 and slope 0.004/month (the truth is the simulation's own closed form).

    Rule: each CI covers on >= k of 20 seeds, k the smallest count with
    P(Bin(20, 0.95) < k) <= 0.5% (two checks, family-wise 1%): k = 16; the level
    change has the right sign on >= 18 (its power is about 0.98 per seed)."""
    from scipy import stats

    k = next(k for k in range(21, -1, -1) if stats.binom.cdf(k - 1, 20, 0.95) <= 0.005)
    assert k == 16
    cover_l = cover_s = sign = 0
    for seed in ITS_SEEDS:
        f = simulate_appointments(seed, level=0.12, slope=0.004, per_month=40)
        fit = pi.its_rows(pi.period_series(f, START))
        lc = _get(fit, term=TERM_LEVEL_CHANGE)
        sc = _get(fit, term=TERM_SLOPE_CHANGE)
        cover_l += lc["ci_low"] <= 0.12 <= lc["ci_high"]
        cover_s += sc["ci_low"] <= 0.004 <= sc["ci_high"]
        sign += lc["estimate"] > 0
    assert cover_l >= k and cover_s >= k, (cover_l, cover_s)
    assert sign >= 18, sign


def test_national_reference_loaded_with_trust_figures_beside_it():
    f = pl.concat([SMALL, simulate_appointments(1, level=0.0, months_pre=2, months_post=3, per_month=3)])
    t = pi.national_reference_table(f)
    ref = t.filter(~pl.col("is_trust"))
    assert ref.height == 12 and ref["source"].null_count() == 0
    assert _get(ref, period="2020", scope="England NHS trusts")["relative_likelihood"] == pytest.approx(1.61)
    trust = t.filter(pl.col("is_trust"))
    assert trust["period"].to_list() == ["2022", pi.POOL_ALL]
