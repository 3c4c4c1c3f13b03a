"""Sections 8-10: interview scores, representation against the Model Employer target, programme impact (ITS).

Reads published interview_scores, score_effects, representation and
programme_impact (docs/methods.md sections 3 and 4).  The fitted ITS lines are drawn
from the published segmented-regression terms (named in
:mod:`tasks.core.vocabulary`); nothing is re-estimated here.
"""
from __future__ import annotations

import polars as pl

from tasks.core.vocabulary import TERM_INTERCEPT, TERM_LEVEL_CHANGE, TERM_PRE_SLOPE, TERM_SLOPE_CHANGE
from tasks.outputs.report.charts import bars_svg, forest_svg, legend, lines_svg
from tasks.outputs.report.css import PALETTE
from tasks.outputs.report.format import cols, esc, html_table, not_available, num, pct
from tasks.outputs.report.sections.base import Ctx, flag_text


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
                 "hollow": bool(flag_text(r.get("sdc_flags")))} for r in sub.iter_rows(named=True)]
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
        pre_slope = coef.get(TERM_PRE_SLOPE)
        ts = [t for t, _ in pts if t is not None]
        if coef.get(TERM_INTERCEPT) is not None and pre_slope is not None and ts:
            b0, lvl, slp = coef[TERM_INTERCEPT], coef.get(TERM_LEVEL_CHANGE) or 0, coef.get(TERM_SLOPE_CHANGE) or 0
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
