"""Excel-friendly exports of a run's published tables.

Per run, under ``<out_dir>/<run_id>/``:

* ``csv/<table>.csv``: UTF-8 with a byte-order mark, so Excel opens it with the right encoding.
  A month written ``YYYY-MM`` in a text column is written ``YYYY-Mmm`` (``2021-09`` -> ``2021-M09``,
  the SDMX reporting-month form), which Excel keeps as text instead of turning it into a date
  (:data:`CSV_MONTH`);
* ``parquet/<table>.parquet``: the published table exactly;
* ``edi-recruit_<trust>_<YYYY-MM>_<run8>.xlsx`` (:func:`workbook_name`): the workbook for Excel users:

  - a **README** sheet (what the workbook is, the trust, month and run, what ``*`` and a shaded
    empty count mean, the link to the methods) and a **Dictionary** sheet (every column of every
    sheet in plain words, from :mod:`tasks.outputs.dictionary`);
  - one sheet per published table, in report order, each an Excel table with filters;
  - every numeric column with a number format from its kind (integers for counts, % for
    proportions, 0.00 for ratios, 0.000 for estimates, ``<0.001`` for small p-values); text columns
    stored as text (band "6" like band "8a"); a column holds one type only;
  - stages and model terms in words (``stage``, ``term``), their technical names beside them
    (``stage_code``, ``term_code``); the run id in the last column, not the first.

Only ``published.*`` tables are exported, read through :mod:`tasks.outputs.published`.  In the CSV
and XLSX files, text cells beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return are
prefixed with a single quote so a spreadsheet never evaluates them as a formula (OWASP "CSV
injection").  Published counts are text ("15" or "*"): in the workbook a count is a number and a
suppressed count an empty shaded cell.  Implements the exports of docs/methods.md section 5.
"""
from __future__ import annotations

import logging
import math
import re
from datetime import date, datetime
from pathlib import Path

import polars as pl
import xlsxwriter

from tasks.core.config import trust_label
from tasks.core.display import display_stage, display_term
from tasks.outputs import dictionary
from tasks.outputs.published import load_run

log = logging.getLogger(__name__)


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


_INT_TEXT = re.compile(r"^-?\d+$")


SUPPRESSED = "*"   # what published.* holds for a suppressed count (config/disclosure_policy.yaml counts.symbol)


# A month in a text column of a CSV: "2021-09" -> "2021-M09", which Excel keeps as text
CSV_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


README_SHEET, DICTIONARY_SHEET = "README", "Dictionary"


RUN_ID = "run_id"


# Columns shown in words in the workbook, their technical name in a column beside: column -> (words, code column)
WORDS_COLUMNS = {"stage": (display_stage, "stage_code"), "term": (display_term, "term_code")}


# Number formats by column kind (tasks/outputs/dictionary.py)
NUMBER_FORMATS: dict[str, str] = {
    "count": "#,##0", "integer": "0", "proportion": "0.0%", "percent": '0.0"%"', "ratio": "0.00",
    "estimate": "0.000", "p_value": '[<0.001]"<0.001";0.000', "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm",
    "text": "@",
}


SUPPRESSED_FILL = "#D9D9D9"


METHODS_LINK = "external:report.html#section-methods"   # the report beside the workbook


