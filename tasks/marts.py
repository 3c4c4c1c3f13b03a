"""The marts: building them from staging, and point-in-time reads for analyses.

``build_marts`` runs ``sql/models/marts/*.sql`` in one transaction when staging or the
programme start changed.  ``load_mart`` reads one mart as of a run's month
(records dated after its last day are invisible, and so are statuses reached
after it: an application shortlisted the month after reads as not shortlisted;
see "Status dates" in docs/data-contract.md) and, optionally, within the
run's analysis window, ordered by each row's lineage (source file hash and row
number, never the pseudonymous IDs) so that analyses see rows in the same order
in every warehouse built from the same extracts, whatever its pseudonymisation key.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl

from tasks.core.months import parse_month
from tasks.core.paths import REFERENCE_DIR
from tasks.core.vocabulary import (
    DEFAULT_PROGRAMME_START,
    STATUS_DATE_COLUMNS,
    STATUS_DATES_ABSENT,
    STATUS_DATES_COMPLETE,
    STATUS_DATES_PARTIAL,
)
from tasks.ingest.quarantine import quarantine_count
from tasks.warehouse.connection import reading, writing
from tasks.warehouse.meta import get_setting, set_setting
from tasks.warehouse.sql import Fragment, column_list, quoted, run_sql, sql_text

# --------------------------------------------------------------------------
# Point-in-time reads of the marts for analyses
# --------------------------------------------------------------------------
MART_DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    # a record is visible to a run for as_of=M if all these dates are <= end of M
    "application_funnel": ("advert_date", "applied_date"),
    "score_sheets": ("advert_date", "applied_date"),
    "assessment_texts": ("advert_date", "written_date"),
    "ceo_letter_texts": ("advert_date", "written_date"),
    "panel_members": ("advert_date",),
    "vacancy_features": ("advert_date",),
    "workforce": ("snapshot_month",),
}


# Every read is ordered by the row's lineage (LINEAGE_COLUMN: source file hash and
# row number, key-independent), then by these natural keys (ties only), so analyses
# see rows in the same order on every run and in every warehouse built from the same
# extracts, whatever its pseudonymisation key.  The pseudonymous IDs are hashes of
# the key: ordering, grouping or tie-breaking by them would differ between warehouses.
LINEAGE_COLUMN = "_lineage"


MART_KEYS: dict[str, tuple[str, ...]] = {
    "application_funnel": ("application_id",),
    "score_sheets": ("application_id", "member_id"),
    "assessment_texts": ("application_id", "author_id"),
    "ceo_letter_texts": ("vacancy_id",),
    "panel_members": ("vacancy_id", "member_id"),
    "vacancy_features": ("vacancy_id",),
    "workforce": ("snapshot_month", "staff_id"),
}


MART_WINDOW_COLUMN: dict[str, str] = {
    "application_funnel": "advert_date", "score_sheets": "advert_date",
    "assessment_texts": "advert_date", "ceo_letter_texts": "advert_date",
    "panel_members": "advert_date", "vacancy_features": "advert_date",
    "workforce": "snapshot_month",
}


# Status dates that hide a record decided after the month end; a NULL date (an export without
# status dates) hides nothing.  Score sheets exist only once the interview has taken place.
MART_STATUS_DATE_COLUMNS: dict[str, tuple[str, ...]] = {"score_sheets": ("interviewed_date",)}


# Marts whose status flags are read as of the month (tasks.core.vocabulary.STATUS_DATE_COLUMNS)
MART_STATUS_FLAGS: dict[str, dict[str, str]] = {"application_funnel": STATUS_DATE_COLUMNS}


def _known_by(date_column: str) -> str:
    """True when the status was reached by the month end, or its date is unknown (final flag, as recorded)."""
    return f"coalesce({quoted(date_column)} <= $as_of_end, TRUE)"


def _status_as_of(flag: str, date_column: str) -> str:
    if flag == "withdrawn_stage":
        return f"CASE WHEN {_known_by(date_column)} THEN {quoted(flag)} END"
    return f"CAST({quoted(flag)} = 1 AND {_known_by(date_column)} AS INTEGER)"


def _with_status_as_of(name: str, columns: list[str] | None, star: str) -> Fragment:
    """The read's select list (``star`` when no columns are named), each status flag as of ``$as_of_end``."""
    flags = MART_STATUS_FLAGS.get(name, {})
    if columns:
        return Fragment(", ".join(f"{_status_as_of(c, flags[c])} AS {quoted(c)}" if c in flags else quoted(c)
                                  for c in columns))
    if not flags:
        return Fragment(star)
    return Fragment(star + " REPLACE (" + ", ".join(f"{_status_as_of(f, d)} AS {quoted(f)}"
                                                    for f, d in flags.items()) + ")")


