"""The validation gate: Great Expectations suites over the staged tables.

Runs after ingest (:func:`tasks.ingest.staging.ingest_extracts`) and before the
marts (:func:`tasks.marts.build_marts`); see :func:`validate`.  For every staged
table, in dependency order (hiring managers, vacancies, panels, applications,
then scores, assessments, letters and the workforce):

1. ``sql/checks/<table>.sql`` builds a *validation frame*: the staged rows plus
   helper columns for the checks that need other tables or run parameters
   (referential integrity, stage logic, date windows, the landing date of the
   row's file, exact copies and key conflicts).  Free text stays in DuckDB; only
   its length and flags go to the frame (:mod:`tasks.validation.gx`).
2. The frame is validated by GX against ``expectations/<table>.json``
   (:mod:`tasks.validation.rules`); the context, results and Data Docs live in
   ``<out_dir>/<run_id>/``.
3. Each expectation's ``meta.severity`` decides what a failure does:

   * ``critical``: the run stops before any analysis: :class:`ValidationCritical`
     (one line: file, column, count, a few pseudonymous IDs).  A row-level
     expectation failed by more than ``systemic_share`` of a table's rows is
     escalated to critical (a wrong mapping or a broken export, not bad rows);
     so is a table where ingest could not parse that share of rows.
   * ``row-level``: the offending rows move to ``quarantine.<table>`` with
     their raw values (:func:`tasks.ingest.quarantine.quarantine`); the rest
     proceed.  Children of a quarantined row fail their referential check next
     and follow it (their reason says so).
   * ``warning``: reported, nothing stopped.

4. Reconciliation (:func:`tasks.ingest.quarantine.reconcile`): raw = staged +
   quarantined for every table; a mismatch is critical.

Everything the gate changes happens in one DuckDB transaction: a critical stop
rolls back the quarantine moves, so staging is as ingest left it.  The gate's
results (``validation`` and ``quarantine_summary``, :mod:`tasks.validation.summary`)
are returned as polars frames and written under ``<out_dir>/<run_id>/results/``
for publish; on a critical stop they are also written straight to
``results.validation`` so a failed run keeps its reasons.  Row-count drift
compares with the staged counts of the previous validated run
(``meta.validation_row_counts``).  The header check uses the mappings the run
used (``mapping_paths``).  The gate never builds the marts and never publishes.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl

from tasks.core.months import month_end, parse_month
from tasks.core.run_context import RunContext
from tasks.core.vocabulary import TABLE_KEYS
from tasks.ingest.mappings import TableMapping, load_mappings
from tasks.ingest.quarantine import ensure_quarantine, quarantine, reconcile
from tasks.ingest.readers import ExtractError
from tasks.validation.checks import (
    SAMPLE_IDS,
    Check,
    check_from_result,
    file_checks,
    ingest_checks,
    reconciliation_checks,
)
from tasks.validation.gx import ROW_ID_FILE_SHIFT, SUMMARY_RESULT_FORMAT, GXContext, index_ids, validation_frame
from tasks.validation.rules import (
    ACTION_OF_SEVERITY,
    DEFAULT_WINDOW_START,
    FORMULA_PATTERN,
    SEVERITIES,
    VALIDATION_ORDER,
    ValidationCritical,
    frame_params,
    load_suite_file,
    resolve_suite,
    suite_params,
)
from tasks.validation.summary import (
    ValidationOutcome,
    critical_message,
    print_summary,
    quarantine_summary,
    summarise,
    validation_table,
)
from tasks.warehouse.connection import table_exists, writing
from tasks.warehouse.sql import query, run_sql

__all__ = [
    "DEFAULT_WINDOW_START", "FORMULA_PATTERN", "SEVERITIES", "VALIDATION_ORDER", "Check", "ValidationCritical",
    "ValidationOutcome", "load_suite_file", "print_summary", "resolve_suite", "summarise", "validate",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Thresholds:
    """The run's validation options, as :func:`validate` received them."""

    window_start: date
    as_of_end: date
    unknown_ethnicity_threshold: float
    drift_threshold: float
    systemic_share: float
    systemic_min_rows: int


