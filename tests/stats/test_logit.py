"""Grouped binomial logit: closed-form 2x2, statsmodels equivalence, cluster sandwich, separation LP, independence."""
from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm

from tasks.stats.logit import (
    binomial_model_cov,
    cluster_factor,
    cluster_sandwich,
    detect_separation_lp,
    expit,
    independent_columns,
    mle_binomial,
    separation_constraints,
    statsmodels_binomial_glm,
)

# White: 30 events / 100; BME: 10 / 50 (pattern table: intercept, bme)
X22 = np.array([[1.0, 0.0], [1.0, 1.0]])
N22 = np.array([100.0, 50.0])
Y22 = np.array([30.0, 10.0])


def test_mle_binomial_two_by_two_closed_form():
    beta, conv = mle_binomial(X22, trials=N22, events=Y22)
    assert conv
    assert beta[0] == pytest.approx(math.log(30 / 70), abs=1e-10)
    assert beta[1] == pytest.approx(math.log((10 * 70) / (40 * 30)), abs=1e-10)
    cov = binomial_model_cov(X22, trials=N22, beta=beta)
    assert math.sqrt(cov[1, 1]) == pytest.approx(math.sqrt(1 / 10 + 1 / 40 + 1 / 30 + 1 / 70), rel=1e-9)


def test_statsmodels_path_and_sandwich_on_one_row_per_cluster():
    # every application its own cluster: the sandwich of a saturated model is HC0 = model-based, times G/(G-1)
    rows = [(0, 1)] * 30 + [(0, 0)] * 70 + [(1, 1)] * 10 + [(1, 0)] * 40
    X = np.array([[1.0, b] for b, _ in rows])
    y = np.array([float(e) for _, e in rows])
    n = np.ones_like(y)
    G = len(rows)
    codes = np.arange(G)
    params, cov, conv = statsmodels_binomial_glm(X, trials=n, events=y, groups=codes + 1, n_clusters=G)
    assert conv and params[1] == pytest.approx(math.log((10 * 70) / (40 * 30)), abs=1e-8)
    se = math.sqrt(1 / 10 + 1 / 40 + 1 / 30 + 1 / 70) * math.sqrt(G / (G - 1))
    assert math.sqrt(cov[1, 1]) == pytest.approx(se, rel=1e-6)
    own = cluster_sandwich(X, trials=n, events=y, codes=codes, beta=params)
    np.testing.assert_allclose(own, cov, rtol=1e-8)
    assert cluster_factor(G) == G / (G - 1) and cluster_factor(1) == 1.0


def test_aggregated_rows_keep_per_row_clustered_se_in_statsmodels():
    """Collapsing to (cluster, pattern) rows leaves statsmodels' clustered sandwich unchanged."""
    rng = np.random.default_rng(4)
    V, n = 200, 5000
    vac = rng.integers(0, V, n)
    bme, fem = rng.binomial(1, .3, n), rng.binomial(1, .5, n)
    letter = rng.binomial(1, .5, V)[vac]
    rng.choice(np.array(["8a", "8b", "8c"]), V)  # the band draw of the original data (same random stream)
    eta = -0.5 + 0.4 * bme - 0.2 * fem + 0.3 * letter - 0.5 * bme * letter + rng.normal(0, .5, V)[vac]
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    df = pl.DataFrame({"v": vac, "bme": bme, "female": fem, "letter_to_ceo": letter, "y": y})
    X = np.column_stack([np.ones(df.height), df["bme"], df["female"], df["letter_to_ceo"]]).astype(float)
    per_row = sm.GLM(df["y"].to_numpy(), X, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": df["v"].to_numpy(), "use_correction": False})
    agg = df.group_by("v", "bme", "female", "letter_to_ceo").agg(pl.len().alias("n"), pl.col("y").sum())
    assert agg.height < df.height
    Xa = np.column_stack([np.ones(agg.height), agg["bme"], agg["female"], agg["letter_to_ceo"]]).astype(float)
    ya, na = agg["y"].to_numpy().astype(float), agg["n"].to_numpy().astype(float)
    grouped = sm.GLM(np.column_stack([ya, na - ya]), Xa, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": agg["v"].to_numpy(), "use_correction": False})
    np.testing.assert_allclose(grouped.params, per_row.params, atol=1e-9)
    np.testing.assert_allclose(grouped.bse, per_row.bse, rtol=1e-9)
    # pooling ACROSS clusters (pattern table only) would lose the clustering: the sandwich differs
    pat = df.group_by("bme", "female", "letter_to_ceo").agg(pl.len().alias("n"), pl.col("y").sum())
    Xp = np.column_stack([np.ones(pat.height), pat["bme"], pat["female"], pat["letter_to_ceo"]]).astype(float)
    yp, np_ = pat["y"].to_numpy().astype(float), pat["n"].to_numpy().astype(float)
    model_based = sm.GLM(np.column_stack([yp, np_ - yp]), Xp, family=sm.families.Binomial()).fit()
    np.testing.assert_allclose(model_based.params, per_row.params, atol=1e-8)
    assert np.abs(model_based.bse / per_row.bse - 1).max() > 0.05
    # our IRLS on the pattern table gives the same estimate
    beta, conv = mle_binomial(Xp, trials=np_, events=yp)
    assert conv
    np.testing.assert_allclose(beta, per_row.params, atol=1e-8)


def test_separation_lp_detects_and_clears():
    X = np.array([[1, 0], [1, 0], [1, 1], [1, 1]], float)
    y = np.array([1, 0, 0, 0])
    A = np.vstack([X[y == 1], -X[y == 0]])
    sep, d = detect_separation_lp(A)
    assert sep and abs(d[1]) > 0
    y2 = np.array([1, 0, 1, 0])
    sep2, _ = detect_separation_lp(np.vstack([X[y2 == 1], -X[y2 == 0]]))
    assert not sep2
    # the same constraints from a grouped table
    A2 = separation_constraints(X22, trials=N22, events=np.array([30.0, 0.0]))
    assert detect_separation_lp(A2)[0]
    assert not detect_separation_lp(separation_constraints(X22, trials=N22, events=Y22))[0]


def test_independent_columns_drops_the_aliased_column():
    X = np.array([[1, 0, 1], [1, 1, 0], [1, 0, 1], [1, 1, 0]], float)  # col2 = intercept - col1
    assert independent_columns(X) == [0, 1]
    assert independent_columns(np.zeros((0, 3))) == []
    assert independent_columns(np.array([[1.0, 0.0], [1.0, 0.0]])) == [0]


def test_expit_is_stable():
    assert expit(np.array([0.0]))[0] == 0.5
    assert expit(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1.0]
