"""One checked expectation (:class:`Check`) and how each kind of check is made.

A check comes from one of four places:

* a GX expectation result on a validation frame (:func:`check_from_result`);
* the rows ingest could not stage, read from the warehouse (:func:`ingest_checks`);
* the extract files themselves: encoding and unmapped columns (:func:`file_checks`),
  against the mappings the run used;
* reconciliation, raw = staged + quarantined (:func:`reconciliation_checks`).

The severity written in the rule (:mod:`tasks.validation.rules`) is applied here,
including the escalation of systemic row-level failures to critical.  This module
reads the warehouse but never writes to it; quarantine moves are the gate's.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import polars as pl

from tasks.ingest.mappings import TableMapping
from tasks.validation.gx import index_ids
from tasks.validation.rules import (
    AGGREGATE_TYPES,
    INGEST_ACTION,
    INGEST_EXPECTATIONS,
    is_systemic,
    systemic_note,
)
from tasks.warehouse.sql import query, run_sql

SAMPLE_IDS = 5


@dataclass
class Check:
    table: str
    name: str
    type: str
    severity: str
    column: str | None
    success: bool
    element_count: int
    unexpected_count: int
    reason: str
    action: str
    row_ids: list[int] = field(default_factory=list)
    sample_ids: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    observed: str = ""
    action_taken: str = "none"
    # what was observed, with exact figures or raw values (a share, row counts, a value that did not
    # parse): kept in results.validation and the one-line messages for the data engineer, never
    # published (the disclosure policy drops it: exact counts and raw values stay internal)
    detail: str = ""

    @property
    def unexpected_percent(self) -> float:
        return 100.0 * self.unexpected_count / self.element_count if self.element_count else 0.0

    def row(self) -> dict:
        return {
            "suite": self.table, "expectation": self.name, "expectation_type": self.type,
            "column_name": self.column or "", "severity": self.severity, "success": self.success,
            "element_count": self.element_count, "unexpected_count": self.unexpected_count,
            "unexpected_percent": round(self.unexpected_percent, 4), "action_taken": self.action_taken,
            "file_names": ", ".join(self.files), "sample_ids": ", ".join(self.sample_ids[:SAMPLE_IDS]),
            "reason": self.reason, "detail": self.detail,
        }

    def message(self) -> str:
        """One line: file, column, count, reason, the expectation and a few pseudonymous IDs."""
        where = ", ".join(self.files) or f"the {self.table} extract"
        col = f"column {self.column}" if self.column else f"table {self.table}"
        count = (f"{self.unexpected_count:,} of {self.element_count:,} rows ({self.unexpected_percent:.0f}%)"
                 if self.element_count else f"{self.unexpected_count:,} rows")
        if self.type.startswith("expect_table_") or self.name.endswith("_type"):
            count = self.observed or "failed"
        eg = f"; e.g. {', '.join(self.sample_ids[:SAMPLE_IDS])}" if self.sample_ids else ""
        detail = f" ({self.detail})" if self.detail else ""
        return f"{where}: {col}: {count}: {self.reason}{detail} [{self.table}.{self.name}]{eg}"


# --------------------------------------------------------------------------
# GX results -> checks
# --------------------------------------------------------------------------
def _column_of(cfg) -> str | None:
    kw = cfg.kwargs
    col = kw.get("column") or kw.get("column_A") or (", ".join(kw["column_list"]) if kw.get("column_list") else None)
    if col and col.startswith("_"):
        return None
    return col


def _raised(exc) -> bool:
    """Whether GX could not evaluate the expectation (its exception_info says it raised)."""
    if isinstance(exc, dict) and "raised_exception" in exc:
        return bool(exc.get("raised_exception"))
    values = exc.values() if isinstance(exc, dict) else []
    return any(isinstance(v, dict) and v.get("raised_exception") for v in values)


def check_from_result(r, *, table: str, n_rows: int, params: dict, systemic_share: float,
                      systemic_min_rows: int) -> Check:
    """The check of one GX expectation result on a frame of ``n_rows`` rows.

    The row ids are the (up to 20) offending rows of the SUMMARY result; the gate lists
    every offending row of a row-level failure in a second pass.
    """
    cfg = r.expectation_config
    meta = cfg.meta or {}
    res = r.result or {}
    element_count = int(res.get("element_count") or n_rows)
    unexpected = int(res.get("unexpected_count") or 0)
    c = Check(table, meta.get("name", cfg.type), cfg.type, meta.get("severity", "warning"), _column_of(cfg),
              bool(r.success), element_count, unexpected, meta.get("reason", ""), meta.get("action", ""))
    if _raised(r.exception_info or {}):
        c.success, c.severity = False, "critical"
        c.observed = "the expectation could not be evaluated (schema changed?)"
        c.reason = f"{c.reason}; GX could not evaluate it"
    elif cfg.type.startswith("expect_table_") or cfg.type in AGGREGATE_TYPES:
        _observe_aggregate(c, r, n_rows=n_rows, params=params)
    elif cfg.type == "expect_column_values_to_be_in_type_list":
        c.observed = f"observed {res.get('observed_value')}"
    elif cfg.kwargs.get("mostly") is not None:
        # a share check on a 0/1 helper column (unknown ethnicity): the offending rows are
        # counted, not quarantined; observed share = offending / rows
        share = c.unexpected_count / c.element_count if c.element_count else 0.0
        c.observed = f"observed share {share:.1%}"
        if not r.success:
            c.detail = f"{c.observed}, threshold {1 - float(cfg.kwargs['mostly']):.0%}"
    # the summary holds up to 20 offending row ids: enough for a sample and the file names
    c.row_ids = sorted(index_ids(res.get("partial_unexpected_index_list"))) if not r.success else []
    if not c.success and c.severity == "row-level" and is_systemic(
            unexpected=c.unexpected_count, rows=c.element_count,
            systemic_share=systemic_share, systemic_min_rows=systemic_min_rows):
        c.severity = "critical"
        c.reason = f"{c.reason}{systemic_note(systemic_share)}"
    return c


def _observe_aggregate(c: Check, r, *, n_rows: int, params: dict) -> None:
    """Observed value and reason of a table-level or aggregate expectation."""
    cfg = r.expectation_config
    obs = (r.result or {}).get("observed_value")
    c.element_count = n_rows
    if cfg.type == "expect_table_columns_to_match_set" and not r.success:
        missing = sorted(set(cfg.kwargs.get("column_set") or []) - set(obs or []))
        c.observed = f"missing {', '.join(missing)}"
    elif cfg.type in AGGREGATE_TYPES and obs is not None:
        c.observed = f"observed share {float(obs):.1%}"
        c.unexpected_count = int(round(float(obs) * n_rows))
        if not r.success:
            c.detail = f"{c.observed}, threshold {cfg.kwargs.get('max_value'):.0%}"
    else:
        c.observed = f"observed {obs}"
        if c.name == "row_count_drift":
            c.reason = drift_reason(c.table, c.reason, r.success)
            c.detail = drift_detail(obs, cfg.kwargs, params)


def drift_reason(table: str, reason: str, success: bool) -> str:
    """The recorded reason of the row-count drift check says what happened on this run, in words only:
    the published copy of the reason carries no count (the exact figures are :func:`drift_detail`)."""
    if success:
        return f"the number of {table} rows is within the drift threshold of the previous validated run"
    return reason


def drift_detail(observed, kwargs: dict, params: dict) -> str:
    """The drift check's exact figures, for the data engineer (results.validation ``detail``, messages)."""
    prev = params.get("previous_row_count")
    lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
    was = f"{prev:,} in the previous validated run" if prev is not None else f"expected {lo:,}..{hi:,}"
    return f"{observed:,} rows; {was}; allowed {lo:,}..{hi:,}"


