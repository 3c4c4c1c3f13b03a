"""The run report: one fully self-contained HTML file (assembly and writing; sections in ``sections/``).

Inline CSS and inline SVG charts drawn here in Python; no script, font, image
or stylesheet is fetched from anywhere, and there is no ``<script>`` at all,
so the file opens on a locked-down laptop with no internet.

The report reads ONLY the disclosure-controlled ``published.*`` tables and
the run registry ``results.runs``, through :mod:`tasks.outputs.published`:
every count it shows has been through :mod:`tasks.privacy.disclosure`.  Each section renders "Not available in this run"
when its tables are absent, and falls back to a plain table when the columns
it charts are missing.

Published tables each section reads (see docs/methods.md section 5).  Section 1 opens with the
first screen (:mod:`tasks.outputs.report.sections.first_screen`): a verdict per funnel stage and
per programme rule.  Raw model terms appear only in the technical appendix (13).

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
13  technical appendix       odds_ratios, wres_indicator2, national_reference, score_effects,
                             text_effects, programme_impact, adverse_impact (raw model names)
14  run metadata             results.runs, disclosure_log
==  =======================  ===========================================
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl

from tasks.outputs.published import load_run
from tasks.outputs.report.css import CSS
from tasks.outputs.report.format import NA, esc
from tasks.outputs.report.sections import RENDERERS, Ctx

log = logging.getLogger(__name__)


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
    ("section-technical", "Technical appendix: model names and every estimate"),
    ("section-metadata", "Run metadata"),
)


SECTION_IDS: tuple[str, ...] = tuple(s for s, _ in SECTIONS)


def document(*, title: str, heading: str, intro: str, sections: Sequence[tuple[str, str]],
             render: Callable[[str], str], collapsed_contents: bool = True) -> str:
    """A whole offline page: header, contents and every section in order, numbered.

    ``render(section_id)`` draws a section's body; a section that raises is logged and says so on
    the page, and the rest render (one broken section must not lose the report).  ``intro`` is HTML.
    The page loads nothing: its Content-Security-Policy allows inline styles and data: images only.
    """
    nav = "".join(f'<li><a href="#{sid}">{esc(t)}</a></li>' for sid, t in sections)
    if collapsed_contents:
        nav = f"<details><summary>Contents ({len(sections)} sections)</summary><ol>{nav}</ol></details>"
    else:
        nav = f"<ol>{nav}</ol>"
    body = []
    for i, (sid, section_title) in enumerate(sections, start=1):
        try:
            content = render(sid)
        except Exception as exc:  # noqa: BLE001 - one broken section must not lose the report
            log.exception("report section %s failed", sid)
            content = f'<p class="na">Not available in this run (the section could not be drawn: {esc(type(exc).__name__)}).</p>'
        body.append(f'<section id="{sid}"><h2>{i}. {esc(section_title)}</h2>{content}</section>')
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>{esc(title)}</title>
<style>{CSS}</style>
</head>
<body>
<header><h1>{esc(heading)}</h1>
<p>{intro}</p></header>
<main>
<nav aria-label="Contents">{nav}</nav>
{''.join(body)}
</main>
</body>
</html>
"""


def build_html(run_id: str, run: dict, tables: dict[str, pl.DataFrame], policy: dict) -> str:
    """The whole trust page: header, contents, and every section in order (a failing section says so and the rest render)."""
    c = Ctx(tables, run, policy)
    as_of = run.get("as_of") or NA
    return document(
        title=f"Inclusive senior recruitment evaluation, {as_of}",
        heading=f"Inclusive senior recruitment: evaluation as of {as_of}",
        intro="Is the programme closing the ethnicity gap at every stage of senior recruitment (bands 8a-VSM)? "
              "Official sensitive: disclosure-controlled figures only.",
        sections=SECTIONS, render=lambda sid: RENDERERS[sid](c))


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
