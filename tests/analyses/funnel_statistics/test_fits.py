"""Fitting the funnel models: closed-form cases, equivalence with statsmodels, separation, engines."""
from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from funnel_tables import cr2_on_rows, table_frame
from statsmodels.discrete.conditional_models import ConditionalLogit

from tasks.analyses.funnel_statistics import fits, odds_ratios, specs
from tasks.core.vocabulary import TERM_BME, band_term, interaction


def test_two_by_two_logit_closed_form():
    # White: 30 events / 70 non-events; BME: 10 / 40
    df = table_frame({(0,): (30, 70), (1,): (10, 40)})
    fit = fits.fit_logit(df, specs.Spec((TERM_BME,)), "y", "cluster", stage="shortlist")
    b0, b1 = fit.params
    assert b0 == pytest.approx(math.log(30 / 70), abs=1e-8)
    assert b1 == pytest.approx(math.log((10 * 70) / (40 * 30)), abs=1e-8)
    # saturated model, one row per cluster: CR2 = HC2, leverage 1/n_j in group j, so each group's
    # log odds has variance 1 / ((n_j - 1) p_j (1 - p_j)) (HC0 would give the model's 1 / (n_j p_j (1 - p_j)))
    se = math.sqrt(1 / (99 * 0.3 * 0.7) + 1 / (49 * 0.2 * 0.8))
    assert math.sqrt(fit.cov[1, 1]) == pytest.approx(se, rel=1e-6)
    assert fit.n_obs == 150 and fit.n_events == 40 and fit.n_clusters == 150
    assert fit.term_flags[TERM_BME] == set()


def test_grouped_fit_equals_individual_statsmodels_cluster():
    rng = np.random.default_rng(3)
    V, n = 150, 3000
    vac = rng.integers(0, V, n)
    bme, fem = rng.binomial(1, .3, n), rng.binomial(1, .5, n)
    letter = rng.binomial(1, .5, V)[vac]
    eta = -0.5 + 0.4 * bme - 0.2 * fem + 0.3 * letter - 0.5 * bme * letter + rng.normal(0, .4, V)[vac]
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    df = pl.DataFrame({"v": vac, "bme": bme, "female": fem, "letter_to_ceo": letter, "y": y})
    spec = specs.Spec(("bme", "female", "letter_to_ceo"), (), (("bme", "letter_to_ceo"),))
    fit = fits.fit_logit(df, spec, "y", "v", stage="shortlist")
    X = np.column_stack([np.ones(n), bme, fem, letter, bme * letter])
    ref = sm.GLM(y, X, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": vac, "use_correction": False})
    np.testing.assert_allclose(fit.params, ref.params, atol=1e-7)
    # SEs: CR2 on the collapsed rows = CR2 computed densely on one row per application
    np.testing.assert_allclose(fit.cov, cr2_on_rows(X, y, vac, ref.params), rtol=1e-6, atol=1e-12)
    cr1 = ref.bse * math.sqrt(V / (V - 1))
    assert np.all(np.sqrt(np.diag(fit.cov)) > 0.9 * cr1) and np.all(np.sqrt(np.diag(fit.cov)) < 1.2 * cr1)
    assert fit.n_clusters == V


def test_firth_on_separated_two_by_two_equals_haldane():
    # no BME events at all: quasi-complete separation
    df = table_frame({(0,): (30, 70), (1,): (0, 25)})
    fit = fits.fit_logit(df, specs.Spec((TERM_BME,)), "y", "cluster", stage="offer")
    assert fits.FLAG_SEPARATION in fit.term_flags[TERM_BME]
    assert fits.FLAG_FIRTH in fit.model_flags and fit.engine == fits.ENGINE_FIRTH
    # Firth's estimate in a 2x2 table = log OR with 0.5 added to every cell
    assert fit.params[1] == pytest.approx(math.log(0.5 * 70.5 / (25.5 * 30.5)), abs=1e-5)
    row = [r for r in odds_ratios.fit_rows(fit) if r["term"] == TERM_BME][0]
    assert 0.005 < row["odds_ratio"] < 1 and row["ci_low"] > 1e-4
    assert "separation" in row["flags"] and "firth" in row["flags"]


def test_sparse_and_small_number_flags():
    df = table_frame({(0,): (6, 70), (1,): (3, 40)})
    fit = fits.fit_logit(df, specs.Spec((TERM_BME,)), "y", "cluster", stage="offer")
    assert fits.FLAG_SPARSE in fit.term_flags[TERM_BME]
    assert fits.FLAG_SMALL in fit.model_flags  # 9 events < 10
    assert fits.FLAG_SEPARATION not in fit.term_flags[TERM_BME]


def _matched_pairs(n10: int, n01: int, n_tie: int = 0) -> pl.DataFrame:
    rows, v = [], 0
    for _ in range(n10):  # BME candidate offered
        rows += [(v, 1, 1), (v, 0, 0)]; v += 1
    for _ in range(n01):  # White candidate offered
        rows += [(v, 1, 0), (v, 0, 1)]; v += 1
    for _ in range(n_tie):  # two White candidates: uninformative for bme
        rows += [(v, 0, 1), (v, 0, 0)]; v += 1
    return pl.DataFrame(rows, schema=["vacancy_id", "bme", "offered"], orient="row")


def test_conditional_logit_matched_pairs_closed_form():
    df = _matched_pairs(12, 30, 5)
    fit = fits.fit_conditional_logit(df, specs.Spec((TERM_BME,), intercept=False), "offered", "vacancy_id", stage="offer")
    assert fit.params[0] == pytest.approx(math.log(12 / 30), abs=1e-7)
    assert math.sqrt(fit.cov[0, 0]) == pytest.approx(math.sqrt(1 / 12 + 1 / 30), rel=1e-6)
    assert fit.n_clusters == 47 and fit.n_events == 47


def test_conditional_logit_matches_statsmodels_with_multi_event_strata():
    rng = np.random.default_rng(5)
    rows = []
    for v in range(250):
        m = rng.integers(3, 8)
        xb, xf = rng.binomial(1, .4, m), rng.binomial(1, .5, m)
        u = 0.7 * xb - 0.3 * xf + rng.gumbel(size=m)
        d = 1 if v % 4 else 2
        o = np.zeros(m, int)
        o[np.argsort(-u)[:d]] = 1
        rows += [(v, xb[i], xf[i], o[i]) for i in range(m)]
    df = pl.DataFrame(rows, schema=["vacancy_id", "bme", "female", "offered"], orient="row")
    fit = fits.fit_conditional_logit(df, specs.Spec(("bme", "female"), intercept=False), "offered", "vacancy_id", stage="offer")
    ref = ConditionalLogit(df["offered"].to_numpy(), df.select("bme", "female").to_numpy().astype(float),
                           groups=df["vacancy_id"].to_numpy()).fit(method="newton", maxiter=100)
    np.testing.assert_allclose(fit.params, ref.params, atol=1e-5)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov)), ref.bse, rtol=1e-4)


