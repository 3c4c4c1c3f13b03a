"""Formatting of published values for the report: text, numbers, percentages and HTML tables.

Reads nothing: pure functions over values and polars frames already read by
:mod:`tasks.outputs.published`.  A published value may be text (counts are
stored as text so the suppression marker ``*`` survives); :func:`num` turns it
into a number or None, never guessing a suppressed value.
"""
from __future__ import annotations

import html
import math
from typing import Iterable

import polars as pl

SUPPRESSED = "*"


NA = "–"


def esc(v) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def num(v) -> float | None:
    """A published value as a number; suppressed ('*'), missing or non-numeric -> None."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return None if isinstance(v, float) and not math.isfinite(v) else float(v)
    try:
        x = float(str(v).strip())
        return x if math.isfinite(x) else None
    except ValueError:
        return None


def fmt(v, digits: int = 3) -> str:
    if v is None:
        return NA
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if not math.isfinite(v):
            return NA
        if v != 0 and (abs(v) < 0.001 or abs(v) >= 1e5):
            return f"{v:.2e}"
        return f"{v:.{digits}g}" if abs(v) >= 1 else f"{v:.{digits}f}".rstrip("0").rstrip(".") or "0"
    return str(v)


def pct(v: float | None) -> str:
    return NA if v is None else f"{100 * v:.1f}%"


def cols(df: pl.DataFrame | None, *names: str) -> bool:
    return df is not None and df.height > 0 and all(n in df.columns for n in names)


def html_table(df: pl.DataFrame, columns: Iterable[str] | None = None, max_rows: int = 300,
               caption: str | None = None) -> str:
    columns = [c for c in (columns or df.columns) if c in df.columns and c != "run_id"]
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for row in df.head(max_rows).select(columns).iter_rows():
        cells = []
        for v in row:
            cls = ' class="t"' if isinstance(v, str) and num(v) is None and v != SUPPRESSED else ""
            cells.append(f"<td{cls}>{esc(fmt(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = f'<p class="note">First {max_rows} of {df.height} rows shown; the exports hold all rows.</p>' if df.height > max_rows else ""
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f'<div class="scroll"><table>{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>{more}'


def not_available(*tables: str) -> str:
    names = ", ".join(f"published.{t}" for t in tables)
    return f'<p class="na">Not available in this run ({esc(names)} not published).</p>'
