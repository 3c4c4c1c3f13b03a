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


SCHEDULE_TIMEZONE = "Europe/London"


def months_between(start: str, end: str) -> list[str]:
    """Inclusive list of months YYYY-MM from ``start`` to ``end``."""
    a, b = parse_month(start), parse_month(end)
    if b < a:
        raise ValueError(f"end {end} is before start {start}")
    out, m = [], a
    while m <= b:
        out.append(month_str(m))
        m = add_months(m, 1)
    return out


def previous_month(today: date | None = None) -> str:
    """The month before ``today`` (a date or datetime; default: now in Europe/London)."""
    if today is None:
        from datetime import datetime
        from zoneinfo import ZoneInfo

        today = datetime.now(ZoneInfo(SCHEDULE_TIMEZONE)).date()
    return month_str(add_months(date(today.year, today.month, 1), -1))
