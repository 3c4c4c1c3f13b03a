"""Power: the smallest odds ratio a stage's data could detect (docs/methods.md section 1.8).

Reads nothing: pure functions of counts or of a published standard error.
Returns minimum detectable odds ratios (MDOR) at a chosen power for a
two-sided Wald test of log OR = 0 at level ``alpha``.  Never fits a model and
never looks at an estimate: the MDOR says what the data could have detected,
not what they found.

Two routes, both from the data's own counts:

* :func:`mdor_from_std_error`: from the standard error of a fitted log odds
  ratio (the published ``std_error`` of ``odds_ratios``, which already reflects
  the stage's counts, the model and its clustering):
  ``MDOR = exp((z_{1-alpha/2} + z_power) * se)``.
* :func:`mdor_from_counts`: for a 2x2 table planned from group sizes and the
  reference group's event rate, solving
  ``|log OR| = (z_{1-alpha/2} + z_power) * se(OR)`` where ``se(OR)`` is
  Woolf's ``sqrt(1/a + 1/b + 1/c + 1/d)`` over the cells expected under that OR.

:func:`simulated_power` is the check: the share of simulated 2x2 tables whose
Wald test rejects, used by the tests (tests/stats/test_power.py).
"""
from __future__ import annotations

import math
from typing import Literal

import numpy as np
from scipy import optimize, stats

ALPHA = 0.05


POWER = 0.80


Direction = Literal["up", "down"]


ERR_RATE = "the reference group's event rate must be strictly between 0 and 1"


ERR_TRIALS = "both groups need at least one trial"


ERR_LEVELS = "alpha and power must be strictly between 0 and 1"


def _z_sum(alpha: float, power: float) -> float:
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ValueError(ERR_LEVELS)
    return float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))


def mdor_from_std_error(std_error: float | None, *, alpha: float = ALPHA, power: float = POWER) -> float | None:
    """Minimum detectable odds ratio (above 1) for a log odds ratio estimated with ``std_error``.

    An effect below 1 of the same size is its reciprocal.  None when the standard error is missing.
    """
    if std_error is None or not math.isfinite(std_error) or std_error <= 0:
        return None
    return math.exp(_z_sum(alpha, power) * std_error)


def rate_at_odds_ratio(rate: float, odds_ratio: float) -> float:
    """The event rate whose odds are ``odds_ratio`` times the odds of ``rate``."""
    odds = rate / (1 - rate) * odds_ratio
    return odds / (1 + odds)


def log_or_std_error(*, trials_group: float, trials_reference: float, rate_reference: float,
                     odds_ratio: float) -> float:
    """Woolf's standard error of log OR over the expected cells of a 2x2 table with these sizes and rates."""
    p1 = rate_at_odds_ratio(rate_reference, odds_ratio)
    p0 = rate_reference
    return math.sqrt(1 / (trials_group * p1) + 1 / (trials_group * (1 - p1))
                     + 1 / (trials_reference * p0) + 1 / (trials_reference * (1 - p0)))


def mdor_from_counts(*, trials_group: int, trials_reference: int, rate_reference: float,
                     direction: Direction = "up", alpha: float = ALPHA, power: float = POWER) -> float:
    """Minimum detectable odds ratio of a group against a reference group (e.g. BME vs White).

    ``trials_*`` are the group sizes (applicants at the stage), ``rate_reference`` the reference
    group's rate of progressing.  ``direction="up"`` gives the OR above 1, ``"down"`` the one below 1.
    """
    if trials_group < 1 or trials_reference < 1:
        raise ValueError(ERR_TRIALS)
    if not 0 < rate_reference < 1:
        raise ValueError(ERR_RATE)
    z = _z_sum(alpha, power)
    sign = 1.0 if direction == "up" else -1.0

    def gap(log_or: float) -> float:
        se = log_or_std_error(trials_group=trials_group, trials_reference=trials_reference,
                              rate_reference=rate_reference, odds_ratio=math.exp(sign * log_or))
        return log_or - z * se

    hi = 1.0
    while gap(hi) < 0 and hi < 50:
        hi *= 2
    if gap(hi) < 0:
        return math.inf if direction == "up" else 0.0
    log_or = optimize.brentq(gap, 1e-9, hi, xtol=1e-10)
    return math.exp(sign * log_or)


def simulated_power(*, trials_group: int, trials_reference: int, rate_reference: float, odds_ratio: float,
                    replicates: int, seed: int, alpha: float = ALPHA) -> float:
    """Share of ``replicates`` simulated 2x2 tables whose two-sided Wald test of log OR rejects at ``alpha``.

    Tables with an empty cell get 0.5 added to each cell (Haldane), as a fitted logit would not
    converge there; they are a negligible share at the sizes this is used for.
    """
    rng = np.random.default_rng(seed)
    p1 = rate_at_odds_ratio(rate_reference, odds_ratio)
    a = rng.binomial(trials_group, p1, replicates).astype(float)
    c = rng.binomial(trials_reference, rate_reference, replicates).astype(float)
    b, d = trials_group - a, trials_reference - c
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    a, b, c, d = (np.where(zero, x + 0.5, x) for x in (a, b, c, d))
    log_or = np.log(a * d / (b * c))
    se = np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    return float(np.mean(np.abs(log_or / se) > stats.norm.ppf(1 - alpha / 2)))


def simulated_mdor(*, trials_group: int, trials_reference: int, rate_reference: float, replicates: int, seed: int,
                   power: float = POWER, alpha: float = ALPHA, grid_points: int = 25) -> float:
    """The odds ratio (above 1) at which the simulated power first reaches ``power``, by linear interpolation
    on a grid of log odds ratios from 0 to three times the formula's answer (common random numbers)."""
    guess = math.log(mdor_from_counts(trials_group=trials_group, trials_reference=trials_reference,
                                      rate_reference=rate_reference, alpha=alpha, power=power))
    grid = np.linspace(0.0, 3 * guess, grid_points)
    powers = [simulated_power(trials_group=trials_group, trials_reference=trials_reference,
                              rate_reference=rate_reference, odds_ratio=math.exp(g), replicates=replicates,
                              seed=seed, alpha=alpha) for g in grid]
    for i in range(1, len(grid)):
        if powers[i] >= power:
            lo, hi, plo, phi = grid[i - 1], grid[i], powers[i - 1], powers[i]
            t = (power - plo) / (phi - plo) if phi > plo else 1.0
            return math.exp(lo + t * (hi - lo))
    return math.inf