# --------------------------------------------------------------------------
# Checks the gate makes without GX
# --------------------------------------------------------------------------
def ingest_checks(con, table: str, *, systemic_share: float, systemic_min_rows: int) -> list[Check]:
    """Rows ingest could not stage (malformed lines, unparseable values), reported as row-level results."""
    raw_n = run_sql(con, "checks/raw_rows", {"table_name": table}, table=table).fetchone()[0]
    got = {r["expectation"]: r for r in query(con, "checks/ingest_rejects",
                                              {"table_name": table}, table=table).iter_rows(named=True)}
    out = []
    for name, reason in INGEST_EXPECTATIONS.items():
        r = got.get(name)
        n = int(r["n"]) if r else 0
        c = Check(table, name, "ingest", "row-level", None, n == 0, raw_n, n, reason, INGEST_ACTION)
        if r:
            c.files = sorted(r["files"])
            c.sample_ids = [f"row {x}" for x in r["sample_rows"]]
            c.detail = r["example_reason"] or ""  # may quote the raw value: never published
            c.action_taken = "quarantined"
            m = re.search(r"could not parse (\w+)", c.detail)
            c.column = m.group(1) if m else None
            if is_systemic(unexpected=n, rows=raw_n, systemic_share=systemic_share,
                           systemic_min_rows=systemic_min_rows):
                c.severity, c.action_taken = "critical", "stopped the run"
                c.reason += systemic_note(systemic_share)
        out.append(c)
    return out


