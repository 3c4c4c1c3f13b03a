"""Grouped binomial logit: closed-form 2x2, statsmodels equivalence, cluster sandwiches (CR1, CR2), separation LP,
independence."""
from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm

from tasks.stats.logit import (
    _cr2_adjusted_scores,
    binomial_model_cov,
    cluster_factor,
    cluster_sandwich,
    cluster_sandwich_cr2,
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


# --------------------------------------------------------------------------
# CR2 (Bell-McCaffrey) cluster sandwich
# --------------------------------------------------------------------------
def _cr2_linear(X: np.ndarray, e: np.ndarray, codes: np.ndarray, chunk_rows: int = 20_000) -> np.ndarray:
    """CR2 of a linear model (weights 1) through the engine's low-rank per-cluster computation."""
    B = np.linalg.inv(X.T @ X)
    S = _cr2_adjusted_scores(X, e, codes, B, int(codes.max()) + 1, chunk_rows=chunk_rows)
    return B @ (S.T @ S) @ B


def _small_design(seed=5, n=60, G=9):
    rng = np.random.default_rng(seed)
    codes = rng.permutation(np.arange(n) % G)  # every cluster present, rows in no cluster order
    vac = (np.arange(G) % 2).astype(float)[codes]  # a cluster-level column
    X = np.column_stack([np.ones(n), rng.binomial(1, .4, n), rng.normal(size=n), vac])
    return X, codes, rng


def test_cr2_of_ols_with_one_row_per_cluster_is_statsmodels_hc2():
    X, _, rng = _small_design()
    y = X @ np.array([1.0, 0.5, -0.3, 0.2]) + rng.normal(size=len(X)) * (1 + X[:, 1])
    res = sm.OLS(y, X).fit(cov_type="HC2")
    V = _cr2_linear(X, y - X @ res.params, np.arange(len(X)))
    np.testing.assert_allclose(V, res.cov_params(), rtol=1e-10)


def test_cr2_of_ols_is_exactly_unbiased_under_iid_errors():
    """The defining property (Bell and McCaffrey 2002): with iid errors of variance 1, E[V_CR2] = (X'X)^-1.

    The residuals are e = (I - H) u, so E[e e'] = I - H; V is quadratic in e, so E[V] = B sum_g L_g (I - H) L_g' B,
    L_g the linear map from e to the cluster's adjusted score (read off the engine column by column). CR1's
    G/(G-1) (sum_g X_g'(I - H)_gg X_g) falls short of it here.
    """
    X, codes, _ = _small_design()
    n, G = len(X), int(codes.max()) + 1
    B = np.linalg.inv(X.T @ X)
    M = np.eye(n) - X @ B @ X.T
    L = np.stack([_cr2_adjusted_scores(X, np.eye(n)[i], codes, B, G) for i in range(n)], axis=-1)  # G x k x n
    expected = B @ sum(L[g] @ M @ L[g].T for g in range(G)) @ B
    np.testing.assert_allclose(expected, B, rtol=1e-9, atol=1e-12)
    cr1 = G / (G - 1) * B @ sum(X[codes == g].T @ M[np.ix_(codes == g, codes == g)] @ X[codes == g]
                                for g in range(G)) @ B
    assert cr1[3, 3] < 0.95 * B[3, 3]  # the cluster-level column: CR1 biased down, CR2 not
    # chunking by whole clusters (a few rows per block) changes nothing
    e = M @ np.random.default_rng(1).normal(size=n)
    np.testing.assert_allclose(_cr2_linear(X, e, codes, chunk_rows=3), _cr2_linear(X, e, codes), rtol=1e-12)


def _cr2_dense(Xw, r, codes, B):
    """Textbook CR2 with (I - H_gg)^(-1/2) by eigendecomposition (pseudo-inverse for eigenvalue 0)."""
    meat = np.zeros_like(B)
    for g in np.unique(codes):
        i = codes == g
        lam, S = np.linalg.eigh(np.eye(i.sum()) - Xw[i] @ B @ Xw[i].T)
        inv = np.where(lam > 1e-9, 1 / np.sqrt(np.clip(lam, 1e-300, None)), 0.0)
        s = Xw[i].T @ (S @ (inv * (S.T @ r[i])))
        meat += np.outer(s, s)
    return B @ meat @ B


def test_cr2_logit_on_collapsed_rows_equals_the_dense_per_row_computation():
    X, codes, rng = _small_design(n=200, G=12)
    X[:, 2] = (X[:, 2] > 0).astype(float)  # binary, so rows collapse into (cluster, pattern) cells
    y = rng.binomial(1, expit(X @ np.array([-0.4, 0.5, -0.3, 0.4]))).astype(float)
    beta, conv = mle_binomial(X, trials=np.ones(len(y)), events=y)
    assert conv
    mu = expit(X @ beta)
    Xw, r = X * np.sqrt(mu * (1 - mu))[:, None], (y - mu) / np.sqrt(mu * (1 - mu))
    dense = _cr2_dense(Xw, r, codes, np.linalg.inv(Xw.T @ Xw))
    np.testing.assert_allclose(cluster_sandwich_cr2(X, trials=np.ones(len(y)), events=y, codes=codes, beta=beta),
                               dense, rtol=1e-9)
    cells = pl.DataFrame({"c": codes, "a": X[:, 1], "b": X[:, 2], "v": X[:, 3], "y": y}).group_by(
        "c", "a", "b", "v").agg(pl.len().alias("n"), pl.col("y").sum()).sort("c", "a", "b", "v")
    assert cells.height < len(y)
    Xc = np.column_stack([np.ones(cells.height), cells["a"], cells["b"], cells["v"]])
    collapsed = cluster_sandwich_cr2(Xc, trials=cells["n"].to_numpy().astype(float),
                                     events=cells["y"].to_numpy().astype(float),
                                     codes=cells["c"].to_numpy().astype(np.int64), beta=beta)
    np.testing.assert_allclose(collapsed, dense, rtol=1e-9)
    cr1 = cluster_sandwich(X, trials=np.ones(len(y)), events=y, codes=codes, beta=beta)
    assert np.all(np.diag(collapsed) > np.diag(cr1) / cluster_factor(12))  # larger than HC0-type CR0


def test_cr2_with_a_column_only_one_cluster_has_takes_the_pseudo_inverse():
    # a dummy that is 1 in cluster 0 only: H_00 has an eigenvalue 1, (I - H_00)^(-1/2) is infinite there;
    # the residual in that direction is 0, and the pseudo-inverse (as clubSandwich) gives a finite sandwich
    X, codes, rng = _small_design(n=120, G=10)
    X = np.column_stack([X, (codes == 0).astype(float)])
    y = rng.binomial(1, expit(X @ np.array([-0.4, 0.5, -0.3, 0.4, 0.3]))).astype(float)
    beta, conv = mle_binomial(X, trials=np.ones(len(y)), events=y)
    assert conv
    V = cluster_sandwich_cr2(X, trials=np.ones(len(y)), events=y, codes=codes, beta=beta)
    mu = expit(X @ beta)
    Xw, r = X * np.sqrt(mu * (1 - mu))[:, None], (y - mu) / np.sqrt(mu * (1 - mu))
    assert np.all(np.isfinite(V))
    np.testing.assert_allclose(V, _cr2_dense(Xw, r, codes, np.linalg.inv(Xw.T @ Xw)), rtol=1e-6, atol=1e-10)
