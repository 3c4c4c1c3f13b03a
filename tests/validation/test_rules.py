"""The validation rules as code: suites, severities, placeholders, run parameters, escalation."""
from __future__ import annotations

import json
import re

import pytest

from tasks.core import vocabulary as V
from tasks.core.paths import PROJECT_ROOT
from tasks.validation.rules import (
    FORMULA_PATTERN,
    SEVERITIES,
    VALIDATION_ORDER,
    ValidationCritical,
    frame_params,
    is_systemic,
    load_suite_file,
    resolve_suite,
    suite_params,
    systemic_note,
)

ROOT = PROJECT_ROOT


# ---------------------------------------------------------------- the suites as code
def test_every_staged_table_has_a_suite_with_documented_severities():
    assert set(VALIDATION_ORDER) == set(V.CANONICAL_TABLES)
    for table in VALIDATION_ORDER:
        doc = json.loads((ROOT / "expectations" / f"{table}.json").read_text())
        assert doc["name"] == table
        names = [e["meta"]["name"] for e in doc["expectations"]]
        assert len(names) == len(set(names)), table
        for e in doc["expectations"]:
            assert e["meta"]["severity"] in SEVERITIES, (table, e["meta"]["name"])
            assert e["meta"]["reason"] and e["meta"]["action"], (table, e["meta"]["name"])
            if e["meta"]["severity"] == "row-level":  # row-level needs offending rows: a column map expectation
                assert e["type"].startswith("expect_column_values_"), (table, e["meta"]["name"])


def test_placeholders_resolve_to_the_vocabulary_and_params():
    doc = load_suite_file("vacancies")
    configs, skipped = resolve_suite(doc, {"row_count_min": None, "row_count_max": None})
    assert skipped == ["row_count_drift"]
    band = next(c for c in configs if c["meta"]["name"] == "band_valid")
    assert band["kwargs"]["value_set"] == list(V.SENIOR_BANDS)
    doc = load_suite_file("applications")
    configs, _ = resolve_suite(doc, {"known_ethnicity_min_share": 0.8, "row_count_min": 1, "row_count_max": 2})
    eth = next(c for c in configs if c["meta"]["name"] == "ethnic_code_valid")
    assert eth["kwargs"]["regex"] == V.ETHNIC_CODE_PATTERN
    share = next(c for c in configs if c["meta"]["name"] == "unknown_ethnicity_share")
    assert share["kwargs"]["mostly"] == 0.8 and share["kwargs"]["value_set"] == [0.0]


def test_ethnic_code_pattern_accepts_main_extended_and_unknown_codes():
    pat = re.compile(V.ETHNIC_CODE_PATTERN)
    for ok in ("A", "N", "Z", "99", "CA", "LH", "S1"):
        assert pat.match(ok), ok
    for bad in ("Q9", "I", "O", "ZZ", "AAA", "White British", "9"):
        assert not pat.match(bad), bad


def test_formula_pattern():
    pat = re.compile(FORMULA_PATTERN)
    for text in ('=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3+cmd|x", "  =1+1"):
        assert pat.search(text), text
    for text in ("Good candidate.", "- strong leadership", "Score 3-4 overall"):
        assert not pat.search(text), text


def test_docs_list_every_expectation_with_its_severity():
    doc = (ROOT / "docs" / "data-quality.md").read_text()
    for table in VALIDATION_ORDER:
        for e in load_suite_file(table)["expectations"]:
            line = f"`{table}.{e['meta']['name']}`"
            assert line in doc, line
            row = next(l for l in doc.splitlines() if line in l)
            assert e["meta"]["severity"] in row, line


def test_missing_suite_is_critical(monkeypatch, tmp_path):
    monkeypatch.setattr("tasks.validation.rules.EXPECTATIONS_DIR", tmp_path)
    with pytest.raises(ValidationCritical, match="no expectation suite for vacancies"):
        load_suite_file("vacancies")


def test_suite_params_bound_the_drift_and_the_unknown_share():
    p = suite_params(previous_row_count=1000, unknown_ethnicity_threshold=0.10, drift_threshold=0.25)
    # 1000 * 0.75 = 750; 1000 * 1.25 = 1250 (+0.999, truncated: the upper bound rounds up)
    assert (p["row_count_min"], p["row_count_max"], p["previous_row_count"]) == (750, 1250, 1000)
    assert p["known_ethnicity_min_share"] == pytest.approx(0.9) and p["unknown_ethnicity_threshold"] == 0.10
    p = suite_params(previous_row_count=101, unknown_ethnicity_threshold=0.10, drift_threshold=0.25)
    assert (p["row_count_min"], p["row_count_max"]) == (75, 127)  # 75.75 -> 75; 126.25 + 0.999 -> 127
    first = suite_params(previous_row_count=None, unknown_ethnicity_threshold=0.2, drift_threshold=0.25)
    assert first["row_count_min"] is None and first["row_count_max"] is None
    # no baseline: the drift expectation is skipped, the others resolve
    configs, skipped = resolve_suite(load_suite_file("workforce"), first)
    assert skipped == ["row_count_drift"] and configs


def test_frame_params_bind_the_window_the_unknown_codes_and_the_formula_pattern():
    from datetime import date

    p = frame_params(window_start=date(2020, 1, 1), as_of_end=date(2024, 1, 31))
    assert p == {"window_start": date(2020, 1, 1), "as_of_end": date(2024, 1, 31),
                 "unknown_codes": list(V.UNKNOWN_CODES), "formula_pattern": FORMULA_PATTERN}


def test_systemic_means_more_than_the_share_of_at_least_the_minimum_rows():
    assert is_systemic(unexpected=11, rows=20, systemic_share=0.5, systemic_min_rows=20)
    assert not is_systemic(unexpected=10, rows=20, systemic_share=0.5, systemic_min_rows=20)  # exactly half
    assert not is_systemic(unexpected=19, rows=19, systemic_share=0.5, systemic_min_rows=20)  # too few rows
    assert not is_systemic(unexpected=0, rows=0, systemic_share=0.5, systemic_min_rows=20)
    assert systemic_note(0.5) == " (systemic: more than 50% of rows; check the mapping and the export)"
