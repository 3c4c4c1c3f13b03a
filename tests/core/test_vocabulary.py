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


def test_wres_year_runs_april_to_march_and_matches_the_national_year_it_ends_in():
    assert V.financial_year(2023, 3) == "2022/23" and V.financial_year(2023, 4) == "2023/24"
    assert V.financial_year(1999, 12) == "1999/00"
    assert V.financial_year_end("2022/23") == 2023
