"""Conditional logistic regression (strata, e.g. vacancies): data preparation, exact likelihood, Newton, statsmodels.

Reads numpy arrays (design ``X``, 0/1 outcome ``y``, integer stratum codes);
returns estimates and covariance matrices.  Knows nothing of stages or terms:
:mod:`tasks.analyses.funnel_statistics.fits` chooses the engine
(docs/methods.md section 1.3).

* :class:`ConditionalLogitData`: informative strata only (at least one event
  and one non-event), split into one-event strata (a vectorised softmax) and
  several-event strata (the Gail-Lubin-Rubinstein recursion, :func:`stratum_loglik`).
* :func:`conditional_logit_newton`: Newton with step halving from zero.
* :func:`statsmodels_conditional_logit`: ``statsmodels`` ``ConditionalLogit``,
  convergence judged from the solution.
* :func:`within_stratum_differences`: event minus non-event rows, for the
  separation test and the estimability check.

The Firth-penalised version is :func:`tasks.stats.firth.firth_conditional_logit`.
"""
from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np

from tasks.stats._warnings import WARNINGS_LOCK

CL_SCORE_TOL = 1e-4          # |d loglik / d beta| at a converged conditional-logit solution


CL_MAX_ABS_ESTIMATE = 20.0   # a log-odds beyond this is divergence (separation), not an estimate


class ConditionalLogitData:
    """Informative strata only, sorted by stratum, with single- and multi-event parts."""

    def __init__(self, X: np.ndarray, y: np.ndarray, codes: np.ndarray):
        order = np.argsort(codes, kind="stable")
        X, y, codes = X[order], y[order], codes[order]
        uniq, start, size = np.unique(codes, return_index=True, return_counts=True)
        ev = np.add.reduceat(y, start) if codes.size else np.zeros(0)
        informative = (ev > 0) & (ev < size)
        keep_rows = np.repeat(informative, size)
        self.X, self.y, self.codes = X[keep_rows], y[keep_rows], codes[keep_rows]
        size, ev = size[informative], ev[informative]
        self.n_strata = int(informative.sum())
        bounds = np.concatenate([[0], np.cumsum(size)])
        single = ev == 1
        rows_single = np.repeat(single, size)
        self.Xs = self.X[rows_single]
        self.ys = self.y[rows_single]
        ss = size[single]
        self.starts = np.concatenate([[0], np.cumsum(ss)[:-1]]).astype(int) if ss.size else np.zeros(0, int)
        self.sizes_s = ss
        self.gid = np.repeat(np.arange(ss.size), ss)
        self.multi = [
            (self.X[bounds[i]:bounds[i + 1]], self.y[bounds[i]:bounds[i + 1]], int(ev[i]))
            for i in np.nonzero(~single)[0]
        ]

    @property
    def max_stratum_rows(self) -> int:
        """Rows of the largest informative stratum (statsmodels' recursion is as deep as a stratum is large)."""
        sizes = [int(self.sizes_s.max())] if self.sizes_s.size else []
        return max(sizes + [Xg.shape[0] for Xg, _, _ in self.multi], default=0)

    def columns(self, keep: Sequence[int]) -> "ConditionalLogitData":
        """The same strata with only the columns ``keep`` of the design."""
        sub = ConditionalLogitData.__new__(ConditionalLogitData)
        sub.__dict__ = dict(self.__dict__)
        sub.X, sub.Xs = self.X[:, keep], self.Xs[:, keep]
        sub.multi = [(Xg[:, keep], yg, dd) for Xg, yg, dd in self.multi]
        return sub

    def loglik(self, beta: np.ndarray, derivs: bool = True):
        """Conditional log-likelihood, its gradient and Hessian at ``beta``."""
        k = beta.size
        ll, g, H = 0.0, np.zeros(k), np.zeros((k, k))
        if self.Xs.shape[0]:
            eta = self.Xs @ beta
            mx = np.maximum.reduceat(eta, self.starts)
            e = np.exp(eta - mx[self.gid])
            den = np.add.reduceat(e, self.starts)
            p = e / den[self.gid]
            ll += float(eta[self.ys == 1].sum() - (np.log(den) + mx).sum())
            if derivs:
                xbar = np.vstack([np.add.reduceat(p * self.Xs[:, j], self.starts) for j in range(k)]).T
                g += self.Xs[self.ys == 1].sum(axis=0) - xbar.sum(axis=0)
                H -= (self.Xs * p[:, None]).T @ self.Xs - xbar.T @ xbar
        for Xg, yg, d in self.multi:
            l1, g1, H1 = stratum_loglik(Xg, yg, d, beta, derivs)
            ll += l1
            if derivs:
                g += g1
                H += H1
        return ll, g, H


