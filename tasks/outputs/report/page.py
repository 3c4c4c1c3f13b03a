"""The run report: one fully self-contained HTML file.

Inline CSS and inline SVG charts drawn here in Python; no script, font, image
or stylesheet is fetched from anywhere, and there is no ``<script>`` at all,
so the file opens on a locked-down laptop with no internet.

The report reads ONLY the disclosure-controlled ``published.*`` tables and
the run registry ``results.runs``: every count it shows has been through
:mod:`tasks.disclosure`.  Each section renders "Not available in this run"
when its tables are absent, and falls back to a plain table when the columns
it charts are missing.

Published tables each section reads (see docs/methods.md section 5):

==  =======================  ===========================================
 1  summary                  wres_indicator2, odds_ratios, adverse_impact,
                             programme_impact, representation, validation
 2  funnel                   funnel_counts
 3  odds ratios              odds_ratios
 4  WRES indicator 2         wres_indicator2, national_reference
 5  adverse impact           adverse_impact
 6  topics                   topics, topic_prevalence
 7  sentiment                sentiment_by_group, text_effects
 8  interview scores         interview_scores, score_effects
 9  representation           representation
10  ITS                      programme_impact
11  data quality             validation, quarantine_summary
12  methods and caveats      disclosure_log
13  run metadata             results.runs, disclosure_log
==  =======================  ===========================================
"""
from __future__ import annotations

import html
import logging
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import polars as pl

from tasks.publish.writer import fetch_frame, table_exists
from tasks.warehouse.connection import reading

log = logging.getLogger(__name__)


SUPPRESSED = "*"


NA = "–"


SECTIONS: tuple[tuple[str, str], ...] = (
    ("section-summary", "Summary"),
    ("section-funnel", "Recruitment funnel by ethnicity and band"),
    ("section-odds-ratios", "Odds ratios by stage, with the letter and panel contrasts"),
    ("section-wres", "WRES indicator 2 by band and period"),
    ("section-adverse-impact", "Adverse impact (four-fifths rule, intersectional)"),
    ("section-topics", "Topics in assessment text"),
    ("section-sentiment", "Sentiment by group: unadjusted and adjusted"),
    ("section-scores", "Normalised interview scores by band and ethnicity"),
    ("section-representation", "Representation by band against the Model Employer target"),
    ("section-its", "Programme impact over time (interrupted time series)"),
    ("section-data-quality", "Data quality"),
    ("section-methods", "Methods and caveats"),
    ("section-metadata", "Run metadata"),
)


SECTION_IDS: tuple[str, ...] = tuple(s for s, _ in SECTIONS)


PUBLISHED_TABLES: tuple[str, ...] = (
    "funnel_counts", "odds_ratios", "wres_indicator2", "national_reference", "adverse_impact",
    "topics", "topic_prevalence", "sentiment_by_group", "text_effects", "interview_scores",
    "score_effects", "representation", "programme_impact", "validation", "quarantine_summary",
    "disclosure_log",
)


CSS = """
:root{--ink:#1d2733;--muted:#5b6776;--line:#d5dbe3;--accent:#005eb8;--warn:#b3261e;--ok:#1e7b34;--band:#e8f1fb}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;color:var(--ink);margin:0;line-height:1.45;background:#fff}
header{background:var(--accent);color:#fff;padding:1.2rem 2rem}
header h1{margin:0;font-size:1.5rem}header p{margin:.3rem 0 0;opacity:.9}
main{max-width:1100px;margin:0 auto;padding:1rem 2rem 3rem}
nav ol{columns:2;font-size:.9rem;padding-left:1.2rem}
section{border-top:1px solid var(--line);padding:1rem 0 1.5rem}
h2{font-size:1.2rem;margin:.2rem 0 .6rem}h3{font-size:1rem;margin:1rem 0 .4rem}
table{border-collapse:collapse;font-size:.82rem;margin:.4rem 0 1rem;max-width:100%}
th,td{border:1px solid var(--line);padding:.2rem .45rem;text-align:right;vertical-align:top}
th{background:#f3f6f9;text-align:center}td.t{text-align:left}
.scroll{overflow-x:auto;max-height:32rem;overflow-y:auto}
.na{color:var(--muted);font-style:italic}
.note{color:var(--muted);font-size:.85rem}
.flag{color:var(--warn)}
.summary li{margin:.3rem 0}
svg{max-width:100%;height:auto;font-family:inherit}
svg text{font-size:11px;fill:var(--ink)}
.legend span{display:inline-block;margin-right:1rem;font-size:.85rem}
.sw{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0;font-family:ui-monospace,monospace;word-break:break-all}
@media print{nav{display:none}section{break-inside:avoid-page}}
"""


