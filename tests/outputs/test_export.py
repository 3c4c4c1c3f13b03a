"""Exports: CSV with BOM, Parquet, one XLSX that matches the published tables, formula neutralisation."""
from __future__ import annotations

from datetime import date, datetime

import openpyxl
import polars as pl
import pytest
from fake_warehouse import build_fake_warehouse
from python_calamine import CalamineWorkbook

from tasks.outputs.export import export_run, neutralise, sheet_names
from tasks.outputs.published import load_run


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    d = tmp_path_factory.mktemp("export")
    build_fake_warehouse(d / "w.duckdb", d / "res")
    out = export_run(d / "w.duckdb", out_dir=d / "exports")
    _, _, tables, _ = load_run(d / "w.duckdb")
    return out, tables


@pytest.mark.parametrize("value, expected", [
    ("=SUM(A1:A9)", "'=SUM(A1:A9)"), ("+44 20", "'+44 20"), ("-1+2", "'-1+2"), ("@risky", "'@risky"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("safe", "safe"), ("a=b", "a=b"), (-3.5, -3.5), (None, None), ("", ""),
])
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_sheet_names_are_short_valid_and_unique():
    names = sheet_names(["a" * 40, "a" * 40 + "b", "x/y[z]", "A" * 31])
    assert all(len(n) <= 31 for n in names.values())
    assert len({n.lower() for n in names.values()}) == 4
    assert names["x/y[z]"] == "x_y_z_"


def test_every_published_table_has_csv_with_bom_and_parquet(exported):
    out, tables = exported
    assert set(out["csv"]) == set(tables) == set(out["parquet"])
    for name, df in tables.items():
        raw = open(out["csv"][name], "rb").read()
        assert raw.startswith(b"\xef\xbb\xbf"), name
        back = pl.read_csv(out["csv"][name], infer_schema=False)
        assert back.columns == df.columns and back.height == df.height
        assert pl.read_parquet(out["parquet"][name]).equals(df), name


def test_csv_neutralises_formula_text(exported):
    out, _ = exported
    text = open(out["csv"]["topics"], encoding="utf-8-sig").read()
    assert "'=SUM(A1:A9)" in text and ",=SUM" not in text
    assert "'@risky" in open(out["csv"]["validation"], encoding="utf-8-sig").read()
    assert "'+unknown band" in open(out["csv"]["quarantine_summary"], encoding="utf-8-sig").read()


def _expected(v):
    if isinstance(v, str):
        return int(v) if v.lstrip("-").isdigit() else neutralise(v)
    if isinstance(v, datetime):
        return v
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day)
    return v


def _same(a, b) -> bool:
    if a is None or a == "":
        return b is None or b == ""
    if isinstance(a, (int, float)) and not isinstance(a, bool) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return abs(float(a) - float(b)) <= 1e-12 * max(1.0, abs(float(a)))
    if isinstance(a, datetime) and isinstance(b, (datetime, date)):
        return a.date() == (b if not isinstance(b, datetime) else b.date()) or a == b
    return a == b


def test_xlsx_sheets_equal_published_tables(exported):
    out, tables = exported
    names = sheet_names(sorted(tables))
    wb = CalamineWorkbook.from_path(out["xlsx"])
    assert sorted(wb.sheet_names) == sorted(names.values())
    for table, sheet in names.items():
        rows = wb.get_sheet_by_name(sheet).to_python()
        df = tables[table]
        assert rows[0] == df.columns, table
        assert len(rows) - 1 == df.height, table
        for i, rec in enumerate(df.iter_rows()):
            got = rows[i + 1] + [""] * (len(rec) - len(rows[i + 1]))
            for col, want, have in zip(df.columns, rec, got):
                assert _same(_expected(want), have), (table, i, col, want, have)


def test_xlsx_opens_in_openpyxl_with_no_formulas(exported):
    out, tables = exported
    wb = openpyxl.load_workbook(out["xlsx"])
    ws = wb[sheet_names(sorted(tables))["topics"]]
    values = [c.value for row in ws.iter_rows() for c in row]
    assert "'=SUM(A1:A9)" in values
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                assert c.data_type != "f", (sheet.title, c.coordinate, c.value)
    # counts are numbers Excel can add up; suppressed cells stay "*"
    fws = wb[sheet_names(sorted(tables))["funnel_counts"]]
    header = [c.value for c in fws[1]]
    col = header.index("applications")
    vals = [r[col].value for r in fws.iter_rows(min_row=2)]
    assert all(isinstance(v, int) or v == "*" for v in vals) and "*" in vals
