"""Outcomes as of the month (tasks/marts.py load_mart, docs/data-contract.md "Status dates").

A small generated trust has outcomes decided after the cut-off month M (its
vacancies of M close, shortlist, interview and appoint in the months after).
Three warehouses: the full extracts, the extracts truncated to what the
recruitment system showed at the end of M (tests/flow_helpers.py
``truncate_extracts``, an independent rule written on the export's status
dates), and the full extracts without status-date columns (an older export).
The month read later from the full extracts must equal what M showed; the
export without dates keeps today's behaviour (final flags) and says so.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from flow_helpers import STATUS_HEADERS, small_trust, truncate_extracts, without_status_dates

from tasks.core.months import month_end, parse_month
from tasks.core.vocabulary import (
    STATUS_DATE_COLUMNS,
    STATUS_DATES_ABSENT,
    STATUS_DATES_COMPLETE,
    STATUS_DATES_PARTIAL,
)

AS_OF = "2023-11"
FLAGS = list(STATUS_DATE_COLUMNS)


@pytest.fixture(scope="module")
def trusts(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("status_as_of")
    full = small_trust(base / "full")
    return {"full": full, "cut": truncate_extracts(full, base / "cut", AS_OF),
            "undated": without_status_dates(full, base / "undated")}


@pytest.fixture(scope="module")
def warehouses(trusts, tmp_path_factory) -> dict[str, Path]:
    from tasks.ingest.staging import ingest_extracts
    from tasks.marts import build_marts

    out = {}
    for name, extracts in trusts.items():
        db = tmp_path_factory.mktemp(f"wh_{name}") / "edi.duckdb"
        ingest_extracts(extracts, db)
        build_marts(db)
        out[name] = db
    return out


def _read(db: Path, mart: str, tmp_path: Path) -> pl.DataFrame:
    from tasks.core.run_context import RunContext
    from tasks.marts import load_mart

    ctx = RunContext(db_path=str(db), run_id="status-as-of", as_of=AS_OF, out_dir=str(tmp_path))
    df = load_mart(ctx, mart)
    return df.drop([c for c in df.columns if c.endswith("_date") and c not in ("advert_date", "applied_date",
                                                                                 "closing_date")])


def _final_flags(db: Path) -> pl.DataFrame:
    from tasks.warehouse.connection import reading

    with reading(db) as con:
        return pl.from_arrow(con.sql("SELECT application_id, shortlisted, interviewed, offered, offer_declined, "
                                     "appointed, withdrawn_stage FROM marts.application_funnel").to_arrow_table())


def _sorted(df: pl.DataFrame) -> pl.DataFrame:
    return df.sort(df.columns, nulls_last=True)


# ---------------------------------------------------------------- pure
def test_coverage_label_hand_cases():
    from tasks.marts import coverage_label

    assert coverage_label(dated=10, undated=0) == STATUS_DATES_COMPLETE
    assert coverage_label(dated=0, undated=0) == STATUS_DATES_COMPLETE      # no status reached yet
    assert coverage_label(dated=0, undated=3) == STATUS_DATES_ABSENT
    assert coverage_label(dated=7, undated=3) == STATUS_DATES_PARTIAL


def test_report_caveat_only_when_statuses_are_undated():
    from tasks.outputs.report.sections.run_info import status_dates_caveat

    assert "final values" in status_dates_caveat(STATUS_DATES_ABSENT)
    assert "final values" in status_dates_caveat(STATUS_DATES_PARTIAL)
    assert status_dates_caveat(STATUS_DATES_COMPLETE) == "" and status_dates_caveat(None) == ""


@pytest.mark.parametrize("status_dates", [STATUS_DATES_ABSENT, STATUS_DATES_COMPLETE])
def test_the_report_labels_an_export_without_status_dates(tmp_path, status_dates):
    from fake_warehouse import build_fake_warehouse

    from tasks.outputs.report.format import esc
    from tasks.outputs.report.page import render_report
    from tasks.outputs.report.sections.run_info import STATUS_DATES_CAVEATS
    from tasks.publish.registry import record_status_dates

    db = tmp_path / "w.duckdb"
    run_id = build_fake_warehouse(db, tmp_path / "res")
    record_status_dates(db, run_id, status_dates)
    html = render_report(db, out_path=tmp_path / "report.html").read_text(encoding="utf-8")
    caveat = esc(STATUS_DATES_CAVEATS[STATUS_DATES_ABSENT])
    assert (caveat in html) == (status_dates == STATUS_DATES_ABSENT)
    assert f"<dt>status dates</dt><dd>{status_dates}</dd>" in html


# ---------------------------------------------------------------- planted: outcomes decided after M
def test_the_trust_has_outcomes_decided_after_the_cut_off(trusts):
    end: date = month_end(parse_month(AS_OF))
    apps = pl.read_csv(trusts["full"] / "applications.csv", infer_schema=False).filter(
        pl.col("Date Applied").str.strptime(pl.Date, "%d/%m/%Y") <= end)
    later = {flag: apps.filter(pl.col(day).str.strptime(pl.Date, "%d/%m/%Y") > end).height
             for flag, day in STATUS_HEADERS.items()}
    assert all(later[f] > 0 for f in ("Shortlisted", "Interviewed", "Offered", "Appointed")), later


def test_a_month_read_later_shows_what_it_showed_then(warehouses, tmp_path):
    for mart in ("application_funnel", "score_sheets"):
        later, then = _read(warehouses["full"], mart, tmp_path), _read(warehouses["cut"], mart, tmp_path)
        assert later.height == then.height > 0, mart
        assert _sorted(later).equals(_sorted(then)), mart


def test_the_read_is_not_the_final_flags(warehouses, tmp_path):
    """The equality above is not vacuous: read with final flags, month M would differ from what it showed."""
    as_of = _read(warehouses["full"], "application_funnel", tmp_path).select("application_id", *FLAGS)
    final = _final_flags(warehouses["full"]).join(as_of.select("application_id"), on="application_id")
    changed = {f: final.join(as_of, on="application_id", suffix="_as_of")
               .filter(pl.col(f).ne_missing(pl.col(f"{f}_as_of"))).height for f in FLAGS}
    assert changed["shortlisted"] > 0 and changed["appointed"] > 0, changed


# ---------------------------------------------------------------- an export without status dates
def test_an_export_without_status_dates_loads_and_uses_final_flags(warehouses, tmp_path):
    from tasks.marts import status_dates_coverage

    assert status_dates_coverage(warehouses["full"]) == STATUS_DATES_COMPLETE
    assert status_dates_coverage(warehouses["cut"]) == STATUS_DATES_COMPLETE
    assert status_dates_coverage(warehouses["undated"]) == STATUS_DATES_ABSENT
    as_of = _read(warehouses["undated"], "application_funnel", tmp_path).select("application_id", *FLAGS)
    final = _final_flags(warehouses["undated"]).join(as_of.select("application_id"), on="application_id")
    assert as_of.height > 0 and _sorted(as_of).equals(_sorted(final.select(as_of.columns)))


# ---------------------------------------------------------------- validation of the status dates
def _in_order_checks(db: Path, out: Path) -> dict[str, tuple[bool, int]]:
    from tasks.validation.gate import validate

    outcome = validate(str(db), "validate-status-dates", as_of=AS_OF, out_dir=str(out), data_docs=False)
    v = pl.read_parquet(outcome.result_paths["validation"])
    rows = v.filter(pl.col("expectation").str.ends_with("_date_in_order"))
    return {r["expectation"]: (r["success"], r["unexpected_count"]) for r in rows.iter_rows(named=True)}


def test_status_dates_out_of_order_are_reported_and_absent_ones_pass(trusts, tmp_path):
    """One export: an offer dated the day before its interview, and no appointed or withdrawn dates at all."""
    from tasks.ingest.staging import ingest_extracts
    from tasks.marts import status_dates_coverage

    planted = tmp_path / "planted"
    planted.mkdir()
    for path in trusts["full"].glob("*.csv"):
        if path.name == "applications.csv":
            apps = pl.read_csv(path, infer_schema=False).drop(["Appointed Date", "Withdrawn Date"])
            row = apps.with_row_index().filter(pl.col("Offered") == "Y")["index"][0]
            interview = datetime.strptime(apps["Interview Date"][row], "%d/%m/%Y").date()
            offer = (interview - timedelta(days=1)).strftime("%d/%m/%Y")
            apps = apps.with_columns(pl.when(pl.int_range(pl.len()) == row).then(pl.lit(offer))
                                     .otherwise(pl.col("Offer Date")).alias("Offer Date"))
            apps.write_csv(planted / path.name)
        elif not path.name.startswith("truth"):
            (planted / path.name).write_bytes(path.read_bytes())
    db = tmp_path / "planted.duckdb"
    ingest_extracts(planted, db)
    assert status_dates_coverage(db) == STATUS_DATES_PARTIAL    # appointments and withdrawals undated
    checks = _in_order_checks(db, tmp_path / "out")
    assert checks["offered_date_in_order"] == (False, 1)
    assert checks["appointed_date_in_order"] == (True, 0)       # a column the export lacks: nothing to compare
    assert checks["shortlisted_date_in_order"] == checks["interviewed_date_in_order"] == (True, 0)
