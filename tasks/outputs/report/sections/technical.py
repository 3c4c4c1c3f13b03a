"""The technical appendix: every published estimate under its model names (stages, terms, scopes as the
result tables spell them), for analysts who need to match the report to the exports.

Reads published odds_ratios, wres_indicator2, national_reference, adverse_impact, score_effects,
text_effects, topics and programme_impact.  The only place in the report where raw model terms
(``bme@letter_to_ceo=1``, ``bme:post_programme``, ``apply_workforce``) appear.
"""
from __future__ import annotations

from tasks.outputs.report.format import esc, html_table
from tasks.outputs.report.sections.base import Ctx

TECHNICAL_TABLES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("odds_ratios", "Odds ratios: every model, stage and term",
     ("analysis", "stage", "model", "term", "odds_ratio", "ci_low", "ci_high", "std_error", "p_value", "q_value",
      "n_obs", "n_events", "flags", "sdc_flags")),
    ("wres_indicator2", "WRES indicator 2: every scope",
     ("scope", "scope_value", "shortlisted_white", "appointed_white", "shortlisted_bme", "appointed_bme",
      "proportion_white", "proportion_bme", "relative_likelihood", "ci_low", "ci_high", "p_value", "q_value",
      "in_non_adverse_band", "flags", "sdc_flags")),
    ("national_reference", "National and regional WRES reference, with the trust's calendar years", ()),
    ("score_effects", "Interview score models", ()),
    ("topics", "Topic models: terms (lemmas), coherence and the number of topics", ()),
    ("text_effects", "Text models (tone and topics)", ()),
    ("programme_impact", "Programme impact: periods, pooled shares and the segmented regression", ()),
    ("adverse_impact", "Adverse impact: every stage, period and grouping", ()),
)


def section_technical(c: Ctx) -> str:
    out = [('<p class="note">The tables below use the result tables\' own names (model terms such as '
            "<code>bme:letter_to_ceo</code>, stages such as <code>appoint_from_shortlist</code>); docs/methods.md "
            "defines each. The sections above show the same figures in words.</p>")]
    for name, title, columns in TECHNICAL_TABLES:
        df = c.get(name)
        if df is None:
            continue
        out.append(f'<details class="technical"><summary>{esc(title)} ({df.height} rows)</summary>'
                   + html_table(df, list(columns) or None, max_rows=400) + "</details>")
    return "".join(out)
