"""The report's sections: one function per section, from a run's published tables to an HTML fragment.

Grouped by the analyses whose tables they show (funnel, text,
scores_and_triangulation) plus the summary and the run information.
:data:`RENDERERS` maps each section id of :data:`tasks.outputs.report.page.SECTIONS`
to its function.  A section renders "Not available in this run" when its tables
are absent and falls back to a plain table when the columns it charts are missing.
"""
from __future__ import annotations

from collections.abc import Callable

from tasks.outputs.report.sections.base import Ctx
from tasks.outputs.report.sections.funnel import section_adverse, section_funnel, section_odds, section_wres
from tasks.outputs.report.sections.run_info import section_metadata, section_methods, section_quality
from tasks.outputs.report.sections.scores_and_triangulation import section_its, section_representation, section_scores
from tasks.outputs.report.sections.summary import section_summary
from tasks.outputs.report.sections.technical import section_technical
from tasks.outputs.report.sections.text import section_sentiment, section_topics

RENDERERS: dict[str, Callable[[Ctx], str]] = {
    "section-summary": section_summary, "section-funnel": section_funnel, "section-odds-ratios": section_odds,
    "section-wres": section_wres, "section-adverse-impact": section_adverse, "section-topics": section_topics,
    "section-sentiment": section_sentiment, "section-scores": section_scores,
    "section-representation": section_representation, "section-its": section_its,
    "section-data-quality": section_quality, "section-methods": section_methods,
    "section-technical": section_technical, "section-metadata": section_metadata,
}
