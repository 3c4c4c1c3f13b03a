"""Quarantine and reconciliation on a hand-made warehouse of one table."""
from __future__ import annotations

import json

import duckdb
import pytest

from tasks.ingest.quarantine import clear_quarantine, ensure_quarantine, quarantine, quarantine_count, reconcile


@pytest.fixture()
def con():
    con = duckdb.connect()
    for schema in ("meta", "raw", "staging", "quarantine"):
        con.execute(f"CREATE SCHEMA {schema}")
    con.execute("CREATE TABLE meta.extract_set (table_name VARCHAR, sha256 VARCHAR, file_name VARCHAR)")
    con.execute("INSERT INTO meta.extract_set VALUES ('vacancies', 'abc', 'vacancies.csv')")
    # raw: three rows of the current set and one of an older file (not in the extract set)
    con.execute("CREATE TABLE raw.vacancies AS SELECT * FROM (VALUES ('abc', 1, 'V1'), ('abc', 2, 'V2'), "
                "('abc', 3, 'V3'), ('old', 1, 'V0')) t(_sha256, _row_number, \"Vacancy Reference\")")
    con.execute("CREATE TABLE staging.vacancies AS SELECT _sha256, _row_number, \"Vacancy Reference\" AS vacancy_id "
                "FROM raw.vacancies WHERE _sha256 = 'abc'")
    yield con
    con.close()


def _bad_rows(con, rows: list[tuple[int, str]]) -> str:
    con.execute("CREATE OR REPLACE TEMP TABLE bad AS SELECT * FROM (VALUES " + ", ".join(
        f"('abc', {n}, 'values_parse', '{reason}')" for n, reason in rows) + ") t(_sha256, _row_number, expectation, reason)")
    return "bad"


def test_reconcile_counts_the_current_extract_set_only(con):
    (rec,) = reconcile(con, ["vacancies"])
    assert rec == {"table_name": "vacancies", "raw_rows": 3, "staged_rows": 3, "quarantined_rows": 0, "balanced": True}


def test_quarantine_moves_rows_with_their_raw_values_and_keeps_the_first_reason(con):
    quarantine(con, "vacancies", _bad_rows(con, [(2, "could not parse band")]))
    quarantine(con, "vacancies", _bad_rows(con, [(2, "a later reason"), (3, "could not parse posts")]))
    rows = con.execute("SELECT _row_number, reason, raw_values FROM quarantine.vacancies ORDER BY 1").fetchall()
    assert [(n, reason) for n, reason, _ in rows] == [(2, "could not parse band"), (3, "could not parse posts")]
    assert json.loads(rows[0][2])["Vacancy Reference"] == "V2"
    assert con.execute("SELECT vacancy_id FROM staging.vacancies").fetchall() == [("V1",)]
    (rec,) = reconcile(con, ["vacancies"])
    assert (rec["staged_rows"], rec["quarantined_rows"], rec["balanced"]) == (1, 2, True)
    assert quarantine_count(con) == 2


def test_clear_empties_and_ensure_keeps(con):
    quarantine(con, "vacancies", _bad_rows(con, [(1, "x")]))
    ensure_quarantine(con, "vacancies")
    assert quarantine_count(con) == 1
    clear_quarantine(con, "vacancies")
    assert quarantine_count(con) == 0
    # a row deleted from staging and not quarantined breaks the balance
    con.execute("DELETE FROM staging.vacancies WHERE _row_number = 3")
    (rec,) = reconcile(con, ["vacancies"])
    assert (rec["raw_rows"], rec["staged_rows"], rec["quarantined_rows"], rec["balanced"]) == (3, 1, 0, False)
