"""Firth's penalised likelihood: the 2x2 and matched-pairs closed forms under separation."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tasks.stats.conditional_logit import ConditionalLogitData
from tasks.stats.firth import firth_binomial, firth_conditional_logit


def test_firth_binomial_two_by_two_equals_haldane():
    # no BME events at all: quasi-complete separation; Firth = log OR with 0.5 added to every cell
    X = np.array([[1.0, 0.0], [1.0, 1.0]])
    beta, cov, conv = firth_binomial(X, trials=np.array([100.0, 25.0]), events=np.array([30.0, 0.0]))
    assert conv
    assert beta[1] == pytest.approx(math.log(0.5 * 70.5 / (25.5 * 30.5)), abs=1e-6)
    assert np.all(np.isfinite(cov)) and cov[1, 1] > 0


def test_firth_conditional_logit_matched_pairs():
    # BME never offered in 25 informative pairs: Firth = log((n10 + 1/2) / (n01 + 1/2))
    X = np.array([[1.0], [0.0]] * 25)
    y = np.array([0.0, 1.0] * 25)
    codes = np.repeat(np.arange(25), 2)
    beta, cov, _ = firth_conditional_logit(ConditionalLogitData(X, y, codes), 1)
    assert beta[0] == pytest.approx(math.log(0.5 / 25.5), abs=1e-3)
    assert cov[0, 0] > 0
