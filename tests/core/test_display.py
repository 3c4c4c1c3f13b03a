"""Display names: every stage, term, code, group and band in words, built by :mod:`tasks.core.display` from the
machine names of :mod:`tasks.core.vocabulary`."""
from __future__ import annotations

from tasks.core import display as D
from tasks.core import vocabulary as V


def test_every_stage_and_binary_term_has_display_words_without_model_syntax():
    for stage in V.FUNNEL_STAGES:
        words = D.display_stage(stage)
        assert words != stage and "_" not in words, stage
    for term in V.BINARY_TERMS + V.INTERACTION_TERMS + (V.TERM_LEVEL_CHANGE, V.TERM_SLOPE_CHANGE):
        words = D.display_term(term)
        assert words != term and not any(ch in words for ch in "_@=:"), (term, words)


def test_contrast_and_interaction_words_follow_feature_and_level():
    assert D.display_term(V.contrast_term(V.TERM_LETTER_TO_CEO, 1)) == "BME vs White, with a letter to the CEO"
    assert D.display_term(V.contrast_term(V.TERM_DIVERSE_PANEL, 0)) == "BME vs White, without a diverse panel"
    assert D.display_term(V.contrast_term(V.TERM_POST_PROGRAMME, 0)) == "BME vs White, before the programme"
    assert D.display_term(V.TERM_BME_X_LETTER) == "Change in the BME vs White gap with a letter to the CEO"
    assert D.display_term(V.band_term("8b")) == "Band 8b (vs 8a)"
    assert D.display_term("unheard_of") == "unheard of"


def test_nhs_codes_groups_and_bands_in_words():
    assert D.display_ethnic_code("A") == "A (White - British)"
    assert D.display_ethnic_code("aa") == "AA (a local code within A: White - British)"
    assert D.display_ethnic_code("99") == "99 (Not known)"
    assert D.display_ethnic_code("CP") == "CP (a local code within C: White - Any other White background)"
    assert D.display_group(V.WRES_UNKNOWN) == "Ethnicity not known"
    assert D.display_band("VSM") == "Very senior managers (VSM)" and D.display_band("8a") == "Band 8a"


def test_display_names_have_one_home():
    assert not [n for n in vars(V) if n.startswith("display_") or n.endswith("_DISPLAY")]
    helpers = [f for n, f in vars(D).items() if n.startswith("display_")]
    assert len(helpers) == 7 and all(f.__module__ == "tasks.core.display" for f in helpers)
