"""A CI test with the power to see a halved CEO-letter effect (OR 1.7 -> 1.3) in the generator or the estimator.

Data: six trusts of 100,000 applications from the project's generator
(effects/default.yaml), drawn in process up to the funnel outcomes
(offer_draws.py: the same draws ``generate_trust`` writes; checked below
against a written extract), without the writers, the free text or the ingest.
Each is fitted by the run-time offer estimator: ``offer_population`` and the
conditional logit of ``odds_ratios`` (``fit_conditional_logit`` with
``SPEC_CONDITIONAL``, stratified by vacancy), on its own exact-likelihood
path (``statsmodels_max_rows=0``; statsmodels' ConditionalLogit gives the same
estimates and SEs to 1e-6, tests/stats/test_conditional_logit.py, but takes
~12 s a trust here instead of ~1 s).

Pre-registered (fixed before the first run; no seed was replaced): seeds
``POWER_SEEDS``, ``POWER_APPLICATIONS`` applications each.  Rule: the
recovery rule of replicates.py over the six trusts for the offer stage's four
planted terms (``bme``, ``bme:letter_to_ceo``, ``bme:diverse_panel``,
``bme:post_programme``), family-wise error 1%: at least k of 6 CIs cover
(k from Binomial(6, 0.95)), and |mean bias| <= z x se_mean with
z = z_{1 - 0.01/16} = 3.23 and se_mean = sqrt(sum SE_i^2) / 6.

Power: at 100,000 applications (~4,300 informative vacancies) the SE of
``bme:letter_to_ceo`` is ~0.105, so se_mean ~0.043 and the bias bound is
~0.14.  A halved letter effect (0.55 -> 0.275) moves the mean by 0.275 and
fails the bound unless the noise is beyond +0.137 = 3.2 se_mean: power 0.999.
A sign flip moves it by 1.1.  ``test_letter_term_recovered_with_power`` checks
the power on the SEs it actually got (the shift of a halving is at least the
bound plus z_{0.99} x se_mean, i.e. power >= 99%).  The mutation checks below
plant both errors in the generator (its effects) and in the estimator (its
reported coefficient); docs/methods.md 1.7 records the same errors planted in
the source code (outcomes.py, fits.py) and this module failing.
"""
from __future__ import annotations

import copy

import numpy as np
import polars as pl
import pytest
import replicates as R
from offer_draws import generated_funnel
from scipy import stats

import edi_recruit.synthetic.generator as gen
from tasks.analyses.funnel_statistics import odds_ratios as ort
from tasks.analyses.funnel_statistics.populations import offer_population, with_disability_indicator
from tasks.analyses.funnel_statistics.specs import SPEC_CONDITIONAL, present
from tasks.core.vocabulary import STAGE_OFFER, TERM_BME_X_LETTER

POWER_SEEDS = (601, 602, 603, 604, 605, 606)  # pre-registered
POWER_APPLICATIONS = 100_000
FAMILY_ALPHA = 0.01


def _offer_fit(af: pl.DataFrame):
    pop = offer_population(with_disability_indicator(af))
    return ort.fit_conditional_logit(pop, present(pop, SPEC_CONDITIONAL), "offered", "vacancy_id",
                                     stage=STAGE_OFFER, statsmodels_max_rows=0)


def offer_replicates(effects: dict | None = None) -> list[R.Replicate]:
    """The offer fits of the six pre-registered trusts (``effects``: e.g. a mutated generator)."""
    return [R.Replicate({STAGE_OFFER: _offer_fit(generated_funnel(s, POWER_APPLICATIONS, effects))})
            for s in POWER_SEEDS]


def planted() -> dict:
    """What the tests judge against: effects/default.yaml, whatever the trusts were drawn with."""
    return gen.load_effects(None)


def _mutated_effects(factor: float) -> dict:
    eff = copy.deepcopy(gen.load_effects(None))
    eff["models"][STAGE_OFFER]["terms"][TERM_BME_X_LETTER] *= factor
    return eff


def letter_failures(reps: list[R.Replicate]) -> list[str]:
    return R.recovery_failures(reps, planted(), (STAGE_OFFER,), alpha=FAMILY_ALPHA)


@pytest.fixture(scope="module")
def default_offer_replicates() -> list[R.Replicate]:
    return offer_replicates()


def test_offer_draws_match_the_written_extract(tmp_path):
    """offer_draws reproduces generate_trust's funnel draws (same streams, same order), row for row."""
    gen.generate_trust(tmp_path, seed=5, applications=3000)
    raw = pl.read_csv(tmp_path / "applications.csv", infer_schema=False)
    vac = pl.read_csv(tmp_path / "vacancies.csv", infer_schema=False)
    af = generated_funnel(5, 3000)
    assert af.height == raw.height
    for col, name in (("shortlisted", "Shortlisted"), ("interviewed", "Interviewed"), ("offered", "Offered")):
        assert af[col].to_list() == (raw[name] == "Y").cast(pl.Int64).to_list(), col
    assert af.group_by("vacancy_id", maintain_order=True).agg(pl.col("letter_to_ceo").first())[
        "letter_to_ceo"].to_list() == (vac["CEO Letter Required"] == "Y").cast(pl.Int64).to_list()
    assert af["bme"].null_count() > 0 and af["offered"].sum() > 0


def test_letter_term_recovered_with_power(default_offer_replicates):
    reps = default_offer_replicates
    assert not letter_failures(reps), letter_failures(reps)
    # the power this rule has on these SEs against a halved letter effect (a shift of 0.275)
    _, se_mean = R.mean_bias(reps, STAGE_OFFER, TERM_BME_X_LETTER, 0.55)
    z = stats.norm.isf(FAMILY_ALPHA / 8 / 2)
    assert 0.275 >= z * se_mean + stats.norm.isf(0.01) * se_mean, se_mean


@pytest.mark.parametrize("factor", [0.5, -1.0], ids=["halved", "sign_flipped"])
def test_rule_rejects_a_generator_with_the_letter_effect_mutated(factor):
    """Mutation check: trusts drawn with bme:letter_to_ceo = 0.275 or -0.55, judged against the planted 0.55."""
    failures = letter_failures(offer_replicates(_mutated_effects(factor)))
    assert any(TERM_BME_X_LETTER in f for f in failures), failures


@pytest.mark.parametrize("fn", [lambda b: b / 2, lambda b: -b], ids=["halved", "sign_flipped"])
def test_rule_rejects_an_estimator_with_the_letter_effect_mutated(default_offer_replicates, fn):
    """Mutation check: an estimator reporting bme:letter_to_ceo halved or with its sign flipped."""
    failures = letter_failures(R.shift_param(default_offer_replicates, STAGE_OFFER, TERM_BME_X_LETTER, fn))
    assert any(TERM_BME_X_LETTER in f for f in failures), failures
    assert np.isfinite([r.fits[STAGE_OFFER].params for r in default_offer_replicates]).all()
