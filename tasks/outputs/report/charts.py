"""Inline SVG charts drawn in Python: forest plots, horizontal bars, lines, legends.

Pure functions from rows of plain values to an SVG (or HTML) string; no chart
library, no script, nothing fetched.  A chart with nothing to draw says so in
a ``<p class="na">`` paragraph instead.
"""
from __future__ import annotations

import math
from typing import Callable, Iterable

from tasks.outputs.report.css import PALETTE
from tasks.outputs.report.format import esc, fmt, pct


def _svg(width: int, height: int, body: str, title: str) -> str:
    return (f'<svg viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>{body}</svg>')


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=raw)
    start = math.ceil(lo / step) * step
    return [round(start + i * step, 10) for i in range(int((hi - start) / step) + 1)]


def forest_svg(rows: list[dict], title: str, log_scale: bool = True, ref: float | None = 1.0,
               shade: tuple[float, float] | None = None, vlines: Iterable[tuple[float, str]] = (),
               width: int = 760, xlabel: str = "") -> str:
    """Points with intervals, one row each: dict(label, est, lo, hi, hollow, mark, color)."""
    rows = [r for r in rows if r.get("est") is not None]
    if not rows:
        return '<p class="na">No estimate to plot (all withheld or missing).</p>'
    vals = [v for r in rows for v in (r["est"], r.get("lo"), r.get("hi")) if v is not None]
    if log_scale:
        vals = [v for v in vals if v > 0]
    extra = [x for x, _ in vlines] + ([ref] if ref is not None else []) + (list(shade) if shade else [])
    vals += extra
    lo, hi = min(vals), max(vals)
    if log_scale:
        lo, hi = max(lo, 1e-3), min(hi, 1e3)
        lo, hi = math.log(lo) - 0.1, math.log(hi) + 0.1
    else:
        pad = (hi - lo) * 0.05 or 0.1
        lo, hi = lo - pad, hi + pad
    left, right, top, rh = 290, 30, 22, 20
    height = top + rh * len(rows) + 40
    pw = width - left - right

    def x(v: float) -> float:
        t = math.log(max(v, 1e-3)) if log_scale else v
        return left + (min(max(t, lo), hi) - lo) / (hi - lo) * pw

    out = []
    if shade:
        out.append(f'<rect x="{x(shade[0]):.1f}" y="{top - 6}" width="{x(shade[1]) - x(shade[0]):.1f}" '
                   f'height="{rh * len(rows) + 6}" fill="#e8f1fb"/>')
    ticks = ([t for t in (0.1, 0.2, 0.25, 0.5, 0.8, 1, 1.25, 2, 4, 5, 10, 20) if lo <= math.log(t) <= hi]
             if log_scale else _nice_ticks(lo, hi))
    axis_y = top + rh * len(rows) + 4
    for t in ticks:
        out.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{axis_y}" y2="{axis_y + 4}" stroke="#5b6776"/>'
                   f'<text x="{x(t):.1f}" y="{axis_y + 16}" text-anchor="middle">{esc(fmt(float(t), 3))}</text>')
    out.append(f'<line x1="{left}" x2="{left + pw}" y1="{axis_y}" y2="{axis_y}" stroke="#5b6776"/>')
    if xlabel:
        out.append(f'<text x="{left + pw / 2:.0f}" y="{axis_y + 32}" text-anchor="middle">{esc(xlabel)}</text>')
    if ref is not None:
        out.append(f'<line x1="{x(ref):.1f}" x2="{x(ref):.1f}" y1="{top - 6}" y2="{axis_y}" stroke="#5b6776" stroke-dasharray="3 3"/>')
    for v, label in vlines:
        out.append(f'<line x1="{x(v):.1f}" x2="{x(v):.1f}" y1="{top - 6}" y2="{axis_y}" stroke="#ed8b00" stroke-width="2" stroke-dasharray="6 3"/>'
                   f'<text x="{x(v) + 3:.1f}" y="{top - 9}" fill="#ed8b00">{esc(label)}</text>')
    for i, r in enumerate(rows):
        y = top + rh * i + rh / 2
        color = r.get("color", PALETTE[0])
        out.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{esc(r["label"])}</text>')
        if r.get("lo") is not None and r.get("hi") is not None:
            out.append(f'<line x1="{x(r["lo"]):.1f}" x2="{x(r["hi"]):.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{color}" stroke-width="1.6"/>')
        fill = "#fff" if r.get("hollow") else color
        out.append(f'<rect x="{x(r["est"]) - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{fill}" stroke="{color}" stroke-width="1.5"/>')
        if r.get("mark"):
            out.append(f'<text x="{left + pw + 4}" y="{y + 4:.1f}" fill="#b3261e">{esc(r["mark"])}</text>')
    return _svg(width, height, "".join(out), title)


