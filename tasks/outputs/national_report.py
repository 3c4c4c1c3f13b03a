"""The national report (one self-contained HTML page) and workbook (XLSX + CSV) of a national run.

Reads the national tables of one run from the national warehouse
(:func:`tasks.national.store.load_national_run`): they hold only figures the trusts
published (disclosure-controlled) and the pooled statistics made from them.  Writes
``<out_dir>/<run_id>/national_report.html``, ``national_workbook.xlsx`` and
``csv/<table>.csv``.  Trusts appear by their code only.  Same style as the trust
report (its stylesheet, table and number formatting, forest plot); the funnel plot
is drawn here as inline SVG (:func:`funnel_svg`).
"""
from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import xlsxwriter

from tasks.core.display import display_term
from tasks.outputs.export import neutralise_frame, sheet_names
from tasks.outputs.report.charts import forest_svg
from tasks.outputs.report.css import NEUTRAL, OKABE_ITO
from tasks.outputs.report.format import NA, esc, fmt, html_table, ratio
from tasks.outputs.report.page import document

REPORT_FILE, WORKBOOK_FILE = "national_report.html", "national_workbook.xlsx"


SECTIONS = (
    ("national-trusts", "Trusts in this run"),
    ("national-pooled", "Pooled effects across trusts (random effects)"),
    ("national-wres", "National WRES indicator 2 by year and region"),
    ("national-funnel", "Funnel plot of WRES indicator 2"),
    ("national-adoption", "Adopters and non-adopters of each rule"),
    ("national-methods", "Methods and caveats"),
)


POSITION_WORDS = {"above_99_8": "above 99.8% limit", "above_95": "above 95% limit", "inside": "inside",
                  "below_95": "below 95% limit", "below_99_8": "below 99.8% limit", "not_plotted": "not plotted"}


def _x(v: float, lo: float, hi: float, left: float, width: float) -> float:
    return left + (math.log(v) - math.log(lo)) / (math.log(hi) - math.log(lo)) * width


