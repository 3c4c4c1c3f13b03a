"""Firth's penalised likelihood (Jeffreys prior) for the binomial logit and the conditional logit.

Reads numpy arrays (grouped binomial rows, or :class:`~tasks.stats.conditional_logit.ConditionalLogitData`);
returns (beta, covariance, converged).  statsmodels has no Firth logit, so
this is own code; it always gives finite estimates under complete or
quasi-complete separation (docs/methods.md section 1.3, robustness).  It never
decides when to use itself: the caller runs the separation test first.
"""
from __future__ import annotations

import numpy as np
from scipy import optimize

from tasks.stats.conditional_logit import ConditionalLogitData
from tasks.stats.logit import expit


def firth_binomial(X: np.ndarray, *, trials: np.ndarray, events: np.ndarray, maxiter: int = 200,
                   tol: float = 1e-8) -> tuple[np.ndarray, np.ndarray, bool]:
    """Firth-penalised binomial logit on grouped rows.  Returns (beta, cov, converged).

    Modified-score Newton steps (capped at 5 in the largest coordinate) with
    step halving on the penalised log-likelihood l(b) + 0.5 log det I(b).
    In a 2x2 table the estimate equals the log odds ratio with 0.5 added to each cell.
    """
    n, y = trials, events
    k = X.shape[1]
    beta = np.zeros(k)

    def pen_ll(b):
        mu = expit(X @ b)
        mu = np.clip(mu, 1e-300, 1 - 1e-16)
        w = n * mu * (1 - mu)
        info = (X * w[:, None]).T @ X
        sign, logdet = np.linalg.slogdet(info)
        ll = float(np.sum(y * np.log(mu) + (n - y) * np.log1p(-mu)))
        return ll + 0.5 * logdet if sign > 0 else -np.inf

    current = pen_ll(beta)
    converged = False
    for _ in range(maxiter):
        mu = expit(X @ beta)
        w = n * mu * (1 - mu)
        info = (X * w[:, None]).T @ X
        inv = np.linalg.pinv(info)
        h = w * np.einsum("ij,jk,ik->i", X, inv, X)
        score = X.T @ (y - n * mu + h * (0.5 - mu))
        step = inv @ score
        # cap the step for stability
        mx = np.abs(step).max()
        if mx > 5:
            step *= 5 / mx
        t = 1.0
        while t > 1e-6:
            cand = beta + t * step
            val = pen_ll(cand)
            if val >= current - 1e-12:
                break
            t /= 2
        beta, current = beta + t * step, val
        if np.abs(t * step).max() < tol:
            converged = True
            break
    mu = expit(X @ beta)
    w = n * mu * (1 - mu)
    cov = np.linalg.pinv((X * w[:, None]).T @ X)
    return beta, cov, converged


def firth_conditional_logit(data: ConditionalLogitData, k: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Firth-penalised conditional logit: maximise l(b) + 0.5 log det I(b) (numerical penalty gradient, BFGS)."""

    def negpen(b):
        ll, g, H = data.loglik(b)
        sign, logdet = np.linalg.slogdet(-H)
        if sign <= 0:
            return 1e100
        return -(ll + 0.5 * logdet)

    def grad(b):
        ll, g, H = data.loglik(b)
        eps = 1e-5
        pg = np.zeros(k)
        for j in range(k):
            e = np.zeros(k)
            e[j] = eps
            _, _, Hp = data.loglik(b + e)
            _, _, Hm = data.loglik(b - e)
            pg[j] = 0.5 * (np.linalg.slogdet(-Hp)[1] - np.linalg.slogdet(-Hm)[1]) / (2 * eps)
        return -(g + pg)

    res = optimize.minimize(negpen, np.zeros(k), jac=grad, method="BFGS", options={"gtol": 1e-7, "maxiter": 500})
    _, _, H = data.loglik(res.x)
    return res.x, np.linalg.pinv(-H), bool(res.success)
