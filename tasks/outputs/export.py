"""Excel-friendly exports of a run's published tables.

Per run, under ``<out_dir>/<run_id>/``:

* ``csv/<table>.csv``: UTF-8 with a byte-order mark, so Excel opens it with
  the right encoding;
* ``parquet/<table>.parquet``: the published table exactly;
* ``<run_id>_published.xlsx``: one sheet per table (names cut to 31
  characters and made unique).

Only ``published.*`` tables are exported, read through :mod:`tasks.outputs.published`.  In the CSV and XLSX files, text
cells beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return are
prefixed with a single quote so a spreadsheet never evaluates them as a
formula (OWASP "CSV injection").  In the XLSX, published counts (text such as
"15" or "*") are written as numbers where they are numbers, so Excel can sum them.
"""
from __future__ import annotations

import logging
import re
from datetime import date, datetime
from pathlib import Path

import polars as pl
import xlsxwriter

from tasks.outputs.published import load_run

log = logging.getLogger(__name__)


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


_INT_TEXT = re.compile(r"^-?\d+$")


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


def sheet_names(tables: list[str]) -> dict[str, str]:
    """Excel sheet names: no []:*?/\\, at most 31 characters, unique (case-insensitive)."""
    out, used = {}, set()
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


def xlsx_cell(value):
    """The value written to a sheet: integer-looking text becomes a number, other text is neutralised."""
    if isinstance(value, str):
        return int(value) if _INT_TEXT.match(value) else neutralise(value)
    return value


def write_xlsx(tables: dict[str, pl.DataFrame], path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False, "nan_inf_to_errors": True})
    bold = wb.add_format({"bold": True, "bg_color": "#F3F6F9"})
    datef = wb.add_format({"num_format": "yyyy-mm-dd"})
    dtf = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for table, sheet in sheet_names(list(tables)).items():
        df = tables[table]
        ws = wb.add_worksheet(sheet)
        for j, c in enumerate(df.columns):
            ws.write_string(0, j, str(neutralise(c)), bold)
            ws.set_column(j, j, min(max(len(c) + 2, 10), 40))
        for i, row in enumerate(df.iter_rows(), start=1):
            for j, v in enumerate(row):
                v = xlsx_cell(v)
                if v is None:
                    continue
                if isinstance(v, bool):
                    ws.write_boolean(i, j, v)
                elif isinstance(v, (int, float)):
                    ws.write_number(i, j, v)
                elif isinstance(v, datetime):
                    ws.write_datetime(i, j, v, dtf)
                elif isinstance(v, date):
                    ws.write_datetime(i, j, datetime(v.year, v.month, v.day), datef)
                else:
                    ws.write_string(i, j, str(v))
        ws.freeze_panes(1, 0)
    wb.close()
    return path


def export_run(db_path: str | Path, run_id: str | None = None, out_dir: str | Path | None = None) -> dict:
    """Write CSV (UTF-8 BOM), Parquet and one XLSX for every published table of a run.

    Returns {"run_id", "dir", "csv": {table: path}, "parquet": {...}, "xlsx": path}.
    """
    rid, _run, tables, _policy = load_run(db_path, run_id)
    base = Path(out_dir) if out_dir else Path(db_path).parent / "exports"
    root = base / rid
    (root / "csv").mkdir(parents=True, exist_ok=True)
    (root / "parquet").mkdir(parents=True, exist_ok=True)
    out: dict = {"run_id": rid, "dir": str(root), "csv": {}, "parquet": {}}
    for name, df in sorted(tables.items()):
        pq = root / "parquet" / f"{name}.parquet"
        df.write_parquet(pq)
        csv = root / "csv" / f"{name}.csv"
        neutralise_frame(df).write_csv(csv, include_bom=True)
        out["parquet"][name] = str(pq)
        out["csv"][name] = str(csv)
    out["xlsx"] = str(write_xlsx(dict(sorted(tables.items())), root / f"{rid}_published.xlsx"))
    log.info("exported %d published tables of run %s to %s", len(tables), rid, root)
    return out