def funnel_svg(trusts: pl.DataFrame, curve: pl.DataFrame, *, theta0: float | None, width: int = 760,
               height: int = 420) -> str:
    """Indicator 2 (log scale) of each plotted trust against its shortlisted BME count (log scale), with the
    95% and 99.8% limits around the national value; trusts outside a 99.8% limit are labelled by code."""
    pts = trusts.filter(pl.col("log_relative_likelihood").is_not_null()) if trusts.width else trusts
    if theta0 is None or curve.height == 0 or pts.height == 0:
        return '<p class="na">No funnel plot: no trust has unsuppressed overall counts.</p>'
    left, right, top, bottom = 70, 30, 20, 50
    pw, ph = width - left - right, height - top - bottom
    xs = [float(x) for x in curve["shortlisted_bme"].to_list()] + [float(x) for x in pts["shortlisted_bme"]]
    x_lo, x_hi = max(min(xs), 1.0), max(xs) * 1.1
    ys = [float(v) for c in ("lower_998", "upper_998") for v in curve[c].to_list()
          if v is not None and math.isfinite(v)] + [float(v) for v in pts["log_relative_likelihood"]]
    y_lo, y_hi = max(min(ys), theta0 - 3), min(max(ys), theta0 + 3)
    y_lo, y_hi = min(y_lo, min(pts["log_relative_likelihood"])) - 0.1, max(y_hi, max(pts["log_relative_likelihood"])) + 0.1

    def sx(v):
        return _x(max(v, x_lo), x_lo, x_hi, left, pw)

    def sy(v):
        v = min(max(v, y_lo), y_hi)
        return top + (y_hi - v) / (y_hi - y_lo) * ph

    body = [f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#b8c0c8"/>']
    for col, dash in (("lower_998", "6 3"), ("upper_998", "6 3"), ("lower_95", ""), ("upper_95", "")):
        path = " ".join(f"{sx(float(x)):.1f},{sy(float(y)):.1f}" for x, y in zip(curve["shortlisted_bme"], curve[col])
                        if y is not None and math.isfinite(y))
        body.append(f'<polyline points="{path}" fill="none" stroke="{NEUTRAL["before"]}" stroke-width="1.2"'
                    f'{f" stroke-dasharray={chr(34)}{dash}{chr(34)}" if dash else ""} data-limit="{col}"/>')
    body.append(f'<line x1="{left}" x2="{left + pw}" y1="{sy(theta0):.1f}" y2="{sy(theta0):.1f}" '
                f'stroke="{NEUTRAL["main"]}" stroke-width="1.5" data-limit="national"/>')
    for r in pts.iter_rows(named=True):
        out = r["position"] in ("above_99_8", "below_99_8")
        colour = OKABE_ITO["vermillion"] if out else OKABE_ITO["blue"]
        cx, cy = sx(float(r["shortlisted_bme"])), sy(float(r["log_relative_likelihood"]))
        body.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{colour}" data-trust="{esc(r["trust_code"])}">'
                    f'<title>{esc(r["trust_code"])}: RL {ratio(r["relative_likelihood"])}, '
                    f'{esc(POSITION_WORDS.get(r["position"], r["position"]))}</title></circle>')
        if out:
            body.append(f'<text x="{cx + 6:.1f}" y="{cy - 6:.1f}" font-size="11">{esc(r["trust_code"])}</text>')
    for tick in (1, 10, 100, 1000, 10000):
        if x_lo <= tick <= x_hi:
            body.append(f'<text x="{sx(tick):.1f}" y="{top + ph + 16}" font-size="11" text-anchor="middle">{tick}</text>')
    for rl in (0.25, 0.5, 1, 2, 4, 8):
        if y_lo <= math.log(rl) <= y_hi:
            body.append(f'<text x="{left - 6}" y="{sy(math.log(rl)) + 4:.1f}" font-size="11" '
                        f'text-anchor="end">{rl:g}</text>')
    body.append(f'<text x="{left + pw / 2}" y="{height - 10}" font-size="12" text-anchor="middle">'
                'BME applicants shortlisted (log scale)</text>')
    body.append(f'<text x="14" y="{top + ph / 2}" font-size="12" text-anchor="middle" '
                f'transform="rotate(-90 14 {top + ph / 2})">Relative likelihood White vs BME (log scale)</text>')
    title = "Funnel plot of WRES indicator 2 with 95% (solid) and 99.8% (dashed) control limits"
    return (f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'aria-label="{esc(title)}"><title>{esc(title)}</title>{"".join(body)}</svg>')


def _trusts(t: dict[str, pl.DataFrame], run: dict) -> str:
    runs = t.get("trust_runs", pl.DataFrame())
    failed = runs.filter(pl.col("status") != "completed") if runs.height else runs
    head = (f"<p>{run.get('trusts_completed') or 0} of {run.get('trusts') or runs.height} trusts completed; "
            f"{failed.height} failed and are left out of every national figure.</p>")
    fail = ("<h3>Failed trusts</h3>" + html_table(failed, ["trust_code", "region", "reason"],
                                                  headers={"trust_code": "trust", "reason": "reason"})
            if failed.height else "")
    return head + fail + html_table(runs, ["trust_code", "region", "status", "seconds"],
                                    headers={"trust_code": "trust", "seconds": "seconds (wall)"})


