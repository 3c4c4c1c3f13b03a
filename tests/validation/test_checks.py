"""Checks: the one-line message, results rows, drift reasons and reconciliation checks."""
from __future__ import annotations

import re

from tasks.validation.checks import Check, drift_detail, drift_reason, reconciliation_checks


def _check(**kw) -> Check:
    base = dict(table="applications", name="stage_logic", type="expect_column_values_to_be_in_set",
                severity="row-level", column="shortlisted", success=False, element_count=200,
                unexpected_count=3, reason="shortlisted without applying", action="fix the export")
    return Check(**{**base, **kw})


def test_message_names_file_column_count_reason_and_examples():
    c = _check(files=["applications.csv"], sample_ids=["A-1", "A-2", "A-3", "A-4", "A-5", "A-6"])
    assert c.unexpected_percent == 1.5
    assert c.message() == ("applications.csv: column shortlisted: 3 of 200 rows (2%): shortlisted without applying "
                           "[applications.stage_logic]; e.g. A-1, A-2, A-3, A-4, A-5")
    table_level = _check(type="expect_table_columns_to_match_set", column=None, observed="missing sex")
    assert table_level.message() == ("the applications extract: table applications: missing sex: "
                                     "shortlisted without applying [applications.stage_logic]")


def test_row_keeps_five_sample_ids_and_rounds_the_percent():
    row = _check(unexpected_count=1, element_count=3, sample_ids=[str(i) for i in range(9)]).row()
    assert row["sample_ids"] == "0, 1, 2, 3, 4"
    assert row["unexpected_percent"] == 33.3333
    assert row["column_name"] == "shortlisted" and row["action_taken"] == "none"


def test_drift_reason_describes_the_outcome_in_words_and_the_detail_gives_the_figures():
    kwargs = {"min_value": 750, "max_value": 1250}
    ok = drift_reason("workforce", "moved", True)
    assert ok == "the number of workforce rows is within the drift threshold of the previous validated run"
    assert drift_reason("workforce", "moved", False) == "moved"
    assert not re.search(r"\d", ok)   # the reason is published: no count in it
    assert drift_detail(500, kwargs, {"previous_row_count": 1000}) == (
        "500 rows; 1,000 in the previous validated run; allowed 750..1,250")
    assert drift_detail(500, kwargs, {}) == "500 rows; expected 750..1,250; allowed 750..1,250"


def test_the_detail_is_in_the_row_and_the_message_but_not_the_reason():
    c = _check(unexpected_count=3, element_count=8000)
    c.detail = "observed share 0.0%, threshold 10%"
    assert c.row()["detail"] == c.detail and c.detail not in c.row()["reason"]
    assert c.detail in c.message()


def test_reconciliation_checks_only_for_unbalanced_tables():
    recon = [
        {"table_name": "vacancies", "raw_rows": 10, "staged_rows": 10, "quarantined_rows": 0, "balanced": True},
        {"table_name": "applications", "raw_rows": 10, "staged_rows": 7, "quarantined_rows": 1, "balanced": False},
    ]
    (c,) = reconciliation_checks(recon, {"applications": ["a.csv", "b.csv"]})
    assert (c.table, c.name, c.severity, c.success) == ("applications", "reconciliation", "critical", False)
    assert (c.element_count, c.unexpected_count, c.files) == (10, 2, ["a.csv", "b.csv"])
    assert c.reason == "raw 10 != staged 7 + quarantined 1"