def stratum_loglik(X: np.ndarray, y: np.ndarray, d: int, beta: np.ndarray, derivs: bool):
    """Exact conditional log-likelihood of one stratum with d events, its gradient and Hessian.

    The denominator is the elementary symmetric polynomial of degree d of the
    weights w = exp(X beta) (Gail, Lubin and Rubinstein 1981): the coefficient of
    t^d in prod_m (1 + w_m t).  It is built iteratively in log space (logsumexp),
    one covariate pattern at a time: c identical rows multiply it by
    (1 + w t)^c = sum_i C(c, i) w^i t^i, so B'_j = sum_i B_{j-i} C(c, i) w^i for
    every j at once.  No overflow or underflow at any stratum size or number of
    events, no Python recursion, and at most O(n d) terms per derivative entry
    (far fewer with the binary designs of the funnel, which have few patterns).

    The derivatives are carried normalised: G_j = dB_j / B_j (the mean of the
    chosen rows' summed x) and M_j = d2B_j / B_j (its second moment), so that
    gradient = x_events - G_d and Hessian = -(M_d - G_d G_d').
    """
    k = beta.size
    eta = X @ beta
    shift = float(eta.max())
    patterns, first, counts = np.unique(X, axis=0, return_index=True, return_counts=True)
    order = np.argsort(first, kind="stable")      # patterns in order of first appearance
    patterns, counts, logw = patterns[order], counts[order], eta[first[order]] - shift
    L = np.full(d + 1, -np.inf)
    L[0] = 0.0
    G = np.zeros((d + 1, k))
    M = np.zeros((d + 1, k, k))
    seen = 0
    for x, c, lw in zip(patterns, counts, logw):
        seen += int(c)
        top = min(d, seen)                      # B_j = 0 (log -inf) for j > rows seen
        if c == 1:
            _add_row(L, G, M, x, lw, top, derivs)
            continue
        i = np.arange(min(int(c), top) + 1)     # rows of this pattern chosen
        j = np.arange(top + 1)[:, None]
        src = j - i[None, :]                    # B_{j-i}
        ok = src >= 0
        srcc = np.where(ok, src, 0)
        logc = math.lgamma(c + 1) - np.array([math.lgamma(v + 1) + math.lgamma(c - v + 1) for v in i])
        terms = np.where(ok, L[srcc] + logc[None, :] + i[None, :] * lw, -np.inf)
        new = np.logaddexp.reduce(terms, axis=1)
        if derivs:
            r = np.exp(terms - new[:, None])    # share of B'_j from choosing i rows of this pattern
            Gs = G[srcc]                        # (j, i, k)
            ii = i[None, :, None].astype(float)
            xG = x[None, None, :, None] * Gs[:, :, None, :]
            Mi = M[srcc] + ii[..., None] * (xG + np.swapaxes(xG, 2, 3)) + (ii ** 2)[..., None] * np.outer(x, x)
            M[:top + 1] = np.einsum("ji,jipq->jpq", r, Mi)
            G[:top + 1] = np.einsum("ji,jip->jp", r, Gs + ii * x)
        L[:top + 1] = new
    logden = float(L[d]) + d * shift
    ll = float(eta[y == 1].sum() - logden)
    if not derivs:
        return ll, None, None
    return ll, X[y == 1].sum(axis=0) - G[d], -(M[d] - np.outer(G[d], G[d]))


