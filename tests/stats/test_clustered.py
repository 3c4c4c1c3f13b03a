"""Group means with cluster-robust SEs against hand computations."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tasks.stats.clustered import group_means, ols_clustered


def test_group_means_cluster_robust_hand_computed():
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 12.0, 14.0, 16.0, 18.0])
    g = ["a"] * 5 + ["b"] * 5
    cl = [f"c{i}" for i in range(10)]  # every document its own cluster
    rows, p = group_means(y, g, cl)
    n, k, G = 10, 2, 10
    c = G / (G - 1) * (n - 1) / (n - k)  # statsmodels CR1 small-sample factor
    for r, vals in zip(rows, (y[:5], y[5:])):
        se = np.sqrt(c * ((vals - vals.mean()) ** 2).sum()) / vals.size
        t = stats.t.ppf(0.975, G - 1)
        assert r["mean"] == pytest.approx(vals.mean())
        assert r["std_error"] == pytest.approx(se)
        assert (r["ci_low"], r["ci_high"]) == pytest.approx((vals.mean() - t * se, vals.mean() + t * se))
        assert r["n"] == 5 and r["n_clusters"] == 5
    se_diff = np.hypot(rows[0]["std_error"], rows[1]["std_error"])
    assert p == pytest.approx(2 * stats.t.sf(11 / se_diff, G - 1))


def test_group_means_drops_small_and_missing_levels():
    y = np.array([1.0, 2, 3, 4, 5, 6, np.nan, 8])
    rows, p = group_means(y, ["a"] * 5 + ["b", None, "b"], [str(i) for i in range(8)])
    assert [r["level"] for r in rows] == ["a"] and np.isnan(p)
    rows2, _ = group_means(y, ["a"] * 5 + ["b", None, "b"], [str(i) for i in range(8)], min_group_n=2)
    assert [r["level"] for r in rows2] == ["a", "b"] and rows2[1]["mean"] == pytest.approx(7.0)


def test_group_means_single_cluster_has_no_standard_error():
    rows, p = group_means(np.arange(10.0), ["a"] * 5 + ["b"] * 5, ["one"] * 10)
    assert [r["mean"] for r in rows] == [pytest.approx(2.0), pytest.approx(7.0)]
    assert np.isnan(rows[0]["std_error"]) and np.isnan(p)


def test_ols_clustered_difference_in_means():
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 12.0, 14.0, 16.0, 18.0])
    X = np.column_stack([np.ones(10), [0] * 5 + [1] * 5])
    out = ols_clustered(y, X, ["intercept", "b"], [f"c{i}" for i in range(10)])
    assert out["intercept"]["estimate"] == pytest.approx(3.0)
    assert out["b"]["estimate"] == pytest.approx(11.0)
    assert out["b"]["ci_low"] < 11.0 < out["b"]["ci_high"] and out["b"]["p_value"] < 0.001