def neutralise(value):
    """Prefix a single quote to text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_frame(df: pl.DataFrame) -> pl.DataFrame:
    text = [c for c, t in df.schema.items() if t == pl.Utf8]
    return df.with_columns([
        pl.when(pl.col(c).str.contains(r"^[=+\-@\t\r]")).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text
    ]) if text else df


def csv_frame(df: pl.DataFrame) -> pl.DataFrame:
    """The frame as its CSV holds it: formula text neutralised, months in text columns as ``YYYY-Mmm``."""
    text = [c for c, t in df.schema.items() if t == pl.Utf8]
    df = neutralise_frame(df)
    return df.with_columns([pl.col(c).str.replace(CSV_MONTH.pattern, "${1}-M${2}").alias(c) for c in text]) \
        if text else df


def sheet_names(tables: list[str]) -> dict[str, str]:
    """Excel sheet names: no []:*?/\\, at most 31 characters, unique (case-insensitive), never README/Dictionary."""
    out, used = {}, {README_SHEET.lower(), DICTIONARY_SHEET.lower()}
    for t in tables:
        base = _SHEET_BAD.sub("_", t)[:31] or "sheet"
        name, i = base, 1
        while name.lower() in used:
            suffix = f"~{i}"
            name = base[: 31 - len(suffix)] + suffix
            i += 1
        used.add(name.lower())
        out[t] = name
    return out


def workbook_name(trust: str, as_of: str | None, run_id: str) -> str:
    """``edi-recruit_<trust>_<YYYY-MM>_<first 8 characters of the run id>.xlsx``."""
    month = as_of if as_of and re.fullmatch(r"\d{4}-\d{2}", str(as_of)) else "month"
    return f"edi-recruit_{trust}_{month}_{re.sub(r'[^A-Za-z0-9]', '', run_id)[:8]}.xlsx"


# ---------------------------------------------------------------- the sheets' columns
def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def column_kind(table: str, name: str, series: pl.Series) -> str:
    """The kind a column is written as: the dictionary's, unless the values cannot be that kind (then text)."""
    kind = dictionary.column(table, name, str(series.dtype)).kind
    values = series.drop_nulls()
    if kind in ("count", "integer") and not series.dtype.is_integer():
        # published counts are text (digits or *); so is any whole-number column the disclosure control touched
        ok = series.dtype == pl.Utf8 and all(_INT_TEXT.match(v) or v == SUPPRESSED for v in values.to_list())
        return "count" if ok else "text"
    if kind in dictionary.NUMERIC_KINDS:
        return kind if series.dtype.is_numeric() else "text"
    if kind == "flag":
        return kind if series.dtype == pl.Boolean else "text"
    if kind in ("date", "datetime"):
        return kind if series.dtype in (pl.Date, pl.Datetime) or isinstance(series.dtype, pl.Datetime) else "text"
    return "text"


def sheet_frame(df: pl.DataFrame) -> pl.DataFrame:
    """The published table as its sheet shows it: stages and terms in words with their codes beside them,
    the run id last."""
    words = []
    for col, (fn, code_col) in WORDS_COLUMNS.items():
        if col in df.columns and df.schema[col] == pl.Utf8:
            words += [pl.col(col).map_elements(fn, return_dtype=pl.Utf8).alias(col), pl.col(col).alias(code_col)]
    out = df.with_columns(words) if words else df
    order = [c for c in df.columns if c != RUN_ID]
    for col, (_fn, code_col) in WORDS_COLUMNS.items():
        if code_col in out.columns and code_col not in df.columns:
            order.insert(order.index(col) + 1, code_col)
    return out.select(order + ([RUN_ID] if RUN_ID in df.columns else []))


def _row_kind(table: str, name: str, kind: str, row: dict) -> str:
    by = dictionary.ROW_KINDS.get((table, name))
    if by and kind in dictionary.NUMERIC_KINDS and kind != "count":   # a float column: only its format changes
        return by[1].get(row.get(by[0]), kind)
    return kind


# ---------------------------------------------------------------- writing
class _Formats:
    def __init__(self, wb):
        self.wb = wb
        self._cache: dict[tuple, object] = {}
        self.header = wb.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.label = wb.add_format({"bold": True, "valign": "top"})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top", "num_format": "@"})
        self.link = wb.add_format({"font_color": "blue", "underline": 1})

    def kind(self, kind: str, suppressed: bool = False):
        key = (kind, suppressed)
        if key not in self._cache:
            spec = {"num_format": NUMBER_FORMATS.get(kind, "@")}
            if suppressed:
                spec |= {"bg_color": SUPPRESSED_FILL, "pattern": 1}
            self._cache[key] = self.wb.add_format(spec)
        return self._cache[key]


def _write_value(ws, i: int, j: int, v, kind: str, fmt: _Formats) -> None:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        ws.write_blank(i, j, None, fmt.kind(kind))
    elif kind == "count" and isinstance(v, str):
        if v == SUPPRESSED:
            ws.write_blank(i, j, None, fmt.kind(kind, suppressed=True))
        else:
            ws.write_number(i, j, int(v), fmt.kind(kind))
    elif kind in dictionary.NUMERIC_KINDS and _is_number(v):
        ws.write_number(i, j, v, fmt.kind(kind))
    elif kind == "flag" and isinstance(v, bool):
        ws.write_boolean(i, j, v)
    elif kind in ("date", "datetime") and isinstance(v, (date, datetime)):
        ws.write_datetime(i, j, v if isinstance(v, datetime) else datetime(v.year, v.month, v.day), fmt.kind(kind))
    else:
        ws.write_string(i, j, str(neutralise(v if isinstance(v, str) else str(v))), fmt.kind("text"))