PALETTE = ("#005eb8", "#d5281b", "#007f3b", "#7c2855", "#ed8b00", "#330072", "#00a499", "#425563")


# --------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------
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


# --------------------------------------------------------------------------
# SVG charts (drawn here; no libraries)
# --------------------------------------------------------------------------
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


# --------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------
class Ctx:
    def __init__(self, tables: dict[str, pl.DataFrame], run: dict, policy: dict):
        self.t = tables
        self.run = run
        self.policy = policy

    def get(self, name: str) -> pl.DataFrame | None:
        df = self.t.get(name)
        return df if df is not None and df.height > 0 else None


def _flag_text(v) -> str:
    return "flagged: few events" if v and "small_n_events" in str(v) else ""


def section_summary(c: Ctx) -> str:
    items = []
    w = c.get("wres_indicator2")
    if cols(w, "scope", "relative_likelihood"):
        o = w.filter(pl.col("scope") == "overall")
        if o.height and num(o["relative_likelihood"][0]) is not None:
            rl, lo, hi = (num(o[k][0]) if k in o.columns else None for k in ("relative_likelihood", "ci_low", "ci_high"))
            sig = lo is not None and hi is not None and (lo > 1 or hi < 1)
            band = "inside" if 0.8 <= rl <= 1.25 else "outside"
            items.append(
                f"White shortlisted applicants were <b>{rl:.2f} times</b> as likely to be appointed as BME shortlisted "
                f"applicants (WRES indicator 2; 95% CI {fmt(lo)} to {fmt(hi)}). This is {band} the non-adverse band "
                f"0.80-1.25 and {'is' if sig else 'is not'} statistically significant.")
        elif o.height:
            items.append("The overall WRES indicator 2 is withheld because a count it depends on is small.")
    orr = c.get("odds_ratios")
    if cols(orr, "term", "stage", "odds_ratio"):
        main = orr.filter(pl.col("term") == "bme")
        if "analysis" in main.columns:
            main = main.filter(pl.col("analysis") == "main") if (main["analysis"] == "main").any() else main
        for r in main.unique(subset=["stage"], keep="first", maintain_order=True).iter_rows(named=True):
            o = num(r.get("odds_ratio"))
            if o is None:
                continue
            lo, hi = num(r.get("ci_low")), num(r.get("ci_high"))
            sig = lo is not None and hi is not None and (lo > 1 or hi < 1)
            items.append(f"At the <b>{esc(r['stage'])}</b> stage the odds for BME applicants were {o:.2f} times those of "
                         f"White applicants (95% CI {fmt(lo)} to {fmt(hi)}; {'significant' if sig else 'not significant'}).")
    ai = c.get("adverse_impact")
    if cols(ai, "four_fifths_flag"):
        flagged = ai.filter(pl.col("four_fifths_flag") == True)  # noqa: E712
        items.append(f"{flagged.height} group-stage comparison(s) fall below the four-fifths threshold (impact ratio &lt; 0.80)"
                     + (f", e.g. {esc(flagged['group'][0])} at {esc(flagged['stage'][0])}." if flagged.height and cols(flagged, "group", "stage") else "."))
    pi = c.get("programme_impact")
    if cols(pi, "row_type", "term", "estimate"):
        lv = pi.filter((pl.col("row_type") == "its") & (pl.col("term") == "level_change"))
        if lv.height and num(lv["estimate"][0]) is not None:
            e, lo, hi = num(lv["estimate"][0]), num(lv["ci_low"][0]), num(lv["ci_high"][0])
            items.append(f"At the programme start the BME share of senior appointments changed by {100 * e:+.1f} percentage points "
                         f"(interrupted time series; 95% CI {pct(lo)} to {pct(hi)}).")
    rep = c.get("representation")
    if cols(rep, "measure", "band", "value", "target"):
        sen = rep.filter((pl.col("measure") == "bme_share") & (pl.col("band") == "senior"))
        if "snapshot_month" in sen.columns and sen.height:
            sen = sen.sort("snapshot_month", nulls_last=True).tail(1) if sen["snapshot_month"].null_count() < sen.height else sen.tail(1)
        if sen.height and num(sen["value"][0]) is not None and num(sen["target"][0]) is not None:
            items.append(f"BME staff are {pct(num(sen['value'][0]))} of senior bands (8a-VSM) against a Model Employer "
                         f"target of {pct(num(sen['target'][0]))}.")
    v = c.get("validation")
    if cols(v, "success"):
        failed = v.filter(pl.col("success").cast(pl.Utf8).is_in(["false", "False", "0"]))
        items.append(f"Data validation: {v.height - failed.height} of {v.height} checks passed.")
    if not items:
        return '<p class="na">Not available in this run: no published findings to summarise.</p>'
    return ('<ul class="summary">' + "".join(f"<li>{i}</li>" for i in items) + "</ul>"
            '<p class="note">Counts are rounded to the nearest 5 and counts of 1-7 are shown as *; rates are computed '
            'from the rounded counts. Estimates based on fewer than 10 events are flagged.</p>')