def load_mart(ctx, name: str, columns: list[str] | None = None, window: bool = False) -> pl.DataFrame:
    """Read ``marts.<name>`` as of ``ctx.as_of`` (records dated after the month end are excluded).

    Each application's status flags (shortlisted, interviewed, offered, offer_declined,
    appointed, withdrawn_stage) are read as of the month end too: a flag counts only if its
    status date is on or before that day; a flag without a date keeps its final value (an
    export without status dates, as before they were part of the data contract).
    ``window=True`` also applies the run's analysis window (``ctx.window_start``).
    """
    if name not in MART_DATE_COLUMNS:
        raise ValueError(f"unknown mart {name!r}; known: {', '.join(sorted(MART_DATE_COLUMNS))}")
    params: dict = {"as_of_end": ctx.as_of_end}
    as_of_filter = Fragment(" AND ".join([f"{quoted(c)} <= $as_of_end" for c in MART_DATE_COLUMNS[name]]
                                         + [_known_by(c) for c in MART_STATUS_DATE_COLUMNS.get(name, ())]))
    window_filter = Fragment("TRUE")
    if window and ctx.window_start is not None:
        window_filter = Fragment(f"{quoted(MART_WINDOW_COLUMN[name])} >= $window_start")
        params["window_start"] = ctx.window_start
    selected = _with_status_as_of(name, columns, f"* EXCLUDE ({quoted(LINEAGE_COLUMN)})")
    sql = sql_text("queries/mart_as_of", mart=name, columns=selected,
                   as_of_filter=as_of_filter, window_filter=window_filter,
                   order_by=column_list((LINEAGE_COLUMN, *MART_KEYS[name])))
    with reading(ctx.db_path) as con:
        return pl.from_arrow(con.sql(sql, params=params).to_arrow_table())


def coverage_label(*, dated: int, undated: int) -> str:
    """``absent``: no status dates (every flag final); ``partial``: some statuses undated; else ``complete``."""
    if undated == 0:
        return STATUS_DATES_COMPLETE
    return STATUS_DATES_ABSENT if dated == 0 else STATUS_DATES_PARTIAL


def status_dates_coverage(db_path: str | Path) -> str:
    """Whether the staged applications date their status changes (recorded in the run registry)."""
    with reading(db_path) as con:
        undated, dated = run_sql(con, "queries/status_dates_coverage").fetchone()
    return coverage_label(dated=int(dated), undated=int(undated))


# sql/models/marts/<step>.sql, in dependency order
MART_STEPS = tuple(f"models/marts/{step}" for step in (
    "reference", "vacancy_features", "application_funnel", "panel_members", "score_sheets", "text_tables", "workforce",
))


def build_marts(db_path: str | Path, programme_start: str = DEFAULT_PROGRAMME_START, force: bool = False) -> bool:
    """(Re)build the marts for the current staging, programme start and mart SQL.  Returns True if rebuilt."""
    start = parse_month(programme_start)
    with writing(db_path) as con:
        models = hashlib.sha256(b"".join(sql_text(step).encode() for step in MART_STEPS)).hexdigest()
        staged = f"{get_setting(con, 'staging_fingerprint')}|{start}|{quarantine_count(con)}|{models}"
        fp = hashlib.sha256(staged.encode()).hexdigest()
        if not force and get_setting(con, "marts_fingerprint") == fp:
            return False
        con.execute("BEGIN TRANSACTION")
        try:
            run_sql(con, "models/staging/macros")
            for step in MART_STEPS:
                run_sql(con, step, {
                    "programme_start": start,
                    "ethnic_csv": str(REFERENCE_DIR / "nhs_ethnic_category.csv"),
                    "wres_csv": str(REFERENCE_DIR / "wres_indicator2_national.csv"),
                })
            set_setting(con, "marts_fingerprint", fp)
            set_setting(con, "programme_start", str(start))
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    return True
