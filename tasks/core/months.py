"""Months as the pipeline speaks of them: ``YYYY-MM`` strings and first-of-month dates."""
from __future__ import annotations

import calendar
from datetime import date


def parse_month(value: str) -> date:
    """'YYYY-MM' -> first day of that month.  ValueError with a clear message otherwise."""
    try:
        y, m = value.strip().split("-")
        if len(y) != 4 or len(m) != 2:
            raise ValueError
        return date(int(y), int(m), 1)
    except Exception as exc:  # noqa: BLE001
        raise ValueError(f"expected a month as YYYY-MM, got {value!r}") from exc


def month_end(month: date) -> date:
    return date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])


def add_months(month: date, n: int) -> date:
    idx = month.year * 12 + (month.month - 1) + n
    return date(idx // 12, idx % 12 + 1, 1)


def month_str(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"
