"""Means and linear regressions with cluster-robust (CR1) standard errors.

Reads numpy arrays and sequences of group labels and cluster labels; returns
rows of plain numbers.  Used by the text analysis (docs/methods.md section 2:
stratified topic prevalence and tone, the adjusted BME comparison).  Fitted
with statsmodels OLS, ``cov_type="cluster"`` (CR1 small-sample factor) and t
intervals with G - 1 degrees of freedom.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import statsmodels.api as sm

MIN_GROUP_N = 5  # group_means leaves out levels with fewer observations (cluster-robust SEs need more)


def cluster_codes(values) -> np.ndarray:
    """0-based integer codes of labels (compared as strings), numbered in order of first appearance.

    Not in sorted order: labels are often pseudonymous IDs (keyed hashes), whose
    sort order differs between warehouses with different keys.  Numbered by
    appearance, rows given in a key-independent order (tasks/marts.py load_mart)
    get the same codes, and sums over clusters run in the same order, in every
    warehouse: the same figures to the last bit.
    """
    _, first, inverse = np.unique(np.asarray(values, dtype=str), return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return rank[inverse.reshape(-1)]


def group_means(y: np.ndarray, groups: Sequence, clusters: Sequence, *,
                min_group_n: int = MIN_GROUP_N) -> tuple[list[dict], float]:
    """Mean of ``y`` per group level with cluster-robust 95% CIs, and the Wald p-value that all
    level means are equal.

    Fitted as OLS of y on level indicators (no intercept) with SEs clustered by
    ``clusters`` (statsmodels' CR1 correction, t with G-1 df).  Observations
    with a NaN ``y`` or a None group are dropped, then levels with fewer than
    ``min_group_n`` observations.  With a single cluster the means carry no
    standard error (NaN); with fewer than two levels the p-value is NaN.

    Returns
    -------
    (rows, p_value): one dict per level (level, n, n_clusters, mean, std_error,
    ci_low, ci_high), levels sorted as strings.
    """
    y = np.asarray(y, dtype=float)
    g = np.asarray([None if v is None else str(v) for v in groups], dtype=object)
    ok = ~np.isnan(y) & np.array([v is not None for v in g])
    y, g, cl = y[ok], g[ok], np.asarray(clusters, dtype=str)[ok]
    levels, counts = np.unique(g.astype(str), return_counts=True) if y.size else (np.array([]), np.array([]))
    levels = [lv for lv, c in zip(levels, counts) if c >= min_group_n]
    keep = np.isin(g.astype(str), levels)
    y, g, cl = y[keep], g[keep].astype(str), cl[keep]
    if not levels:
        return [], np.nan
    X = np.column_stack([(g == lv).astype(float) for lv in levels])
    codes = cluster_codes(cl)
    n_clusters = int(codes.max()) + 1
    rows = []
    if n_clusters >= 2:
        res = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)
        ci = res.conf_int(0.05)
        params, bse = res.params, res.bse
    else:
        res, params = None, X.T @ y / X.sum(axis=0)
        bse, ci = np.full(len(levels), np.nan), np.full((len(levels), 2), np.nan)
    for i, lv in enumerate(levels):
        rows.append({
            "level": lv, "n": int(X[:, i].sum()), "n_clusters": int(np.unique(codes[X[:, i] > 0]).size),
            "mean": float(params[i]), "std_error": float(bse[i]),
            "ci_low": float(ci[i][0]), "ci_high": float(ci[i][1]),
        })
    p = np.nan
    if res is not None and len(levels) >= 2:
        R = np.zeros((len(levels) - 1, len(levels)))
        R[:, 0] = -1
        R[np.arange(len(levels) - 1), np.arange(1, len(levels))] = 1
        try:
            p = float(res.wald_test(R, use_f=True, scalar=True).pvalue)
        except Exception:  # noqa: BLE001  (singular covariance: too few clusters)
            p = np.nan
    return rows, p


def ols_clustered(y: np.ndarray, X: np.ndarray, names: list[str], clusters: Sequence) -> dict[str, dict]:
    """OLS with SEs clustered by ``clusters``; per term name: estimate, std_error, 95% CI, p_value."""
    codes = cluster_codes(clusters)
    res = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)
    ci = res.conf_int(0.05)
    return {
        name: {
            "estimate": float(res.params[i]), "std_error": float(res.bse[i]),
            "ci_low": float(ci[i][0]), "ci_high": float(ci[i][1]), "p_value": float(res.pvalues[i]),
        }
        for i, name in enumerate(names)
    }
