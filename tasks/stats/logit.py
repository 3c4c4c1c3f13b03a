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
* :func:`cluster_sandwich_cr2`: the bias-reduced (CR2, Bell-McCaffrey) cluster
  sandwich of the logit, from (cluster, pattern) rows; what the funnel logits
  report (docs/methods.md 1.2).
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


def _cr2_adjusted_scores(Xw: np.ndarray, rw: np.ndarray, codes: np.ndarray, bread: np.ndarray,
                         n_clusters: int, chunk_rows: int = 20_000) -> np.ndarray:
    """Per-cluster scores X~_g' A_g r~_g of the CR2 sandwich, A_g = (I - H_gg)^(-1/2).

    ``Xw`` = sqrt(w) x (weighted design rows), ``rw`` = Pearson residuals, ``bread`` = (Xw'Xw)^-1.
    H_gg = U_g B U_g' (U_g = the cluster's rows of Xw) has rank <= k, so with V = U_g B^(1/2) and
    K_g = V'V = B^(1/2) F_g B^(1/2) (F_g = U_g'U_g, k x k) the push-through identity gives
    U_g' f(V V') r = u_g + F_g B^(1/2) g(K_g) B^(1/2) u_g, u_g = U_g' r, g(l) = (f(l) - 1) / l,
    f(l) = (1 - l)^(-1/2): one k x k eigenproblem per cluster whatever its size.  An eigenvalue 1
    (a direction the cluster alone determines; its residual there is 0) takes the pseudo-inverse, f = 0.
    """
    k = Xw.shape[1]
    lam_b, vec_b = np.linalg.eigh(bread)
    bh = (vec_b * np.sqrt(np.clip(lam_b, 0, None))) @ vec_b.T  # B^(1/2)
    u = np.empty((n_clusters, k))
    for j in range(k):
        u[:, j] = np.bincount(codes, weights=Xw[:, j] * rw, minlength=n_clusters)
    order = np.argsort(codes, kind="stable")
    cs = codes[order]
    starts = np.flatnonzero(np.r_[True, cs[1:] != cs[:-1]])  # first row of each present cluster
    out = u.copy()
    i = 0
    while i < starts.size:  # blocks of whole clusters, about chunk_rows rows each
        j = int(np.searchsorted(starts, starts[i] + chunk_rows, side="right"))
        j = max(j, i + 1)
        lo, hi = starts[i], (starts[j] if j < starts.size else cs.size)
        rows = order[lo:hi]
        Ur = Xw[rows]
        F = np.add.reduceat(Ur[:, :, None] * Ur[:, None, :], starts[i:j] - lo, axis=0)  # F_g per cluster
        g_ids = cs[starts[i:j]]
        K = bh @ F @ bh
        lam, S = np.linalg.eigh((K + np.swapaxes(K, 1, 2)) / 2)
        lam = np.clip(lam, 0.0, 1.0)
        gl = 0.5 + 0.375 * lam  # series of g near 0
        mid = (lam >= 1e-6) & (lam < 1 - 1e-10)
        gl[mid] = ((1 - lam[mid]) ** -0.5 - 1) / lam[mid]
        full = lam >= 1 - 1e-10
        gl[full] = -1.0 / lam[full]
        z = np.einsum("ab,gb->ga", bh, u[g_ids])                       # B^(1/2) u_g
        z = np.einsum("gba,gb->ga", S, z) * gl                          # g(K) in its eigenbasis
        z = np.einsum("gab,gb->ga", S, z)
        out[g_ids] += np.einsum("gab,gb->ga", F, np.einsum("ab,gb->ga", bh, z))
        i = j
    return out


def cluster_sandwich_cr2(X: np.ndarray, *, trials: np.ndarray, events: np.ndarray, codes: np.ndarray,
                         beta: np.ndarray) -> np.ndarray:
    """Bias-reduced (CR2) cluster sandwich of a binomial logit from (cluster, pattern) rows; no G/(G-1).

    Bell and McCaffrey (2002), for GLMs as in Pustejovsky and Tipton (2018,
    clubSandwich): in the working weighted model of the last IRLS step, with
    W = trials mu (1 - mu), X~ = W^(1/2) X and Pearson residuals
    r~ = (events - trials mu) / W^(1/2), each cluster's residuals are
    premultiplied by (I - H_gg)^(-1/2), H_gg = X~_g (X~'X~)^-1 X~_g', before the
    outer product.  For a linear model with iid errors this makes the sandwich
    unbiased for sigma^2 (X'X)^-1; CR1's G/(G-1) does not undo the shrinkage
    of residuals towards fitted values, which with ~60 clusters and ~20 terms
    leaves CR1 SEs 5-10% small (docs/methods.md 1.7).  Computed on (cluster,
    pattern) rows it equals the one-row-per-application value: the
    pattern-collapsed H_gg has the same non-zero eigen-structure on the span
    of the cluster's rows (tests/stats/test_logit.py checks it on expanded rows).
    ``codes`` are 0-based cluster codes.
    """
    G = int(codes.max()) + 1 if codes.size else 0
    X = np.asarray(X, dtype=float)
    mu = expit(X @ beta)
    w = trials * mu * (1 - mu)
    ok = w > 0
    sw = np.sqrt(np.where(ok, w, 0.0))
    Xw = X * sw[:, None]
    rw = np.where(ok, (events - trials * mu) / np.where(ok, sw, 1.0), 0.0)
    bread = np.linalg.pinv(Xw.T @ Xw)
    S = _cr2_adjusted_scores(Xw, rw, np.asarray(codes, dtype=np.int64), bread, G)
    return bread @ (S.T @ S) @ bread