def file_checks(con, files: pl.DataFrame, tables: list[str], mappings: dict[str, TableMapping]) -> list[Check]:
    """File-level warnings: not UTF-8, and columns not in the run's mappings (kept in raw, ignored)."""
    out = []
    for r in files.iter_rows(named=True):
        t = r["table_name"]
        if t not in tables:
            continue
        enc = r["encoding"]
        utf8 = enc in (None, "utf-8", "utf-8-sig")
        out.append(Check(t, "file_is_utf8", "file", "warning", None, utf8, 1, 0 if utf8 else 1,
                         f"{r['file_name']} is not valid UTF-8; decoded as {enc}" if not utf8 else "file is UTF-8",
                         "Ask for UTF-8 exports; check names and text in the file read correctly.",
                         files=[r["file_name"]], action_taken="reported" if not utf8 else "none"))
        m = mappings.get(t)
        row = run_sql(con, "ops/meta/get_setting", {"name": f"headers:{r['sha256']}"}).fetchone()
        if m is None or row is None:
            continue
        headers = json.loads(row[0])
        extra = [h for h in headers if h not in m.columns and h not in m.personal_data]
        out.append(Check(t, "no_unmapped_columns", "file", "warning", ", ".join(extra) or None, not extra, 1,
                         len(extra),
                         f"{len(extra)} column(s) not in the mapping, kept in raw and ignored: {', '.join(extra)}"
                         if extra else "every column is mapped",
                         "Nothing to do unless a column was renamed: then add it to mappings/.",
                         files=[r["file_name"]], action_taken="reported" if extra else "none"))
    return out


def reconciliation_checks(recon: list[dict], files_of: dict[str, list[str]]) -> list[Check]:
    """A critical check for every table where raw != staged + quarantined (``files_of``: table -> file names)."""
    out = []
    for r in recon:
        if r["balanced"]:
            continue
        out.append(Check(r["table_name"], "reconciliation", "python", "critical", None, False,
                         r["raw_rows"], abs(r["raw_rows"] - r["staged_rows"] - r["quarantined_rows"]),
                         f"raw {r['raw_rows']} != staged {r['staged_rows']} + quarantined "
                         f"{r['quarantined_rows']}", "A bug: report it with the run id.",
                         files=files_of.get(r["table_name"], []),
                         observed="rows lost or duplicated between raw, staging and quarantine"))
    return out
