"""Confidence intervals: Wald (normal), Wilson score, t interval of a mean, Katz log ratio of proportions.

Reads numbers, returns numbers; no frames, no recruitment knowledge.  The
analyses use them for docs/methods.md sections 1.4-1.5 (Wald intervals of log
odds ratios, the Katz interval of WRES indicator 2), 3 (Wilson intervals of
scoring rates, t intervals of mean scores) and 4 (Wilson intervals of shares).

Zero and empty cells (documented rules):

* :func:`wilson_interval`: no trials -> ``(None, None)``; 0 or all successes give a
  proper interval inside [0, 1] (the Wilson interval needs no correction).
* :func:`mean_t_interval`: NaNs are dropped; no value -> all None; one value -> the
  mean with no interval.
* :func:`log_ratio_std_error`: needs events > 0 in both groups; zero-cell rules
  (Haldane-Anscombe or "undefined") belong to the caller, see
  :func:`tasks.analyses.funnel_statistics.wres.relative_likelihood`.
"""
from __future__ import annotations

import math
from typing import Literal

import numpy as np
from scipy import stats

KatzArithmetic = Literal["exp_log", "multiply"]


def normal_quantile(level: float = 0.95) -> float:
    """Two-sided normal critical value for a ``level`` interval (1.959963984540054 at 95%)."""
    return float(stats.norm.ppf(0.5 + level / 2))


def wald_interval(*, estimate: float, std_error: float, level: float = 0.95) -> tuple[float, float]:
    """``estimate -/+ z * std_error`` (on the scale of the estimate, e.g. log odds)."""
    z = stats.norm.ppf(0.5 + level / 2)
    return estimate - z * std_error, estimate + z * std_error


def wald_p_value(*, estimate: float, std_error: float) -> float:
    """Two-sided normal p-value of ``estimate / std_error``."""
    return float(2 * stats.norm.sf(abs(estimate / std_error)))


def wilson_interval(*, successes: int, trials: int, level: float = 0.95) -> tuple[float | None, float | None]:
    """Wilson score interval of a proportion ``successes / trials``.

    Parameters
    ----------
    successes, trials:
        Counts, ``0 <= successes <= trials``.
    level:
        Coverage (0.95 by default).

    Returns
    -------
    ``(low, high)``, or ``(None, None)`` when there are no trials.
    """
    if trials <= 0:
        return None, None
    k, n = successes, trials
    z = stats.norm.ppf(0.5 + level / 2)
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return centre - half, centre + half


def mean_t_interval(values, *, level: float = 0.95) -> tuple[float | None, float | None, float | None]:
    """Mean of ``values`` with a Student t interval: ``(mean, low, high)``.

    NaNs are dropped.  No value: ``(None, None, None)``; one value: ``(mean, None, None)``.
    """
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    n = v.size
    if n == 0:
        return None, None, None
    m = float(v.mean())
    if n < 2:
        return m, None, None
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return m, m - half, m + half


def log_ratio_std_error(*, events_a: float, trials_a: float, events_b: float, trials_b: float) -> float:
    """Standard error of log(p_a / p_b), p = events / trials (Katz et al. 1978).

    ``sqrt(1/events_a - 1/trials_a + 1/events_b - 1/trials_b)``; every events count must be > 0.
    """
    return math.sqrt(1 / events_a - 1 / trials_a + 1 / events_b - 1 / trials_b)


def katz_interval(*, ratio: float, std_error: float, level: float = 0.95,
                  arithmetic: KatzArithmetic = "exp_log") -> tuple[float, float]:
    """Log-method (Katz) interval of a ratio of proportions: ``ratio * exp(-/+ z * se)``.

    ``arithmetic`` chooses how the same interval is computed:
    ``"exp_log"`` = ``exp(log(ratio) -/+ z se)`` (the WRES table) and ``"multiply"`` =
    ``ratio * exp(-/+ z se)`` (the programme-impact table).  The two agree to the
    last one or two bits; the option exists so that both published tables keep
    their figures bit for bit.
    """
    z = stats.norm.ppf(0.5 + level / 2)
    if arithmetic == "exp_log":
        return math.exp(math.log(ratio) - z * std_error), math.exp(math.log(ratio) + z * std_error)
    return ratio * math.exp(-z * std_error), ratio * math.exp(z * std_error)
