"""False-positive rate of the funnel estimators at the nominal 5%, on planted null terms.

Direct simulation into the estimators (fast replicates): each replicate is a
small trust of ``VACANCIES`` vacancies with a planted BME main effect, a
vacancy random intercept (so the clustering matters) and a planted-null
``bme:post_programme`` interaction, fitted by the real
``fits.fit_logit`` (vacancy-clustered SEs) and ``fits.fit_conditional_logit``.
The conditional logit runs on its own exact-likelihood path
(``statsmodels_max_rows=0``): statsmodels' ConditionalLogit takes ~2 s a fit
here, 15 minutes for 420, and the two engines agree to 1e-6 in estimates and
SEs (tests/stats/test_conditional_logit.py; on these replicates too).

Rule (stated in advance): over ``REPLICATES`` replicates the number of
p < 0.05 for the null term of each estimator is at most ``c``, the smallest
count with P(Bin(n, 0.05) > c) <= 0.5% (two estimators: family-wise 1%).

Power: with n = 420, c = 33; an estimator that rejects at 10% (twice the
nominal rate) has P(Bin(420, 0.10) > 33) = 0.92 of failing
(``test_rule_has_the_stated_size_and_power`` recomputes both numbers).
"""
from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from tasks.analyses.funnel_statistics.fits import fit_conditional_logit, fit_logit
from tasks.analyses.funnel_statistics.specs import Spec
from tasks.core.vocabulary import STAGE_OFFER, STAGE_SHORTLIST, TERM_BME, TERM_BME_X_POST, TERM_POST_PROGRAMME
from tasks.stats.intervals import wald_p_value

REPLICATES = 420
VACANCIES = 60
ALPHA = 0.005
SPEC_LOGIT = Spec((TERM_BME, TERM_POST_PROGRAMME), (), ((TERM_BME, TERM_POST_PROGRAMME),))
SPEC_CLOGIT = Spec((TERM_BME,), (), ((TERM_BME, TERM_POST_PROGRAMME),), intercept=False)


def upper_limit(n: int, *, alpha: float = ALPHA, rate: float = 0.05) -> int:
    """Smallest c with P(Bin(n, rate) > c) <= alpha."""
    c = int(stats.binom.isf(alpha, n, rate))
    while stats.binom.sf(c, n, rate) > alpha:
        c += 1
    while c > 0 and stats.binom.sf(c - 1, n, rate) <= alpha:
        c -= 1
    return c


def _replicate(seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    m = rng.poisson(9, VACANCIES) + 3
    vac = np.repeat(np.arange(VACANCIES), m)
    n = vac.size
    post = rng.binomial(1, 0.5, VACANCIES)[vac]
    bme = rng.binomial(1, 0.35, n)
    u = rng.normal(0, 0.5, VACANCIES)[vac]
    shortlisted = rng.random(n) < 1 / (1 + np.exp(-(-0.8 - 0.35 * bme + u)))  # bme:post_programme = 0
    util = -0.45 * bme + rng.gumbel(size=n)                                      # bme:post_programme = 0
    order = np.lexsort((-util, vac))
    first = np.r_[True, vac[order][1:] != vac[order][:-1]]
    offered = np.zeros(n, int)
    offered[order[first]] = 1
    return pl.DataFrame({"vacancy_id": vac, TERM_BME: bme, TERM_POST_PROGRAMME: post,
                         "shortlisted": shortlisted.astype(int), "offered": offered})


def _p(fit) -> float:
    j = fit.index(TERM_BME_X_POST)
    return wald_p_value(estimate=float(fit.params[j]), std_error=float(np.sqrt(fit.cov[j, j])))


def test_rule_has_the_stated_size_and_power():
    c = upper_limit(REPLICATES)
    assert c == 33
    assert stats.binom.sf(c, REPLICATES, 0.05) <= ALPHA < stats.binom.sf(c - 1, REPLICATES, 0.05)
    assert stats.binom.sf(c, REPLICATES, 0.10) >= 0.90


@pytest.fixture(scope="module")
def null_p_values() -> dict[str, list[float]]:
    out: dict[str, list[float]] = {STAGE_SHORTLIST: [], STAGE_OFFER: []}
    for seed in range(50_000, 50_000 + REPLICATES):
        d = _replicate(seed)
        out[STAGE_SHORTLIST].append(_p(fit_logit(d, SPEC_LOGIT, "shortlisted", "vacancy_id", stage=STAGE_SHORTLIST)))
        out[STAGE_OFFER].append(_p(fit_conditional_logit(d, SPEC_CLOGIT, "offered", "vacancy_id", stage=STAGE_OFFER,
                                                         statsmodels_max_rows=0)))
    return out


@pytest.mark.parametrize("stage", [STAGE_SHORTLIST, STAGE_OFFER])
def test_null_term_significant_at_the_nominal_rate(null_p_values, stage):
    p = np.array(null_p_values[stage])
    assert np.isfinite(p).all()
    assert (p < 0.05).sum() <= upper_limit(REPLICATES), ((p < 0.05).sum(), upper_limit(REPLICATES))


def test_rule_rejects_an_estimator_at_twice_the_nominal_rate(null_p_values):
    """Mutation check: SEs shrunk so that the test rejects at ~10% (z 1.645 read as 1.96) fail the rule."""
    p = np.array(null_p_values[STAGE_SHORTLIST])
    z = stats.norm.isf(p / 2) * 1.96 / 1.645
    assert (2 * stats.norm.sf(z) < 0.05).sum() > upper_limit(REPLICATES)


def test_conditional_logit_paths_agree_on_these_replicates():
    for seed in (50_000, 50_001, 50_002):
        d = _replicate(seed)
        own = fit_conditional_logit(d, SPEC_CLOGIT, "offered", "vacancy_id", stage=STAGE_OFFER, statsmodels_max_rows=0)
        sm = fit_conditional_logit(d, SPEC_CLOGIT, "offered", "vacancy_id", stage=STAGE_OFFER)
        assert own.engine != sm.engine
        np.testing.assert_allclose(own.params, sm.params, atol=1e-6)
        np.testing.assert_allclose(np.sqrt(np.diag(own.cov)), np.sqrt(np.diag(sm.cov)), atol=1e-5)
