"""Sections 2-5: the recruitment funnel, odds ratios, WRES indicator 2 and adverse impact.

Reads published funnel_counts, odds_ratios, wres_indicator2, national_reference
and adverse_impact (docs/methods.md section 1, Recruitment funnel).  Every model term is built
with the helpers of :mod:`tasks.core.vocabulary`, never typed here.
"""
from __future__ import annotations

import polars as pl

from tasks.core.vocabulary import (
    ANALYSIS_MAIN,
    INTERACTION_TERMS,
    TERM_BME,
    TERM_BME_X_LETTER,
    TERM_DIVERSE_PANEL,
    TERM_LETTER_TO_CEO,
    TOTAL_LABEL,
    WRES_GROUPS,
    contrast_term,
    contrast_terms,
)
from tasks.outputs.report.charts import bars_svg, forest_svg
from tasks.outputs.report.css import PALETTE
from tasks.outputs.report.format import cols, esc, fmt, html_table, not_available, num, pct
from tasks.outputs.report.sections.base import Ctx, flag_text


def section_funnel(c: Ctx) -> str:
    f = c.get("funnel_counts")
    if f is None:
        return not_available("funnel_counts")
    stages = [s for s in ("applications", "shortlisted", "interviewed", "offered", "appointed") if s in f.columns]
    out = []
    if cols(f, "band", "wres_group") and "applications" in stages:
        allb = f.filter(pl.col("band") == TOTAL_LABEL)
        rows = []
        for gi, g in enumerate([g for g in WRES_GROUPS if g in allb["wres_group"].to_list()]):
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


# The forest plot's terms: the BME main effect, the BME-White contrast at each level of the
# vacancy's programme features (letter to the CEO, diverse panel) and every BME interaction.
FOREST_FEATURES: tuple[str, ...] = (TERM_LETTER_TO_CEO, TERM_DIVERSE_PANEL)


CONTRAST_TERMS: tuple[str, ...] = (TERM_BME, *contrast_terms(FOREST_FEATURES), *INTERACTION_TERMS)


def section_odds(c: Ctx) -> str:
    o = c.get("odds_ratios")
    if o is None:
        return not_available("odds_ratios")
    if not cols(o, "stage", "term", "odds_ratio"):
        return html_table(o)
    sel = o.filter(pl.col("term").is_in(CONTRAST_TERMS))
    if "analysis" in sel.columns and (sel["analysis"] == ANALYSIS_MAIN).any():
        sel = sel.filter(pl.col("analysis") == ANALYSIS_MAIN)
    rows, stages = [], list(dict.fromkeys(sel["stage"].to_list()))
    for si, st in enumerate(stages):
        sub = sel.filter(pl.col("stage") == st)
        models = list(dict.fromkeys(sub["model"].to_list())) if "model" in sub.columns else [None]
        for r in sub.filter(pl.col("model") == models[0]).iter_rows(named=True) if models[0] else sub.iter_rows(named=True):
            rows.append({"label": f"{st} · {r['term']}", "est": num(r["odds_ratio"]), "lo": num(r.get("ci_low")),
                         "hi": num(r.get("ci_high")), "hollow": bool(flag_text(r.get("sdc_flags"))),
                         "mark": "few events" if flag_text(r.get("sdc_flags")) else "", "color": PALETTE[si % len(PALETTE)]})
    chart = forest_svg(rows, "Odds ratios (BME vs White) by stage with programme contrasts", log_scale=True, ref=1.0,
                       xlabel="odds ratio (log scale); below 1 = BME applicants less likely to progress")
    keep = [k for k in ("analysis", "stage", "model", "term", "odds_ratio", "ci_low", "ci_high", "p_value", "q_value",
                        "n_obs", "n_events", "flags", "sdc_flags") if k in o.columns]
    return (chart + '<p class="note">Hollow squares: fewer than 10 events (flagged, not suppressed). '
            f"<code>{contrast_term(TERM_LETTER_TO_CEO, 1)}</code> is the BME-White contrast in vacancies with a letter "
            f"to the CEO; <code>{TERM_BME_X_LETTER}</code> is the interaction (how much the gap differs).</p>"
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
                         "hollow": bool(flag_text(r.get("sdc_flags"))),
                         "mark": ("* significant" if sig else "") + (" (few events)" if flag_text(r.get("sdc_flags")) else "")})
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
