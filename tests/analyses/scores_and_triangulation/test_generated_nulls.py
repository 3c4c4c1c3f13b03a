"""False-positive rates at the nominal 5% on generated trusts with planted nulls: score gap and assessment tone.

Data: ``REPLICATES`` = 420 trusts of ``APPLICATIONS`` = 1,500 applications
from the project's generator, with the interview-score ``bme`` term and the
assessment-tone ``bme`` term planted at 0 (every other effect as in
effects/default.yaml, so candidates still differ by offer, internal status,
vacancy and panel member), drawn in process (in_process.py: the generator's
own draws for the seed, without files, ingest or the text's sentiment scoring).
Each trust is independent (its own seed).  Pre-registered: seeds
``NULL_SEEDS`` (fixed before the first run; none replaced), sizes, rule.

Estimators (cheap fits, about 50 ms a trust including the draws):

* score gap: ``score_models.fit_cluster_ols``, the published ``linear``
  model (score ~ bme + female + internal + band, vacancy-clustered CR1 SEs,
  t(G-1)); the ``bme`` p-value.  The primary mixed model costs ~0.15 s a
  fit, too much for 420 in CI: its null rate is the 20-trust fast test and the
  420-trust slow test in test_scores_recovery.py.
* tone: ``tasks.analyses.text.tables.bme_effects``, fully adjusted (offered,
  normalised score, band; vacancy-clustered), on each assessment's planted
  share of positive sentences.  This tests the tone comparison's inference
  on the generator's structure (documents nested in vacancies, tone driven by
  the offer); the lexicon's measurement of that tone is tested in
  tests/analyses/text/.

Rule, for each estimator (family-wise 1% over the two): the number of
p < 0.05 is at most c, the smallest count with P(Bin(420, 0.05) > c) <= 0.5%,
i.e. c = 33 (P = 0.40%).  Power: an estimator rejecting at twice the nominal
rate (10%) fails with probability P(Bin(420, 0.10) > 33) = 0.92
(``test_null_rule_size_and_power`` recomputes both, and
``test_rule_rejects_twice_the_nominal_rate`` applies that doubling to the
real p-values).
"""
from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from in_process import score_and_tone_frames
from scipy import stats

from tasks.analyses.scores_and_triangulation import interview_scores as isc
from tasks.analyses.scores_and_triangulation import score_models as scm
from tasks.analyses.text.tables import ADJ_FULL, bme_effects
from tasks.core.vocabulary import STAGE_ASSESSMENT_TONE, STAGE_INTERVIEW_SCORE, TERM_BME

REPLICATES = 420
APPLICATIONS = 1500
NULL_SEEDS = range(70_000, 70_000 + REPLICATES)  # pre-registered
ALPHA_EACH = 0.005
NULL_EFFECTS = {"models": {STAGE_INTERVIEW_SCORE: {"terms": {TERM_BME: 0.0}},
                           STAGE_ASSESSMENT_TONE: {"terms": {TERM_BME: 0.0}}}}
SCORE, TONE = "score_gap", "tone"


def upper_limit(n: int, *, alpha: float = ALPHA_EACH, rate: float = 0.05) -> int:
    """Smallest c with P(Bin(n, rate) > c) <= alpha."""
    c = 0
    while stats.binom.sf(c, n, rate) > alpha:
        c += 1
    return c


def null_p_values(seed: int) -> tuple[float, float]:
    """(score-gap p, tone p) of one null trust."""
    cands, tone = score_and_tone_frames(seed, APPLICATIONS, NULL_EFFECTS)
    p_score = scm.fit_cluster_ols(cands).filter(pl.col("term") == TERM_BME)["p_value"][0]
    p_tone = next(e["p_value"] for e in bme_effects(tone, {"sentiment": TERM_BME}) if e["adjustment"] == ADJ_FULL)
    return p_score, p_tone


@pytest.fixture(scope="module")
def p_values() -> dict[str, np.ndarray]:
    ps = np.array([null_p_values(s) for s in NULL_SEEDS], dtype=float)
    return {SCORE: ps[:, 0], TONE: ps[:, 1]}


def test_null_rule_size_and_power():
    c = upper_limit(REPLICATES)
    assert c == 33
    assert stats.binom.sf(c, REPLICATES, 0.05) <= ALPHA_EACH < stats.binom.sf(c - 1, REPLICATES, 0.05)
    assert stats.binom.sf(c, REPLICATES, 0.10) >= 0.90


@pytest.mark.parametrize("estimator", [SCORE, TONE])
def test_null_significant_at_the_nominal_rate(p_values, estimator):
    p = p_values[estimator]
    assert p.size == REPLICATES and np.isfinite(p).all()
    assert (p < 0.05).sum() <= upper_limit(REPLICATES), ((p < 0.05).sum(), upper_limit(REPLICATES))


@pytest.mark.parametrize("estimator", [SCORE, TONE])
def test_rule_rejects_twice_the_nominal_rate(p_values, estimator):
    """Mutation check: the same fits with SEs shrunk so that the test rejects at ~10% fail the rule."""
    z = stats.norm.isf(p_values[estimator] / 2) * 1.96 / 1.645
    assert (2 * stats.norm.sf(z) < 0.05).sum() > upper_limit(REPLICATES)


def test_in_process_scores_match_a_written_trust(tmp_path):
    """in_process.py draws what generate_trust writes: the same candidate scores for the same seed."""
    from test_scores_recovery import extract_frames

    import edi_recruit.synthetic.generator as gen

    gen.generate_trust(tmp_path, seed=70_000, applications=APPLICATIONS, effects=NULL_EFFECTS)
    sheets, funnel = extract_frames(tmp_path)
    _, written = isc.prepare(sheets, funnel)
    drawn, tone = score_and_tone_frames(70_000, APPLICATIONS, NULL_EFFECTS)
    key = ["application_id", "score", "bme"]
    assert written.select(key).sort("application_id").equals(drawn.select(key).sort("application_id"))
    assert tone.height == pl.read_csv(tmp_path / "assessments.csv", infer_schema=False).height