def _pooled(t: dict[str, pl.DataFrame]) -> str:
    df = t.get("pooled_effects", pl.DataFrame())
    if df.height == 0:
        return '<p class="na">No pooled estimate (no trust published a usable estimate).</p>'
    reml = df.filter(pl.col("method") == "reml")
    rows = [{"label": f"{r['stage']}: {display_term(r['term'])}",
             "est": math.exp(r["estimate"]) if r["estimate"] is not None else None,
             "lo": math.exp(r["ci_low"]) if r["ci_low"] is not None else None,
             "hi": math.exp(r["ci_high"]) if r["ci_high"] is not None else None} for r in reml.iter_rows(named=True)]
    shown = df.with_columns(*(pl.col(c).exp().alias(f"{c}_or") for c in ("estimate", "ci_low", "ci_high",
                                                                          "prediction_low", "prediction_high")))
    table = html_table(shown, ["stage", "term", "method", "k", "excluded", "estimate", "std_error", "estimate_or",
                               "ci_low_or", "ci_high_or", "tau2", "i2", "q_p_value", "prediction_low_or",
                               "prediction_high_or", "flags"],
                       headers={"estimate": "log OR", "estimate_or": "odds ratio", "ci_low_or": "95% CI low",
                                "ci_high_or": "95% CI high", "tau2": "tau²", "i2": "I²", "q_p_value": "Q p",
                                "prediction_low_or": "95% PI low", "prediction_high_or": "95% PI high"},
                       display={"term": display_term, "estimate_or": ratio, "ci_low_or": ratio, "ci_high_or": ratio,
                                "prediction_low_or": ratio, "prediction_high_or": ratio})
    return (forest_svg(rows, "Pooled odds ratios (REML), 95% CI", xlabel="odds ratio BME vs White")
            + "<p>REML is the estimate; DerSimonian-Laird (dl) is the cross-check. The prediction interval is "
              "where a new trust's own effect would lie.</p>" + table)


def _wres(t: dict[str, pl.DataFrame]) -> str:
    df = t.get("wres_indicator2", pl.DataFrame())
    if df.height == 0:
        return '<p class="na">No national indicator 2 (no unsuppressed monthly counts).</p>'
    return ("<p>Summed from each trust's published monthly counts; a month with a suppressed count is left out "
            "of every sum (column rows_excluded), never estimated.</p>"
            + html_table(df, ["wres_year", "region", "trusts", "rows_excluded", "shortlisted_white", "appointed_white",
                              "shortlisted_bme", "appointed_bme", "relative_likelihood", "ci_low", "ci_high",
                              "flags"]))


def _funnel(t: dict[str, pl.DataFrame]) -> str:
    trusts, curve = t.get("funnel", pl.DataFrame()), t.get("funnel_curve", pl.DataFrame())
    if trusts.height == 0:
        return '<p class="na">No funnel plot (no trust completed).</p>'
    plotted = trusts.filter(pl.col("log_relative_likelihood").is_not_null())
    theta0 = None
    if plotted.height:
        r = plotted.row(0, named=True)
        theta0 = (r["lower_95"] + r["upper_95"]) / 2
    outliers = trusts.filter(pl.col("position").is_in(["above_99_8", "below_99_8"]))
    named = ", ".join(f"{c} ({POSITION_WORDS[p]})" for c, p in zip(outliers["trust_code"], outliers["position"]))
    return (funnel_svg(trusts, curve, theta0=theta0)
            + f"<p>National value: relative likelihood {ratio(math.exp(theta0)) if theta0 is not None else NA}. "
              f"Outside the 99.8% limits: {esc(named) if named else 'none'}.</p>"
            + html_table(trusts, ["trust_code", "region", "shortlisted_bme", "relative_likelihood", "z_score",
                                  "position", "flags"], display={"position": lambda p: POSITION_WORDS.get(p, p)}))


def _adoption(t: dict[str, pl.DataFrame]) -> str:
    df = t.get("adoption", pl.DataFrame())
    if df.height == 0:
        return '<p class="na">No adoption comparison.</p>'
    return html_table(df, ["rule", "stage", "term", "adopters_k", "adopters_estimate", "non_adopters_k",
                           "non_adopters_estimate", "difference", "difference_ci_low", "difference_ci_high",
                           "q_between_p_value", "flags"], display={"term": display_term})


