"""The report reads in an EDI lead's words: one colour per group in every chart (checked from the SVG),
"adverse" never a group colour, and no raw model term outside the technical appendix (checked from the HTML)."""
from __future__ import annotations

import html as htmllib
import re

import pytest
from fake_warehouse import build_fake_warehouse
from report_helpers import complete_results

from tasks.core.display import STAGE_DISPLAY
from tasks.core.vocabulary import (
    TERM_DIVERSE_PANEL,
    TERM_LETTER_TO_CEO,
    WRES_BME,
    WRES_UNKNOWN,
    WRES_WHITE,
)
from tasks.outputs.report.css import ADVERSE_STROKE, GROUP_COLOURS
from tasks.outputs.report.page import render_report


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> str:
    d = tmp_path_factory.mktemp("readable")
    build_fake_warehouse(d / "w.duckdb", d / "res", tables=complete_results())
    return render_report(d / "w.duckdb", out_path=d / "report.html").read_text(encoding="utf-8")


def _group_colours(html: str) -> dict[str, set[str]]:
    """group -> the colours of every mark (SVG fill/stroke, legend swatch background) that stands for it."""
    seen: dict[str, set[str]] = {}
    for tag in re.findall(r"<[^>]*\bdata-group=\"[^\"]*\"[^>]*>", html):
        group = htmllib.unescape(re.search(r'data-group="([^"]*)"', tag).group(1))
        colour = re.search(r'(?:fill|stroke)="(#[0-9A-Fa-f]{6})"|background:(#[0-9A-Fa-f]{6})', tag)
        assert colour, tag
        seen.setdefault(group, set()).add((colour.group(1) or colour.group(2)).upper())
    return seen


def test_every_chart_uses_one_colour_per_group(report):
    seen = _group_colours(report)
    assert {WRES_WHITE, WRES_BME} <= set(seen), seen  # the checks had marks to look at
    charts = [s for s in re.findall(r"<svg.*?</svg>", report, re.DOTALL) if "data-group" in s]
    assert len(charts) >= 4  # funnel, adverse impact, topics, scores, sentiment...
    for group, colours in seen.items():
        assert colours == {GROUP_COLOURS[group].upper()}, (group, colours)
    wres = [GROUP_COLOURS[g] for g in (WRES_WHITE, WRES_BME, WRES_UNKNOWN)]
    assert len(set(wres)) == 3


def test_adverse_is_a_hatch_not_a_group_colour(report):
    assert ADVERSE_STROKE.upper() not in {c.upper() for c in GROUP_COLOURS.values()}
    adverse = re.findall(r"<rect[^>]*data-adverse=\"1\"[^>]*>", report)
    assert adverse and all('fill="url(#adverse-hatch)"' in a for a in adverse)
    assert "adverse (hatched)" in report


def test_the_colour_check_can_fail():
    bad = ('<svg><rect fill="#0072B2" data-group="White"/></svg><svg><rect fill="#E69F00" data-group="White"/></svg>')
    assert _group_colours(bad) == {"White": {"#0072B2", "#E69F00"}}


RAW_TERM = re.compile(r"bme[@:]|\b(?:post_programme|letter_to_ceo|diverse_panel|apply_workforce|apply_pool|"
                      r"appoint_from_shortlist|interview_score|manager_bme|level_change|slope_change|pre_slope)\b|"
                      r"\bband=|\btheme=|\bage_band=")


def _visible_text(fragment: str) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", fragment))


def test_no_raw_model_term_outside_the_technical_appendix(report):
    technical = re.search(r'<section id="section-technical">.*?</section>', report, re.DOTALL).group(0)
    assert RAW_TERM.search(_visible_text(technical))  # the appendix does hold them: the pattern can match
    rest = report.replace(technical, "")
    found = sorted({m.group(0) for m in RAW_TERM.finditer(_visible_text(rest))})
    assert found == [], found
    for words in STAGE_DISPLAY.values():
        assert "_" not in words


def test_first_screen_in_the_rendered_report(report):
    s = re.search(r'<section id="section-summary">.*?</section>', report, re.DOTALL).group(0)
    assert re.findall(r'data-stage="([^"]+)"', s) == ["applying", "shortlisting", "interview", "offer", "appointment"]
    assert re.findall(r'data-rule="([^"]+)"', s) == [TERM_LETTER_TO_CEO, TERM_DIVERSE_PANEL]
    assert "England 1.59" in s and "1.80" not in s  # WRES 2023 = year 2022/23; the regional 2024 row never
    assert "OR ≈ 1.7" in s


def test_topics_and_tone_by_quarter(report):
    topics = re.search(r'<section id="section-topics">.*?</section>', report, re.DOTALL).group(0)
    assert "Topic shares of interview assessments by quarter" in topics and "2022-Q4" in topics
    tone = re.search(r'<section id="section-sentiment">.*?</section>', report, re.DOTALL).group(0)
    assert "Tone by quarter of writing" in tone and tone.count("<polyline") >= 2  # assessments and letters
