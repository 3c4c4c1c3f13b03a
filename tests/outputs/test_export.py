"""Exports: CSV with BOM (months Excel keeps as text), Parquet, the workbook for Excel users, formula neutralisation.

The workbook is read back with openpyxl: README and Dictionary sheets, report order, an Excel table with
filters on every sheet, a non-General number format on every numeric cell, one type per column, text
kept as text, the run id off column A, a file name with the trust and month.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from fake_warehouse import build_fake_warehouse, fake_results
from python_calamine import CalamineWorkbook

from tasks.core.display import display_stage, display_term
from tasks.outputs import dictionary
from tasks.outputs.export import (
    DICTIONARY_SHEET,
    README_SHEET,
    SUPPRESSED_FILL,
    csv_frame,
    export_run,
    neutralise,
    sheet_frame,
    sheet_names,
    workbook_name,
)
from tasks.outputs.published import load_run


def _tables_with_months() -> dict[str, pl.DataFrame]:
    """The fake run, plus what a real run publishes that the fake lacks: monthly WRES rows and periods
    (YYYY-MM), feeder bands "6" and "7" beside "8a"."""
    t = fake_results()
    wres = t["wres_indicator2"]
    month = wres.head(2).with_columns(pl.lit("month").alias("scope"), pl.Series("scope_value", ["2021-09", "2023-12"]))
    t["wres_indicator2"] = pl.concat([wres, month])
    t["programme_impact"] = t["programme_impact"].with_columns(
        pl.when(pl.col("period").is_not_null()).then(pl.lit("2022-06")).otherwise(None).alias("period"))
    rep = t["representation"]
    t["representation"] = pl.concat([rep, rep.head(2).with_columns(pl.Series("band", ["6", "7"]))])
    return t


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    d = tmp_path_factory.mktemp("export")
    build_fake_warehouse(d / "w.duckdb", d / "res", tables=_tables_with_months())
    out = export_run(d / "w.duckdb", out_dir=d / "exports", trust="RGT")
    _rid, run, tables, _ = load_run(d / "w.duckdb")
    return out, tables, run


@pytest.fixture(scope="module")
def workbook(exported):
    return openpyxl.load_workbook(exported[0]["xlsx"])


@pytest.mark.parametrize("value, expected", [
    ("=SUM(A1:A9)", "'=SUM(A1:A9)"), ("+44 20", "'+44 20"), ("-1+2", "'-1+2"), ("@risky", "'@risky"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("safe", "safe"), ("a=b", "a=b"), (-3.5, -3.5), (None, None), ("", ""),
])
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_sheet_names_are_short_valid_unique_and_never_the_readme():
    names = sheet_names(["a" * 40, "a" * 40 + "b", "x/y[z]", "A" * 31, "readme"])
    assert all(len(n) <= 31 for n in names.values())
    assert len({n.lower() for n in names.values()}) == 5
    assert names["x/y[z]"] == "x_y_z_" and names["readme"].lower() != README_SHEET.lower()


def test_workbook_name_has_trust_month_and_short_run():
    assert workbook_name("RGT", "2024-01", "085fe7f1-c441-42a0") == "edi-recruit_RGT_2024-01_085fe7f1.xlsx"
    assert workbook_name("trust", None, "r") == "edi-recruit_trust_month_r.xlsx"


def test_the_workbook_file_is_named_with_trust_and_month(exported):
    out, _, run = exported
    assert out["xlsx"].endswith(f"/edi-recruit_RGT_{run['as_of']}_runfake.xlsx")


def test_every_published_table_has_csv_with_bom_and_parquet(exported):
    out, tables, _ = exported
    assert set(out["csv"]) == set(tables) == set(out["parquet"])
    for name, df in tables.items():
        raw = Path(out["csv"][name]).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), name
        back = pl.read_csv(out["csv"][name], infer_schema=False)
        assert back.columns == df.columns and back.height == df.height
        assert pl.read_parquet(out["parquet"][name]).equals(df), name


def test_csv_neutralises_formula_text(exported):
    out, _, _ = exported
    text = Path(out["csv"]["topics"]).read_text(encoding="utf-8-sig")
    assert "'=SUM(A1:A9)" in text and ",=SUM" not in text
    assert "'@risky" in Path(out["csv"]["validation"]).read_text(encoding="utf-8-sig")
    assert "'+unknown band" in Path(out["csv"]["quarantine_summary"]).read_text(encoding="utf-8-sig")


# What Excel turns into a date when it opens a CSV (en-GB and en-US): a year and month, a day and month,
# slashed dates, month names with a year or a day.  (A full ISO date becomes a date too, as it should.)
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
EXCEL_PARTIAL_DATES = [
    re.compile(r"^\d{4}[-/](0?[1-9]|1[0-2])$"), re.compile(r"^(0?[1-9]|1[0-2])[-/]\d{4}$"),
    re.compile(r"^(0?[1-9]|[12]\d|3[01])[-/](0?[1-9]|1[0-2])$"), re.compile(rf"^({_MONTHS})[a-z]*[- ]\d{{2,4}}$", re.IGNORECASE),
    re.compile(rf"^\d{{1,2}}[- ]({_MONTHS})[a-z]*$", re.IGNORECASE),
]


def test_csv_months_are_text_excel_keeps(exported):
    out, tables, _ = exported
    seen = 0
    for name, df in tables.items():
        back = pl.read_csv(out["csv"][name], infer_schema=False)
        for c, t in df.schema.items():
            if t != pl.Utf8:
                continue
            for orig, shown in zip(df[c].to_list(), back[c].to_list()):
                if shown is None:
                    continue
                assert not any(p.match(shown) for p in EXCEL_PARTIAL_DATES), (name, c, shown)
                if orig is not None and re.fullmatch(r"\d{4}-\d{2}", orig):
                    assert shown == f"{orig[:4]}-M{orig[5:]}", (name, c, orig, shown)
                    seen += 1
    assert seen >= 3  # the monthly WRES rows and the periods were there to convert
    # only whole YYYY-MM values change (a date, a year or other text stays as it is)
    df = pl.DataFrame({"p": ["2021-09", "2021-13", "2021-09-01", "2024", "all_to_date", None]})
    assert csv_frame(df)["p"].to_list() == ["2021-M09", "2021-13", "2021-09-01", "2024", "all_to_date", None]


def test_workbook_starts_with_readme_and_dictionary_then_report_order(exported, workbook):
    _, tables, run = exported
    names = sheet_names(dictionary.report_order(list(tables)))
    assert workbook.sheetnames[:2] == [README_SHEET, DICTIONARY_SHEET]
    assert workbook.sheetnames[2:] == [names[t] for t in dictionary.report_order(list(tables))]
    assert workbook.sheetnames[2:5] == ["funnel_counts", "odds_ratios", "wres_indicator2"]
    assert workbook.sheetnames[-1] == "disclosure_log"
    readme = " ".join(str(c.value) for row in workbook[README_SHEET].iter_rows() for c in row if c.value)
    for must in ("RGT", run["as_of"], run["run_id"], "What * means", "suppressed", "2021-M09", "Methods"):
        assert must in readme, must
    links = [c.hyperlink.target for row in workbook[README_SHEET].iter_rows() for c in row if c.hyperlink]
    assert any(t and t.startswith("report.html") for t in links)


def test_dictionary_explains_every_column_of_every_sheet(exported, workbook):
    _, tables, _ = exported
    ws = workbook[DICTIONARY_SHEET]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    described = {(r[0], r[1]): r[2] for r in rows}
    names = sheet_names(dictionary.report_order(list(tables)))
    for table, sheet in names.items():
        header = [c.value for c in workbook[sheet][1]]
        for col in header:
            meaning = described.get((sheet, col))
            assert meaning and meaning != col.replace("_", " "), (sheet, col)
        assert dictionary.undocumented(table, tables[table].columns) == [], table


def test_every_sheet_is_an_excel_table_with_filters(workbook):
    for ws in workbook.worksheets:
        assert ws.tables, ws.title
        for t in ws.tables.values():
            assert t.autoFilter is not None and t.autoFilter.ref == t.ref, (ws.title, t.ref)


def _data_columns(ws):
    header = [c.value for c in ws[1]]
    cols = {h: [] for h in header}
    for row in ws.iter_rows(min_row=2):
        for h, c in zip(header, row):
            cols[h].append(c)
    return cols


def test_every_numeric_cell_has_a_number_format_and_no_column_mixes_types(exported, workbook):
    _, tables, _ = exported
    numeric_columns = 0
    for sheet in sheet_names(dictionary.report_order(list(tables))).values():
        for col, cells in _data_columns(workbook[sheet]).items():
            types = {c.data_type for c in cells if c.value is not None}
            assert len(types) <= 1, (sheet, col, types)
            if types == {"n"}:
                numeric_columns += 1
                assert all(c.number_format != "General" for c in cells), (sheet, col)
    assert numeric_columns > 50


def test_formats_follow_the_kind_of_figure(workbook):
    def fmt(sheet, col):
        return {c.number_format for c in _data_columns(workbook[sheet])[col] if c.value is not None}

    assert fmt("funnel_counts", "applications") == {"#,##0"}
    assert fmt("wres_indicator2", "proportion_bme") == {"0.0%"}
    assert fmt("wres_indicator2", "relative_likelihood") == {"0.00"}
    assert fmt("odds_ratios", "odds_ratio") == {"0.00"}
    assert all("<0.001" in f for f in fmt("odds_ratios", "p_value"))
    # representation's value is a share for bme_share rows and a ratio for representation_ratio rows
    cols = _data_columns(workbook["representation"])
    by_measure = {(m.value, v.number_format) for m, v in zip(cols["measure"], cols["value"]) if v.value is not None}
    assert by_measure == {("bme_share", "0.0%"), ("representation_ratio", "0.00")}


def test_text_stays_text_and_suppressed_counts_are_empty_shaded_numbers(workbook):
    cols = _data_columns(workbook["representation"])
    bands = [c.value for c in cols["band"]]
    assert "6" in bands and "8a" in bands and all(isinstance(b, str) for b in bands)
    cols = _data_columns(workbook["funnel_counts"])
    apps = cols["applications"]
    assert all(isinstance(c.value, int) or c.value is None for c in apps)
    shaded = [c for c in cols["offered"] + cols["appointed"] + apps if c.value is None]
    assert shaded and all(c.fill.fgColor.rgb.endswith(SUPPRESSED_FILL.lstrip("#")) for c in shaded)


def test_run_id_is_last_and_stages_and_terms_are_in_words(exported, workbook):
    _, tables, _run = exported
    for sheet in workbook.sheetnames[2:]:
        header = [c.value for c in workbook[sheet][1]]
        assert header[0] != "run_id" and ("run_id" not in header or header[-1] == "run_id"), sheet
    cols = _data_columns(workbook["odds_ratios"])
    odds = tables["odds_ratios"]
    assert [c.value for c in cols["stage"]] == [display_stage(s) for s in odds["stage"]]
    assert [c.value for c in cols["term"]] == [display_term(t) for t in odds["term"]]
    assert [c.value for c in cols["term_code"]] == odds["term"].to_list()
    assert "bme" not in {c.value for c in cols["term"]}


def _expected(v):
    if isinstance(v, str):
        return None if v == "*" else int(v) if v.lstrip("-").isdigit() else neutralise(v)
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
    out, tables, _ = exported
    names = sheet_names(dictionary.report_order(list(tables)))
    wb = CalamineWorkbook.from_path(out["xlsx"])
    assert wb.sheet_names[2:] == list(names.values())
    for table, sheet in names.items():
        rows = wb.get_sheet_by_name(sheet).to_python()
        df = sheet_frame(tables[table])
        assert rows[0] == df.columns, table
        body = [r for r in rows[1:] if any(v not in ("", None) for v in r)]
        assert len(body) == df.height, table
        for i, rec in enumerate(df.iter_rows()):
            got = body[i] + [""] * (len(rec) - len(body[i]))
            for col, want, have in zip(df.columns, rec, got):
                text_col = dictionary.column(table, col).kind == "text"
                exp = neutralise(want) if text_col and isinstance(want, str) else _expected(want)
                assert _same(exp, have), (table, i, col, want, have)


def test_xlsx_has_no_formulas(exported, workbook):
    _, tables, _ = exported
    ws = workbook[sheet_names(list(tables))["topics"]]
    values = [c.value for row in ws.iter_rows() for c in row]
    assert "'=SUM(A1:A9)" in values
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                assert c.data_type != "f", (sheet.title, c.coordinate, c.value)


def test_column_kind_falls_back_to_text_rather_than_mixing_types():
    from tasks.outputs.export import column_kind

    assert column_kind("funnel_counts", "applications", pl.Series(["15", "*", None])) == "count"
    assert column_kind("funnel_counts", "applications", pl.Series(["15", "n/a"])) == "text"
    assert column_kind("odds_ratios", "n_clusters", pl.Series([12, 40])) == "integer"
    assert column_kind("odds_ratios", "n_clusters", pl.Series(["12", "*"])) == "count"   # touched by disclosure
    assert column_kind("odds_ratios", "odds_ratio", pl.Series(["1.2"])) == "text"
    assert column_kind("representation", "band", pl.Series(["6", "7"])) == "text"
    assert column_kind("wres_indicator2", "in_non_adverse_band", pl.Series([True, None])) == "flag"