def section_funnel(c: Ctx) -> str:
    f = c.get("funnel_counts")
    if f is None:
        return not_available("funnel_counts")
    stages = [s for s in ("applications", "shortlisted", "interviewed", "offered", "appointed") if s in f.columns]
    out = []
    if cols(f, "band", "wres_group") and "applications" in stages:
        allb = f.filter(pl.col("band") == "All")
        rows = []
        for gi, g in enumerate([g for g in ("White", "BME", "Unknown") if g in allb["wres_group"].to_list()]):
            r = allb.filter(pl.col("wres_group") == g).row(0, named=True)
            apps = num(r["applications"])
            for s in stages[1:]:
                k = num(r[s])
                ok = apps is not None and apps >= 20 and k is not None
                rows.append({"label": f"{g}: {s}", "value": k / apps if ok else None,
                             "note": None if ok else "withheld (small numbers)", "color": PALETTE[gi]})
        out.append("<h3>Share of applicants reaching each stage, all senior bands</h3>")
        out.append(bars_svg(rows, "Share of applicants reaching each stage by ethnicity", max_value=1.0, value_fmt=pct))
    out.append("<h3>Counts by band and ethnicity</h3>")
    out.append(html_table(f, ["band", "wres_group"] + stages))
    return "".join(out)


CONTRAST_TERMS = ("bme", "bme@letter_to_ceo=1", "bme@letter_to_ceo=0", "bme@diverse_panel=1", "bme@diverse_panel=0",
                  "bme:letter_to_ceo", "bme:diverse_panel", "bme:post_programme")


def section_odds(c: Ctx) -> str:
    o = c.get("odds_ratios")
    if o is None:
        return not_available("odds_ratios")
    if not cols(o, "stage", "term", "odds_ratio"):
        return html_table(o)
    sel = o.filter(pl.col("term").is_in(CONTRAST_TERMS))
    if "analysis" in sel.columns and (sel["analysis"] == "main").any():
        sel = sel.filter(pl.col("analysis") == "main")
    rows, stages = [], list(dict.fromkeys(sel["stage"].to_list()))
    for si, st in enumerate(stages):
        sub = sel.filter(pl.col("stage") == st)
        models = list(dict.fromkeys(sub["model"].to_list())) if "model" in sub.columns else [None]
        for r in sub.filter(pl.col("model") == models[0]).iter_rows(named=True) if models[0] else sub.iter_rows(named=True):
            rows.append({"label": f"{st} · {r['term']}", "est": num(r["odds_ratio"]), "lo": num(r.get("ci_low")),
                         "hi": num(r.get("ci_high")), "hollow": bool(_flag_text(r.get("sdc_flags"))),
                         "mark": "few events" if _flag_text(r.get("sdc_flags")) else "", "color": PALETTE[si % len(PALETTE)]})
    chart = forest_svg(rows, "Odds ratios (BME vs White) by stage with programme contrasts", log_scale=True, ref=1.0,
                       xlabel="odds ratio (log scale); below 1 = BME applicants less likely to progress")
    keep = [k for k in ("analysis", "stage", "model", "term", "odds_ratio", "ci_low", "ci_high", "p_value", "q_value",
                        "n_obs", "n_events", "flags", "sdc_flags") if k in o.columns]
    return (chart + '<p class="note">Hollow squares: fewer than 10 events (flagged, not suppressed). '
            "<code>bme@letter_to_ceo=1</code> is the BME-White contrast in vacancies with a letter to the CEO; "
            "<code>bme:letter_to_ceo</code> is the interaction (how much the gap differs).</p>"
            + "<h3>All estimates</h3>" + html_table(o, keep))


