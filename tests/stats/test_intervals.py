"""Intervals against textbook and hand-computed values: Wilson, Wald, t interval of a mean, Katz."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tasks.stats.intervals import (
    katz_interval,
    log_ratio_std_error,
    mean_t_interval,
    normal_quantile,
    wald_interval,
    wald_p_value,
    wilson_interval,
)


def test_wilson_textbook_value():
    # Newcombe (1998) / Agresti-Coull: 81 of 263 -> 0.2553 to 0.3662 at 95%
    lo, hi = wilson_interval(successes=81, trials=263)
    assert round(lo, 4) == 0.2553 and round(hi, 4) == 0.3662


def test_wilson_closed_form_and_edges():
    lo, hi = wilson_interval(successes=2, trials=3)
    z = stats.norm.ppf(0.975)
    p, n = 2 / 3, 3
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert (lo, hi) == (pytest.approx(c - h), pytest.approx(c + h))
    assert wilson_interval(successes=0, trials=0) == (None, None)
    lo0, hi0 = wilson_interval(successes=0, trials=10)
    assert lo0 == pytest.approx(0.0, abs=1e-15) and 0 < hi0 < 1
    lo1, hi1 = wilson_interval(successes=10, trials=10)
    assert 0 < lo1 < 1 and hi1 == pytest.approx(1.0)


def test_mean_ci_is_t_interval():
    m, lo, hi = mean_t_interval(np.array([1.0, 2.0, 3.0]))
    half = stats.t.ppf(0.975, 2) * 1.0 / math.sqrt(3)
    assert (m, lo, hi) == (2.0, pytest.approx(2 - half), pytest.approx(2 + half))
    assert mean_t_interval(np.array([0.7]))[1:] == (None, None)
    assert mean_t_interval(np.array([np.nan])) == (None, None, None)


def test_wald_interval_and_p_value():
    z = 1.959963984540054
    assert normal_quantile() == pytest.approx(z)
    assert wald_interval(estimate=0.5, std_error=0.2) == (pytest.approx(0.5 - z * 0.2), pytest.approx(0.5 + z * 0.2))
    assert wald_p_value(estimate=1.96 * 0.2, std_error=0.2) == pytest.approx(0.05, abs=1e-4)


def test_katz_log_interval_hand_computed():
    # RL = (10/50) / (4/40) = 2; se(log RL) = sqrt(1/10 - 1/50 + 1/4 - 1/40) = sqrt(0.305)
    se = log_ratio_std_error(events_a=10, trials_a=50, events_b=4, trials_b=40)
    assert se == pytest.approx(math.sqrt(0.305))
    z = 1.959963984540054
    lo, hi = katz_interval(ratio=2.0, std_error=se)
    assert lo == pytest.approx(2 * math.exp(-z * math.sqrt(0.305)))  # 0.6775...
    assert hi == pytest.approx(2 * math.exp(z * math.sqrt(0.305)))   # 5.9037...
    assert round(lo, 4) == 0.6775 and round(hi, 4) == 5.9037
    # both arithmetic forms give the same interval to rounding
    lo2, hi2 = katz_interval(ratio=2.0, std_error=se, arithmetic="multiply")
    assert (lo2, hi2) == (pytest.approx(lo, rel=1e-14), pytest.approx(hi, rel=1e-14))
