"""Sections 2-5: the recruitment funnel, odds ratios, WRES indicator 2 and adverse impact.

Reads published funnel_counts, odds_ratios, wres_indicator2, national_reference
and adverse_impact (docs/methods.md section 1, Recruitment funnel).  Every model term is built
with the helpers of :mod:`tasks.core.vocabulary` and shown in words by :mod:`tasks.core.display` (``display_term``,
``display_stage``, ``display_group``); raw names appear only in the technical appendix.
Each ethnic group has one colour (:func:`tasks.outputs.report.css.group_colour`).
"""
from __future__ import annotations

import polars as pl

from tasks.core.display import (
    display_band,
    display_ethnic_code,
    display_group,
    display_period,
    display_stage,
    display_term,
)
from tasks.core.vocabulary import (
    INTERACTION_TERMS,
    TERM_BME,
    TERM_DIVERSE_PANEL,
    TERM_LETTER_TO_CEO,
    TOTAL_LABEL,
    WRES_GROUPS,
    contrast_terms,
)
from tasks.outputs.report.charts import bars_svg, forest_svg, legend
from tasks.outputs.report.css import NEUTRAL, group_colour
from tasks.outputs.report.format import ci_text, cols, esc, html_table, not_available, num, pct, ratio
from tasks.outputs.report.sections.base import Ctx, flag_text
from tasks.outputs.report.verdicts import (
    main_odds,
    national_benchmark,
    verdict_of,
    wres_year_comparison,
)

FUNNEL_STEPS: dict[str, str] = {"shortlisted": "shortlisted", "interviewed": "interviewed", "offered": "offered",
                                "appointed": "appointed"}


def section_funnel(c: Ctx) -> str:
    f = c.get("funnel_counts")
    if f is None:
        return not_available("funnel_counts")
    stages = [s for s in ("applications", "shortlisted", "interviewed", "offered", "appointed") if s in f.columns]
    out = []
    if cols(f, "band", "wres_group") and "applications" in stages:
        allb = f.filter(pl.col("band") == TOTAL_LABEL)
        rows, groups = [], [g for g in WRES_GROUPS if g in allb["wres_group"].to_list()]
        for s in stages[1:]:
            for g in groups:
                r = allb.filter(pl.col("wres_group") == g).row(0, named=True)
                apps, k = num(r["applications"]), num(r[s])
                ok = apps is not None and apps >= 20 and k is not None
                rows.append({"label": f"{FUNNEL_STEPS[s]}: {display_group(g, short=True)}", "value": k / apps if ok else None,
                             "note": None if ok else "withheld (small numbers)", "color": group_colour(g), "group": g})
        out.append("<h3>Share of applicants reaching each stage, all senior bands</h3>")
        out.append(legend([(display_group(g), group_colour(g)) for g in groups], groups))
        out.append(bars_svg(rows, "Share of applicants reaching each stage by ethnicity", max_value=1.0, value_fmt=pct))
    out.append("<h3>Counts by band and ethnicity</h3>")
    out.append(html_table(f, ["band", "wres_group"] + stages, headers={"band": "band", "wres_group": "ethnicity"},
                          display={"band": display_band, "wres_group": display_group}))
    return "".join(out)


# The forest plot's terms: the BME main effect, the BME-White contrast at each level of the
# vacancy's programme features (letter to the CEO, diverse panel) and every BME interaction.
FOREST_FEATURES: tuple[str, ...] = (TERM_LETTER_TO_CEO, TERM_DIVERSE_PANEL)


CONTRAST_TERMS: tuple[str, ...] = (TERM_BME, *contrast_terms(FOREST_FEATURES), *INTERACTION_TERMS)


def forest_label(stage: str, term: str) -> str:
    return f"{display_stage(stage, short=True)} · {display_term(term)}"