def section_wres(c: Ctx) -> str:
    w = c.get("wres_indicator2")
    if w is None:
        return not_available("wres_indicator2", "national_reference")
    if not cols(w, "scope", "scope_value", "relative_likelihood"):
        return html_table(w)
    nat = c.get("national_reference")
    vlines = []
    if cols(nat, "relative_likelihood", "period"):
        natl = nat.filter(~pl.col("is_trust").fill_null(False)) if "is_trust" in nat.columns else nat
        natl = natl.filter(pl.col("scope").str.contains("England")) if "scope" in natl.columns and natl["scope"].str.contains("England").any() else natl
        if natl.height:
            last = natl.sort("period").tail(1).row(0, named=True)
            vlines.append((num(last["relative_likelihood"]), f"England {last['period']}: {fmt(num(last['relative_likelihood']))}"))
    rows = []
    for si, scope in enumerate(("overall", "band", "programme_period")):
        for r in w.filter(pl.col("scope") == scope).iter_rows(named=True):
            rl, lo, hi = num(r["relative_likelihood"]), num(r.get("ci_low")), num(r.get("ci_high"))
            sig = lo is not None and hi is not None and (lo > 1 or hi < 1)
            rows.append({"label": f"{scope}: {r['scope_value']}" if scope != "overall" else "overall",
                         "est": rl, "lo": lo, "hi": hi, "color": PALETTE[si],
                         "hollow": bool(_flag_text(r.get("sdc_flags"))),
                         "mark": ("* significant" if sig else "") + (" (few events)" if _flag_text(r.get("sdc_flags")) else "")})
    withheld = [f"{r['scope']}: {r['scope_value']}" for r in w.filter(pl.col("scope").is_in(["band", "programme_period"])).iter_rows(named=True)
                if num(r["relative_likelihood"]) is None]
    chart = forest_svg(rows, "WRES indicator 2 by band and period", log_scale=True, ref=1.0, shade=(0.8, 1.25),
                       vlines=vlines, xlabel="relative likelihood White vs BME appointed from shortlisting (log scale)")
    note = ('<p class="note">Shaded: the non-adverse band 0.80-1.25. "* significant": the 95% CI excludes 1. '
            "Orange dashed line: the latest national figure (all bands, all trusts).</p>")
    if withheld:
        note += f'<p class="note">Withheld because a count is small: {esc(", ".join(withheld))}.</p>'
    keep = [k for k in ("scope", "scope_value", "shortlisted_white", "appointed_white", "shortlisted_bme", "appointed_bme",
                        "proportion_white", "proportion_bme", "relative_likelihood", "ci_low", "ci_high", "p_value",
                        "q_value", "in_non_adverse_band", "flags", "sdc_flags") if k in w.columns]
    main = w.filter(pl.col("scope").is_in(["overall", "band", "programme_period"]))
    natt = ("<h3>National reference</h3>" + html_table(nat)) if nat is not None else ""
    return chart + note + html_table(main, keep) + natt + "<h3>Other scopes (directorate, month)</h3>" + html_table(
        w.filter(~pl.col("scope").is_in(["overall", "band", "programme_period"])), keep, max_rows=80)


def section_adverse(c: Ctx) -> str:
    a = c.get("adverse_impact")
    if a is None:
        return not_available("adverse_impact")
    if not cols(a, "stage", "grouping", "group", "impact_ratio"):
        return html_table(a)
    sub = a
    if "period" in a.columns and (a["period"] == "all").any():
        sub = a.filter(pl.col("period") == "all")
    inter = sub.filter(pl.col("grouping").str.contains("_x_"))
    plot = inter if inter.height else sub.filter(pl.col("grouping") == "census_group")
    rows = [{"label": f"{r['stage']} · {r['group']}", "value": num(r["impact_ratio"]),
             "note": "withheld (small numbers)", "color": PALETTE[1] if r.get("four_fifths_flag") else PALETTE[0]}
            for r in plot.iter_rows(named=True)]
    chart = bars_svg(rows, "Impact ratios by stage and group", ref=0.8, ref_label="four-fifths (0.80)",
                     max_value=max([1.25] + [r["value"] for r in rows if r["value"] is not None]))
    keep = [k for k in ("stage", "period", "grouping", "group", "n", "selected", "selection_rate", "reference_group",
                        "impact_ratio", "four_fifths_flag", "p_value", "q_value", "shortfall", "small_group", "flags",
                        "sdc_flags") if k in a.columns]
    return ("<h3>Intersectional groups (ethnicity × sex)</h3>" if inter.height else "") + chart + \
        '<p class="note">Red bars: impact ratio below 0.80 (adverse impact under the four-fifths rule).</p>' + html_table(sub, keep)


