"""The gate's result table and its one-line critical message."""
from __future__ import annotations

from tasks.validation.checks import Check
from tasks.validation.summary import VALIDATION_COLUMNS, critical_message, validation_table


def _critical(name: str) -> Check:
    return Check("panel_members", name, "expect_column_values_to_be_in_set", "critical", "role", False,
                 10, 10, "role not in the vocabulary", "fix the mapping", files=["panel_members.csv"])


def test_validation_table_has_the_schema_even_when_empty():
    assert validation_table([]).schema == VALIDATION_COLUMNS
    t = validation_table([_critical("role_valid")])
    assert t.schema == VALIDATION_COLUMNS and t["expectation"].to_list() == ["role_valid"]


def test_critical_message_is_one_line_with_the_count_of_the_others():
    one = critical_message([_critical("role_valid")], None)
    assert one == ("validation stopped the run: panel_members.csv: column role: 10 of 10 rows (100%): "
                   "role not in the vocabulary [panel_members.role_valid]")
    two = critical_message([_critical("role_valid"), _critical("sex_valid")], "/x/data_docs/index.html")
    assert two.endswith("[panel_members.role_valid] (+1 more critical); details: /x/data_docs/index.html")
