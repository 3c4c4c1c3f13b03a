"""Conditional logit: matched pairs in closed form, exact recursion, statsmodels path."""
from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.discrete.conditional_models import ConditionalLogit

from tasks.stats.conditional_logit import (
    ConditionalLogitData,
    conditional_logit_newton,
    statsmodels_conditional_logit,
    stratum_loglik,
    within_stratum_differences,
)


def _pairs(n10: int, n01: int, n_tie: int = 0):
    """Matched pairs (x, y): n10 pairs where the x=1 member had the event, n01 where the x=0 member had it."""
    X, y, codes = [], [], []
    v = 0
    for _ in range(n10):
        X += [[1.0], [0.0]]; y += [1.0, 0.0]; codes += [v, v]; v += 1  # noqa: E702
    for _ in range(n01):
        X += [[1.0], [0.0]]; y += [0.0, 1.0]; codes += [v, v]; v += 1  # noqa: E702
    for _ in range(n_tie):  # both x = 0: uninformative for x
        X += [[0.0], [0.0]]; y += [1.0, 0.0]; codes += [v, v]; v += 1  # noqa: E702
    return np.array(X), np.array(y), np.array(codes)


def test_matched_pairs_closed_form():
    X, y, codes = _pairs(12, 30, 5)
    data = ConditionalLogitData(X, y, codes)
    assert data.n_strata == 47
    beta, H, conv = conditional_logit_newton(data, 1)
    assert conv and beta[0] == pytest.approx(math.log(12 / 30), abs=1e-9)
    assert math.sqrt(np.linalg.inv(-H)[0, 0]) == pytest.approx(math.sqrt(1 / 12 + 1 / 30), rel=1e-9)
    params, cov, conv_sm = statsmodels_conditional_logit(data.X, data.y, data.codes)
    assert conv_sm and params[0] == pytest.approx(math.log(12 / 30), abs=1e-6)


def test_uninformative_strata_are_dropped():
    X = np.array([[1.0], [0.0], [1.0], [0.0]])
    data = ConditionalLogitData(X, np.array([1.0, 1.0, 1.0, 0.0]), np.array([0, 0, 1, 1]))
    assert data.n_strata == 1 and data.y.size == 2


def test_recursion_equals_enumeration():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(5, 2))
    y = np.array([1.0, 0.0, 1.0, 0.0, 0.0])
    beta = np.array([0.3, -0.7])
    ll, g, H = stratum_loglik(X, y, 2, beta, True)
    from itertools import combinations

    den = sum(math.exp(float(X[list(c)].sum(axis=0) @ beta)) for c in combinations(range(5), 2))
    assert ll == pytest.approx(float(X[y == 1].sum(axis=0) @ beta) - math.log(den), abs=1e-12)
    eps = 1e-6
    num = [(stratum_loglik(X, y, 2, beta + eps * e, False)[0] - stratum_loglik(X, y, 2, beta - eps * e, False)[0])
           / (2 * eps) for e in np.eye(2)]
    np.testing.assert_allclose(g, num, atol=1e-6)


def test_newton_matches_statsmodels_with_multi_event_strata():
    rng = np.random.default_rng(5)
    Xs, ys, cs = [], [], []
    for v in range(250):
        m = rng.integers(3, 8)
        x = np.column_stack([rng.binomial(1, .4, m), rng.binomial(1, .5, m)]).astype(float)
        u = x @ np.array([0.7, -0.3]) + rng.gumbel(size=m)
        o = np.zeros(m)
        o[np.argsort(-u)[:1 if v % 4 else 2]] = 1
        Xs.append(x); ys.append(o); cs.append(np.full(m, v))  # noqa: E702
    X, y, codes = np.vstack(Xs), np.concatenate(ys), np.concatenate(cs)
    data = ConditionalLogitData(X, y, codes)
    beta, H, conv = conditional_logit_newton(data, 2)
    ref = ConditionalLogit(y, X, groups=codes).fit(method="newton", maxiter=100, disp=False)
    assert conv
    np.testing.assert_allclose(beta, ref.params, atol=1e-5)
    np.testing.assert_allclose(np.sqrt(np.diag(np.linalg.inv(-H))), ref.bse, rtol=1e-4)
    assert within_stratum_differences(data).shape[1] == 2


def _strata(rng, n_strata: int, size: int, events: int, beta, binary: bool = True):
    Xs, ys, cs = [], [], []
    for v in range(n_strata):
        if binary:
            x = np.column_stack([rng.binomial(1, .4, size), rng.binomial(1, .5, size)]).astype(float)
        else:
            x = rng.normal(size=(size, 2))
        u = x @ np.asarray(beta) + rng.gumbel(size=size)
        o = np.zeros(size)
        o[np.argsort(-u)[:events]] = 1
        Xs.append(x); ys.append(o); cs.append(np.full(size, v))  # noqa: E702
    return np.vstack(Xs), np.concatenate(ys), np.concatenate(cs)


@pytest.mark.parametrize("binary", [True, False])
def test_log_space_recursion_matches_statsmodels_on_large_strata(binary):
    # strata of 80 rows with 12 events: repeated covariate patterns (binary) and all-distinct rows
    X, y, codes = _strata(np.random.default_rng(11), 6, 80, 12, [0.8, -0.5], binary=binary)
    data = ConditionalLogitData(X, y, codes)
    assert not data.sizes_s.size and data.max_stratum_rows == 80
    beta, H, conv = conditional_logit_newton(data, 2)
    ref = ConditionalLogit(y, X, groups=codes).fit(method="newton", maxiter=100, disp=False)
    assert conv
    np.testing.assert_allclose(beta, ref.params, rtol=1e-6, atol=1e-8)
    # statsmodels' covariance comes from a numerical Hessian: equal to 1e-6 of its scale
    ref_cov = np.asarray(ref.cov_params())
    np.testing.assert_allclose(np.linalg.inv(-H), ref_cov, rtol=1e-6, atol=1e-6 * np.abs(ref_cov).max())


def test_recursion_has_no_overflow_where_weights_are_huge():
    # eta up to ~900: exp overflows in linear space; the log-space value is shift-invariant
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 2)) * 300
    y = np.zeros(300)
    y[:40] = 1
    beta = np.array([1.0, 0.5])
    ll, g, H = stratum_loglik(X, y, 40, beta, True)
    X2 = X.copy()
    X2[:, 0] += 100.0  # adds 100 * 40 to numerator and denominator alike
    ll2, g2, _ = stratum_loglik(X2, y, 40, beta, True)
    assert np.isfinite(ll) and np.all(np.isfinite(g)) and np.all(np.isfinite(H))
    assert ll2 == pytest.approx(ll, rel=1e-12, abs=1e-9)
    np.testing.assert_allclose(g2[1], g[1], rtol=1e-9)