def section_odds(c: Ctx) -> str:
    o = c.get("odds_ratios")
    if o is None:
        return not_available("odds_ratios")
    if not cols(o, "stage", "term", "odds_ratio"):
        return html_table(o)
    sel = main_odds(c)
    sel = sel.filter(pl.col("term").is_in(CONTRAST_TERMS)) if sel is not None else o.head(0)
    rows = []
    for r in sel.iter_rows(named=True):
        few = bool(flag_text(r.get("sdc_flags")))
        rows.append({"label": forest_label(r["stage"], r["term"]), "est": num(r["odds_ratio"]), "lo": num(r.get("ci_low")),
                     "hi": num(r.get("ci_high")), "hollow": few, "mark": "few events" if few else "",
                     "color": NEUTRAL["main"]})
    chart = forest_svg(rows, "Odds ratios (BME vs White) by stage with programme contrasts", log_scale=True, ref=1.0,
                       xlabel="odds ratio (log scale); below 1 = BME candidates less likely to progress")
    table = sel.with_columns(
        pl.struct("stage", "term").map_elements(lambda r: forest_label(r["stage"], r["term"]), return_dtype=pl.String)
        .alias("estimate_of"))
    shown = [k for k in ("estimate_of", "odds_ratio", "ci_low", "ci_high", "p_value", "n_obs", "n_events") if k in table.columns]
    return (chart + '<p class="note">Hollow squares: fewer than 10 events (flagged, not suppressed). "With a letter to '
            'the CEO" is the BME vs White comparison in vacancies under the letter rule; "change in the gap" is how '
            "much that comparison differs where the rule applied (the rule's effect). Every estimate, under its model "
            "name, is in the technical appendix.</p>"
            + html_table(table, shown, headers={"estimate_of": "what is estimated", "odds_ratio": "odds ratio",
                                                "ci_low": "95% CI from", "ci_high": "to", "p_value": "p",
                                                "n_obs": "candidates", "n_events": "progressed"}, ratio_ci=True))


def _national_line(nat: pl.DataFrame | None, w: pl.DataFrame) -> tuple[list[tuple[float, str]], str]:
    """The national figure to draw: the national row of the trust's latest WRES year that has one, else none."""
    years = [str(v) for v in w.filter(pl.col("scope") == "wres_year")["scope_value"].to_list()] if "scope" in w.columns else []
    for y in reversed(years):
        b = national_benchmark(nat, y)
        if b.value is not None:
            return [(b.value, f"England, WRES {b.national_period}: {ratio(b.value)}")], b.note
    if not years:
        return [], "no line: this run has no WRES-year figures to match a national year to"
    return [], f"no line: the reference has no national figure for WRES years {', '.join(years)}"


def section_wres(c: Ctx) -> str:
    w = c.get("wres_indicator2")
    if w is None:
        return not_available("wres_indicator2", "national_reference")
    if not cols(w, "scope", "scope_value", "relative_likelihood"):
        return html_table(w)
    nat = c.get("national_reference")
    vlines, nat_note = _national_line(nat, w)
    rows = []
    for scope, words in (("overall", "all years"), ("programme_period", None), ("wres_year", "WRES year"),
                         ("band", None)):
        for r in w.filter(pl.col("scope") == scope).iter_rows(named=True):
            rl, lo, hi = num(r["relative_likelihood"]), num(r.get("ci_low")), num(r.get("ci_high"))
            sig = lo is not None and hi is not None and (lo > 1 or hi < 1)
            label = {"overall": "All years", "programme_period": display_period(r["scope_value"]),
                     "wres_year": f"WRES year {r['scope_value']}", "band": display_band(r["scope_value"])}[scope]
            few = bool(flag_text(r.get("sdc_flags")))
            rows.append({"label": label, "est": rl, "lo": lo, "hi": hi, "color": NEUTRAL["main"], "hollow": few,
                         "mark": ("CI excludes 1" if sig else "") + (" (few events)" if few else "")})
    withheld = [f"{r['scope']}: {r['scope_value']}" for r in
                w.filter(pl.col("scope").is_in(["band", "programme_period", "wres_year"])).iter_rows(named=True)
                if num(r["relative_likelihood"]) is None]
    chart = forest_svg(rows, "WRES indicator 2 by period, WRES year and band", log_scale=True, ref=1.0, shade=(0.8, 1.25),
                       vlines=vlines, xlabel="likelihood of appointment from shortlisting, White ÷ BME (log scale)")
    note = ('<p class="note">Shaded: the non-adverse band 0.80 to 1.25. "CI excludes 1": the difference from parity is '
            f"beyond chance. Dashed line: the national figure for the same WRES year ({esc(nat_note)}), all trusts "
            "and all bands; the trust's figures cover senior bands only. WRES years run from 1 April to 31 March.</p>")
    if withheld:
        note += f'<p class="note">Withheld because a count is small: {esc(", ".join(withheld))}.</p>'
    out = [chart, note, _last_vs_this_year(c), _by_year_table(w, nat)]
    return "".join(out)


