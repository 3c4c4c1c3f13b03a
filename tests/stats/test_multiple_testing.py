"""Benjamini-Hochberg q-values: hand-computed families and bit-for-bit agreement with statsmodels."""
from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from tasks.stats.multiple_testing import bh_qvalues


def test_bh_qvalues_hand_computed():
    p = [0.01, 0.04, 0.03, 0.20, None]
    # sorted: .01*4/1=.04, .03*4/2=.06, .04*4/3=.0533 -> monotone .0533, .20*4/4=.20
    q = bh_qvalues(p)
    assert q[0] == pytest.approx(0.04)
    assert q[2] == pytest.approx(0.04 * 4 / 3)
    assert q[1] == pytest.approx(0.04 * 4 / 3)
    assert q[3] == pytest.approx(0.20)
    assert q[4] is None


def test_bh_qvalues_hand_computed_statsmodels_arithmetic():
    q = bh_qvalues([0.01, 0.04, 0.03, 0.5, np.nan], arithmetic="ecdf")
    # ranks 1..4 of m=4: 0.01*4/1=.04; 0.03*4/2=.06; 0.04*4/3=.0533; 0.5 -> running minimum from the top
    assert q[:4] == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.5])
    assert q[4] is None


def test_bh_caps_at_one_and_handles_empty_families():
    assert bh_qvalues([0.9, 0.95]) == [0.95, 0.95]
    assert bh_qvalues([0.6, 0.9, 0.95], arithmetic="ecdf")[0] == pytest.approx(0.95)
    assert bh_qvalues([]) == [] and bh_qvalues([None, float("nan")]) == [None, None]


@pytest.mark.parametrize("m", [1, 2, 3, 7, 10, 33])
def test_ecdf_arithmetic_is_statsmodels_bit_for_bit(m):
    rng = np.random.default_rng(m)
    for _ in range(20):
        p = rng.uniform(size=m) ** 3
        ref = multipletests(p, method="fdr_bh")[1]
        assert bh_qvalues(list(p), arithmetic="ecdf") == ref.tolist()


def test_rank_scaled_arithmetic_is_p_times_m_over_rank():
    p = np.array([0.013, 0.021, 0.0047, 0.3, 0.049, 0.6])
    m = p.size
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    q = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    expected = np.empty(m)
    expected[order] = q
    assert bh_qvalues(list(p)) == expected.tolist()