@dataclass(frozen=True)
class _StagedSet:
    """What ingest staged for this run: the extract files and the tables to validate."""

    files: pl.DataFrame                 # checks/files: table_name, file_name, sha256, encoding
    tables: list[str]                   # in VALIDATION_ORDER
    file_of: dict[str, str]             # sha256 -> file name
    files_of: dict[str, list[str]]      # table -> sorted file names
    previous: dict[str, int]            # table -> staged rows in the previous validated run


def validate(
    db_path: str,
    run_id: str,
    *,
    as_of: str,
    out_dir: str,
    unknown_ethnicity_threshold: float = 0.10,
    drift_threshold: float = 0.25,
    window_start: str = DEFAULT_WINDOW_START,
    systemic_share: float = 0.5,
    systemic_min_rows: int = 20,
    data_docs: bool = True,
    mapping_paths: list[Path] | None = None,
) -> ValidationOutcome:
    """Validate the staged tables, quarantine row-level failures, reconcile; stop on critical.

    Call after :func:`tasks.ingest.staging.ingest_extracts` and before :func:`tasks.marts.build_marts`.
    Raises :class:`ValidationCritical` (one-line message) when the run must stop.
    ``data_docs=False`` skips building Data Docs (tests; the GX results are still stored).
    ``mapping_paths`` are the mapping files the run's ingest used (None: every ``mappings/*.yaml``);
    the unmapped-columns check reads exactly those.
    """
    t0 = time.perf_counter()
    opts = _Thresholds(
        window_start=parse_month(window_start), as_of_end=month_end(parse_month(as_of)),
        unknown_ethnicity_threshold=unknown_ethnicity_threshold, drift_threshold=drift_threshold,
        systemic_share=systemic_share, systemic_min_rows=systemic_min_rows,
    )
    run_dir = Path(out_dir) / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    if not Path(str(db_path)).exists():
        raise ValidationCritical(f"no warehouse at {db_path}: run `edi-recruit ingest` first")
    gxr = GXContext.for_run(run_dir)
    with writing(db_path) as con:
        staged = _staged_set(con, db_path, run_id)
        before = {t: _quarantined(con, t, create=True) for t in staged.tables}
        checks = file_checks(con, staged.files, staged.tables, _run_mappings(mapping_paths))
        checks += _check_tables(con, gxr, run_id, staged, opts)
        critical = [c for c in checks if c.severity == "critical" and not c.success]
        validation = validation_table(checks)
        recon: list[dict] = []
        if critical:
            _write_results_directly(con, run_id, validation)
        else:
            recon = reconcile(con, staged.tables)
        qsum = quarantine_summary(con, staged.tables)
        after = {t: _quarantined(con, t) for t in staged.tables}
    docs = gxr.build_docs() if data_docs else None
    if critical:
        raise ValidationCritical(critical_message(critical, docs), results=validation, data_docs_path=docs)
    ctx = RunContext(db_path=str(db_path), run_id=run_id, as_of=as_of, out_dir=str(out_dir))
    from tasks.publish.results_store import write_tables

    out_tables = {"validation": validation, "quarantine_summary": qsum}
    outcome = ValidationOutcome(
        run_id=run_id, as_of=as_of, tables=out_tables, result_paths=write_tables(ctx, out_tables),
        data_docs_path=docs, summary="", reconciliation=recon, quarantined_rows=after,
        newly_quarantined={t: after[t] - before.get(t, 0) for t in staged.tables},
        seconds=time.perf_counter() - t0,
    )
    outcome.summary = summarise(outcome)
    log.info("validation: %s", outcome.summary.splitlines()[0])
    return outcome


def _run_mappings(mapping_paths: list[Path] | None) -> dict[str, TableMapping]:
    """The run's mappings, for the unmapped-columns check.

    With no paths, every ``mappings/*.yaml``; if they do not load, the header check is
    skipped (as before ``mapping_paths`` existed).  Paths the run names must load.
    """
    if mapping_paths is None:
        try:
            return load_mappings()
        except Exception:  # noqa: BLE001 - unreadable default mappings: skip the header check
            return {}
    try:
        return load_mappings(list(mapping_paths))
    except ExtractError as exc:
        raise ValidationCritical(f"the run's mappings could not be read: {exc}") from None


