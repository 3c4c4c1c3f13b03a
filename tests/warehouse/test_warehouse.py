"""Warehouse access: SQL files with safe placeholders, point-in-time mart reads."""
from __future__ import annotations

from datetime import date

import duckdb
import pytest

from tasks.core.run_context import RunContext
from tasks.marts import load_mart
from tasks.warehouse.sql import Fragment, aliased_list, column_list, quoted, sql_text


def test_identifiers_are_checked_and_fragments_quoted():
    assert quoted('Date "Applied"') == '"Date ""Applied"""'
    assert column_list(["a b", "c"], "VARCHAR") == '"a b" VARCHAR, "c" VARCHAR'
    assert aliased_list([("Vacancy Reference", "vacancy_id")]) == '"Vacancy Reference" AS vacancy_id'
    with pytest.raises(ValueError, match="unsafe SQL identifier"):
        sql_text("queries/count_rows", table="x; DROP TABLE y")
    with pytest.raises(ValueError, match="unsafe SQL alias"):
        aliased_list([("a", "b c")])
    with pytest.raises(ValueError, match="needs identifiers: table"):
        sql_text("queries/count_rows")
    with pytest.raises(FileNotFoundError, match="no SQL file sql/nope.sql"):
        sql_text("nope")
    assert "FROM quarantine.applications" in sql_text("queries/count_rows", table="quarantine.applications")
    assert isinstance(column_list(["x"]), Fragment)


def test_load_mart_is_point_in_time_windowed_and_ordered(warehouse, tmp_path):
    ctx = RunContext(db_path=str(warehouse), run_id="t", as_of="2022-12", out_dir=str(tmp_path))
    df = load_mart(ctx, "application_funnel", ["application_id", "advert_date", "applied_date"])
    with duckdb.connect(str(warehouse), read_only=True) as con:
        expected = con.execute(
            "SELECT count(*) FROM marts.application_funnel WHERE advert_date <= DATE '2022-12-31' "
            "AND applied_date <= DATE '2022-12-31'").fetchone()[0]
        total = con.execute("SELECT count(*) FROM marts.application_funnel").fetchone()[0]
    assert 0 < df.height == expected < total
    assert df["advert_date"].max() <= date(2022, 12, 31) and df["applied_date"].max() <= date(2022, 12, 31)
    with duckdb.connect(str(warehouse), read_only=True) as con:   # lineage order, never pseudonym order
        in_lineage_order = [r[0] for r in con.execute(
            "SELECT application_id FROM marts.application_funnel WHERE advert_date <= DATE '2022-12-31' "
            "AND applied_date <= DATE '2022-12-31' ORDER BY _lineage, application_id").fetchall()]
    assert df["application_id"].to_list() == in_lineage_order
    win = RunContext(db_path=str(warehouse), run_id="t", as_of="2022-12", out_dir=str(tmp_path),
                     window="programme_to_date")
    dw = load_mart(win, "application_funnel", ["application_id", "advert_date"], window=True)
    assert dw["advert_date"].min() >= date(2022, 6, 1) and 0 < dw.height < df.height
    wf = load_mart(ctx, "workforce", ["snapshot_month", "staff_id"])
    assert wf["snapshot_month"].max() == date(2022, 12, 1)
    with pytest.raises(ValueError, match="unknown mart 'nope'"):
        load_mart(ctx, "nope")
