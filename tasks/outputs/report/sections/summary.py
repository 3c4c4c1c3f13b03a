"""Section 1, the summary: one sentence per headline finding of the run.

Reads published wres_indicator2, odds_ratios, adverse_impact, programme_impact,
representation and validation (whichever exist).  Never computes a new
statistic: every number is a published one, formatted.
"""
from __future__ import annotations

import polars as pl

from tasks.core.vocabulary import ANALYSIS_MAIN, TERM_BME, TERM_LEVEL_CHANGE
from tasks.outputs.report.format import cols, esc, fmt, num, pct
from tasks.outputs.report.sections.base import Ctx


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
        main = orr.filter(pl.col("term") == TERM_BME)
        if "analysis" in main.columns:
            main = main.filter(pl.col("analysis") == ANALYSIS_MAIN) if (main["analysis"] == ANALYSIS_MAIN).any() else main
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
        lv = pi.filter((pl.col("row_type") == "its") & (pl.col("term") == TERM_LEVEL_CHANGE))
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