def _staged_set(con, db_path, run_id: str) -> _StagedSet:
    """The current extract set and the tables staged from it; stops when nothing is staged."""
    if not table_exists(con, "meta.extract_set"):
        raise ValidationCritical(f"nothing staged in {db_path}: run `edi-recruit ingest` first")
    files = query(con, "checks/files")
    staged_tables = set(files["table_name"].to_list())
    tables = [t for t in VALIDATION_ORDER if t in staged_tables and table_exists(con, f"staging.{t}")]
    if not tables:
        raise ValidationCritical(f"nothing staged in {db_path}: run `edi-recruit ingest` first")
    run_sql(con, "checks/row_counts")
    previous = {r["table_name"]: int(r["row_count"])
                for r in query(con, "checks/previous_counts", {"run_id": run_id}).iter_rows(named=True)}
    return _StagedSet(
        files=files, tables=tables,
        file_of={r["sha256"]: r["file_name"] for r in files.iter_rows(named=True)},
        files_of={t: sorted(files.filter(pl.col("table_name") == t)["file_name"].to_list()) for t in tables},
        previous=previous,
    )


def _quarantined(con, table: str, *, create: bool = False) -> int:
    """Rows in ``quarantine.<table>`` (created first when ``create``)."""
    if create:
        ensure_quarantine(con, table)
    return run_sql(con, "queries/count_rows", table=f"quarantine.{table}").fetchone()[0]


def _check_tables(con, gxr: GXContext, run_id: str, staged: _StagedSet, opts: _Thresholds) -> list[Check]:
    """Every table's checks and quarantine moves, and reconciliation, in one transaction.

    Commits (and records the staged row counts for the next run's drift check) when no
    check is critical; otherwise rolls back, so staging and quarantine are as ingest left them.
    """
    con.execute("BEGIN TRANSACTION")
    committed = False
    try:
        checks: list[Check] = []
        counts: dict[str, int] = {}
        for t in staged.tables:
            checks += ingest_checks(con, t, systemic_share=opts.systemic_share,
                                    systemic_min_rows=opts.systemic_min_rows)
            counts[t] = run_sql(con, "queries/count_rows", table=f"staging.{t}").fetchone()[0]
            checks += _validate_table(con, gxr, t, staged, opts)
        checks += reconciliation_checks(reconcile(con, staged.tables), staged.files_of)
        critical = [c for c in checks if c.severity == "critical" and not c.success]
        if critical:
            con.execute("ROLLBACK")
            for c in checks:
                if c.action_taken == "quarantined":
                    c.action_taken = "would quarantine (run stopped)"
            for c in critical:
                c.action_taken = "stopped the run"
        else:
            for t, n in counts.items():
                run_sql(con, "checks/record_counts", {
                    "run_id": run_id, "table_name": t, "row_count": n, "validated_at": datetime.now()})
            con.execute("COMMIT")
            committed = True
    except ValidationCritical:
        raise
    except Exception:
        if not committed:
            try:
                con.execute("ROLLBACK")
            except Exception:  # noqa: BLE001
                pass
        raise
    return checks


def _validate_table(con, gxr: GXContext, table: str, staged: _StagedSet, opts: _Thresholds) -> list[Check]:
    """One table's suite: build the frame, run GX, find the offending rows, quarantine row-level failures."""
    t0 = time.perf_counter()
    params = suite_params(previous_row_count=staged.previous.get(table),
                          unknown_ethnicity_threshold=opts.unknown_ethnicity_threshold,
                          drift_threshold=opts.drift_threshold)
    configs, skipped = resolve_suite(load_suite_file(table), params)
    if skipped:
        log.info("%s: skipped %s (no previous run to compare with)", table, ", ".join(skipped))
    df, sha_of_file = validation_frame(con, table, frame_params(window_start=opts.window_start,
                                                                as_of_end=opts.as_of_end))
    t_frame = time.perf_counter()
    results = gxr.run(table, configs, df, SUMMARY_RESULT_FORMAT)
    t_gx = time.perf_counter()
    checks = [check_from_result(r, table=table, n_rows=len(df), params=params, systemic_share=opts.systemic_share,
                                systemic_min_rows=opts.systemic_min_rows) for r in results]
    _list_offending_rows(gxr, table, configs, df, checks)
    _locate(checks, df, table=table, sha_of_file=sha_of_file, staged=staged)
    _quarantine_failures(con, table, checks)
    log.info("%s: %d rows, %d checks: frame %.1fs, GX %.1fs, rest %.1fs", table, len(df), len(checks),
             t_frame - t0, t_gx - t_frame, time.perf_counter() - t_gx)
    return checks