def _excel_table(ws, name: str, headers: list[str], n_rows: int) -> None:
    """Make the written range an Excel table with filters (a table needs one data row: an empty one if none)."""
    ws.add_table(0, 0, max(n_rows, 1), len(headers) - 1, {
        "name": "t_" + re.sub(r"\W", "_", name), "style": "Table Style Light 9", "autofilter": True,
        "columns": [{"header": str(neutralise(h))} for h in headers]})
    ws.freeze_panes(1, 0)


def _write_table_sheet(ws, table: str, df: pl.DataFrame, fmt: _Formats) -> list[dict]:
    """One published table; returns its dictionary rows (sheet, column, meaning, kind)."""
    shown = sheet_frame(df)
    kinds = {c: column_kind(table, c, shown[c]) for c in shown.columns}
    for j, c in enumerate(shown.columns):
        width = max([len(c) + 2] + [len(str(v)) for v in shown[c].head(200).to_list() if v is not None])
        ws.set_column(j, j, min(max(width, 9), 45))
    for i, row in enumerate(shown.iter_rows(named=True), start=1):
        for j, c in enumerate(shown.columns):
            _write_value(ws, i, j, row[c], _row_kind(table, c, kinds[c], row), fmt)
    _excel_table(ws, ws.get_name(), list(shown.columns), shown.height)
    return [{"column": c, "meaning": dictionary.column(table, c, str(shown[c].dtype)).meaning,
             "shown as": _shown_as(kinds[c], table, c)} for c in shown.columns]


def _shown_as(kind: str, table: str, col: str) -> str:
    words = {"count": "whole number (count; empty and shaded = suppressed)", "integer": "whole number",
             "proportion": "percentage", "percent": "percentage", "ratio": "ratio, 2 decimals",
             "estimate": "number, 3 decimals", "p_value": "p-value (<0.001 below 0.001)", "flag": "TRUE/FALSE",
             "date": "date", "datetime": "date and time", "text": "text"}
    by = dictionary.ROW_KINDS.get((table, col))
    extra = f" ({', '.join(f'{k} for {v}' for v, k in (by[1] if by else {}).items())} by {by[0]})" if by else ""
    return words.get(kind, kind) + extra


def _readme_rows(trust: str, run: dict, policy: dict) -> list[tuple[str, str]]:
    rid = run.get("run_id", "")
    return [
        ("What this is", ("The published (disclosure-controlled) tables of one monthly run of the NHS senior "
                          "recruitment evaluation: how BME and White applicants fare at each stage of recruitment "
                          "to bands 8a-VSM, and what the programme's two rules (letter to the CEO, diverse panels) "
                          "changed.  The report (report.html beside this file) explains every figure.")),
        ("Trust", trust),
        ("Month", str(run.get("as_of") or "")),
        ("Run", str(rid)),
        ("Code version", str(run.get("code_version") or "")),
        ("Extract set", str(run.get("input_sha256") or "")[:12]),
        ("Finished", str(run.get("finished_at") or "")),
        ("Disclosure policy", f"{policy.get('policy_version', '')}: {policy.get('policy_summary', '')}".strip(": ")),
        ("What * means", ("A count of 1 to 7 people is suppressed (shown as * in the report and the CSV files) "
                          "so that nobody can be identified; other counts are rounded to the nearest 5.  In this "
                          "workbook a suppressed count is an EMPTY SHADED cell, so that count columns hold "
                          "numbers only and can be summed and filtered.  A rate or ratio that would reveal a "
                          "suppressed count is left empty too (sdc_flags says why).")),
        ("Sheets", ("One sheet per table, in the order of the report; each is an Excel table with filters.  "
                    "The Dictionary sheet explains every column.")),
        ("Words and codes", ("Stages and model terms are in words (stage, term); their technical names are in "
                             "stage_code and term_code, as in the CSV files.")),
        ("CSV files", ("The csv/ folder beside this file holds the same tables (UTF-8).  Months there are "
                       "written 2021-M09 (not 2021-09) so that Excel keeps them as text.")),
        ("Methods", "report.html, section 'Methods and caveats' (link below); full detail in docs/methods.md."),
    ]