def bars_svg(rows: list[dict], title: str, max_value: float | None = None, ref: float | None = None,
             ref_label: str = "", width: int = 760, value_fmt: Callable[[float], str] = fmt) -> str:
    """Horizontal bars: dict(label, value, color, marker (a second value drawn as a tick), note)."""
    shown = [r for r in rows if r.get("value") is not None or r.get("note")]
    if not shown:
        return '<p class="na">Nothing to chart (all values withheld or missing).</p>'
    vmax = max_value or max([r["value"] for r in shown if r.get("value") is not None] +
                            [r["marker"] for r in shown if r.get("marker") is not None] + [ref or 0, 1e-9])
    left, right, top, rh = 250, 70, 16, 18
    pw = width - left - right
    height = top + rh * len(shown) + 24
    out = []
    for i, r in enumerate(shown):
        y = top + i * rh
        out.append(f'<text x="{left - 8}" y="{y + 12}" text-anchor="end">{esc(r["label"])}</text>')
        if r.get("value") is None:
            out.append(f'<text x="{left + 4}" y="{y + 12}" fill="#5b6776">{esc(r.get("note") or "withheld")}</text>')
            continue
        w = max(0.0, r["value"]) / vmax * pw
        out.append(f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{rh - 6}" fill="{r.get("color", PALETTE[0])}"/>'
                   f'<text x="{left + w + 4:.1f}" y="{y + 12}">{esc(value_fmt(r["value"]))}</text>')
        if r.get("marker") is not None:
            mx = left + r["marker"] / vmax * pw
            out.append(f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="{y + 1}" y2="{y + rh - 1}" stroke="#1d2733" stroke-width="2.5"/>')
    if ref is not None:
        rx = left + ref / vmax * pw
        out.append(f'<line x1="{rx:.1f}" x2="{rx:.1f}" y1="{top - 4}" y2="{top + rh * len(shown)}" stroke="#b3261e" stroke-dasharray="4 3"/>'
                   f'<text x="{rx + 3:.1f}" y="{top + rh * len(shown) + 14}" fill="#b3261e">{esc(ref_label)}</text>')
    return _svg(width, height, "".join(out), title)


def lines_svg(series: list[dict], title: str, vline: float | None = None, vline_label: str = "",
              width: int = 760, height: int = 300, y_fmt: Callable[[float], str] = pct,
              x_labels: dict[float, str] | None = None) -> str:
    """Points and lines: series dict(name, points [(x, y)], color, dashed, points_only)."""
    pts = [p for s in series for p in s["points"] if p[1] is not None]
    if not pts:
        return '<p class="na">Nothing to chart (all values withheld or missing).</p>'
    xs = [p[0] for p in pts] + ([vline] if vline is not None else [])
    ys = [p[1] for p in pts]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(0.0, min(ys)), max(ys) * 1.1 or 1
    left, right, top, bottom = 60, 20, 15, 45
    pw, ph = width - left - right, height - top - bottom

    def X(v):
        return left + (v - x0) / ((x1 - x0) or 1) * pw

    def Y(v):
        return top + ph - (v - y0) / ((y1 - y0) or 1) * ph

    out = [f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + ph}" stroke="#5b6776"/>',
           f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" stroke="#5b6776"/>']
    for t in _nice_ticks(y0, y1, 4):
        out.append(f'<line x1="{left - 4}" x2="{left + pw}" y1="{Y(t):.1f}" y2="{Y(t):.1f}" stroke="#eef1f4"/>'
                   f'<text x="{left - 6}" y="{Y(t) + 4:.1f}" text-anchor="end">{esc(y_fmt(t))}</text>')
    for xv, lab in (x_labels or {}).items():
        out.append(f'<text x="{X(xv):.1f}" y="{top + ph + 16}" text-anchor="middle">{esc(lab)}</text>')
    if vline is not None:
        out.append(f'<line x1="{X(vline):.1f}" x2="{X(vline):.1f}" y1="{top}" y2="{top + ph}" stroke="#ed8b00" stroke-width="2" stroke-dasharray="6 3"/>'
                   f'<text x="{X(vline) + 4:.1f}" y="{top + 12}" fill="#ed8b00">{esc(vline_label)}</text>')
    for s in series:
        p = [(a, b) for a, b in s["points"] if b is not None]
        color = s.get("color", PALETTE[0])
        if not s.get("points_only") and len(p) > 1:
            d = " ".join(f"{X(a):.1f},{Y(b):.1f}" for a, b in p)
            dash = ' stroke-dasharray="5 4"' if s.get("dashed") else ""
            out.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
        if s.get("points_only") or len(p) == 1:
            out.extend(f'<circle cx="{X(a):.1f}" cy="{Y(b):.1f}" r="3" fill="{color}"/>' for a, b in p)
    return _svg(width, height, "".join(out), title)


def legend(items: list[tuple[str, str]]) -> str:
    return '<p class="legend">' + "".join(
        f'<span><i class="sw" style="background:{c}"></i>{esc(n)}</span>' for n, c in items) + "</p>"

