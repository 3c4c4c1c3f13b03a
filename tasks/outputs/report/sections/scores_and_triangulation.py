"""Sections 8-10: interview scores, representation against the Model Employer target, programme impact (ITS).

Reads published interview_scores, score_effects, representation and
programme_impact (docs/methods.md sections 3 and 4).  The fitted ITS lines are drawn
from the published segmented-regression terms (named in
:mod:`tasks.core.vocabulary`); nothing is re-estimated here.
"""
from __future__ import annotations

import polars as pl

from tasks.core.display import display_band, display_group, display_period, display_term
from tasks.core.vocabulary import (
    TERM_INTERCEPT,
    TERM_LEVEL_CHANGE,
    TERM_PRE_SLOPE,
    TERM_SLOPE_CHANGE,
)
from tasks.outputs.report.charts import bars_svg, forest_svg, legend, lines_svg
from tasks.outputs.report.css import NEUTRAL, group_colour
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
        rows = [{"label": f"{display_band(r['band'])} · {display_group(r['group'], short=True)}", "est": num(r["value"]),
                 "lo": num(r.get("ci_low")), "hi": num(r.get("ci_high")), "color": group_colour(r["group"]),
                 "group": r["group"], "hollow": bool(flag_text(r.get("sdc_flags")))} for r in sub.iter_rows(named=True)]
        out.append(legend([(display_group(g), group_colour(g)) for g in groups], groups))
        out.append(forest_svg(rows, "Mean normalised interview score by band and ethnicity", log_scale=False, ref=None,
                              xlabel="mean normalised score (0-1)"))
        out.append(html_table(s, [k for k in ("measure", "breakdown", "band", "group", "n", "value", "ci_low", "ci_high",
                                              "mean_z", "impact_ratio", "sdc_flags") if k in s.columns]))
    if e is not None and cols(e, "term", "estimate"):
        words = e.with_columns(pl.col("term").map_elements(display_term, return_dtype=pl.String).alias("what"))
        out.append("<h3>Adjusted score gaps (model estimates, share of the maximum score)</h3>" + html_table(
            words, [k for k in ("what", "model", "estimate", "ci_low", "ci_high", "p_value", "n_obs") if k in words.columns],
            headers={"what": "term", "ci_low": "95% CI from", "ci_high": "to", "p_value": "p"}))
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
    rows = [{"label": display_band(x["band"]), "value": num(x["value"]), "marker": num(x.get("target")), "group": "BME",
             "color": group_colour("BME"),
             "note": "withheld (small numbers)"} for x in share.iter_rows(named=True)]
    out = [f"<h3>{esc(title)}</h3>", bars_svg(rows, title, value_fmt=pct),
           ('<p class="note">Bars: BME share of staff of known ethnicity. Black tick: the Model Employer target '
            "(the BME share of the whole workforce).</p>"), html_table(share)]
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
    pooled = p.filter((pl.col("row_type") == "pooled") & (pl.col("measure") == "bme_share_appointed"))
    out = []
    if cols(per, "t_months"):
        freq = its["frequency"][0] if cols(its, "frequency") and its["frequency"][0] is not None else None
        if freq is None and "frequency" in per.columns and (per["frequency"] == "quarter").any():
            freq = "quarter"
        if freq and "frequency" in per.columns:
            per = per.filter(pl.col("frequency") == freq)
        per = per.sort("t_months")
        pts = [(num(x["t_months"]), num(x["estimate"])) for x in per.iter_rows(named=True)]
        ts = [t for t, _ in pts if t is not None]
        series = [{"name": "observed", "points": pts, "points_only": True, "color": NEUTRAL["main"]}]
        pre = {x["period"]: x for x in pooled.iter_rows(named=True)} if cols(pooled, "period") else {}
        if ts and pre:
            for key, x0, x1, colr in (("pre_programme", min(ts), 0.0, NEUTRAL["before"]),
                                      ("post_programme", 0.0, max(ts), NEUTRAL["after"])):
                r = pre.get(key)
                if r and num(r["estimate"]) is not None and x1 > x0:
                    series.append({"name": display_period(key), "points": [(x0, num(r["estimate"])), (x1, num(r["estimate"]))],
                                   "color": colr, "dashed": True,
                                   "bands": [(x0, x1, num(r.get("ci_low")), num(r.get("ci_high")))]})
        coef = {x["term"]: num(x["estimate"]) for x in its.iter_rows(named=True)} if cols(its, "term") else {}
        pre_slope = coef.get(TERM_PRE_SLOPE)
        if coef.get(TERM_INTERCEPT) is not None and pre_slope is not None and ts:
            b0, lvl, slp = coef[TERM_INTERCEPT], coef.get(TERM_LEVEL_CHANGE) or 0, coef.get(TERM_SLOPE_CHANGE) or 0
            series.append({"name": "fitted before", "points": [(min(ts), b0 + pre_slope * min(ts)), (0, b0)],
                           "color": NEUTRAL["before"]})
            series.append({"name": "fitted after", "points": [(0, b0 + lvl), (max(ts), b0 + lvl + (pre_slope + slp) * max(ts))],
                           "color": NEUTRAL["after"]})
        labels = {}
        if "period" in per.columns:
            for x in per.iter_rows(named=True):
                t = num(x["t_months"])
                if t is not None:
                    labels[t] = str(x["period"])[:7]
        withheld = sum(1 for _, y in pts if y is None)
        out.append(lines_svg(series, "BME share of senior appointments over time", vline=0.0, vline_label="programme start",
                             x_labels=labels, ylabel="BME share of appointments", xlabel=f"{freq or 'period'} of advert"))
        more = ""
        if pts and withheld > len(pts) / 2:
            more = (" Most periods are withheld, so the chart shows the shares before and after the programme start "
                    "(dashed, with their 95% CIs shaded) beside the fitted trend lines.")
        out.append(f'<p class="note">Points: BME share of appointees of known ethnicity per {esc(freq or "period")}; '
                   f"{withheld} of {len(pts)} withheld because a count is small.{more} Solid lines: the segmented "
                   "regression's fitted trend before and after the programme start.</p>")
    if its.height:
        words = its.with_columns(pl.col("term").map_elements(display_term, return_dtype=pl.String).alias("what"))
        points = {k: (lambda v: f"{100 * v:+.1f}") for k in ("estimate", "ci_low", "ci_high")}
        out.append("<h3>Segmented regression (percentage points of the BME share)</h3>" + html_table(
            words, [k for k in ("what", "estimate", "ci_low", "ci_high", "p_value", "n_periods") if k in words.columns],
            headers={"what": "term", "estimate": "estimate (points)", "ci_low": "95% CI from", "ci_high": "to",
                     "p_value": "p", "n_periods": "periods"}, display=points))
    if pooled.height:
        pw = pooled.with_columns(pl.col("period").map_elements(display_period, return_dtype=pl.String))
        out.append("<h3>Before and after the programme</h3>" + html_table(
            pw, [k for k in ("period", "estimate", "ci_low", "ci_high") if k in pw.columns],
            headers={"estimate": "BME share of appointments", "ci_low": "95% CI from", "ci_high": "to"},
            display={"estimate": pct, "ci_low": pct, "ci_high": pct}))
    return "".join(out) or html_table(p)
