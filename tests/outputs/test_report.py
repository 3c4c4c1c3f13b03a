"""The HTML report: structure, self-containment, disclosure, tolerance of missing tables."""
from __future__ import annotations

import re

import polars as pl
import pytest
from fake_warehouse import build_fake_warehouse, fake_results

from tasks.outputs.report.format import fmt, num
from tasks.outputs.report.page import SECTION_IDS, render_report


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    build_fake_warehouse(d / "w.duckdb", d / "res")
    path = render_report(d / "w.duckdb", out_path=d / "report.html")
    return path.read_text(encoding="utf-8")


def _section(html: str, sid: str) -> str:
    m = re.search(rf'<section id="{sid}">(.*?)</section>', html, re.DOTALL)
    assert m, sid
    return m.group(1)


def test_every_section_is_present_once_in_order(report):
    positions = [report.find(f'<section id="{sid}">') for sid in SECTION_IDS]
    assert all(p >= 0 for p in positions)
    assert positions == sorted(positions)
    assert len(SECTION_IDS) == 14
    for sid in SECTION_IDS:
        assert report.count(f'id="{sid}"') == 1


def test_report_is_self_contained(report):
    assert "<script" not in report.lower()
    for attr in re.findall(r'\b(?:src|href|xlink:href|action|poster|data)\s*=\s*"([^"]*)"', report, re.IGNORECASE):
        assert not re.match(r"^\s*(https?:|//|ftp:)", attr, re.IGNORECASE), attr
        assert attr.startswith("#"), attr  # only in-page links
    assert not re.search(r"url\(\s*['\"]?\s*(https?:|//)", report, re.IGNORECASE)
    assert "@import" not in report
    for tag in ("<link", "<img", "<iframe", "<object", "<embed", "<audio", "<video"):
        assert tag not in report.lower()
    assert not re.search(r"https?://", report)
    assert "<svg" in report and "<style>" in report
    assert "default-src 'none'" in report  # CSP: the browser itself refuses any fetch


def test_charts_are_drawn_where_data_exist(report):
    assert "<svg" in _section(report, "section-funnel")
    odds = _section(report, "section-odds-ratios")
    assert "<svg" in odds and "BME vs White, with a letter to the CEO" in odds and "few events" in odds
    assert "bme@letter_to_ceo=1" not in odds  # model syntax only in the technical appendix
    assert "bme@letter_to_ceo=1" in _section(report, "section-technical")
    wres = _section(report, "section-wres")
    assert 'fill="#e8f1fb"' in wres  # the 0.80-1.25 band
    # the fake run has no WRES-year rows: no national year can be matched, so no line, and the note says why
    assert "England, WRES" not in wres and "no WRES-year figures" in wres
    assert "four-fifths (0.80)" in _section(report, "section-adverse-impact")
    assert "programme start" in _section(report, "section-its")
    assert "Model Employer" in _section(report, "section-representation")


def test_report_shows_no_small_count_and_no_member_level_rows(report):
    funnel = _section(report, "section-funnel")
    table = funnel[funnel.find("<table"):]
    header = re.findall(r"<th>(.*?)</th>", table)
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.DOTALL)[1:]:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
        for col, v in zip(header, cells):
            if col in ("applications", "shortlisted", "interviewed", "offered", "appointed"):
                assert v == "*" or (int(v) % 5 == 0 and not 1 <= int(v) <= 7), (col, v)
    assert "P-a1b2c3d4e5f6" not in report  # per-panel-member severity is never published


def test_summary_and_metadata(report):
    s = _section(report, "section-summary")
    assert "1.50 times" in s and "the 95% CI includes 1" in s
    assert "statistically significant" not in s  # one signal per sentence: the CI, not a band and a test
    m = _section(report, "section-metadata")
    for needle in ("run-fake", "2024-01", "test-version", "ab" * 32, "nhsd-2018"):
        assert needle in m, needle
    assert "nhsd-2018" in _section(report, "section-methods")


