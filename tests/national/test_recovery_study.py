"""Recovery study of the national pooling (issue 16): coverage of the pooled bme:letter_to_ceo CI and tau.

Each replicate is a national set drawn as the national generator draws it
(edi_recruit/synthetic/national.py: lognormal trust sizes around 8,000 applications with
SD 0.5 on the log scale, trust effect ``mu + tau z``), and each trust's published
estimate is its effect plus sampling error with the SE a trust of that size publishes:
``SE(n) = SE_8000 * sqrt(8000 / n)``.  ``SE_8000`` is the offer-stage conditional-logit
SE of bme:letter_to_ceo measured on pipeline runs of generated trusts
(:data:`SE_LETTER_8000`: 0.45-0.49 on the 1,400-1,900-application trusts of the end-to-end national
run without Firth correction, scaled by sqrt(n / 8000); docs/methods.md section 6).  The pooling is the
national run's own (tasks.national.meta_analysis.random_effects, REML, z interval).

The end-to-end check that the whole pipeline's published estimates pool to cover the
planted means is tests/flows/test_national_evaluation.py; a study of whole national runs
over hundreds of seeds is beyond this machine (one trust's run takes 20-120 s).

* slow (``make test-slow``): 2,000 replicates of 20 trusts: coverage in [93%, 97%]; 300
  replicates of 200 trusts: mean REML tau^2 and median tau within 10% of the planted values;
* CI: 300 replicates of the same design, coverage in [90%, 98.5%] (a 300-replicate binomial
  at 95% falls outside that band with probability < 0.2%).
"""
from __future__ import annotations

import numpy as np
import pytest

from edi_recruit.synthetic.national import DEFAULT_TAU
from tasks.national.meta_analysis import random_effects

SE_LETTER_8000 = 0.45
MU = 0.55                                  # effects/default.yaml offer bme:letter_to_ceo
TAU = DEFAULT_TAU["offer"]["bme:letter_to_ceo"]


def study(replicates: int, trusts: int, seed: int, tau: float = TAU) -> dict:
    rng = np.random.default_rng(seed)
    covered, tau2 = 0, []
    for _ in range(replicates):
        n = np.maximum(300, np.round(8000 * np.exp(0.5 * rng.standard_normal(trusts) - 0.125)))
        se = SE_LETTER_8000 * np.sqrt(8000 / n)
        y = MU + tau * rng.standard_normal(trusts) + se * rng.standard_normal(trusts)
        pooled = random_effects(estimates=y, std_errors=se)
        covered += pooled.ci_low <= MU <= pooled.ci_high
        tau2.append(pooled.tau2)
    return {"coverage": covered / replicates, "mean_tau2": float(np.mean(tau2)),
            "median_tau": float(np.median(np.sqrt(tau2)))}


@pytest.mark.slow
def test_pooled_letter_ci_covers_93_to_97_percent():
    out = study(2000, 20, seed=16)        # measured 2026-12-02: 94.6%
    assert 0.93 <= out["coverage"] <= 0.97, out


@pytest.mark.slow
def test_tau_is_recovered_at_national_scale():
    """200 trusts (England has about 200): mean REML tau^2 and median tau within 10% of the planted values
    (measured: 0.0402 vs 0.04, 0.1996 vs 0.2).  With 20 trusts tau is poorly determined (the truncation at 0
    lifts the mean tau^2 by about a third and the median tau is about 15% low), which the report's prediction
    interval carries."""
    out = study(300, 200, seed=17)
    assert out["mean_tau2"] == pytest.approx(TAU ** 2, rel=0.10), out
    assert out["median_tau"] == pytest.approx(TAU, rel=0.10), out


def test_pooled_letter_ci_coverage_fast():
    out = study(300, 20, seed=161)
    assert 0.90 <= out["coverage"] <= 0.985, out
    assert 0.0 < out["mean_tau2"] < 3 * TAU ** 2, out


def test_no_spread_gives_tau2_near_zero():
    """tau = 0 planted: most replicates find no spread (REML truncates at 0, which keeps the mean tau^2 a little
    above 0), and the mean stays below the default planted tau^2."""
    out = study(100, 20, seed=162, tau=0.0)
    assert out["median_tau"] < 0.05 and out["mean_tau2"] < TAU ** 2, out
