"""Test-only helper: individual rows of a contingency table, each row its own cluster."""
from __future__ import annotations

import polars as pl


def table_frame(cells: dict[tuple[int, ...], tuple[int, int]], names=("bme",)) -> pl.DataFrame:
    """Individual rows from {(covariates...): (events, non-events)}; each row its own cluster."""
    rows = []
    for key, (ev, non) in cells.items():
        rows += [(*key, 1)] * ev + [(*key, 0)] * non
    df = pl.DataFrame(rows, schema=[*names, "y"], orient="row")
    return df.with_row_index("cluster")


def cr2_on_rows(X, y, groups, beta):
    """CR2 cluster sandwich of a logit computed the textbook way on one row per application.

    Dense per cluster: H_gg = X~_g (X~'X~)^-1 X~_g' with X~ = W^(1/2) X, A_g = (I - H_gg)^(-1/2)
    by eigendecomposition, meat = sum_g X~_g' A_g r~_g r~_g' A_g X~_g with Pearson residuals r~.
    The reference for the engine's collapsed, low-rank computation (tasks.stats.logit.cluster_sandwich_cr2).
    """
    import numpy as np

    X, y, groups = np.asarray(X, float), np.asarray(y, float), np.asarray(groups)
    mu = 1 / (1 + np.exp(-(X @ beta)))
    w = mu * (1 - mu)
    Xw, r = X * np.sqrt(w)[:, None], (y - mu) / np.sqrt(w)
    B = np.linalg.inv(Xw.T @ Xw)
    meat = np.zeros_like(B)
    for g in np.unique(groups):
        i = groups == g
        lam, S = np.linalg.eigh(np.eye(i.sum()) - Xw[i] @ B @ Xw[i].T)
        s = Xw[i].T @ (S @ ((S.T @ r[i]) / np.sqrt(np.clip(lam, 1e-300, None))))
        meat += np.outer(s, s)
    return B @ meat @ B
