"""Two-way demeaning against the dummy-variable regression."""
from __future__ import annotations

import numpy as np
import pytest

from tasks.stats.fixed_effects import demean_twoway


def test_twoway_demeaning_matches_dummy_regression():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 15, 200)
    b = rng.integers(0, 8, 200)
    x = rng.normal(size=200) + a * 0.1
    y = 0.5 * x + a * 0.3 - b * 0.2 + rng.normal(size=200)
    Z = demean_twoway(np.column_stack([y, x]), np.unique(a, return_inverse=True)[1],
                       np.unique(b, return_inverse=True)[1])
    beta = Z[:, 1] @ Z[:, 0] / (Z[:, 1] @ Z[:, 1])
    D = np.column_stack([x, np.eye(15)[a], np.eye(8)[b][:, 1:]])
    ref = np.linalg.lstsq(D, y, rcond=None)[0][0]
    assert beta == pytest.approx(ref, rel=1e-8)
