"""The national generator: planted spread between trusts, adoption shift, sizes, regions, manifest and truth."""
from __future__ import annotations

import json

import numpy as np
import pytest

from edi_recruit.synthetic.national import DEFAULT_TAU, draw_national, generate_national
from tasks.core.vocabulary import NHS_REGIONS
from tasks.national.manifest import read_manifest

MEANS = {stage: {term: 0.5 for term in terms} for stage, terms in DEFAULT_TAU.items()}


def _draw(trusts=4000, shift=None, tau=DEFAULT_TAU, seed=3):
    return draw_national(trusts=trusts, seed=seed, applications=8000, size_sd=0.5, adoption_rate=0.5, tau=tau,
                         means=MEANS, adoption_shift=shift or {"letter_to_ceo": 0.0, "diverse_panel": 0.0})


def test_planted_terms_have_the_requested_mean_and_spread():
    plan = _draw()
    for stage, terms in DEFAULT_TAU.items():
        for term, tau in terms.items():
            v = np.array([t["planted"][stage][term] for t in plan])
            assert v.mean() == pytest.approx(0.5, abs=4 * tau / np.sqrt(v.size))
            assert v.std(ddof=1) == pytest.approx(tau, rel=0.06)


def test_adoption_shift_moves_only_adopters_offer_post_programme():
    plan = _draw(shift={"letter_to_ceo": 0.0, "diverse_panel": 0.3})
    post = np.array([t["planted"]["offer"]["bme:post_programme"] for t in plan])
    adopt = np.array([t["adopts"]["diverse_panel"] for t in plan])
    assert post[adopt].mean() - post[~adopt].mean() == pytest.approx(0.3, abs=0.03)
    letter = np.array([t["planted"]["offer"]["bme:letter_to_ceo"] for t in plan])
    assert abs(letter[adopt].mean() - letter[~adopt].mean()) < 0.03


def test_sizes_regions_and_determinism():
    plan = _draw()
    sizes = np.array([t["applications"] for t in plan])
    assert sizes.min() >= 300 and sizes.mean() == pytest.approx(8000, rel=0.05)
    assert {t["region"] for t in plan} == set(NHS_REGIONS)
    assert _draw(seed=3) == plan and _draw(seed=4) != plan


def test_generate_national_writes_trusts_manifest_and_truth(tmp_path):
    summary = generate_national(tmp_path, trusts=2, seed=9, applications=300, size_sd=0.0)
    m = read_manifest(summary.manifest)
    assert m.codes() == ["S001", "S002"] and m.as_of == "2024-01"
    truth = json.loads(summary.truth.read_text())
    for t, entry in zip(truth["trusts"], m.trusts):
        trust_truth = json.loads((tmp_path / t["trust_code"] / "extracts" / "truth.json").read_text())
        for stage, terms in t["planted"].items():   # each trust's own truth.json holds its planted values
            for term, value in terms.items():
                assert trust_truth["models"][stage]["terms"][term] == pytest.approx(value)
        assert entry.adopts == t["adopts"] and entry.region == t["region"]
    assert summary.applications == sum(t["applications"] for t in truth["trusts"])
