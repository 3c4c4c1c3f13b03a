"""Minimum detectable odds ratios: the closed form, its self-consistency, and simulation (docs/methods.md 1.8)."""
from __future__ import annotations

import math

import pytest

from tasks.stats.power import (
    ERR_RATE,
    ERR_TRIALS,
    log_or_std_error,
    mdor_from_counts,
    mdor_from_std_error,
    rate_at_odds_ratio,
    simulated_mdor,
    simulated_power,
)


def test_mdor_from_standard_error_textbook_value():
    # z_0.975 + z_0.80 = 1.959964 + 0.841621 = 2.801585
    assert mdor_from_std_error(0.2) == pytest.approx(math.exp(2.801585 * 0.2), rel=1e-6)
    assert mdor_from_std_error(0.2) == pytest.approx(1.7512, abs=1e-4)
    assert mdor_from_std_error(0.2, power=0.5) == pytest.approx(math.exp(1.959964 * 0.2), rel=1e-6)
    assert mdor_from_std_error(None) is None and mdor_from_std_error(float("nan")) is None


def test_mdor_from_counts_solves_its_own_equation_and_shrinks_with_n():
    m = mdor_from_counts(trials_group=300, trials_reference=600, rate_reference=0.25)
    se = log_or_std_error(trials_group=300, trials_reference=600, rate_reference=0.25, odds_ratio=m)
    assert math.log(m) == pytest.approx(2.801585 * se, rel=1e-6)
    bigger = mdor_from_counts(trials_group=1200, trials_reference=2400, rate_reference=0.25)
    assert 1 < bigger < m
    # roughly 1/sqrt(n): four times the data halves log MDOR
    assert math.log(bigger) == pytest.approx(math.log(m) / 2, rel=0.08)
    down = mdor_from_counts(trials_group=300, trials_reference=600, rate_reference=0.25, direction="down")
    assert 0 < down < 1 and 1 / down == pytest.approx(m, rel=0.15)  # asymmetric only through the rates


def test_rate_at_odds_ratio_hand_computed():
    # odds 0.25/0.75 = 1/3; times 3 -> odds 1 -> rate 0.5
    assert rate_at_odds_ratio(0.25, 3.0) == pytest.approx(0.5)


def test_bad_inputs_are_refused_with_clear_messages():
    with pytest.raises(ValueError, match=ERR_RATE):
        mdor_from_counts(trials_group=10, trials_reference=10, rate_reference=1.0)
    with pytest.raises(ValueError, match=ERR_TRIALS):
        mdor_from_counts(trials_group=0, trials_reference=10, rate_reference=0.3)


def test_power_at_the_mdor_is_80_percent_by_simulation():
    """Fast honest version of the slow 200-replicate study: 4,000 simulated 2x2 tables at the formula's MDOR."""
    sizes = {"trials_group": 250, "trials_reference": 700, "rate_reference": 0.3}
    m = mdor_from_counts(**sizes)
    p = simulated_power(**sizes, odds_ratio=m, replicates=4000, seed=11)
    assert p == pytest.approx(0.80, abs=0.03)
    # the check can fail: at half the log MDOR the power is far lower, at no effect it is alpha
    assert simulated_power(**sizes, odds_ratio=math.sqrt(m), replicates=4000, seed=11) < 0.40
    assert simulated_power(**sizes, odds_ratio=1.0, replicates=4000, seed=11) == pytest.approx(0.05, abs=0.015)


def test_simulated_mdor_agrees_with_the_formula_on_a_small_table():
    sizes = {"trials_group": 120, "trials_reference": 300, "rate_reference": 0.35}
    assert simulated_mdor(**sizes, replicates=1000, seed=5) == pytest.approx(mdor_from_counts(**sizes), rel=0.10)
