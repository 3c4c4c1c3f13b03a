"""Term names in the report and artifacts come from the vocabulary: a renamed term cannot empty the forest plot."""
from __future__ import annotations

import re

import polars as pl

from tasks.core.display import display_term
from tasks.core.vocabulary import (
    ANALYSIS_MAIN,
    CONTRAST_LEVELS,
    INTERACTION_TERMS,
    TERM_BME,
    TERM_DIVERSE_PANEL,
    TERM_FEMALE,
    TERM_LETTER_TO_CEO,
    TERM_POST_PROGRAMME,
    contrast_term,
    interaction,
)
from tasks.outputs import artifacts
from tasks.outputs.report.sections.base import Ctx
from tasks.outputs.report.sections.funnel import CONTRAST_TERMS, FOREST_FEATURES, forest_label, section_odds


def _odds(terms: list[str]) -> pl.DataFrame:
    n = len(terms)
    return pl.DataFrame({
        "analysis": [ANALYSIS_MAIN] * n, "stage": ["shortlist"] * n, "model": ["logit"] * n, "term": terms,
        "odds_ratio": [0.8] * n, "ci_low": [0.6] * n, "ci_high": [1.1] * n, "p_value": [0.2] * n,
        "q_value": [0.3] * n, "n_obs": ["400"] * n, "flags": [None] * n,
    })


def _forest_labels(html: str) -> list[str]:
    svg = html[html.index("<svg"):html.index("</svg>")]
    return re.findall(r'<text [^>]*text-anchor="end">([^<]*)</text>', svg)


def test_report_contrast_list_is_the_set_the_vocabulary_builds():
    expected = ({TERM_BME} | {contrast_term(f, level) for f in (TERM_LETTER_TO_CEO, TERM_DIVERSE_PANEL)
                              for level in CONTRAST_LEVELS}
                | {interaction(TERM_BME, f) for f in (TERM_LETTER_TO_CEO, TERM_DIVERSE_PANEL, TERM_POST_PROGRAMME)})
    assert set(CONTRAST_TERMS) == expected
    assert len(CONTRAST_TERMS) == len(expected) == 8
    assert set(INTERACTION_TERMS) <= set(CONTRAST_TERMS)
    assert FOREST_FEATURES == (TERM_LETTER_TO_CEO, TERM_DIVERSE_PANEL)


def test_every_vocabulary_term_appears_in_the_forest_plot_of_a_fake_run():
    others = [TERM_FEMALE, contrast_term(TERM_POST_PROGRAMME, 1), "band=8b"]  # fitted, but not in the plot
    html = section_odds(Ctx({"odds_ratios": _odds(list(CONTRAST_TERMS) + others)}, {}, {}))
    labels = _forest_labels(html)
    assert labels == [forest_label("shortlist", t) for t in CONTRAST_TERMS]
    assert len(set(labels)) == len(CONTRAST_TERMS)  # every term has its own words
    for t in others:
        assert forest_label("shortlist", t) not in labels


def test_artifacts_key_odds_ratios_follow_the_vocabulary():
    terms = list(CONTRAST_TERMS) + [contrast_term(TERM_POST_PROGRAMME, 0), TERM_FEMALE]
    rows = artifacts.key_odds_ratios(_odds(terms))
    assert {r["comparison"] for r in rows} == {display_term(t) for t in set(terms) - {TERM_FEMALE}}
    assert set(artifacts.KEY_TERMS) == {TERM_BME, *INTERACTION_TERMS}