def _list_offending_rows(gxr: GXContext, table: str, configs: list[dict], df, checks: list[Check]) -> None:
    """Every offending row of the row-level failures that are not systemic: a second GX pass
    over just those expectations, with complete index lists."""
    need_rows = [c for c in checks if not c.success and c.severity == "row-level" and c.type != "ingest"]
    if not need_rows:
        return
    by_name = {c.name: c for c in need_rows}
    full = gxr.offending_rows(table, [cfg for cfg in configs if cfg["meta"].get("name") in by_name], df)
    for r in full:
        c = by_name.get((r.expectation_config.meta or {}).get("name"))
        if c is not None:
            c.row_ids = sorted(index_ids((r.result or {}).get("unexpected_index_list")))


def _locate(checks: list[Check], df, *, table: str, sha_of_file: dict[int, str], staged: _StagedSet) -> None:
    """Sample IDs and file names of each failed check; a row-level failure without rows becomes critical."""
    key = TABLE_KEYS[table]
    for c in checks:
        if c.row_ids:
            sample = df.loc[c.row_ids[:SAMPLE_IDS]]
            c.sample_ids = [
                (str(v) if v is not None and str(v) not in ("", "nan", "NaT", "<NA>") else f"row_id {rid}")
                for rid, v in zip(sample["_row_id"].tolist(), sample[key[0]].tolist())
            ]
            nos = {rid // ROW_ID_FILE_SHIFT for rid in c.row_ids}
            c.files = sorted({staged.file_of.get(sha_of_file.get(n, ""), sha_of_file.get(n, "?")[:12]) for n in nos})
        elif not c.success:
            c.files = list(staged.files_of[table])
        if not c.success and c.severity == "row-level" and not c.row_ids:
            c.severity = "critical"
            c.reason = f"{c.reason} (offending rows could not be identified)"


def _quarantine_failures(con, table: str, checks: list[Check]) -> None:
    """Move the rows of row-level failures to quarantine: the first failing expectation (suite order)
    names the row.  Records the action taken on every failed check."""
    rows: dict[int, tuple[str, str]] = {}
    for c in checks:
        if c.severity == "row-level" and not c.success:
            c.action_taken = "quarantined"
            for rid in c.row_ids:
                rows.setdefault(rid, (c.name, c.reason))
        elif not c.success:
            c.action_taken = ACTION_OF_SEVERITY[c.severity]
    if not rows:
        return
    import pyarrow as pa

    rel = pa.table({"_row_id": pa.array(list(rows), pa.int64()),
                    "expectation": [v[0] for v in rows.values()],
                    "reason": [v[1] for v in rows.values()]})
    con.register("validation_failed_rows", rel)
    try:
        run_sql(con, "checks/quarantine_rows", rows="validation_failed_rows")
    finally:
        con.unregister("validation_failed_rows")
    quarantine(con, table, "validation_quarantine")
    log.info("%s: %d row(s) quarantined", table, len(rows))


def _write_results_directly(con, run_id: str, validation: pl.DataFrame) -> None:
    """A failed run keeps its reasons: results.validation written here (publish never runs)."""
    df = validation.select(pl.lit(run_id, dtype=pl.Utf8).alias("run_id"), pl.all())
    con.register("validation_results_frame", df.to_arrow())
    try:
        con.execute("BEGIN TRANSACTION")
        run_sql(con, "ops/validation/create", frame="validation_results_frame")
        run_sql(con, "ops/validation/replace", {"run_id": run_id}, frame="validation_results_frame")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("validation_results_frame")