def _methods(t: dict[str, pl.DataFrame]) -> str:
    return ("<ul><li>Only figures each trust published (after its own disclosure control) are combined: suppressed "
            "counts are never imputed, so no trust's suppressed cell can be recovered from national totals.</li>"
            "<li>Pooled effects: random-effects meta-analysis of each trust's published log odds ratio and SE "
            "(REML; DerSimonian-Laird cross-check), with tau², I² and a 95% prediction interval "
            "(docs/methods.md, national evaluation).</li>"
            "<li>Funnel plot: Spiegelhalter (2005) limits around the national relative likelihood at each trust's "
            "own shortlisted counts; counts are the trusts' published (rounded) figures.</li>"
            "<li>Trusts are named by their code only.</li></ul>")


RENDERERS = {"national-trusts": lambda t, run: _trusts(t, run), "national-pooled": lambda t, run: _pooled(t),
             "national-wres": lambda t, run: _wres(t), "national-funnel": lambda t, run: _funnel(t),
             "national-adoption": lambda t, run: _adoption(t), "national-methods": lambda t, run: _methods(t)}


def build_national_html(run: dict, tables: dict[str, pl.DataFrame]) -> str:
    """The whole national page (a failing section says so; the rest render)."""
    as_of = run.get("as_of") or NA
    return document(
        title=f"National evaluation of inclusive senior recruitment, {as_of}",
        heading=f"Inclusive senior recruitment: national evaluation as of {as_of}",
        intro=f"National run {esc(run.get('run_id'))}: {esc(fmt(run.get('trusts')))} trusts. Built from each "
              "trust's published (disclosure-controlled) figures only.",
        sections=SECTIONS, render=lambda sid: RENDERERS[sid](tables, run), collapsed_contents=False)


def write_national_workbook(tables: dict[str, pl.DataFrame], path: Path, run: dict) -> Path:
    """One sheet per national table (text that a spreadsheet would read as a formula is neutralised)."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "nan_inf_to_errors": True})
    bold = wb.add_format({"bold": True})
    readme = wb.add_worksheet("README")
    readme.write_string(0, 0, "National evaluation: tables of one national run", bold)
    for i, (k, v) in enumerate((("run_id", run.get("run_id")), ("as_of", run.get("as_of")),
                                ("trusts", run.get("trusts")), ("completed", run.get("trusts_completed")),
                                ("failed", run.get("trusts_failed"))), start=2):
        readme.write_string(i, 0, k, bold)
        readme.write_string(i, 1, "" if v is None else str(v))
    names = sheet_names([n for n, df in tables.items() if df.width])
    for name, sheet in names.items():
        df = neutralise_frame(tables[name])
        ws = wb.add_worksheet(sheet)
        for j, c in enumerate(df.columns):
            ws.write_string(0, j, c, bold)
        for i, row in enumerate(df.iter_rows(), start=1):
            for j, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, bool):
                    ws.write_boolean(i, j, v)
                elif isinstance(v, (int, float)):
                    ws.write_number(i, j, v)
                else:
                    ws.write_string(i, j, str(v))
    wb.close()
    return path


def write_national_outputs(national_db: str | Path, run_id: str, out_dir: str | Path) -> dict:
    """The report, workbook and CSV files of a national run; returns their paths."""
    from tasks.national.store import load_national_run

    run, tables = load_national_run(national_db, run_id)
    folder = Path(out_dir) / run_id
    (folder / "csv").mkdir(parents=True, exist_ok=True)
    report = folder / REPORT_FILE
    report.write_text(build_national_html(run, tables), encoding="utf-8")
    workbook = write_national_workbook(tables, folder / WORKBOOK_FILE, run)
    for name, df in tables.items():
        if df.width:
            neutralise_frame(df).write_csv(folder / "csv" / f"{name}.csv")
    return {"report": str(report), "workbook": str(workbook), "csv": str(folder / "csv")}