def _last_vs_this_year(c: Ctx) -> str:
    comp = wres_year_comparison(c)
    if comp is None:
        return '<p class="na">Fewer than two WRES years in the data: no year-on-year comparison.</p>'
    last, this, change = comp
    v = verdict_of(change, higher_is_better=False)
    as_of = c.run.get("as_of")
    partial = f" (to {esc(as_of)}, part year)" if as_of else ""
    fig = (lambda r: f"{ratio(num(r['relative_likelihood']))} (95% CI {ci_text(num(r.get('ci_low')), num(r.get('ci_high')))})"
           if num(r.get("relative_likelihood")) is not None else "withheld (small numbers)")
    return ("<h3>Last year and this year (WRES years)</h3>"
            f'<table class="verdicts" id="wres-last-this"><thead><tr><th>Last year ({esc(last["scope_value"])})</th>'
            f'<th>This year ({esc(this["scope_value"])}){partial}</th><th>Change (this ÷ last)</th><th>Verdict</th></tr></thead>'
            f"<tbody><tr><td>{esc(fig(last))}</td><td>{esc(fig(this))}</td>"
            f"<td>{esc(ratio(change.est)) + ' (95% CI ' + esc(ci_text(change.lo, change.hi)) + ')' if change.present else '–'}</td>"
            f"<td>{esc(v)}</td></tr></tbody></table>")


def _by_year_table(w: pl.DataFrame, nat: pl.DataFrame | None) -> str:
    """WRES years and calendar years side by side with the national figure of the same WRES year."""
    rows = []
    for scope, kind in (("wres_year", "WRES year (1 April to 31 March)"), ("calendar_year", "calendar year")):
        for r in w.filter(pl.col("scope") == scope).iter_rows(named=True):
            b = national_benchmark(nat, str(r["scope_value"])) if scope == "wres_year" else None
            rows.append({"period": f"{r['scope_value']}", "kind": kind,
                         "shortlisted_white": r.get("shortlisted_white"), "appointed_white": r.get("appointed_white"),
                         "shortlisted_bme": r.get("shortlisted_bme"), "appointed_bme": r.get("appointed_bme"),
                         "relative_likelihood": num(r["relative_likelihood"]), "ci_low": num(r.get("ci_low")),
                         "ci_high": num(r.get("ci_high")),
                         "england": (ratio(b.value) if b and b.value is not None else ("–" if b is None else "none published"))})
    if not rows:
        return ""
    df = pl.DataFrame(rows, infer_schema_length=None)
    return ("<h3>By WRES year and calendar year, with England's figure for the same WRES year</h3>"
            + html_table(df, headers={"kind": "year type", "relative_likelihood": "WRES indicator 2",
                                      "ci_low": "95% CI from", "ci_high": "to", "england": "England (same WRES year)"},
                         ratio_ci=True))


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
    rows = [{"label": f"{display_stage(r['stage'], short=True)} · {display_group(r['group'], short=True)}", "value": num(r["impact_ratio"]),
             "note": "withheld (small numbers)", "color": group_colour(r["group"]),
             "group": str(r["group"]).split(", ")[0].split(" x ")[0], "adverse": bool(r.get("four_fifths_flag"))}
            for r in plot.iter_rows(named=True)]
    chart = bars_svg(rows, "Impact ratios by stage and group", ref=0.8, ref_label="four-fifths (0.80)", value_fmt=ratio,
                     max_value=max([1.25] + [r["value"] for r in rows if r["value"] is not None]))
    groups = list(dict.fromkeys(r["group"] for r in rows))
    keep = [k for k in ("stage", "period", "grouping", "group", "n", "selected", "selection_rate", "reference_group",
                        "impact_ratio", "four_fifths_flag", "p_value", "shortfall", "sdc_flags") if k in a.columns]
    code_rows = sub.filter(pl.col("grouping") == "ethnic_category")
    other = sub.filter(pl.col("grouping") != "ethnic_category")
    disp = {"stage": display_stage, "group": display_group, "reference_group": display_group, "period": display_period}
    return (("<h3>Intersectional groups (ethnicity × sex)</h3>" if inter.height else "")
            + legend([(display_group(g), group_colour(g)) for g in groups], groups, adverse=True) + chart
            + '<p class="note">Hatched bars: adverse impact (selection rate below four-fifths of the best group\'s). '
              "Each bar keeps its ethnic group's colour in its left edge.</p>"
            + html_table(other, keep, display=disp)
            + ("<h3>By NHS ethnic category code</h3>"
               + html_table(code_rows, keep, display=disp | {"group": display_ethnic_code}, max_rows=120)
               if code_rows.height else ""))
