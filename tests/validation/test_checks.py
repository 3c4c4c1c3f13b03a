"""Checks: the one-line message, results rows, drift reasons and reconciliation checks."""
from __future__ import annotations

from tasks.validation.checks import Check, drift_reason, reconciliation_checks


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


def test_drift_reason_describes_the_outcome():
    kwargs = {"min_value": 750, "max_value": 1250}
    ok = drift_reason("workforce", "moved", True, 1000, kwargs, {"previous_row_count": 1000})
    assert ok == ("1,000 workforce rows, within the drift threshold of the previous validated run "
                  "(1,000 in the previous validated run; allowed 750..1,250)")
    bad = drift_reason("workforce", "moved", False, 500, kwargs, {"previous_row_count": 1000})
    assert bad == "moved (500 rows; 1,000 in the previous validated run; allowed 750..1,250)"


def test_reconciliation_checks_only_for_unbalanced_tables():
    recon = [
        {"table_name": "vacancies", "raw_rows": 10, "staged_rows": 10, "quarantined_rows": 0, "balanced": True},
        {"table_name": "applications", "raw_rows": 10, "staged_rows": 7, "quarantined_rows": 1, "balanced": False},
    ]
    (c,) = reconciliation_checks(recon, {"applications": ["a.csv", "b.csv"]})
    assert (c.table, c.name, c.severity, c.success) == ("applications", "reconciliation", "critical", False)
    assert (c.element_count, c.unexpected_count, c.files) == (10, 2, ["a.csv", "b.csv"])
    assert c.reason == "raw 10 != staged 7 + quarantined 1"
