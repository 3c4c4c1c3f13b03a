"""Quarantine and reconciliation: rows that cannot be staged (or fail a row-level
validation rule) move to ``quarantine.<table>`` with their raw values, and
raw = staged + quarantined is checked per table.
"""
from __future__ import annotations

from tasks.core.vocabulary import CANONICAL_TABLES
from tasks.warehouse.connection import table_exists
from tasks.warehouse.sql import run_sql, sql_text


def quarantine(con, table: str, rows_relation: str) -> None:
    """Move rows (a relation of _sha256, _row_number, expectation, reason) from staging to quarantine."""
    run_sql(con, "ops/quarantine/create", table=table)
    run_sql(con, "ops/quarantine/move_rows", table=table, rows=rows_relation)


def reconcile(con, tables: list[str] | None = None) -> list[dict]:
    """raw (current set) = staging + quarantine, per table."""
    out = []
    for t in tables or list(CANONICAL_TABLES):
        run_sql(con, "ops/quarantine/create", table=t)
        r = con.execute(sql_text("ops/quarantine/reconcile", table=t), {"table_name": t}).fetchone()
        rec = {"table_name": r[0], "raw_rows": int(r[1]), "staged_rows": int(r[2]), "quarantined_rows": int(r[3])}
        rec["balanced"] = rec["raw_rows"] == rec["staged_rows"] + rec["quarantined_rows"]
        out.append(rec)
    return out


def quarantine_count(con) -> int:
    total = 0
    for t in CANONICAL_TABLES:
        if table_exists(con, f"quarantine.{t}"):
            total += run_sql(con, "queries/count_rows", table=f"quarantine.{t}").fetchone()[0]
    return total