def section_topics(c: Ctx) -> str:
    t, p = c.get("topics"), c.get("topic_prevalence")
    if t is None and p is None:
        return not_available("topics", "topic_prevalence")
    out = []
    if t is not None:
        keep = [k for k in ("source", "topic_id", "label", "theme", "top_terms", "prevalence", "coherence", "k",
                            "n_dominant", "tone") if k in t.columns]
        out.append("<h3>Topics and their top terms</h3>" + html_table(t, keep))
    if cols(p, "topic_id", "level", "mean"):
        sub = p
        if "variable" in p.columns:
            for var in ("candidate_wres_group", "wres_group"):
                if (p["variable"] == var).any():
                    sub = p.filter(pl.col("variable") == var)
                    break
        if "source" in sub.columns and (sub["source"] == "assessments").any():
            sub = sub.filter(pl.col("source") == "assessments")  # letters have their own topics, in the table
        levels = [lv for lv in dict.fromkeys(sub["level"].to_list()) if lv is not None]
        labels = {}
        if cols(t, "topic_id", "label"):
            tt = t.filter(pl.col("source") == "assessments") if "source" in t.columns else t
            labels = {r["topic_id"]: r["label"] for r in tt.iter_rows(named=True)}
        rows = []
        for r in sub.sort("topic_id", "level").iter_rows(named=True):
            color = PALETTE[levels.index(r["level"]) % len(PALETTE)] if r["level"] in levels else PALETTE[0]
            rows.append({"label": f"{labels.get(r['topic_id'], 'topic ' + str(r['topic_id']))[:32]} · {r['level']}",
                         "value": num(r["mean"]), "color": color})
        out.append("<h3>Topic prevalence in assessments by candidate ethnicity</h3>" + legend([(str(lv), PALETTE[i % len(PALETTE)]) for i, lv in enumerate(levels)])
                   + bars_svg(rows, "Mean topic share by group", value_fmt=pct))
        out.append(html_table(p, [k for k in ("source", "variable", "level", "topic_id", "n", "mean", "ci_low", "ci_high",
                                              "p_value", "q_value", "sdc_flags") if k in p.columns], max_rows=120))
    return "".join(out)


def section_sentiment(c: Ctx) -> str:
    s, e = c.get("sentiment_by_group"), c.get("text_effects")
    if s is None and e is None:
        return not_available("sentiment_by_group", "text_effects")
    out = []
    if cols(e, "outcome", "adjustment", "estimate", "term"):
        sub = e.filter((pl.col("outcome") == "sentiment") & (pl.col("term") == "bme"))
        rows = [{"label": f"{r.get('source', '')} · {r['adjustment']}", "est": num(r["estimate"]), "lo": num(r.get("ci_low")),
                 "hi": num(r.get("ci_high")), "color": PALETTE[0] if r["adjustment"] == "unadjusted" else PALETTE[2],
                 "hollow": bool(_flag_text(r.get("sdc_flags")))} for r in sub.iter_rows(named=True)]
        out.append("<h3>BME - White difference in assessment tone, unadjusted and adjusted</h3>")
        out.append(forest_svg(rows, "BME coefficient on sentiment, unadjusted vs adjusted", log_scale=False, ref=0.0,
                              xlabel="difference in mean sentiment (BME - White)"))
        out.append('<p class="note">Adjusted: controlling for the offer, the normalised interview score and band '
                   "(standard errors clustered by vacancy).</p>")
        out.append(html_table(e, [k for k in ("source", "outcome", "term", "adjustment", "estimate", "ci_low", "ci_high",
                                              "p_value", "q_value", "n", "controls", "sdc_flags") if k in e.columns], max_rows=60))
    if cols(s, "level", "mean"):
        doc = s.filter(pl.col("topic_id").is_null()) if "topic_id" in s.columns else s
        rows = [{"label": f"{r.get('source', '')} · {r.get('variable', '')}={r['level']}", "est": num(r["mean"]),
                 "lo": num(r.get("ci_low")), "hi": num(r.get("ci_high")), "hollow": bool(_flag_text(r.get("sdc_flags")))}
                for r in doc.iter_rows(named=True)]
        out.append("<h3>Mean document sentiment by group (unadjusted)</h3>")
        out.append(forest_svg(rows, "Mean sentiment by group", log_scale=False, ref=None, xlabel="mean sentiment"))
        out.append(html_table(doc, [k for k in ("source", "variable", "level", "n", "mean", "ci_low", "ci_high", "p_value",
                                                "q_value", "sdc_flags") if k in doc.columns]))
    return "".join(out)


