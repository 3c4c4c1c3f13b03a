"""What the gate reports: its result tables, its outcome and its messages.

* ``validation``: one row per check (:data:`VALIDATION_COLUMNS`), from
  :class:`tasks.validation.checks.Check` rows;
* ``quarantine_summary``: rows in quarantine per table, expectation and reason;
* :class:`ValidationOutcome`: those tables, where they were written, the Data Docs
  path (``<out_dir>/<run_id>/data_docs/index.html``) and the end-of-run summary;
* the one-line message of a critical stop (:func:`critical_message`).

It reads the quarantine tables for the summary and never writes to the warehouse.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field

import polars as pl

from tasks.validation.checks import Check
from tasks.warehouse.sql import query

VALIDATION_COLUMNS = {
    "suite": pl.Utf8, "expectation": pl.Utf8, "expectation_type": pl.Utf8, "column_name": pl.Utf8,
    "severity": pl.Utf8, "success": pl.Boolean, "element_count": pl.Int64, "unexpected_count": pl.Int64,
    "unexpected_percent": pl.Float64, "action_taken": pl.Utf8, "file_names": pl.Utf8, "sample_ids": pl.Utf8,
    "reason": pl.Utf8, "detail": pl.Utf8,
}


QUARANTINE_SUMMARY_COLUMNS = {"table_name": pl.Utf8, "expectation": pl.Utf8, "reason": pl.Utf8, "rows": pl.Int64}


@dataclass
class ValidationOutcome:
    run_id: str
    as_of: str
    tables: dict[str, pl.DataFrame]
    result_paths: dict[str, str]
    data_docs_path: str | None
    summary: str
    reconciliation: list[dict] = field(default_factory=list)
    quarantined_rows: dict[str, int] = field(default_factory=dict)
    newly_quarantined: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def warnings(self) -> pl.DataFrame:
        v = self.tables["validation"]
        return v.filter((pl.col("severity") == "warning") & ~pl.col("success"))


def validation_table(checks: list[Check]) -> pl.DataFrame:
    """The ``validation`` result table: one row per check, in the order they were made."""
    rows = [c.row() for c in checks]
    if not rows:
        return pl.DataFrame(schema=VALIDATION_COLUMNS)
    return pl.DataFrame(rows, schema=VALIDATION_COLUMNS)


def quarantine_summary(con, tables: list[str]) -> pl.DataFrame:
    """The ``quarantine_summary`` result table: rows in ``quarantine.<table>`` by expectation and reason."""
    frames = [query(con, "checks/quarantine_summary", {"table_name": t}, table=t) for t in tables]
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame(schema=QUARANTINE_SUMMARY_COLUMNS)
    return pl.concat(frames).cast(QUARANTINE_SUMMARY_COLUMNS)


def critical_message(critical: list[Check], data_docs_path: str | None) -> str:
    """The one-line message of a critical stop: the first critical check, how many more, the Data Docs."""
    first = critical[0]
    more = f" (+{len(critical) - 1} more critical)" if len(critical) > 1 else ""
    docs_note = f"; details: {data_docs_path}" if data_docs_path else ""
    return f"validation stopped the run: {first.message()}{more}{docs_note}"


def summarise(outcome: ValidationOutcome) -> str:
    """The end-of-run summary: a status line, then quarantine, warnings, reconciliation and Data Docs."""
    v = outcome.tables["validation"]
    failed = v.filter(~pl.col("success"))
    n_row = failed.filter(pl.col("severity") == "row-level").height
    warn = failed.filter(pl.col("severity") == "warning")
    new_q = sum(outcome.newly_quarantined.values())
    total_q = sum(outcome.quarantined_rows.values())
    status = "PASSED" if failed.height == 0 else "PASSED with quarantine/warnings"
    lines = [
        f"Validation {status} for run {outcome.run_id} (as of {outcome.as_of}) in {outcome.seconds:.1f}s: "
        f"{v.height} checks; critical 0, row-level failures {n_row}, warnings {warn.height}.",
    ]
    q = outcome.tables["quarantine_summary"]
    if q.height:
        by_table = q.group_by("table_name").agg(pl.col("rows").sum()).sort("table_name")
        lines.append(f"  quarantined rows: {total_q:,} ({new_q:,} new this run): " + "; ".join(
            f"{r['table_name']} {r['rows']:,}" for r in by_table.iter_rows(named=True)))
        for r in q.sort("rows", descending=True).head(8).iter_rows(named=True):
            lines.append(f"    {r['table_name']}.{r['expectation']}: {r['rows']:,}  ({r['reason'][:90]})")
    for r in warn.iter_rows(named=True):
        what = f"{r['unexpected_count']:,} rows" if r["expectation_type"] not in ("file",) else r["reason"][:90]
        if r["expectation"] in ("unknown_ethnicity_share", "row_count_drift"):
            what = r["reason"][:120]
        lines.append(f"  warning {r['suite']}.{r['expectation']}: {what}")
    ok = all(r["balanced"] for r in outcome.reconciliation)
    lines.append(f"  reconciliation: raw = staged + quarantined for {len(outcome.reconciliation)} tables"
                 if ok else "  reconciliation: MISMATCH")
    if outcome.data_docs_path:
        lines.append(f"  Data Docs: {outcome.data_docs_path}")
    return "\n".join(lines)


def print_summary(outcome: ValidationOutcome | str, file=None) -> None:
    """Print the end-of-run summary (no Prefect needed)."""
    text = outcome if isinstance(outcome, str) else outcome.summary
    print(text, file=file or sys.stdout)
