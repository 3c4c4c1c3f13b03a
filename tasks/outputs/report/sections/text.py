"""Sections 6-7: topics in assessment text and sentiment by group.

Reads published topics, topic_prevalence, sentiment_by_group and text_effects
(docs/methods.md section 2, Free text).  Never shows a document or a sentence: only
published aggregates.
"""
from __future__ import annotations

import polars as pl

from tasks.core.display import display_group, display_term
from tasks.core.vocabulary import TERM_BME, WRES_GROUPS
from tasks.core.vocabulary import TEXT_QUARTER_VARIABLE as QUARTER_VARIABLE
from tasks.outputs.report.charts import bars_svg, forest_svg, legend, lines_svg
from tasks.outputs.report.css import NEUTRAL, group_colour
from tasks.outputs.report.format import cols, esc, html_table, not_available, num, pct
from tasks.outputs.report.sections.base import Ctx, flag_text

SOURCE_WORDS = {"assessments": "interview assessments", "ceo_letters": "letters to the CEO"}


def section_topics(c: Ctx) -> str:
    t, p = c.get("topics"), c.get("topic_prevalence")
    if t is None and p is None:
        return not_available("topics", "topic_prevalence")
    out = []
    if t is not None:
        keep = [k for k in ("source", "label", "theme", "prevalence", "n_dominant", "tone") if k in t.columns]
        words = {"source": lambda v: SOURCE_WORDS.get(v, str(v)), "theme": lambda v: str(v).replace("_", " ")}
        out.append("<h3>Topics, named by their most frequent words</h3>" + html_table(
            t, keep, display=words, headers={"label": "topic (top words)", "theme": "competency theme",
                                              "prevalence": "share of text", "n_dominant": "documents mainly about it",
                                              "tone": "mean tone (-1 to 1)"})
            + '<p class="note">Each topic\'s model terms (lemmas) and coherence are in the technical appendix.</p>')
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
        order = {g: i for i, g in enumerate(WRES_GROUPS)}
        for r in sub.sort("topic_id", pl.col("level").replace_strict(order, default=9)).iter_rows(named=True):
            rows.append({"label": f"{labels.get(r['topic_id'], 'topic ' + str(r['topic_id']))[:36]} · {display_group(r['level'], short=True)}",
                         "value": num(r["mean"]), "color": group_colour(r["level"]), "group": r["level"]})
        levels = sorted(levels, key=lambda g: order.get(g, 9))
        out.append("<h3>Topic prevalence in assessments by candidate ethnicity</h3>"
                   + legend([(display_group(lv), group_colour(lv)) for lv in levels], levels)
                   + bars_svg(rows, "Mean topic share by group", value_fmt=pct))
        out.append(_topics_by_quarter(p, labels))
        out.append(html_table(p, [k for k in ("source", "variable", "level", "topic_id", "n", "mean", "ci_low", "ci_high",
                                              "p_value", "q_value", "sdc_flags") if k in p.columns], max_rows=120))
    return "".join(out)


def _topics_by_quarter(p: pl.DataFrame, labels: dict) -> str:
    """Topic shares of interview assessments by quarter of writing (a quarter x topic table)."""
    if "variable" not in p.columns or not (p["variable"] == QUARTER_VARIABLE).any():
        return ""
    q = p.filter((pl.col("variable") == QUARTER_VARIABLE) & (pl.col("topic_id").is_not_null()))
    if "source" in q.columns and (q["source"] == "assessments").any():
        q = q.filter(pl.col("source") == "assessments")
    quarters = sorted(set(q["level"].drop_nulls().to_list()))
    topics = sorted(set(q["topic_id"].drop_nulls().to_list()))
    cell = {(r["level"], r["topic_id"]): num(r["mean"]) for r in q.iter_rows(named=True)}
    head = "<th>quarter written</th>" + "".join(f"<th>{esc(labels.get(t, f'topic {t}'))}</th>" for t in topics)
    body = "".join("<tr><td class=\"t\">" + esc(qt) + "</td>" + "".join(f"<td>{esc(pct(cell.get((qt, t))))}</td>" for t in topics)
                   + "</tr>" for qt in quarters)
    return ("<h3>Topic shares of interview assessments by quarter</h3>"
            f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
            '<p class="note">Mean share of each topic in the assessments written in the quarter; quarters with fewer '
            "than 5 documents, or whose counts are small, are withheld (–).</p>")