def section_scores(c: Ctx) -> str:
    s, e = c.get("interview_scores"), c.get("score_effects")
    if s is None and e is None:
        return not_available("interview_scores", "score_effects")
    out = []
    if cols(s, "measure", "band", "group", "value"):
        sub = s.filter(pl.col("measure") == "mean_normalised_score")
        if "breakdown" in sub.columns and (sub["breakdown"] == "wres_group").any():
            sub = sub.filter(pl.col("breakdown") == "wres_group")
        groups = [g for g in dict.fromkeys(sub["group"].to_list())]
        rows = [{"label": f"band {r['band']} · {r['group']}", "est": num(r["value"]), "lo": num(r.get("ci_low")),
                 "hi": num(r.get("ci_high")), "color": PALETTE[groups.index(r["group"]) % len(PALETTE)],
                 "hollow": bool(_flag_text(r.get("sdc_flags")))} for r in sub.iter_rows(named=True)]
        out.append(legend([(str(g), PALETTE[i % len(PALETTE)]) for i, g in enumerate(groups)]))
        out.append(forest_svg(rows, "Mean normalised interview score by band and ethnicity", log_scale=False, ref=None,
                              xlabel="mean normalised score (0-1)"))
        out.append(html_table(s, [k for k in ("measure", "breakdown", "band", "group", "n", "value", "ci_low", "ci_high",
                                              "mean_z", "impact_ratio", "sdc_flags") if k in s.columns]))
    if e is not None:
        out.append("<h3>Adjusted score gaps</h3>" + html_table(e))
    return "".join(out)


def section_representation(c: Ctx) -> str:
    r = c.get("representation")
    if r is None:
        return not_available("representation")
    if not cols(r, "measure", "band", "value"):
        return html_table(r)
    share = r.filter(pl.col("measure") == "bme_share")
    if "snapshot_month" in share.columns and share["snapshot_month"].drop_nulls().len():
        last = share["snapshot_month"].drop_nulls().max()
        share = share.filter(pl.col("snapshot_month") == last)
        title = f"BME share by band, {last}"
    else:
        title = "BME share by band"
    rows = [{"label": f"band {x['band']}", "value": num(x["value"]), "marker": num(x.get("target")),
             "note": "withheld (small numbers)"} for x in share.iter_rows(named=True)]
    out = [f"<h3>{esc(title)}</h3>", bars_svg(rows, title, value_fmt=pct),
           '<p class="note">Bars: BME share of staff of known ethnicity. Black tick: the Model Employer target '
           "(the BME share of the whole workforce).</p>", html_table(share)]
    ratio = r.filter(pl.col("measure") == "representation_ratio")
    if ratio.height:
        out.append("<h3>Representation ratio of appointees against the feeder bands</h3>" + html_table(ratio))
    return "".join(out)


def section_its(c: Ctx) -> str:
    p = c.get("programme_impact")
    if p is None:
        return not_available("programme_impact")
    if not cols(p, "row_type", "measure", "estimate"):
        return html_table(p)
    per = p.filter((pl.col("row_type") == "period") & (pl.col("measure") == "bme_share_appointed"))
    its = p.filter(pl.col("row_type") == "its")
    out = []
    if cols(per, "t_months"):
        freq = "quarter" if "frequency" in per.columns and (per["frequency"] == "quarter").any() else None
        if freq:
            per = per.filter(pl.col("frequency") == freq)
        pts = [(num(x["t_months"]), num(x["estimate"])) for x in per.sort("t_months").iter_rows(named=True)]
        series = [{"name": "observed", "points": pts, "points_only": True, "color": PALETTE[0]}]
        coef = {x["term"]: num(x["estimate"]) for x in its.iter_rows(named=True)} if cols(its, "term") else {}
        pre_slope = next((coef[k] for k in ("time", "t", "pre_slope", "trend") if k in coef), None)
        ts = [t for t, _ in pts if t is not None]
        if coef.get("intercept") is not None and pre_slope is not None and ts:
            b0, lvl, slp = coef["intercept"], coef.get("level_change") or 0, coef.get("slope_change") or 0
            series.append({"name": "fitted before", "points": [(min(ts), b0 + pre_slope * min(ts)), (0, b0)], "color": PALETTE[2]})
            series.append({"name": "fitted after", "points": [(0, b0 + lvl), (max(ts), b0 + lvl + (pre_slope + slp) * max(ts))],
                           "color": PALETTE[1]})
        labels = {}
        if "period" in per.columns:
            for x in per.iter_rows(named=True):
                t = num(x["t_months"])
                if t is not None and int(t) % 12 in (0, 1):
                    labels[t] = str(x["period"])[:7]
        out.append(lines_svg(series, "BME share of senior appointments over time", vline=0.0, vline_label="programme start",
                             x_labels=labels))
        withheld = sum(1 for _, y in pts if y is None)
        out.append(f'<p class="note">Points: BME share of appointees of known ethnicity per period; {withheld} period(s) '
                   "withheld because a count is small. Orange line: programme start.</p>")
    if its.height:
        out.append("<h3>Segmented regression</h3>" + html_table(its, [k for k in ("measure", "term", "frequency", "estimate",
                   "std_error", "ci_low", "ci_high", "p_value", "n_periods", "hac_maxlags", "sdc_flags") if k in its.columns]))
    pooled = p.filter(pl.col("row_type") == "pooled")
    if pooled.height:
        out.append("<h3>Before and after the programme</h3>" + html_table(pooled))
    return "".join(out) or html_table(p)


