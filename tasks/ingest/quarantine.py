"""Quarantine and reconciliation: the one home of both.

Rows that cannot be staged (ingest: malformed lines, unparseable values) or that
fail a row-level validation rule (the gate, :mod:`tasks.validation.gate`) move
from ``staging.<table>`` to ``quarantine.<table>`` with their raw values as JSON
(``sql/ops/quarantine/``); a row keeps the first reason it was quarantined for.
Reconciliation checks raw (the current extract set) = staged + quarantined per
table.

Callers own the transaction; nothing here commits.  Rows are never deleted from
raw, and the landed files are never touched.
"""
from __future__ import annotations

from tasks.core.vocabulary import CANONICAL_TABLES
from tasks.warehouse.connection import table_exists
from tasks.warehouse.sql import run_sql, sql_text


def ensure_quarantine(con, table: str) -> None:
    """Create ``quarantine.<table>`` if it does not exist."""
    run_sql(con, "ops/quarantine/create", table=table)


def clear_quarantine(con, table: str) -> None:
    """Empty ``quarantine.<table>`` (creating it first): staging is being rebuilt from raw."""
    ensure_quarantine(con, table)
    run_sql(con, "ops/quarantine/clear", table=table)


def quarantine(con, table: str, rows_relation: str) -> None:
    """Move rows (a relation of _sha256, _row_number, expectation, reason) from staging to quarantine."""
    ensure_quarantine(con, table)
    run_sql(con, "ops/quarantine/move_rows", table=table, rows=rows_relation)


def reconcile(con, tables: list[str] | None = None) -> list[dict]:
    """raw (current set) = staging + quarantine, per table.

    Returns one dict per table: ``table_name``, ``raw_rows``, ``staged_rows``,
    ``quarantined_rows`` and ``balanced``.
    """
    out = []
    for t in tables or list(CANONICAL_TABLES):
        ensure_quarantine(con, t)
        r = con.execute(sql_text("ops/quarantine/reconcile", table=t), {"table_name": t}).fetchone()
        rec = {"table_name": r[0], "raw_rows": int(r[1]), "staged_rows": int(r[2]), "quarantined_rows": int(r[3])}
        rec["balanced"] = rec["raw_rows"] == rec["staged_rows"] + rec["quarantined_rows"]
        out.append(rec)
    return out


def quarantine_count(con) -> int:
    """Rows in quarantine over every canonical table (a term of the marts' fingerprint)."""
    total = 0
    for t in CANONICAL_TABLES:
        if table_exists(con, f"quarantine.{t}"):
            total += run_sql(con, "queries/count_rows", table=f"quarantine.{t}").fetchone()[0]
    return total
