"""Adopters against non-adopters: a hand-made case, the meta-regression against an independent fit, edge cases."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from tasks.national.adoption import (
    FLAG_ADOPTION_UNKNOWN,
    FLAG_EMPTY_SUBGROUP,
    adoption_comparison_row,
    compare_adopters,
)


def test_hand_made_homogeneous_subgroups():
    """Adopters all at 0.5, non-adopters all at 0.0, each SE 0.2: tau^2 = 0, difference 0.5."""
    c = compare_adopters(estimates=[0.5, 0.5, 0.5, 0.0, 0.0, 0.0], std_errors=[0.2] * 6,
                         adopted=[True, True, True, False, False, False])
    se_group = 0.2 / math.sqrt(3)
    assert c.adopters.estimate == pytest.approx(0.5) and c.adopters.std_error == pytest.approx(se_group)
    assert c.non_adopters.estimate == pytest.approx(0.0) and c.adopters.tau2 == 0.0
    assert c.difference == pytest.approx(0.5)
    assert c.difference_std_error == pytest.approx(math.sqrt(2) * se_group)
    assert c.q_between == pytest.approx(0.25 / (2 * 0.04 / 3))  # 9.375
    assert c.q_between_p_value == pytest.approx(stats.chi2.sf(9.375, 1))
    assert c.regression_tau2 == 0.0
    assert c.regression_coefficient == pytest.approx(0.5)
    assert c.regression_std_error == pytest.approx(math.sqrt(2) * se_group)
    assert c.flags == ()


def test_q_between_is_the_weighted_spread_of_the_subgroup_means():
    rng = np.random.default_rng(3)
    y, se = rng.normal(0.2, 0.3, 12), rng.uniform(0.1, 0.3, 12)
    adopted = [i % 2 == 0 for i in range(12)]
    c = compare_adopters(estimates=y, std_errors=se, adopted=adopted)
    mu = np.array([c.adopters.estimate, c.non_adopters.estimate])
    w = 1 / np.array([c.adopters.std_error, c.non_adopters.std_error]) ** 2
    assert c.q_between == pytest.approx(float(np.sum(w * (mu - np.sum(w * mu) / np.sum(w)) ** 2)))


def test_meta_regression_matches_an_independent_reml_fit():
    rng = np.random.default_rng(11)
    a = np.array([1.0] * 10 + [0.0] * 10)
    se = rng.uniform(0.1, 0.4, 20)
    y = 0.1 + 0.4 * a + rng.normal(0, 0.3, 20) + rng.normal(0, se)
    x = np.column_stack([np.ones(20), a])

    def neg_loglik(t):
        w = 1 / (se ** 2 + t)
        xtwx = x.T @ (x * w[:, None])
        beta = np.linalg.solve(xtwx, x.T @ (w * y))
        r = y - x @ beta
        return 0.5 * (np.sum(np.log(se ** 2 + t)) + np.linalg.slogdet(xtwx)[1] + np.sum(w * r ** 2))

    tau2 = optimize.minimize_scalar(neg_loglik, bounds=(0, 5), method="bounded", options={"xatol": 1e-12}).x
    w = 1 / (se ** 2 + tau2)
    cov = np.linalg.inv(x.T @ (x * w[:, None]))
    beta = cov @ (x.T @ (w * y))
    c = compare_adopters(estimates=list(y), std_errors=list(se), adopted=list(a.astype(bool)))
    assert c.regression_tau2 == pytest.approx(tau2, abs=1e-7)
    assert c.regression_coefficient == pytest.approx(beta[1], abs=1e-7)
    assert c.regression_std_error == pytest.approx(math.sqrt(cov[1, 1]), abs=1e-7)


def test_no_adopters_gives_none_with_a_flag():
    c = compare_adopters(estimates=[0.1, 0.2, 0.3], std_errors=[0.1, 0.1, 0.1], adopted=[False, False, None])
    assert c.adopters.k == 0 and c.non_adopters.k == 2
    assert c.difference is None and c.q_between is None and c.regression_coefficient is None
    assert FLAG_EMPTY_SUBGROUP in c.flags and FLAG_ADOPTION_UNKNOWN in c.flags and c.adoption_unknown == 1
    row = adoption_comparison_row(c, term="bme:letter_to_ceo", rule="letter_to_ceo")
    assert "adopters:no_studies" in row["flags"]


def test_one_trust_per_subgroup_is_defined():
    c = compare_adopters(estimates=[0.4, 0.0], std_errors=[0.2, 0.2], adopted=[1, 0])
    assert c.difference == pytest.approx(0.4) and c.difference_std_error == pytest.approx(math.sqrt(0.08))
    assert c.regression_coefficient is None and "meta_regression_needs_3_studies" in c.flags