def section_quality(c: Ctx) -> str:
    v, q = c.get("validation"), c.get("quarantine_summary")
    if v is None and q is None:
        return not_available("validation", "quarantine_summary")
    out = []
    if v is not None:
        out.append("<h3>Validation summary</h3>")
        if cols(v, "success"):
            ok = v.filter(pl.col("success").cast(pl.Utf8).is_in(["true", "True", "1"])).height
            out.append(f"<p>{ok} of {v.height} expectations met.</p>")
        out.append(html_table(v))
    if q is not None:
        out.append("<h3>Quarantined rows by reason</h3>" + html_table(q))
    return "".join(out)


def section_methods(c: Ctx) -> str:
    pol = c.policy
    return f"""
<h3>What the figures are</h3>
<ul>
<li><b>Funnel counts</b>: applications to senior posts (bands 8a-VSM) and how many were shortlisted, interviewed, offered and appointed, by WRES ethnicity group (White; BME; Unknown = not stated or not known).</li>
<li><b>Odds ratios</b>: logistic models of each stage, BME vs White, adjusted for band, sex, internal status and other features; standard errors clustered by vacancy; q-values control the false discovery rate (Benjamini-Hochberg). Contrasts give the BME-White gap with and without a letter to the CEO and a diverse panel.</li>
<li><b>WRES indicator 2</b>: relative likelihood of White shortlisted applicants being appointed compared with BME shortlisted applicants; 1 is parity, the non-adverse band is 0.80-1.25; applicants of unknown ethnicity and those who declined an offer are left out (NHS England technical guidance).</li>
<li><b>Adverse impact</b>: each group's selection rate divided by the highest group's (four-fifths rule, 29 CFR 1607.4(D)), with Fisher's exact test and shortfall; intersectional groups (ethnicity × sex) as in NYC Local Law 144 audits.</li>
<li><b>Text</b>: topics and tone of redacted interview assessments; adjusted comparisons control for the offer, interview score and band.</li>
<li><b>Representation</b>: BME share by band against the Model Employer target (the organisation's BME workforce share; NHS England 2019).</li>
<li><b>Interrupted time series</b>: segmented regression of the BME share of appointments around the programme start, Newey-West standard errors.</li>
</ul>
<h3>Caveats</h3>
<ul>
<li>These are observational comparisons: differences may reflect factors not recorded in the extracts.</li>
<li>Senior-grade numbers are small: many cells are suppressed and intervals are wide. "Not significant" is not evidence of no difference.</li>
<li>Statistics that could reveal a suppressed count (rates, relative likelihoods and impact ratios built from it) are withheld; regression estimates are shown but flagged when based on fewer than 10 events.</li>
<li>National WRES figures cover all bands of all trusts and are context, not a like-for-like benchmark.</li>
</ul>
<h3>Disclosure control</h3>
<p>Policy <b>{esc(pol.get('policy_version', NA))}</b>: {esc(pol.get('policy_summary', 'not recorded'))}.</p>
<p class="note">Full methods: docs/methods.md in the project repository.</p>"""


def section_metadata(c: Ctx) -> str:
    r, pol = c.run, c.policy
    items = [("run_id", r.get("run_id")), ("as_of", r.get("as_of")), ("flow", r.get("flow")), ("status", r.get("status")),
             ("started_at", r.get("started_at")), ("finished_at", r.get("finished_at")),
             ("code version", r.get("code_version")), ("input hash (SHA-256)", r.get("input_sha256")),
             ("SDC policy version", pol.get("policy_version")), ("SDC policy hash", pol.get("policy_sha256")),
             ("published tables", ", ".join(pol.get("tables", [])) or NA),
             ("report generated", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))]
    return "<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{esc(NA if v is None else v)}</dd>" for k, v in items) + "</dl>"


