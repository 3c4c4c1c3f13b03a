"""Section 1, the summary: the first screen's verdicts, then one sentence per other headline finding.

Reads published wres_indicator2, odds_ratios, score_effects, national_reference
(through :mod:`tasks.outputs.report.sections.first_screen`), adverse_impact,
programme_impact, representation and validation (whichever exist).  Never
computes a new statistic from data: every number is a published one, formatted
(the first screen's changes and power are simple functions of published intervals).
Words come from :mod:`tasks.core.display`; no model term is printed.
"""
from __future__ import annotations

import polars as pl

from tasks.core.display import display_ethnic_code, display_group, display_stage
from tasks.core.vocabulary import TERM_LEVEL_CHANGE
from tasks.outputs.report.format import ci_text, cols, esc, num, pct, ratio
from tasks.outputs.report.sections.base import Ctx
from tasks.outputs.report.sections.first_screen import first_screen


def _wres_sentence(w: pl.DataFrame) -> str | None:
    o = w.filter(pl.col("scope") == "overall")
    if not o.height:
        return None
    rl, lo, hi = (num(o[k][0]) if k in o.columns else None for k in ("relative_likelihood", "ci_low", "ci_high"))
    if rl is None:
        return "The overall WRES indicator 2 is withheld because a count it depends on is small."
    if lo is not None and hi is not None and lo > 1:
        reading = "White applicants had a real advantage at appointment (the 95% CI is above 1)"
    elif lo is not None and hi is not None and hi < 1:
        reading = "BME applicants had a real advantage at appointment (the 95% CI is below 1)"
    else:
        reading = "the difference from parity is within chance (the 95% CI includes 1)"
    return (f"Over the whole period, White shortlisted applicants were <b>{ratio(rl)} times</b> as likely to be "
            f"appointed as BME shortlisted applicants (WRES indicator 2, 95% CI {ci_text(lo, hi)}): {reading}.")


def _its_sentence(pi: pl.DataFrame) -> str | None:
    lv = pi.filter((pl.col("row_type") == "its") & (pl.col("term") == TERM_LEVEL_CHANGE))
    if not lv.height or num(lv["estimate"][0]) is None:
        return None
    e, lo, hi = num(lv["estimate"][0]), num(lv["ci_low"][0]), num(lv["ci_high"][0])
    per = pi.filter((pl.col("row_type") == "period") & (pl.col("measure") == "bme_share_appointed"))
    if "frequency" in lv.columns and "frequency" in per.columns and lv["frequency"][0] is not None:
        per = per.filter(pl.col("frequency") == lv["frequency"][0])
    shown = per.filter(pl.col("estimate").is_not_null()).height if "estimate" in per.columns else 0
    caveat = ""
    if per.height and shown < per.height / 2:
        caveat = (f" Only {shown} of {per.height} periods can be shown (the rest have small counts), so read this "
                  "with care; the before/after shares in section 10 are steadier.")
    width = "" if lo is None or hi is None else f" (95% CI {100 * lo:+.1f} to {100 * hi:+.1f} points)"
    return (f"At the programme start the BME share of senior appointments stepped by {100 * e:+.1f} percentage "
            f"points{width}, from an interrupted time series.{caveat}")


def section_summary(c: Ctx) -> str:
    items = []
    w = c.get("wres_indicator2")
    if cols(w, "scope", "relative_likelihood"):
        s = _wres_sentence(w)
        if s:
            items.append(s)
    ai = c.get("adverse_impact")
    if cols(ai, "four_fifths_flag"):
        flagged = ai.filter(pl.col("four_fifths_flag").fill_null(False))
        example = ""
        if "grouping" in flagged.columns and (flagged["grouping"] != "ethnic_category").any():
            flagged_shown = flagged.filter(pl.col("grouping") != "ethnic_category")  # groups before local codes
        else:
            flagged_shown = flagged
        if flagged.height and cols(flagged, "group", "stage"):
            g, grouping = flagged_shown["group"][0], (flagged_shown["grouping"][0] if "grouping" in flagged.columns else "")
            words = display_ethnic_code(g) if grouping == "ethnic_category" else display_group(g)
            example = f", for example {esc(words)} at {esc(display_stage(flagged_shown['stage'][0], short=True).lower())}"
        items.append(f"{flagged.height} comparison(s) of a group at a stage fall below the four-fifths threshold "
                     f"(selection rate under 80% of the best group's){example}; see section 5.")
    pi = c.get("programme_impact")
    if cols(pi, "row_type", "term", "estimate"):
        s = _its_sentence(pi)
        if s:
            items.append(s)
    rep = c.get("representation")
    if cols(rep, "measure", "band", "value", "target"):
        sen = rep.filter((pl.col("measure") == "bme_share") & (pl.col("band") == "senior"))
        if "snapshot_month" in sen.columns and sen.height:
            sen = sen.sort("snapshot_month", nulls_last=True).tail(1) if sen["snapshot_month"].null_count() < sen.height else sen.tail(1)
        if sen.height and num(sen["value"][0]) is not None and num(sen["target"][0]) is not None:
            items.append(f"BME staff are {pct(num(sen['value'][0]))} of senior bands (8a to VSM) against a Model Employer "
                         f"target of {pct(num(sen['target'][0]))}.")
    v = c.get("validation")
    if cols(v, "success"):
        failed = v.filter(pl.col("success").cast(pl.Utf8).is_in(["false", "False", "0"]))
        items.append(f"Data validation: {v.height - failed.height} of {v.height} checks passed.")
    key_points = ("<h3>Other headline findings</h3><ul class=\"summary\">" + "".join(f"<li>{i}</li>" for i in items)
                  + "</ul>") if items else ""
    return (first_screen(c) + key_points +
            '<p class="note">Counts are rounded to the nearest 5 and counts of 1-7 are shown as *; rates are computed '
            'from the rounded counts. Estimates based on fewer than 10 events are flagged. BME: Black and minority '
            'ethnic (NHS ethnic category codes D to S); White: codes A to C; codes Z and 99 (not stated, not known) '
            'are left out of the comparisons.</p>')
