"""Formatting of published values for the report: text, numbers, percentages and HTML tables.

Reads nothing: pure functions over values and polars frames already read by
:mod:`tasks.outputs.published`.  A published value may be text (counts are
stored as text so the suppression marker ``*`` survives); :func:`num` turns it
into a number or None, never guessing a suppressed value.
"""
from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable

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
    """A value for a table cell: floats to ``digits`` significant figures (at least 2 decimals below 100,
    never scientific notation), booleans as yes/no, text as it is."""
    if v is None:
        return NA
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if not math.isfinite(v):
            return NA
        if v == 0:
            return "0"
        if abs(v) >= 100:
            return f"{v:,.0f}"
        decimals = max(2, digits - 1 - math.floor(math.log10(abs(v))))
        return f"{v:.{min(decimals, 6)}f}"
    return str(v)


def ratio(v: float | None) -> str:
    """A ratio (odds ratio, relative likelihood, impact ratio, interval end) to 2 decimals."""
    return NA if v is None or not math.isfinite(v) else f"{v:.2f}"


def pct(v: float | None, decimals: int = 1) -> str:
    """A proportion (0-1) as a percentage."""
    return NA if v is None or not math.isfinite(v) else f"{100 * v:.{decimals}f}%"


def p_text(p: float | None) -> str:
    """A p-value as readers expect it: "p < 0.001", "p = 0.04", "p = 0.38"."""
    if p is None or not math.isfinite(p):
        return NA
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


def ci_text(lo: float | None, hi: float | None, f: Callable[[float | None], str] = ratio) -> str:
    """An interval as "1.11 to 2.43" (no en dash to be misread as a minus)."""
    return NA if lo is None or hi is None else f"{f(lo)} to {f(hi)}"


# How a table formats a column, by its name (2 decimals for ratios, % for proportions, p < 0.001 style)
RATIO_COLUMNS = frozenset({"odds_ratio", "relative_likelihood", "impact_ratio", "representation_ratio", "target_ratio"})
PROPORTION_COLUMNS = frozenset({"proportion_white", "proportion_bme", "selection_rate", "reference_rate", "share",
                                "prevalence", "bme_share", "target", "gap"})
P_COLUMNS = frozenset({"p_value", "q_value"})


def cell(column: str, v, *, ratio_ci: bool = False) -> str:
    """A table cell formatted by what its column holds; ``ratio_ci``: ci_low/ci_high are ratio bounds."""
    x = v if isinstance(v, (int, float)) and not isinstance(v, bool) else None
    if x is None or isinstance(v, int):
        return fmt(v)
    if column in P_COLUMNS:
        return p_text(x).replace("p = ", "").replace("p ", "")
    if column in RATIO_COLUMNS or (ratio_ci and column in ("ci_low", "ci_high")):
        return ratio(x)
    if column in PROPORTION_COLUMNS:
        return pct(x)
    return fmt(v)


def cols(df: pl.DataFrame | None, *names: str) -> bool:
    return df is not None and df.height > 0 and all(n in df.columns for n in names)


def html_table(df: pl.DataFrame, columns: Iterable[str] | None = None, max_rows: int = 300,
               caption: str | None = None, *, ratio_ci: bool | None = None,
               headers: dict[str, str] | None = None, display: dict[str, Callable[[object], str]] | None = None) -> str:
    """A table of a frame's columns, each cell formatted by its column (:func:`cell`).

    ``ratio_ci``: ci_low / ci_high are bounds of a ratio (default: when the frame has a ratio column);
    ``headers``: words shown instead of column names; ``display``: column -> function giving the words
    for its values (e.g. :func:`tasks.core.display.display_term`).
    """
    columns = [c for c in (columns or df.columns) if c in df.columns and c != "run_id"]
    if ratio_ci is None:
        ratio_ci = any(c in RATIO_COLUMNS for c in df.columns)
    headers, display = headers or {}, display or {}
    head = "".join(f"<th>{esc(headers.get(c, c))}</th>" for c in columns)
    body = []
    for row in df.head(max_rows).select(columns).iter_rows():
        cells = []
        for c, v in zip(columns, row):
            cls = ' class="t"' if isinstance(v, str) and num(v) is None and v != SUPPRESSED else ""
            text = display[c](v) if c in display and v is not None else cell(c, v, ratio_ci=ratio_ci)
            cells.append(f"<td{cls}>{esc(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = f'<p class="note">First {max_rows} of {df.height} rows shown; the exports hold all rows.</p>' if df.height > max_rows else ""
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f'<div class="scroll"><table>{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>{more}'


def not_available(*tables: str) -> str:
    names = ", ".join(f"published.{t}" for t in tables)
    return f'<p class="na">Not available in this run ({esc(names)} not published).</p>'
