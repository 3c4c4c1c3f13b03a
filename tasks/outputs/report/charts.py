"""Inline SVG charts drawn in Python: forest plots, horizontal bars, lines, legends.

Pure functions from rows of plain values to an SVG (or HTML) string; no chart
library, no script, nothing fetched.  A chart with nothing to draw says so in
a ``<p class="na">`` paragraph instead.  A mark that stands for an ethnic group
carries ``data-group="<group>"`` and that group's one colour
(:func:`tasks.outputs.report.css.group_colour`); an adverse value is hatched
(never a colour of its own).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from tasks.outputs.report.css import ADVERSE_FILL, ADVERSE_STROKE, NEUTRAL, PALETTE, adverse_defs
from tasks.outputs.report.format import esc, fmt, pct, ratio


def _g(row: dict) -> str:
    """The data-group attribute of a mark that stands for a group ("" otherwise)."""
    return f' data-group="{esc(row["group"])}"' if row.get("group") else ""


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
               width: int = 1000, xlabel: str = "") -> str:
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
    left, right, top, rh = 440, 110, 22, 20
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
    kept: list[float] = []
    for t in ticks:  # ticks closer than 34 px to the last one kept are dropped (no overlapping labels)
        if not kept or x(t) - x(kept[-1]) >= 34:
            kept.append(t)
    for t in kept:
        out.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{axis_y}" y2="{axis_y + 4}" stroke="#5b6776"/>'
                   f'<text x="{x(t):.1f}" y="{axis_y + 16}" text-anchor="middle">{esc(ratio(float(t)) if log_scale else fmt(float(t), 2))}</text>')
    out.append(f'<line x1="{left}" x2="{left + pw}" y1="{axis_y}" y2="{axis_y}" stroke="#5b6776"/>')
    if xlabel:
        out.append(f'<text x="{left + pw / 2:.0f}" y="{axis_y + 32}" text-anchor="middle">{esc(xlabel)}</text>')
    if ref is not None:
        out.append(f'<line x1="{x(ref):.1f}" x2="{x(ref):.1f}" y1="{top - 6}" y2="{axis_y}" stroke="#5b6776" stroke-dasharray="3 3"/>')
    for v, label in vlines:
        out.append(f'<line x1="{x(v):.1f}" x2="{x(v):.1f}" y1="{top - 6}" y2="{axis_y}" stroke="{NEUTRAL["start"]}" stroke-width="2" stroke-dasharray="6 3"/>'
                   f'<text x="{x(v) + 3:.1f}" y="{top - 9}">{esc(label)}</text>')
    for i, r in enumerate(rows):
        y = top + rh * i + rh / 2
        color = r.get("color", PALETTE[0])
        out.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{esc(r["label"])}</text>')
        if r.get("lo") is not None and r.get("hi") is not None:
            out.append(f'<line x1="{x(r["lo"]):.1f}" x2="{x(r["hi"]):.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{color}" stroke-width="1.6"{_g(r)}/>')
        fill = "#fff" if r.get("hollow") else color
        out.append(f'<rect x="{x(r["est"]) - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{fill}" stroke="{color}" stroke-width="1.5"{_g(r)}/>')
        if r.get("mark"):
            out.append(f'<text x="{left + pw + 4}" y="{y + 4:.1f}">{esc(r["mark"])}</text>')
    return _svg(width, height, "".join(out), title)


def bars_svg(rows: list[dict], title: str, max_value: float | None = None, ref: float | None = None,
             ref_label: str = "", width: int = 1000, value_fmt: Callable[[float], str] = fmt) -> str:
    """Horizontal bars: dict(label, value, color, group, adverse (hatched, "adverse" written beside it),
    marker (a second value drawn as a tick), note)."""
    shown = [r for r in rows if r.get("value") is not None or r.get("note")]
    if not shown:
        return '<p class="na">Nothing to chart (all values withheld or missing).</p>'
    vmax = max_value or max([r["value"] for r in shown if r.get("value") is not None] +
                            [r["marker"] for r in shown if r.get("marker") is not None] + [ref or 0, 1e-9])
    left, right, top, rh = 330, 130, 16, 18
    pw = width - left - right
    height = top + rh * len(shown) + 24
    out = [adverse_defs()] if any(r.get("adverse") for r in shown) else []
    for i, r in enumerate(shown):
        y = top + i * rh
        out.append(f'<text x="{left - 8}" y="{y + 12}" text-anchor="end">{esc(r["label"])}</text>')
        if r.get("value") is None:
            out.append(f'<text x="{left + 4}" y="{y + 12}" fill="#5b6776">{esc(r.get("note") or "withheld")}</text>')
            continue
        w = max(0.0, r["value"]) / vmax * pw
        if r.get("adverse"):
            out.append(f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{rh - 6}" fill="{ADVERSE_FILL}" '
                       f'stroke="{ADVERSE_STROKE}" data-adverse="1"/>'
                       f'<rect x="{left}" y="{y + 3}" width="4" height="{rh - 6}" fill="{r.get("color", PALETTE[0])}"{_g(r)}/>'
                       f'<text x="{left + w + 4:.1f}" y="{y + 12}">{esc(value_fmt(r["value"]))} adverse</text>')
        else:
            out.append(f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{rh - 6}" fill="{r.get("color", PALETTE[0])}"{_g(r)}/>'
                       f'<text x="{left + w + 4:.1f}" y="{y + 12}">{esc(value_fmt(r["value"]))}</text>')
        if r.get("marker") is not None:
            mx = left + r["marker"] / vmax * pw
            out.append(f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="{y + 1}" y2="{y + rh - 1}" stroke="#1d2733" stroke-width="2.5"/>')
    if ref is not None:
        rx = left + ref / vmax * pw
        out.append(f'<line x1="{rx:.1f}" x2="{rx:.1f}" y1="{top - 4}" y2="{top + rh * len(shown)}" stroke="{NEUTRAL["main"]}" stroke-dasharray="4 3"/>'
                   f'<text x="{rx + 3:.1f}" y="{top + rh * len(shown) + 14}">{esc(ref_label)}</text>')
    return _svg(width, height, "".join(out), title)


def lines_svg(series: list[dict], title: str, vline: float | None = None, vline_label: str = "",
              width: int = 760, height: int = 300, y_fmt: Callable[[float], str] = pct,
              x_labels: dict[float, str] | None = None, ylabel: str = "", xlabel: str = "") -> str:
    """Points and lines: series dict(name, points [(x, y)], color, dashed, points_only, group, bands
    [(x0, x1, lo, hi)] drawn as shaded intervals).  x labels closer than 56 px to the previous one are skipped."""
    pts = [p for s in series for p in s["points"] if p[1] is not None]
    if not pts:
        return '<p class="na">Nothing to chart (all values withheld or missing).</p>'
    xs = [p[0] for p in pts] + ([vline] if vline is not None else [])
    ys = [p[1] for p in pts]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(0.0, min(ys)), max(ys) * 1.1 or 1
    left, right, top, bottom = 78, 20, 15, 50
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
    last_x = None
    for xv, lab in sorted((x_labels or {}).items()):
        if last_x is not None and X(xv) - last_x < 56:
            continue
        last_x = X(xv)
        out.append(f'<text x="{X(xv):.1f}" y="{top + ph + 16}" text-anchor="middle">{esc(lab)}</text>')
    if ylabel:
        out.append(f'<text x="14" y="{top + ph / 2:.0f}" text-anchor="middle" transform="rotate(-90 14 {top + ph / 2:.0f})">'
                   f'{esc(ylabel)}</text>')
    if xlabel:
        out.append(f'<text x="{left + pw / 2:.0f}" y="{top + ph + 38}" text-anchor="middle">{esc(xlabel)}</text>')
    if vline is not None:
        out.append(f'<line x1="{X(vline):.1f}" x2="{X(vline):.1f}" y1="{top}" y2="{top + ph}" stroke="{NEUTRAL["start"]}" stroke-width="2" stroke-dasharray="6 3"/>'
                   f'<text x="{X(vline) + 4:.1f}" y="{top + 12}">{esc(vline_label)}</text>')
    for s in series:
        for x0_, x1_, lo_, hi_ in s.get("bands", ()):
            if lo_ is not None and hi_ is not None:
                out.append(f'<rect x="{X(x0_):.1f}" y="{Y(hi_):.1f}" width="{X(x1_) - X(x0_):.1f}" '
                           f'height="{Y(lo_) - Y(hi_):.1f}" fill="{s.get("color", PALETTE[0])}" fill-opacity="0.15"{_g(s)}/>')
        p = [(a, b) for a, b in s["points"] if b is not None]
        color = s.get("color", PALETTE[0])
        if not s.get("points_only") and len(p) > 1:
            d = " ".join(f"{X(a):.1f},{Y(b):.1f}" for a, b in p)
            dash = ' stroke-dasharray="5 4"' if s.get("dashed") else ""
            out.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="2"{dash}{_g(s)}/>')
        if s.get("points_only") or len(p) == 1:
            out.extend(f'<circle cx="{X(a):.1f}" cy="{Y(b):.1f}" r="3" fill="{color}"{_g(s)}/>' for a, b in p)
    return _svg(width, height, "".join(out), title)


def legend(items: list[tuple[str, str]], groups: list[str | None] | None = None, adverse: bool = False) -> str:
    """A legend: (words, colour) pairs; ``groups`` names the group each item stands for (data-group);
    ``adverse`` adds the hatched "adverse" key."""
    groups = groups or [None] * len(items)
    spans = "".join(f'<span><i class="sw" style="background:{c}"{_g({"group": g})}></i>{esc(n)}</span>'
                    for (n, c), g in zip(items, groups))
    if adverse:
        spans += '<span><i class="sw adverse"></i>adverse (hatched)</span>'
    return f'<p class="legend">{spans}</p>'