RENDERERS: dict[str, Callable[[Ctx], str]] = {
    "section-summary": section_summary, "section-funnel": section_funnel, "section-odds-ratios": section_odds,
    "section-wres": section_wres, "section-adverse-impact": section_adverse, "section-topics": section_topics,
    "section-sentiment": section_sentiment, "section-scores": section_scores,
    "section-representation": section_representation, "section-its": section_its,
    "section-data-quality": section_quality, "section-methods": section_methods, "section-metadata": section_metadata,
}


# --------------------------------------------------------------------------
# Loading and rendering
# --------------------------------------------------------------------------
def _rows(df: pl.DataFrame) -> list[dict]:
    return df.to_dicts() if df.height else []


def load_run(db_path: str | Path, run_id: str | None = None) -> tuple[str, dict, dict[str, pl.DataFrame], dict]:
    """(run_id, registry row, published tables of the run, policy info) — published.* and results.runs only."""
    with reading(db_path) as con:
        runs = _rows(fetch_frame(con, "queries/published/runs_registry")) if table_exists(con, "results.runs") else []
        has_log = table_exists(con, "published.disclosure_log")
        published_runs = [r["run_id"] for r in _rows(fetch_frame(con, "queries/published/run_ids"))] if has_log else []
        if run_id is None:
            done = [r["run_id"] for r in runs if r.get("status") == "completed" and r["run_id"] in published_runs]
            run_id = done[0] if done else (published_runs[0] if published_runs else None)
        if run_id is None:
            raise ValueError(f"no published run in {db_path}: run the monthly evaluation first")
        run = next((r for r in runs if r["run_id"] == run_id), {"run_id": run_id})
        names = [r["table_name"] for r in _rows(fetch_frame(con, "queries/published/list_tables"))]
        tables = {n: fetch_frame(con, "queries/published/select_run", {"run_id": run_id}, table=f"published.{n}") for n in names}
    logdf = tables.get("disclosure_log")
    policy: dict = {"tables": []}
    if logdf is not None and logdf.height:
        first = logdf.row(0, named=True)
        policy = {"policy_version": first["policy_version"], "policy_sha256": first["policy_sha256"],
                  "policy_summary": first["policy_summary"], "tables": sorted(logdf["table_name"].to_list())}
    if run_id not in published_runs:
        log.warning("run %s has no published tables", run_id)
    return run_id, run, tables, policy


def build_html(run_id: str, run: dict, tables: dict[str, pl.DataFrame], policy: dict) -> str:
    c = Ctx(tables, run, policy)
    nav = "".join(f'<li><a href="#{sid}">{esc(title)}</a></li>' for sid, title in SECTIONS)
    body = []
    for i, (sid, title) in enumerate(SECTIONS, start=1):
        try:
            content = RENDERERS[sid](c)
        except Exception as exc:  # noqa: BLE001 - one broken section must not lose the report
            log.exception("report section %s failed", sid)
            content = f'<p class="na">Not available in this run (the section could not be drawn: {esc(type(exc).__name__)}).</p>'
        body.append(f'<section id="{sid}"><h2>{i}. {esc(title)}</h2>{content}</section>')
    as_of = run.get("as_of") or NA
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Inclusive senior recruitment evaluation, {esc(as_of)}</title>
<style>{CSS}</style>
</head>
<body>
<header><h1>Inclusive senior recruitment: evaluation as of {esc(as_of)}</h1>
<p>Is the programme closing the ethnicity gap at every stage of senior recruitment (bands 8a-VSM)? Official sensitive: disclosure-controlled figures only.</p></header>
<main>
<nav aria-label="Contents"><ol>{nav}</ol></nav>
{''.join(body)}
</main>
</body>
</html>
"""


def render_report(db_path: str | Path, run_id: str | None = None, out_path: str | Path | None = None) -> Path:
    """Write the self-contained HTML report of a run (default: the latest completed, published run).

    ``out_path`` defaults to ``<db dir>/reports/report_<run_id>.html``.
    """
    rid, run, tables, policy = load_run(db_path, run_id)
    out = Path(out_path) if out_path else Path(db_path).parent / "reports" / f"report_{rid}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(build_html(rid, run, tables, policy), encoding="utf-8")
    log.info("report for run %s written to %s", rid, out)
    return out
