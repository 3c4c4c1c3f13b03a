"""Warehouse settings (``meta.settings``): fingerprints and other small key/value state.

Reads and writes one text value by name (``sql/ops/meta/``).  Callers own the
transaction; nothing here commits or interprets a value.
"""
from __future__ import annotations

from tasks.warehouse.sql import run_sql


def get_setting(con, name: str) -> str | None:
    r = run_sql(con, "ops/meta/get_setting", {"name": name}).fetchone()
    return r[0] if r else None


def set_setting(con, name: str, value: str) -> None:
    run_sql(con, "ops/meta/set_setting", {"name": name, "value": value})