def test_conditional_logit_separation_gives_firth_flag_not_absurd():
    df = _matched_pairs(0, 25, 3)  # BME never offered
    fit = fits.fit_conditional_logit(df, specs.Spec((TERM_BME,), intercept=False), "offered", "vacancy_id", stage="offer")
    assert fits.FLAG_SEPARATION in fit.term_flags[TERM_BME] and fits.FLAG_FIRTH in fit.model_flags
    # Firth for matched pairs = log((n10 + 1/2) / (n01 + 1/2))
    assert fit.params[0] == pytest.approx(math.log(0.5 / 25.5), abs=1e-3)
    row = odds_ratios.fit_rows(fit)[0]
    assert row["odds_ratio"] > 1e-3 and row["std_error"] is not None


def _clustered_logit_data(seed=11, V=200, n=5000):
    rng = np.random.default_rng(seed)
    vac = rng.integers(0, V, n)
    bme, fem = rng.binomial(1, .3, n), rng.binomial(1, .5, n)
    letter = rng.binomial(1, .5, V)[vac]
    band = rng.choice(np.array(["8a", "8b", "8c"]), V)[vac]
    eta = -0.5 + 0.4 * bme - 0.2 * fem + 0.3 * letter - 0.5 * bme * letter + rng.normal(0, .5, V)[vac]
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    return pl.DataFrame({"v": vac, "bme": bme, "female": fem, "letter_to_ceo": letter, "band": band, "y": y})