def _add_row(L: np.ndarray, G: np.ndarray, M: np.ndarray, x: np.ndarray, lw: float, top: int, derivs: bool) -> None:
    """One row in place (the pattern update with c = 1): B'_j = B_j + w B_{j-1} for j = 1..top."""
    old, lower = L[1:top + 1], L[:top] + lw
    new = np.logaddexp(old, lower)
    if derivs:
        a = np.exp(old - new)[:, None]          # share of B'_j from B_j (0 where B_j = 0)
        b = np.exp(lower - new)[:, None]        # share from w B_{j-1};  a + b = 1
        xG = x[None, :, None] * G[:top][:, None, :]
        M[1:top + 1] = a[:, :, None] * M[1:top + 1] + b[:, :, None] * (
            M[:top] + np.outer(x, x)[None] + xG + np.transpose(xG, (0, 2, 1)))
        G[1:top + 1] = a * G[1:top + 1] + b * (G[:top] + x)
    L[1:top + 1] = new


def conditional_logit_newton(data: ConditionalLogitData, k: int, maxiter: int = 100, tol: float = 1e-9):
    """Newton-Raphson with step halving from zero.  Returns (beta, Hessian, converged)."""
    beta = np.zeros(k)
    ll, g, H = data.loglik(beta)
    for _ in range(maxiter):
        step = np.linalg.solve(-H, g) if np.linalg.cond(H) < 1e14 else np.linalg.pinv(-H) @ g
        t = 1.0
        while t > 1e-8:
            cand = beta + t * step
            l2, g2, H2 = data.loglik(cand)
            if l2 >= ll - 1e-10:
                break
            t /= 2
        beta, ll, g, H = cand, l2, g2, H2
        if np.abs(t * step).max() < tol:
            return beta, H, True
    return beta, H, False


def statsmodels_conditional_logit(X: np.ndarray, y: np.ndarray, groups: np.ndarray):
    """statsmodels ConditionalLogit (Newton from zero; numerical Hessian).  Returns (params, cov, converged).

    Only informative strata are passed (statsmodels would drop the others with a warning).
    """
    from statsmodels.discrete.conditional_models import ConditionalLogit

    # warnings.catch_warnings is process-global and analyses run in threads: hold a lock while
    # it is active.  statsmodels' overflow / non-convergence warnings are silenced; convergence
    # is checked below from the solution.
    with WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            mod = ConditionalLogit(y, X, groups=groups)
            res = mod.fit(method="newton", maxiter=100, disp=False)
        except (np.linalg.LinAlgError, ValueError, OverflowError, FloatingPointError):
            return np.full(X.shape[1], np.nan), np.full((X.shape[1],) * 2, np.nan), False
        params = np.asarray(res.params, float)
        cov = np.asarray(res.cov_params(), float)
        # Convergence is judged from the solution itself (score ~ 0, finite and bounded estimates),
        # not from whether a ConvergenceWarning was seen: warning capture is process-global and
        # other analyses run in parallel threads, which made the verdict flip between runs.
        try:
            grad = np.asarray(mod.score(params), float)
        except (ValueError, OverflowError, FloatingPointError):
            grad = np.full(params.shape, np.nan)
    conv = bool(np.all(np.isfinite(grad)) and np.max(np.abs(grad), initial=0.0) < CL_SCORE_TOL
                and np.all(np.abs(params) < CL_MAX_ABS_ESTIMATE))
    conv = conv and bool(np.all(np.isfinite(params)) and np.all(np.isfinite(np.diag(cov))) and np.all(np.diag(cov) > 0))
    return params, cov, conv


def within_stratum_differences(data: ConditionalLogitData) -> np.ndarray:
    """Rows x_event - x_nonevent for every (event, non-event) pair within a stratum."""
    parts = []
    if data.Xs.shape[0]:
        ev_rows = np.nonzero(data.ys == 1)[0]
        ev_of_group = np.empty(data.sizes_s.size, dtype=int)
        ev_of_group[data.gid[ev_rows]] = ev_rows
        non = np.nonzero(data.ys == 0)[0]
        parts.append(data.Xs[ev_of_group[data.gid[non]]] - data.Xs[non])
    for Xg, yg, _ in data.multi:
        e, ne = Xg[yg == 1], Xg[yg == 0]
        parts.append((e[:, None, :] - ne[None, :, :]).reshape(-1, Xg.shape[1]))
    return np.vstack(parts) if parts else np.zeros((0, data.X.shape[1]))
