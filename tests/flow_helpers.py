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


# Trac export headers of the application statuses and the dates they were reached (mappings/trac.yaml)
STATUS_HEADERS: dict[str, str] = {
    "Shortlisted": "Shortlisted Date", "Interviewed": "Interview Date", "Offered": "Offer Date",
    "Offer Declined": "Offer Declined Date", "Appointed": "Appointed Date", "Withdrawn Stage": "Withdrawn Date",
}


def _as_known_at(apps: pl.DataFrame, end: date) -> pl.DataFrame:
    """Each status as the recruitment system showed it on ``end``: a status reached later is not there yet
    (flag N, or no withdrawal stage) and neither is its date."""
    later = {flag: _dmy(day) > end for flag, day in STATUS_HEADERS.items()}
    return apps.with_columns(
        *[pl.when(later[flag]).then(pl.lit(None if flag == "Withdrawn Stage" else "N")).otherwise(pl.col(flag))
          .alias(flag) for flag in STATUS_HEADERS],
        *[pl.when(later[flag]).then(pl.lit(None)).otherwise(pl.col(day)).alias(day)
          for flag, day in STATUS_HEADERS.items()])


def truncate_extracts(src: Path, dst: Path, as_of: str) -> Path:
    """Copy a generated trust's CSV extracts keeping only what existed at the end of ``as_of``:
    vacancies advertised, applications made, assessments and letters written, interviews held
    and workforce snapshots taken on or before that day (and the rows that hang off them), with
    every application's statuses as they stood that day (by their status dates).  This is an
    independent rule, written from the export's point of view; the pipeline's point-in-time read
    (tasks/marts.py load_mart) must reproduce it."""
    end: date = month_end(parse_month(as_of))
    dst.mkdir(parents=True, exist_ok=True)
    vac = _read(src / "vacancies.csv").filter(_dmy("Advert Date") <= end)
    apps = _read(src / "applications.csv").filter(
        (_dmy("Date Applied") <= end) & pl.col("Vacancy Reference").is_in(vac["Vacancy Reference"].implode()))
    apps = _as_known_at(apps, end)
    app_ids = apps["Application Ref"].implode()
    interviewed = apps.filter(pl.col("Interviewed") == "Y")["Application Ref"].implode()
    tables = {
        "vacancies": vac,
        "applications": apps,
        "assessments": _read(src / "assessments.csv").filter(
            (_dmy("Date Written") <= end) & pl.col("Application Ref").is_in(app_ids)),
        "ceo_letters": _read(src / "ceo_letters.csv").filter(
            (_dmy("Date Written") <= end) & pl.col("Vacancy Reference").is_in(vac["Vacancy Reference"].implode())),
        "interview_scores": _read(src / "interview_scores.csv").filter(pl.col("Application Ref").is_in(interviewed)),
        "panel_members": _read(src / "panel_members.csv").filter(
            pl.col("Vacancy Reference").is_in(vac["Vacancy Reference"].implode())),
        "workforce": _read(src / "workforce.csv").filter(pl.col("Snapshot Month") <= as_of),
    }
    for name, df in tables.items():
        df.write_csv(dst / f"{name}.csv")
    shutil.copy(src / "hiring_managers.csv", dst / "hiring_managers.csv")
    return dst


def without_status_dates(src: Path, dst: Path) -> Path:
    """Copy a generated trust's CSV extracts with the status-date columns left out (an older export)."""
    dst.mkdir(parents=True, exist_ok=True)
    for path in src.glob("*.csv"):
        if path.name.startswith("truth"):
            continue
        if path.name == "applications.csv":
            _read(path).drop(list(STATUS_HEADERS.values())).write_csv(dst / path.name)
        else:
            shutil.copy(path, dst / path.name)
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
