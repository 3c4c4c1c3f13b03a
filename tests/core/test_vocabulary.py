"""Derived term names are built by the vocabulary's helpers, with the values the result tables carry."""
from __future__ import annotations

from tasks.core import vocabulary as V


def test_interaction_terms_are_built_from_their_parts():
    assert V.INTERACTION_TERMS == ("bme:letter_to_ceo", "bme:diverse_panel", "bme:post_programme")
    assert V.TERM_BME_X_PANEL == V.interaction(V.TERM_BME, V.TERM_DIVERSE_PANEL)
    assert V.topic_term("leadership") == "bme:theme=leadership"


def test_contrast_terms_feature_by_feature_each_level_in_order():
    assert V.CONTRAST_PREFIX == "bme@"
    assert V.contrast_term(V.TERM_LETTER_TO_CEO, 1) == "bme@letter_to_ceo=1"
    assert V.contrast_terms((V.TERM_LETTER_TO_CEO, V.TERM_DIVERSE_PANEL)) == (
        "bme@letter_to_ceo=1", "bme@letter_to_ceo=0", "bme@diverse_panel=1", "bme@diverse_panel=0")
    assert V.contrast_terms((V.TERM_POST_PROGRAMME,), levels=(0,)) == ("bme@post_programme=0",)
    assert all(t.startswith(V.CONTRAST_PREFIX) for t in V.contrast_terms((V.TERM_DIVERSE_PANEL,)))


# ---- display vocabulary: the words a reader sees -------------------------------------------------
def test_every_stage_and_binary_term_has_display_words_without_model_syntax():
    for stage in V.FUNNEL_STAGES:
        words = V.display_stage(stage)
        assert words != stage and "_" not in words, stage
    for term in V.BINARY_TERMS + V.INTERACTION_TERMS + (V.TERM_LEVEL_CHANGE, V.TERM_SLOPE_CHANGE):
        words = V.display_term(term)
        assert words != term and not any(ch in words for ch in "_@=:"), (term, words)


def test_contrast_and_interaction_words_follow_feature_and_level():
    assert V.display_term(V.contrast_term(V.TERM_LETTER_TO_CEO, 1)) == "BME vs White, with a letter to the CEO"
    assert V.display_term(V.contrast_term(V.TERM_DIVERSE_PANEL, 0)) == "BME vs White, without a diverse panel"
    assert V.display_term(V.contrast_term(V.TERM_POST_PROGRAMME, 0)) == "BME vs White, before the programme"
    assert V.display_term(V.TERM_BME_X_LETTER) == "Change in the BME vs White gap with a letter to the CEO"
    assert V.display_term(V.band_term("8b")) == "Band 8b (vs 8a)"
    assert V.display_term("unheard_of") == "unheard of"


def test_nhs_codes_groups_and_bands_in_words():
    assert V.display_ethnic_code("A") == "A (White - British)"
    assert V.display_ethnic_code("aa") == "AA (a local code within A: White - British)"
    assert V.display_ethnic_code("99") == "99 (Not known)"
    assert V.display_ethnic_code("CP") == "CP (a local code within C: White - Any other White background)"
    assert V.display_group(V.WRES_UNKNOWN) == "Ethnicity not known"
    assert V.display_band("VSM") == "Very senior managers (VSM)" and V.display_band("8a") == "Band 8a"


def test_wres_year_runs_april_to_march_and_matches_the_national_year_it_ends_in():
    assert V.financial_year(2023, 3) == "2022/23" and V.financial_year(2023, 4) == "2023/24"
    assert V.financial_year(1999, 12) == "1999/00"
    assert V.financial_year_end("2022/23") == 2023