def test_sections_without_tables_say_so(tmp_path):
    build_fake_warehouse(tmp_path / "w.duckdb", tmp_path / "res", tables={"funnel_counts": fake_results()["funnel_counts"]})
    html = render_report(tmp_path / "w.duckdb").read_text(encoding="utf-8")
    assert "Not available" not in _section(html, "section-funnel")
    for sid in ("section-odds-ratios", "section-wres", "section-adverse-impact", "section-topics", "section-sentiment",
                "section-scores", "section-representation", "section-its", "section-data-quality"):
        assert "Not available in this run" in _section(html, sid), sid
    assert (tmp_path / "reports").is_dir()  # default output place


def test_missing_columns_fall_back_to_a_table(tmp_path):
    odd = pl.DataFrame({"stage": ["shortlist"], "something_else": [1.5]})
    build_fake_warehouse(tmp_path / "w.duckdb", tmp_path / "res", tables={"odds_ratios": odd})
    html = render_report(tmp_path / "w.duckdb", run_id="run-fake").read_text(encoding="utf-8")
    sec = _section(html, "section-odds-ratios")
    assert "something_else" in sec and "<svg" not in sec


def test_no_published_run_is_a_clear_error(tmp_path):
    from tasks.warehouse.connection import connect

    connect(tmp_path / "empty.duckdb").close()
    with pytest.raises(ValueError, match="no published run"):
        render_report(tmp_path / "empty.duckdb")


def test_value_helpers():
    assert num("*") is None and num("15") == 15.0 and num(None) is None and num(float("nan")) is None
    assert fmt(None) == "–" and fmt(True) == "yes" and fmt(1.23456) == "1.23" and fmt(0.0004) == "0.000400"


def test_number_formats_ratios_proportions_and_p_values():
    from tasks.outputs.report.format import cell, ci_text, p_text, pct, ratio

    assert ratio(0.303) == "0.30" and ratio(1.0) == "1.00" and ci_text(0.599, 0.852) == "0.60 to 0.85"
    assert pct(0.4) == "40.0%" and p_text(2.04e-08) == "p < 0.001" and p_text(0.0412) == "p = 0.04"
    assert cell("p_value", 2.04e-08) == "< 0.001" and cell("odds_ratio", 1.040638095488899) == "1.04"
    assert cell("selection_rate", 0.333) == "33.3%" and cell("ci_low", 0.5991, ratio_ci=True) == "0.60"
    assert "e-0" not in cell("estimate", 0.00002)  # never scientific notation


def test_data_quality_lists_the_checks_that_did_not_pass_first_in_words(tmp_path):
    v = pl.DataFrame({
        "suite": ["applications", "applications", "vacancies"],
        "expectation": ["file_is_utf8", "unknown_ethnicity_share", "posts_positive"],
        "severity": ["warning", "warning", "row-level"], "success": [True, False, True],
        "element_count": [1, 8000, 390], "unexpected_count": [0, 990, 0], "unexpected_percent": [0.0, 12.4, 0.0],
        "action_taken": ["none", "reported", "none"], "file_names": ["applications.csv", "", ""],
        "reason": ["file is UTF-8", "the share of rows with ethnicity not stated is above the threshold",
                   "Number of Posts is below 1"]})
    build_fake_warehouse(tmp_path / "w.duckdb", tmp_path / "res", tables={"validation": v})
    sec = _section(render_report(tmp_path / "w.duckdb", run_id="run-fake").read_text(encoding="utf-8"),
                   "section-data-quality")
    assert "2 of 3 checks passed" in sec
    head = re.findall(r"<th>(.*?)</th>", sec)
    assert head == ["table", "check", "severity", "passed", "rows checked", "rows failing", "action taken", "files",
                    "what the check found"]
    first = re.search(r"<tbody><tr>(.*?)</tr>", sec).group(1)
    assert "unknown_ethnicity_share" in first
    assert "unexpected_percent" not in sec and "12.4" not in sec
