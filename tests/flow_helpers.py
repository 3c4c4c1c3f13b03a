"""Helpers shared by the flow tests (not collected: no test_ prefix)."""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import polars as pl

from tasks.core.months import month_end, parse_month

SMALL_APPLICATIONS = 1500
# tables whose content describes the whole extract set (validation of every staged row,
# drift against the previous run), not the as_of month: left out of point-in-time comparisons
EXTRACT_LEVEL_TABLES = frozenset({"validation", "quarantine_summary"})


def small_trust(out: Path, seed: int = 11, applications: int = SMALL_APPLICATIONS) -> Path:
    from edi_recruit.synthetic.generator import generate_trust, load_effects

    generate_trust(out, seed=seed, applications=applications, effects=load_effects(None))
    return out


def _read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def _dmy(col: str) -> pl.Expr:
    return pl.col(col).str.strptime(pl.Date, "%d/%m/%Y", strict=True)


def truncate_extracts(src: Path, dst: Path, as_of: str) -> Path:
    """Copy a generated trust's CSV extracts keeping only what existed at the end of ``as_of``:
    vacancies advertised, applications made, assessments and letters written, and workforce
    snapshots taken on or before that day (and the rows that hang off them)."""
    end: date = month_end(parse_month(as_of))
    dst.mkdir(parents=True, exist_ok=True)
    vac = _read(src / "vacancies.csv").filter(_dmy("Advert Date") <= end)
    apps = _read(src / "applications.csv").filter(
        (_dmy("Date Applied") <= end) & pl.col("Vacancy Reference").is_in(vac["Vacancy Reference"].implode()))
    app_ids = apps["Application Ref"].implode()
    tables = {
        "vacancies": vac,
        "applications": apps,
        "assessments": _read(src / "assessments.csv").filter(
            (_dmy("Date Written") <= end) & pl.col("Application Ref").is_in(app_ids)),
        "ceo_letters": _read(src / "ceo_letters.csv").filter(
            (_dmy("Date Written") <= end) & pl.col("Vacancy Reference").is_in(vac["Vacancy Reference"].implode())),
        "interview_scores": _read(src / "interview_scores.csv").filter(pl.col("Application Ref").is_in(app_ids)),
        "panel_members": _read(src / "panel_members.csv").filter(
            pl.col("Vacancy Reference").is_in(vac["Vacancy Reference"].implode())),
        "workforce": _read(src / "workforce.csv").filter(pl.col("Snapshot Month") <= as_of),
    }
    for name, df in tables.items():
        df.write_csv(dst / f"{name}.csv")
    shutil.copy(src / "hiring_managers.csv", dst / "hiring_managers.csv")
    return dst


def analysis_tables(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    out = {k: v for k, v in tables.items() if k not in EXTRACT_LEVEL_TABLES}
    if "disclosure_log" in out:
        out["disclosure_log"] = out["disclosure_log"].filter(~pl.col("table_name").is_in(list(EXTRACT_LEVEL_TABLES)))
    return out


def run_tables(db: str | Path, run_id: str, schema: str = "results") -> dict[str, pl.DataFrame]:
    from tasks.publish.run_diff import run_tables as _rt
    from tasks.warehouse.connection import reading

    with reading(db) as con:
        return _rt(con, run_id, schema)


def registry_row(db: str | Path, run_id: str) -> dict:
    from tasks.publish.registry import list_runs
    from tasks.warehouse.connection import reading

    with reading(db) as con:
        df = list_runs(con).filter(pl.col("run_id") == run_id)
    assert df.height == 1, f"run {run_id} not in results.runs"
    return df.row(0, named=True)


def rows_for_run(db: str | Path, run_id: str) -> dict[str, int]:
    """Rows carrying this run_id in every results.* and published.* base table."""
    from tasks.warehouse.connection import reading
    from tasks.warehouse.sql import run_sql

    counts = {}
    with reading(db) as con:
        for schema in ("results", "published"):
            for (name,) in run_sql(con, "queries/diff_run_tables", {"schema": schema}).fetchall():
                counts[f"{schema}.{name}"] = con.execute(
                    f"SELECT count(*) FROM {schema}.{name} WHERE run_id = ?", [run_id]).fetchone()[0]
    return counts
