"""Tests of effects loading and validation and the typed effects views (edi_recruit/synthetic/effects.py)."""
from __future__ import annotations

import pytest

from edi_recruit.synthetic import STAGE_TERMS, load_effects
from tasks.core import vocabulary as V
from tasks.core.paths import EFFECTS_DIR


def test_default_effects_match_registry():
    eff = load_effects(None)
    assert set(eff["models"]) == set(STAGE_TERMS)
    for stage, terms in STAGE_TERMS.items():
        assert set(eff["models"][stage]["terms"]) == set(terms), stage
    assert eff["models"][V.STAGE_OFFER]["terms"][V.TERM_BME_X_LETTER] == pytest.approx(0.55)
    assert V.TERM_INTERCEPT not in eff["models"][V.STAGE_OFFER]["terms"]


def test_effects_override_by_name(tmp_path):
    p = tmp_path / "e.yaml"
    p.write_text("models:\n  offer:\n    terms:\n      'bme:letter_to_ceo': 0.0\n", encoding="utf-8")
    eff = load_effects(p)
    assert eff["models"]["offer"]["terms"]["bme:letter_to_ceo"] == 0.0
    assert eff["models"]["offer"]["terms"]["bme"] == pytest.approx(-0.45)
    assert eff["models"]["shortlist"] == load_effects(None)["models"]["shortlist"]
    alt = load_effects(EFFECTS_DIR / "alternative.yaml")
    assert alt["models"]["offer"]["terms"]["bme:diverse_panel"] == pytest.approx(0.5)


@pytest.mark.parametrize("text, name", [
    ("models:\n  offer:\n    terms:\n      bme_letter: 0.2\n", "bme_letter"),
    ("models:\n  hiring:\n    terms:\n      bme: 0.2\n", "hiring"),
    ("models:\n  programme_impact:\n    terms:\n      level_change: 0.2\n", "level_change"),
    ("models:\n  interview_score:\n    parameters:\n      sigma: 0.2\n", "sigma"),
])
def test_unknown_names_rejected(tmp_path, text, name):
    p = tmp_path / "e.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=name):
        load_effects(p)
