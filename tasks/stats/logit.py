"""Logistic regression on grouped binomial data: ML by IRLS, the statsmodels GLM path, cluster sandwich.

Reads numpy arrays: a design matrix ``X`` (rows = covariate patterns, or
(cluster, pattern) cells), ``trials`` and ``events`` per row, and integer
cluster codes.  Returns estimates and covariance matrices.  Knows nothing of
stages, terms or flags: :mod:`tasks.analyses.funnel_statistics.fits` builds
the arrays and chooses the engine (docs/methods.md section 1.3).

* :func:`mle_binomial`: Newton-Raphson (IRLS) from the pooled log odds; no
  per-iteration pseudo-inverse (the fast path for 1M-10M applications).
* :func:`statsmodels_binomial_glm`: ``statsmodels`` ``GLM(Binomial())`` on
  (cluster, pattern) rows with the cluster sandwich times G/(G-1).
* :func:`cluster_sandwich`: the same sandwich from (cluster, pattern) rows for
  an estimate made elsewhere.
* :func:`detect_separation_lp`: Konis' (2007) linear-programming test.
* :func:`independent_columns`: a maximal set of linearly independent columns.

Never silences a problem: non-convergence is returned to the caller.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import optimize

from tasks.stats._warnings import WARNINGS_LOCK


def expit(x: np.ndarray) -> np.ndarray:
    """Logistic function, computed as 0.5 (1 + tanh(x / 2)) (no overflow)."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def independent_columns(X: np.ndarray, w: np.ndarray | None = None, tol: float = 1e-10) -> list[int]:
    """Indices of a maximal set of linearly independent columns (greedy, left to right).

    Works on the k x k Gram matrix (cheap for many rows): a column is kept if
    its residual sum of squares after projection on the kept columns is a
    non-negligible share of its own sum of squares.
    """
    if X.shape[0] == 0:
        return []
    Xw = X if w is None else X * np.sqrt(np.maximum(w, 0))[:, None]
    G = Xw.T @ Xw
    keep: list[int] = []
    for j in range(X.shape[1]):
        gjj = G[j, j]
        if gjj <= 0:
            continue
        if keep:
            Gk = G[np.ix_(keep, keep)]
            g = G[keep, j]
            resid = gjj - g @ np.linalg.solve(Gk, g)
        else:
            resid = gjj
        if resid > tol * gjj and resid > 1e-12:
            keep.append(j)
    return keep


def detect_separation_lp(A: np.ndarray, tol: float = 1e-7) -> tuple[bool, np.ndarray]:
    """Konis' LP test.  Rows of ``A`` are constraints a_i . beta >= 0 (sign-adjusted design rows).

    Data are separated (completely or quasi-completely) iff some beta != 0 makes
    every a_i . beta >= 0 with at least one strict; maximise sum_i a_i . beta over
    the box |beta_j| <= 1.  Returns (separated, direction).
    """
    k = A.shape[1]
    if A.shape[0] == 0 or k == 0:
        return False, np.zeros(k)
    # duplicate constraints add nothing: with 0/1 covariates there are few distinct rows
    A = np.unique(A, axis=0)
    c = -A.sum(axis=0)
    scale = np.abs(A).max() or 1.0
    res = optimize.linprog(
        c / scale, A_ub=-A / scale, b_ub=np.zeros(A.shape[0]), bounds=[(-1, 1)] * k, method="highs"
    )
    if res.status != 0 or res.x is None:
        return False, np.zeros(k)
    obj = float(A.sum(axis=0) @ res.x)
    if obj <= tol * max(1.0, np.abs(A).sum() * 1e-6):
        return False, np.zeros(k)
    return True, res.x


def separation_constraints(X: np.ndarray, *, trials: np.ndarray, events: np.ndarray) -> np.ndarray:
    """Sign-adjusted rows for :func:`detect_separation_lp`: rows with events -> x, with non-events -> -x."""
    return np.vstack([X[events > 0], -X[(trials - events) > 0]])


