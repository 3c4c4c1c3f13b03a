"""Random-effects meta-analysis: statsmodels (DL, Hartung-Knapp), an independent REML maximisation,
the BCG vaccine trials (metafor's published values), edge cases, and CI coverage by simulation."""
from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import optimize, stats
from statsmodels.stats.meta_analysis import combine_effects

from tasks.national.meta_analysis import (
    ERROR_LENGTHS,
    FLAG_EXCLUDED,
    FLAG_NO_PREDICTION,
    FLAG_NO_STUDIES,
    FLAG_SINGLE_STUDY,
    PooledEffect,
    pool_terms,
    random_effects,
)

# BCG vaccine trials (Colditz et al. 1994; metafor's dat.bcg): tpos, tneg, cpos, cneg
BCG = np.array([
    [4, 119, 11, 128], [6, 300, 29, 274], [3, 228, 11, 209], [62, 13536, 248, 12619], [33, 5036, 47, 5761],
    [180, 1361, 372, 1079], [8, 2537, 10, 619], [505, 87886, 499, 87892], [29, 7470, 45, 7232],
    [17, 1699, 65, 1600], [186, 50448, 141, 27197], [5, 2493, 3, 2338], [27, 16886, 29, 17825],
], dtype=float)


def bcg_log_risk_ratios() -> tuple[np.ndarray, np.ndarray]:
    tpos, tneg, cpos, cneg = BCG.T
    y = np.log(tpos / (tpos + tneg)) - np.log(cpos / (cpos + cneg))
    v = 1 / tpos - 1 / (tpos + tneg) + 1 / cpos - 1 / (cpos + cneg)
    return y, np.sqrt(v)