def write_xlsx(tables: dict[str, pl.DataFrame], path: Path, *, run: dict | None = None, trust: str = "trust",
               policy: dict | None = None) -> Path:
    """The workbook: README, Dictionary, then one sheet per table in report order (see the module docstring)."""
    run, policy = run or {}, policy or {}
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False, "nan_inf_to_errors": True})
    fmt = _Formats(wb)
    order = dictionary.report_order(list(tables))
    names = sheet_names(order)
    readme, dict_ws = wb.add_worksheet(README_SHEET), wb.add_worksheet(DICTIONARY_SHEET)
    dict_rows: list[dict] = []
    sheet_rows: list[dict] = []
    for t in order:
        ws = wb.add_worksheet(names[t])
        info = dictionary.table(t)
        dict_rows += [{"sheet": names[t]} | r for r in _write_table_sheet(ws, t, tables[t], fmt)]
        sheet_rows.append({"sheet": names[t], "title": info.title, "what one row is": info.meaning,
                           "rows": tables[t].height})
    # README: a key/value block, the methods link, then the list of sheets as a table
    readme.set_column(0, 0, 22)
    readme.set_column(1, 1, 60)
    readme.set_column(2, 2, 90)
    readme.set_column(3, 3, 10)
    lines = _readme_rows(trust, run, policy)
    start = len(lines) + 4
    headers = ["sheet", "title", "what one row is", "rows"]
    for j, h in enumerate(headers):
        readme.write_string(start, j, h, fmt.header)
    for i, r in enumerate(sheet_rows, start=start + 1):
        readme.write_url(i, 0, f"internal:'{r['sheet']}'!A1", fmt.link, r["sheet"])
        readme.write_string(i, 1, r["title"], fmt.wrap)
        readme.write_string(i, 2, r["what one row is"], fmt.wrap)
        readme.write_number(i, 3, r["rows"], fmt.kind("count"))
    readme.add_table(start, 0, start + max(len(sheet_rows), 1), 3, {
        "name": "t_README", "style": "Table Style Light 9", "autofilter": True,
        "columns": [{"header": h} for h in headers]})
    readme.write_string(0, 0, "Senior recruitment evaluation: published tables", fmt.title)
    for i, (k, v) in enumerate(lines, start=1):
        readme.write_string(i, 0, k, fmt.label)
        readme.write_string(i, 1, v, fmt.wrap)
    readme.write_url(len(lines) + 1, 1, METHODS_LINK, fmt.link, "Open the methods (report.html)")
    readme.activate()
    # Dictionary: every column of every sheet
    dheaders = ["sheet", "column", "meaning", "shown as"]
    dict_ws.set_column(0, 0, 20)
    dict_ws.set_column(1, 1, 26)
    dict_ws.set_column(2, 2, 90)
    dict_ws.set_column(3, 3, 40)
    for j, h in enumerate(dheaders):
        dict_ws.write_string(0, j, h, fmt.header)
    for i, r in enumerate(dict_rows, start=1):
        for j, h in enumerate(dheaders):
            dict_ws.write_string(i, j, str(r[h]), fmt.wrap)
    _excel_table(dict_ws, DICTIONARY_SHEET, dheaders, len(dict_rows))
    wb.close()
    return path


def export_run(db_path: str | Path, run_id: str | None = None, out_dir: str | Path | None = None, *,
               trust: str | None = None) -> dict:
    """Write CSV (UTF-8 BOM), Parquet and the workbook for every published table of a run.

    ``trust``: the trust's short name in the workbook's name (default :func:`tasks.core.config.trust_label`).
    Returns {"run_id", "dir", "csv": {table: path}, "parquet": {...}, "xlsx": path}.
    """
    rid, run, tables, policy = load_run(db_path, run_id)
    base = Path(out_dir) if out_dir else Path(db_path).parent / "exports"
    root = base / rid
    (root / "csv").mkdir(parents=True, exist_ok=True)
    (root / "parquet").mkdir(parents=True, exist_ok=True)
    out: dict = {"run_id": rid, "dir": str(root), "csv": {}, "parquet": {}}
    for name, df in sorted(tables.items()):
        pq = root / "parquet" / f"{name}.parquet"
        df.write_parquet(pq)
        csv = root / "csv" / f"{name}.csv"
        csv_frame(df).write_csv(csv, include_bom=True)
        out["parquet"][name] = str(pq)
        out["csv"][name] = str(csv)
    trust = trust or trust_label()
    xlsx = root / workbook_name(trust, run.get("as_of"), rid)
    out["xlsx"] = str(write_xlsx(tables, xlsx, run=run, trust=trust, policy=policy))
    log.info("exported %d published tables of run %s to %s", len(tables), rid, root)
    return out