def mle_binomial(X: np.ndarray, *, trials: np.ndarray, events: np.ndarray, maxiter: int = 100,
                 tol: float = 1e-10) -> tuple[np.ndarray, bool]:
    """Unpenalised ML for a grouped binomial logit by Newton-Raphson (IRLS).  Returns (beta, converged).

    Starts from the pooled log odds in the intercept (when the first column is
    constant 1); steps are capped at 10 in the largest coordinate.  Gives the
    same estimate as ``statsmodels.GLM(family=Binomial())`` (tests/stats/test_logit.py).
    """
    n, y = trials, events
    k = X.shape[1]
    p0 = np.clip(y.sum() / n.sum(), 1e-6, 1 - 1e-6)
    beta = np.zeros(k)
    if k and np.allclose(X[:, 0], 1.0):
        beta[0] = math.log(p0 / (1 - p0))
    for _ in range(maxiter):
        mu = expit(X @ beta)
        w = n * mu * (1 - mu)
        info = (X * w[:, None]).T @ X
        score = X.T @ (y - n * mu)
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            return beta, False
        mx = np.abs(step).max() if k else 0.0
        if mx > 10:
            step *= 10 / mx
        beta = beta + step
        if not np.all(np.isfinite(beta)):
            return beta, False
        if mx < tol:
            return beta, True
    return beta, False


def binomial_model_cov(X: np.ndarray, *, trials: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Model-based covariance: the pseudo-inverse of the binomial information X' W X at ``beta``."""
    mu = expit(X @ beta)
    w = trials * mu * (1 - mu)
    return np.linalg.pinv((X * w[:, None]).T @ X)


def cluster_factor(n_clusters: int) -> float:
    """Small-sample factor G/(G-1) of the cluster sandwich (1 for a single cluster)."""
    G = n_clusters
    return G / (G - 1) if G > 1 else 1.0


def statsmodels_binomial_glm(X: np.ndarray, *, trials: np.ndarray, events: np.ndarray, groups: np.ndarray,
                             n_clusters: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """statsmodels binomial GLM on (cluster, pattern) rows, SEs clustered by ``groups``.

    Returns (params, cov, converged).  Covariance = statsmodels' sandwich without
    its row-count-based correction, times G/(G-1) (the same as a per-row fit:
    aggregating within clusters leaves every cluster's score unchanged).
    """
    import statsmodels.api as sm

    n, y = trials, events
    with WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # perfect-prediction / overflow warnings: divergence is checked by the caller
        res = sm.GLM(np.column_stack([y, n - y]), X, family=sm.families.Binomial()).fit(
            maxiter=100, tol=1e-10, cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False})
    corr = cluster_factor(n_clusters)
    conv = bool(getattr(res, "converged", True))
    return np.asarray(res.params, float), np.asarray(res.cov_params(), float) * corr, conv


def cluster_sandwich(X: np.ndarray, *, trials: np.ndarray, events: np.ndarray, codes: np.ndarray,
                     beta: np.ndarray) -> np.ndarray:
    """Cluster-robust sandwich of a binomial logit from (cluster, pattern) rows.  Factor G/(G-1).

    ``codes`` are 0-based cluster codes of the rows; the columns of ``X`` match ``beta``.
    """
    G = int(codes.max()) + 1 if codes.size else 0
    k = beta.size
    cols = [np.ascontiguousarray(X[:, j], dtype=float) for j in range(k)]
    eta = np.zeros(len(trials))
    for j in range(k):
        eta += beta[j] * cols[j]
    mu = expit(eta)
    r = events - trials * mu
    w = trials * mu * (1 - mu)
    S = np.empty((G, k))
    info = np.empty((k, k))
    for j in range(k):
        S[:, j] = np.bincount(codes, weights=r * cols[j], minlength=G)
        for i in range(j + 1):
            info[i, j] = info[j, i] = float(np.dot(w * cols[i], cols[j]))
    bread = np.linalg.pinv(info)
    meat = S.T @ S
    return cluster_factor(G) * bread @ meat @ bread
