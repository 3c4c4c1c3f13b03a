"""Two-way fixed effects: removing two sets of group means by alternating projections.

Reads a numpy array of columns and two integer code arrays; returns the
demeaned columns.  Used by the panel-homophily model of the interview scores
(docs/methods.md section 3): regressing demeaned y on demeaned x gives the
within estimate of a model with both sets of dummies (Frisch-Waugh-Lovell).
"""
from __future__ import annotations

import numpy as np


def demean_twoway(arrs: np.ndarray, a: np.ndarray, b: np.ndarray, tol: float = 1e-11,
                  max_iter: int = 2000) -> np.ndarray:
    """Remove two sets of fixed effects (integer codes a, b) from each column by alternating projections."""
    out = arrs.astype(float).copy()
    na, nb = a.max() + 1, b.max() + 1
    ca, cb = np.bincount(a, minlength=na), np.bincount(b, minlength=nb)
    for _ in range(max_iter):
        prev = out.copy()
        for codes, counts, n in ((a, ca, na), (b, cb, nb)):
            for j in range(out.shape[1]):
                means = np.bincount(codes, weights=out[:, j], minlength=n) / np.maximum(counts, 1)
                out[:, j] -= means[codes]
        if np.max(np.abs(out - prev)) < tol:
            break
    return out