def section_sentiment(c: Ctx) -> str:
    s, e = c.get("sentiment_by_group"), c.get("text_effects")
    if s is None and e is None:
        return not_available("sentiment_by_group", "text_effects")
    out = []
    if cols(e, "outcome", "adjustment", "estimate", "term"):
        sub = e.filter((pl.col("outcome") == "sentiment") & (pl.col("term") == TERM_BME))
        rows = [{"label": f"{SOURCE_WORDS.get(r.get('source'), r.get('source') or '')} · {r['adjustment']}",
                 "est": num(r["estimate"]), "lo": num(r.get("ci_low")), "hi": num(r.get("ci_high")),
                 "color": NEUTRAL["main"] if r["adjustment"] == "unadjusted" else NEUTRAL["before"],
                 "hollow": bool(flag_text(r.get("sdc_flags")))} for r in sub.iter_rows(named=True)]
        out.append("<h3>BME - White difference in assessment tone, unadjusted and adjusted</h3>")
        out.append(forest_svg(rows, "BME coefficient on sentiment, unadjusted vs adjusted", log_scale=False, ref=0.0,
                              xlabel="difference in mean sentiment (BME - White)"))
        out.append('<p class="note">Adjusted: controlling for the offer, the normalised interview score and band '
                   "(standard errors clustered by vacancy).</p>")
        ew = e.with_columns(pl.col("term").map_elements(display_term, return_dtype=pl.String))
        out.append(html_table(ew, [k for k in ("source", "outcome", "term", "adjustment", "estimate", "ci_low", "ci_high",
                                               "p_value", "n", "sdc_flags") if k in ew.columns], max_rows=60))
    if cols(s, "level", "mean", "variable") and (s["variable"] == QUARTER_VARIABLE).any():
        tq = s.filter((pl.col("variable") == QUARTER_VARIABLE) & pl.col("topic_id").is_null())
        quarters = sorted(set(tq["level"].drop_nulls().to_list()))
        xs = {qt: float(i) for i, qt in enumerate(quarters)}
        series = []
        for src, dashed in (("assessments", False), ("ceo_letters", True)):
            sub = tq.filter(pl.col("source") == src) if "source" in tq.columns else tq
            if sub.height:
                series.append({"name": SOURCE_WORDS.get(src, src), "dashed": dashed, "color": NEUTRAL["main"],
                               "points": [(xs[r["level"]], num(r["mean"])) for r in sub.sort("level").iter_rows(named=True)]})
        out.append("<h3>Tone by quarter of writing</h3>")
        out.append(lines_svg(series, "Mean document tone by quarter", x_labels={v: k for k, v in xs.items()},
                             y_fmt=lambda v: f"{v:.2f}", ylabel="mean tone (-1 to 1)", xlabel="quarter written"))
        out.append('<p class="note">Solid: interview assessments; dashed: letters to the CEO. Tone is the mean '
                   "sentence sentiment of a document (-1 negative to +1 positive).</p>")
    if cols(s, "level", "mean"):
        doc = s.filter(pl.col("topic_id").is_null()) if "topic_id" in s.columns else s
        if "variable" in doc.columns:
            doc = doc.filter(pl.col("variable") != QUARTER_VARIABLE)
        if "variable" in doc.columns and (doc["variable"] == "candidate_wres_group").any():
            doc = doc.filter(pl.col("variable") == "candidate_wres_group")
        rows = [{"label": f"{SOURCE_WORDS.get(r.get('source'), r.get('source') or '')} · {display_group(r['level'], short=True)}",
                 "est": num(r["mean"]), "lo": num(r.get("ci_low")), "hi": num(r.get("ci_high")),
                 "hollow": bool(flag_text(r.get("sdc_flags"))), "color": group_colour(r["level"]), "group": r["level"]}
                for r in doc.iter_rows(named=True)]
        out.append("<h3>Mean document sentiment by group (unadjusted)</h3>")
        out.append(forest_svg(rows, "Mean sentiment by group", log_scale=False, ref=None, xlabel="mean sentiment"))
        out.append(html_table(doc, [k for k in ("source", "variable", "level", "n", "mean", "ci_low", "ci_high", "p_value",
                                                "q_value", "sdc_flags") if k in doc.columns]))
    return "".join(out)