def test_logit_engine_statsmodels_and_fast_path_agree():
    df = _clustered_logit_data()
    spec = specs.Spec(("bme", "female", "letter_to_ceo"), (specs.BAND_CAT,), (("bme", "letter_to_ceo"),))
    primary = fits.fit_logit(df, spec, "y", "v", stage="shortlist")
    assert primary.engine == fits.ENGINE_STATSMODELS
    fast = fits.fit_logit(df, spec, "y", "v", stage="shortlist", statsmodels_max_rows=0)
    assert fast.engine == fits.ENGINE_OWN
    np.testing.assert_allclose(fast.params, primary.params, atol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(fast.cov)), np.sqrt(np.diag(primary.cov)), rtol=1e-6)
    # and both equal statsmodels on one row per application, clustered by vacancy
    X = np.column_stack([np.ones(df.height), df["bme"], df["female"], df["letter_to_ceo"],
                         df["band"] == "8b", df["band"] == "8c", df["bme"] * df["letter_to_ceo"]]).astype(float)
    ref = sm.GLM(df["y"].to_numpy(), X, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": df["v"].to_numpy(), "use_correction": False})
    G = df["v"].n_unique()
    assert primary.terms == ["intercept", "bme", "female", "letter_to_ceo", band_term("8b"), band_term("8c"),
                             interaction("bme", "letter_to_ceo")]
    np.testing.assert_allclose(primary.params, ref.params, atol=1e-8)
    np.testing.assert_allclose(primary.cov, cr2_on_rows(X, df["y"].to_numpy(), df["v"].to_numpy(), ref.params),
                               rtol=1e-6, atol=1e-12)
    assert G == 200


def test_conditional_logit_engine_statsmodels_and_fast_path_agree():
    rng = np.random.default_rng(8)
    rows = []
    for v in range(300):
        m = rng.integers(2, 9)
        xb, xf, xi = rng.binomial(1, .4, m), rng.binomial(1, .5, m), rng.binomial(1, .3, m)
        u = -0.5 * xb + 0.3 * xi + rng.gumbel(size=m)
        d = 2 if v % 10 == 0 else 1
        o = np.zeros(m, int)
        o[np.argsort(-u)[:d]] = 1
        rows += [(v, xb[i], xf[i], xi[i], o[i]) for i in range(m)]
    df = pl.DataFrame(rows, schema=["vacancy_id", "bme", "female", "internal", "offered"], orient="row")
    spec = specs.Spec(("bme", "female", "internal"), intercept=False)
    primary = fits.fit_conditional_logit(df, spec, "offered", "vacancy_id", stage="offer")
    assert primary.engine == fits.ENGINE_STATSMODELS
    fast = fits.fit_conditional_logit(df, spec, "offered", "vacancy_id", stage="offer", statsmodels_max_rows=0)
    assert fast.engine == fits.ENGINE_OWN
    np.testing.assert_allclose(fast.params, primary.params, atol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(fast.cov)), np.sqrt(np.diag(primary.cov)), rtol=1e-4)


def test_conditional_logit_with_a_stratum_of_2000_interviewed_and_50_offers_is_fast():
    # statsmodels' ConditionalLogit raises RecursionError on a stratum this size; the own exact
    # log-space recursion fits it in seconds and recovers the planted effects
    import time

    rng = np.random.default_rng(7)
    n = 2000
    df = pl.DataFrame({"bme": rng.binomial(1, .35, n), "female": rng.binomial(1, .5, n),
                       "internal": rng.binomial(1, .3, n), "vacancy_id": ["V-big"] * n})
    u = -0.6 * df["bme"].to_numpy() + 0.4 * df["female"].to_numpy() + rng.gumbel(size=n)
    offered = np.zeros(n, dtype=int)
    offered[np.argsort(-u)[:50]] = 1
    df = df.with_columns(pl.Series("offered", offered))
    start = time.perf_counter()
    fit = fits.fit_conditional_logit(df, specs.Spec(("bme", "female", "internal"), (), ()), "offered",
                                     "vacancy_id", stage="offer")
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0
    assert fit.engine == fits.ENGINE_OWN and fits.FLAG_NOT_CONVERGED not in fit.model_flags
    assert fit.n_obs == n and fit.n_events == 50 and fit.n_clusters == 1
    se = np.sqrt(np.diag(fit.cov))
    assert np.all(np.isfinite(fit.params)) and np.all(se > 0)
    assert abs(fit.params[0] - (-0.6)) < 3 * se[0] and abs(fit.params[1] - 0.4) < 3 * se[1]