def random_dataset(seed: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    se = rng.uniform(0.05, 0.5, k)
    return 0.3 + rng.normal(0, 0.25, k) + rng.normal(0, se), se


def reml_by_optimiser(y: np.ndarray, se: np.ndarray) -> float:
    """Independent REML: maximise the restricted log-likelihood of tau^2 with scipy's bounded optimiser."""
    v = se ** 2

    def neg_restricted_loglik(t: float) -> float:
        w = 1 / (v + t)
        mu = np.sum(w * y) / np.sum(w)
        return 0.5 * (np.sum(np.log(v + t)) + np.log(np.sum(w)) + np.sum(w * (y - mu) ** 2))

    hi = 10 * float(np.var(y)) + 1.0
    res = optimize.minimize_scalar(neg_restricted_loglik, bounds=(0.0, hi), method="bounded",
                                   options={"xatol": 1e-12})
    return float(res.x) if neg_restricted_loglik(res.x) < neg_restricted_loglik(0.0) else 0.0


@pytest.mark.parametrize("seed,k", [(2, 12), (3, 40), (12, 3), (13, 8)])
def test_dersimonian_laird_equals_statsmodels(seed, k):
    y, se = random_dataset(seed, k)
    sm = combine_effects(y, se ** 2, method_re="chi2")
    assert sm.tau2 > 0  # these datasets are heterogeneous; see the truncation test below
    ours = random_effects(estimates=y, std_errors=se, method="dl")
    assert ours.tau2 == pytest.approx(sm.tau2, rel=1e-10)
    assert ours.estimate == pytest.approx(sm.mean_effect_re, rel=1e-10)
    assert ours.std_error == pytest.approx(sm.sd_eff_w_re, rel=1e-10)
    assert ours.q == pytest.approx(sm.q, rel=1e-10)
    assert ours.i2 == pytest.approx(sm.i2, abs=1e-12)
    low, high = sm.conf_int(use_t=False)[1]
    assert (ours.ci_low, ours.ci_high) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_dersimonian_laird_truncates_at_zero_where_statsmodels_does_not():
    """statsmodels 0.15 returns the untruncated (negative) DL moment; ours is max(0, .) = the fixed effect."""
    y, se = random_dataset(1, 5)
    sm = combine_effects(y, se ** 2, method_re="chi2")
    assert sm.tau2 < 0
    ours = random_effects(estimates=y, std_errors=se, method="dl")
    assert ours.tau2 == 0.0 and ours.i2 == 0.0
    assert ours.estimate == pytest.approx(sm.mean_effect_fe, rel=1e-10)
    assert ours.std_error == pytest.approx(sm.sd_eff_w_fe, rel=1e-10)
    assert ours.q == pytest.approx(sm.q, rel=1e-10)


@pytest.mark.parametrize("seed,k", [(5, 6), (6, 25)])
def test_hartung_knapp_equals_statsmodels_hksj(seed, k):
    y, se = random_dataset(seed, k)
    sm = combine_effects(y, se ** 2, method_re="chi2")
    ours = random_effects(estimates=y, std_errors=se, method="dl", interval="hartung_knapp")
    assert ours.std_error == pytest.approx(sm.sd_eff_w_re_hksj, rel=1e-10)
    t = stats.t.ppf(0.975, k - 1)
    assert ours.ci_low == pytest.approx(sm.mean_effect_re - t * sm.sd_eff_w_re_hksj, rel=1e-10)


@pytest.mark.parametrize("seed,k", [(7, 2), (8, 4), (9, 15), (10, 60)])
def test_reml_maximises_the_restricted_likelihood(seed, k):
    y, se = random_dataset(seed, k)
    ours = random_effects(estimates=y, std_errors=se, method="reml")
    expected = reml_by_optimiser(y, se)
    assert ours.tau2 == pytest.approx(expected, abs=1e-7)
    w = 1 / (se ** 2 + expected)
    assert ours.estimate == pytest.approx(np.sum(w * y) / np.sum(w), abs=1e-7)


def test_bcg_vaccine_trials_match_metafor():
    y, se = bcg_log_risk_ratios()
    reml = random_effects(estimates=y, std_errors=se, method="reml")
    dl = random_effects(estimates=y, std_errors=se, method="dl")
    # metafor rma(yi, vi, data=dat.bcg): REML tau^2 0.3132, mu -0.7145 (se 0.1798), CI -1.0669 to -0.3622,
    # Q(12) = 152.2330; method="DL": tau^2 0.3088, mu -0.7141 (se 0.1787), I^2 92.12%
    assert reml.tau2 == pytest.approx(0.3132, abs=5e-5)
    assert (reml.estimate, reml.std_error) == (pytest.approx(-0.7145, abs=5e-5), pytest.approx(0.1798, abs=5e-5))
    assert (reml.ci_low, reml.ci_high) == (pytest.approx(-1.0669, abs=5e-5), pytest.approx(-0.3622, abs=5e-5))
    assert reml.q == pytest.approx(152.2330, abs=5e-5) and reml.q_df == 12
    assert dl.tau2 == pytest.approx(0.3088, abs=5e-5)
    assert (dl.estimate, dl.std_error) == (pytest.approx(-0.7141, abs=5e-5), pytest.approx(0.1787, abs=5e-5))
    assert dl.i2 == pytest.approx(0.9212, abs=5e-5)


def test_prediction_interval_is_higgins_2009():
    y, se = bcg_log_risk_ratios()
    r = random_effects(estimates=y, std_errors=se)
    half = stats.t.ppf(0.975, 11) * math.sqrt(r.tau2 + r.std_error ** 2)
    assert (r.prediction_low, r.prediction_high) == (pytest.approx(r.estimate - half), pytest.approx(r.estimate + half))


def assert_defined(r: PooledEffect) -> None:
    """No NaN or infinity anywhere: every number is finite or None."""
    for value in (r.estimate, r.std_error, r.ci_low, r.ci_high, r.p_value, r.tau2, r.tau, r.i2, r.q, r.q_p_value,
                  r.prediction_low, r.prediction_high):
        assert value is None or math.isfinite(value)


@pytest.mark.parametrize("method", ["reml", "dl"])
@pytest.mark.parametrize("interval", ["z", "hartung_knapp"])
def test_one_study(method, interval):
    r = random_effects(estimates=[0.4], std_errors=[0.2], method=method, interval=interval)
    assert_defined(r)
    assert r.k == 1 and r.tau2 == 0.0 and r.estimate == pytest.approx(0.4)
    assert FLAG_SINGLE_STUDY in r.flags and FLAG_NO_PREDICTION in r.flags
    assert r.q is None and r.i2 is None
    if interval == "z":
        assert r.ci_low == pytest.approx(0.4 - 1.959963984540054 * 0.2)
    else:
        assert r.ci_low is None and r.std_error is None


@pytest.mark.parametrize("method", ["reml", "dl"])
def test_two_studies_have_no_prediction_interval(method):
    r = random_effects(estimates=[0.1, 0.9], std_errors=[0.1, 0.2], method=method, interval="hartung_knapp")
    assert_defined(r)
    assert r.k == 2 and r.prediction_low is None and FLAG_NO_PREDICTION in r.flags
    assert r.ci_low is not None and r.tau2 > 0


@pytest.mark.parametrize("method", ["reml", "dl"])
def test_homogeneous_studies_give_tau2_zero_and_the_fixed_effect(method):
    r = random_effects(estimates=[0.3, 0.3, 0.3, 0.3], std_errors=[0.1, 0.2, 0.1, 0.4], method=method)
    assert_defined(r)
    assert r.tau2 == 0.0 and r.i2 == 0.0 and r.q == 0.0 and r.q_p_value == 1.0
    assert r.estimate == pytest.approx(0.3)
    assert r.std_error == pytest.approx(1 / math.sqrt(100 + 25 + 100 + 6.25))


def test_hartung_knapp_with_identical_estimates_is_defined():
    r = random_effects(estimates=[0.2, 0.2, 0.2], std_errors=[0.1, 0.1, 0.1], interval="hartung_knapp")
    assert_defined(r)
    assert r.std_error == pytest.approx(0.0, abs=1e-12) and r.ci_low == pytest.approx(0.2) == r.ci_high


def test_missing_and_non_finite_std_errors_are_excluded_and_counted():
    r = random_effects(estimates=[0.1, 0.2, None, 0.4, 0.5, float("nan")],
                       std_errors=[0.1, None, 0.1, float("inf"), 0.0, 0.1])
    assert r.k == 1 and r.excluded == 5 and FLAG_EXCLUDED in r.flags


def test_no_study_gives_none_with_a_flag():
    r = random_effects(estimates=[None], std_errors=[None])
    assert_defined(r)
    assert r.k == 0 and r.excluded == 1 and r.estimate is None and FLAG_NO_STUDIES in r.flags


def test_lengths_must_match():
    with pytest.raises(ValueError, match=ERROR_LENGTHS):
        random_effects(estimates=[0.1, 0.2], std_errors=[0.1])


def test_pool_terms_gives_one_row_per_term_in_order():
    y, se = bcg_log_risk_ratios()
    frame = pl.DataFrame({
        "trust_code": [f"T{i}" for i in range(13)] * 2,
        "term": ["bme:letter_to_ceo"] * 13 + ["bme:diverse_panel"] * 13,
        "estimate": list(y) + [0.2] * 13, "std_error": list(se) + [0.1] * 13,
    })
    out = pool_terms(frame)
    assert out.get_column("term").to_list() == ["bme:letter_to_ceo", "bme:diverse_panel"]
    assert out.row(0, named=True)["tau2"] == pytest.approx(0.3132, abs=5e-5)
    assert out.row(1, named=True)["tau2"] == 0.0 and out.row(1, named=True)["flags"] == ""


def test_confidence_interval_covers_the_planted_mean_about_95_percent():
    """400 simulated meta-analyses of 30 trusts with tau = 0.3: coverage of the pooled mean."""
    rng = np.random.default_rng(20240601)
    mean, tau, k, n = 0.5, 0.3, 30, 400
    hits = {"z": 0, "hartung_knapp": 0}
    tau_hat = []
    for _ in range(n):
        se = rng.uniform(0.1, 0.4, k)
        y = mean + rng.normal(0, tau, k) + rng.normal(0, se)
        for interval in hits:
            r = random_effects(estimates=y, std_errors=se, interval=interval)
            hits[interval] += r.ci_low <= mean <= r.ci_high
        tau_hat.append(r.tau)
    assert 0.92 <= hits["z"] / n <= 0.98
    assert 0.93 <= hits["hartung_knapp"] / n <= 0.97
    assert np.median(tau_hat) == pytest.approx(tau, abs=0.05)
