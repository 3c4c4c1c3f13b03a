"""The data dictionary of the published tables: what each table and each column means, in plain words.

One place for the words and the kind of every column the exports show (the workbook's README and
data-dictionary sheets, its number formats, which text cells stay text).  The tables are listed in
the order the report shows them (tasks/outputs/report/page.py SECTIONS); the columns are those the
analyses write (docs/methods.md) plus the publication's ``sdc_flags`` (docs/methods.md section 5).

A column's *kind* decides how a spreadsheet shows it:

* ``text``        stored as text, always (band "6" and band "8a" alike; periods such as "2021-09");
* ``count``       a published count (text in ``published.*``: digits, or ``*`` when suppressed);
                  a number in the workbook, a suppressed count an empty shaded cell;
* ``integer``     a whole number that is not a count of people (an id, a number of clusters);
* ``proportion``  a share between 0 and 1, shown as a percentage;
* ``percent``     a figure already in percent (0-100);
* ``ratio``       an odds ratio, relative likelihood or impact ratio (2 decimals);
* ``estimate``    a model estimate, standard error, mean or score (3 decimals);
* ``p_value``     a p- or q-value (``<0.001`` below 0.001);
* ``flag``        true/false;
* ``date`` / ``datetime``.

Pure data and lookups: it reads nothing and writes nothing.  A column not listed here falls back
to a kind inferred from its type (:func:`column`), so a new analysis column still exports, and
:func:`undocumented` lists such columns for the tests.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "count", "integer", "proportion", "percent", "ratio", "estimate", "p_value", "flag",
               "date", "datetime"]


NUMERIC_KINDS: tuple[str, ...] = ("count", "integer", "proportion", "percent", "ratio", "estimate", "p_value")


@dataclass(frozen=True)
class Column:
    kind: Kind
    meaning: str


@dataclass(frozen=True)
class Table:
    title: str
    meaning: str


# Published tables in report order (tasks/outputs/report/page.py: the tables each section reads): name -> title and
# what one row is
TABLES: dict[str, Table] = {
    "funnel_counts": Table("Recruitment funnel counts",
                           "People at each step of the funnel (applied, shortlisted, interviewed, offered, "
                           "appointed) by band and ethnic group, with band and group totals ('All')."),
    "odds_ratios": Table("Odds ratios by stage",
                         "Adjusted odds ratios of the funnel models: one row per stage, model and term "
                         "(BME vs White, the programme contrasts, other covariates)."),
    "wres_indicator2": Table("WRES indicator 2",
                             "Relative likelihood of White shortlisted applicants being appointed compared "
                             "with BME shortlisted applicants, overall and by band, directorate, month and period."),
    "national_reference": Table("National WRES reference",
                                "Published national and regional WRES indicator 2 figures, beside this trust's."),
    "adverse_impact": Table("Adverse impact (four-fifths rule)",
                            "Selection rates by group at each stage compared with the best-placed group."),
    "topics": Table("Topics in written text",
                    "The topics found in written assessments and CEO letters: words, theme, prevalence, tone."),
    "topic_prevalence": Table("Topic prevalence by group",
                              "Mean share of each topic in a text, by group of candidate, manager or post."),
    "sentiment_by_group": Table("Tone by group",
                                "Mean tone (sentiment) of written text by group of candidate, manager or post."),
    "text_effects": Table("Text effects",
                          "Differences in tone and topic share between BME and White candidates, "
                          "unadjusted and adjusted."),
    "interview_scores": Table("Interview scores",
                              "Normalised interview scores and scoring rates by band and group."),
    "score_effects": Table("Interview score models",
                           "Model estimates for normalised interview scores (BME vs White and covariates)."),
    "representation": Table("Representation",
                            "BME share of the workforce by band and month against the Model Employer target."),
    "programme_impact": Table("Programme impact over time",
                              "Monthly series and the interrupted time series model around the programme start."),
    "validation": Table("Data validation",
                        "Every data check run on the extracts: its result and what was done."),
    "quarantine_summary": Table("Quarantined rows",
                                "Rows set aside because they failed a check, by table and reason (counts only)."),
    "disclosure_log": Table("Disclosure control log",
                            "How each table was published: the disclosure policy and how many cells were "
                            "suppressed, rounded or withheld."),
}


_CI_LOW = Column("estimate", "Lower end of the 95% confidence interval.")
_CI_HIGH = Column("estimate", "Upper end of the 95% confidence interval.")
_P = Column("p_value", "p-value (two-sided): how surprising the difference would be if there were none.")
_Q = Column("p_value", "q-value: the p-value adjusted for testing many figures at once (Benjamini-Hochberg).")

# Default meaning of a column name in every table
COLUMNS: dict[str, Column] = {
    "run_id": Column("text", "The run that produced the figures (also on the README sheet)."),
    "sdc_flags": Column("text", "Disclosure-control notes for the row: small_n_events (fewer than 10 events "
                                "behind an estimate), withheld_inputs_suppressed (a figure withheld because a count "
                                "it uses is suppressed)."),
    "flags": Column("text", "Notes from the analysis on the row (for example small numbers, a sparse cell)."),
    "band": Column("text", "Agenda for Change band (8a, 8b, 8c, 8d, 9, VSM; 6 and 7 are feeder bands), "
                           "'All'/'all' for every band."),
    "wres_group": Column("text", "Ethnic group as WRES reports it: White, BME (Black and minority ethnic), "
                                 "Unknown (not stated), 'All' for everyone."),
    "stage": Column("text", "Step of the recruitment process (in words; the code is in the stage_code column)."),
    "stage_code": Column("text", "The stage's technical name used in the model tables and the CSV files."),
    "term": Column("text", "What the figure compares (in words; the model's name is in the term_code column)."),
    "term_code": Column("text", "The model term's technical name, as in the CSV files and docs/methods.md."),
    "model": Column("text", "Statistical model used (logit, conditional_logit, binomial_glm, linear, mixed_linear, "
                            "segmented_linear)."),
    "analysis": Column("text", "'main' for the main models; 'stratum:band=8a' etc. for the same model within a band."),
    "estimate": Column("estimate", "The model estimate (log odds for logits; the change in the measure otherwise)."),
    "std_error": Column("estimate", "Standard error of the estimate."),
    "odds_ratio": Column("ratio", "Odds ratio: above 1 means higher odds for the group named in the term."),
    "ci_low": _CI_LOW, "ci_high": _CI_HIGH, "p_value": _P, "q_value": _Q,
    "n_obs": Column("count", "Number of applications (or scores) the figure is based on."),
    "n_events": Column("count", "Number of events (for example appointments) behind the estimate."),
    "n_clusters": Column("integer", "Number of clusters (vacancies) behind the standard error."),
    "n": Column("count", "Number of people, texts or score sheets in the group."),
    "applications": Column("count", "Applications received."),
    "shortlisted": Column("count", "Applicants shortlisted."),
    "interviewed": Column("count", "Applicants interviewed."),
    "offered": Column("count", "Applicants offered the post."),
    "appointed": Column("count", "Applicants appointed."),
    "scope": Column("text", "What the row covers: overall, band, directorate, month or programme period "
                            "(for national figures: the area)."),
    "scope_value": Column("text", "The band, directorate, month (YYYY-MM) or period of the row."),
    "shortlisted_white": Column("count", "White applicants shortlisted."),
    "appointed_white": Column("count", "White shortlisted applicants appointed."),
    "shortlisted_bme": Column("count", "BME applicants shortlisted."),
    "appointed_bme": Column("count", "BME shortlisted applicants appointed."),
    "proportion_white": Column("proportion", "Share of White shortlisted applicants appointed."),
    "proportion_bme": Column("proportion", "Share of BME shortlisted applicants appointed."),
    "relative_likelihood": Column("ratio", "WRES indicator 2: likelihood of White shortlisted applicants being "
                                           "appointed relative to BME ones (1 = equal; above 1 favours White)."),
    "in_non_adverse_band": Column("flag", "True when the relative likelihood is between 0.80 and 1.25."),
    "orientation": Column("text", "Which group the relative likelihood favours."),
    "excluded_unknown_ethnicity": Column("count", "Shortlisted applicants left out because their ethnicity is "
                                                  "not known."),
    "excluded_declined_offer": Column("count", "Shortlisted applicants left out because they declined an offer."),
    "period": Column("text", "Period of the row: a month (YYYY-MM), a year, all, before or after the programme."),
    "is_trust": Column("flag", "True for this trust's own figure, false for a published reference figure."),
    "note": Column("text", "Note on the reference figure (for example regional)."),
    "source": Column("text", "Where the figure or text comes from."),
    "grouping": Column("text", "How people are grouped (WRES group, census group, sex, census group x sex, "
                               "ethnic category)."),
    "group": Column("text", "The group of the row."),
    "selected": Column("count", "People in the group who passed the stage."),
    "selection_rate": Column("proportion", "Share of the group who passed the stage."),
    "share": Column("proportion", "The group's share of everyone at the stage."),
    "reference_group": Column("text", "The group compared against (the one with the highest rate, or White)."),
    "reference_rate": Column("proportion", "Selection rate of the reference group."),
    "impact_ratio": Column("ratio", "The group's rate divided by the reference group's (below 0.80 fails the "
                                    "four-fifths rule)."),
    "four_fifths_flag": Column("flag", "True when the impact ratio is below 0.80 (possible adverse impact)."),
    "shortfall": Column("estimate", "How many more people of the group would have passed at the reference rate."),
    "small_group": Column("flag", "True when the group is too small for a reliable rate."),
    "topic_id": Column("integer", "Number of the topic (see the topics sheet)."),
    "label": Column("text", "The topic's three most typical words."),
    "theme": Column("text", "The competency theme the topic matches."),
    "top_terms": Column("text", "The topic's eight most typical words."),
    "coherence": Column("estimate", "How well the topic's words occur together (higher is more coherent)."),
    "method": Column("text", "How topics were found (nmf: non-negative matrix factorisation)."),
    "k": Column("integer", "Number of topics chosen."),
    "coherence_by_k": Column("text", "Coherence of each number of topics tried (technical)."),
    "prevalence": Column("proportion", "Average share of a text on this topic."),
    "n_dominant": Column("count", "Texts whose main topic this is."),
    "tone": Column("estimate", "Mean tone of sentences on this topic (-1 negative to +1 positive)."),
    "tone_ci_low": Column("estimate", "Lower end of the 95% confidence interval of the tone."),
    "tone_ci_high": Column("estimate", "Upper end of the 95% confidence interval of the tone."),
    "n_sentences": Column("count", "Sentences on this topic."),
    "variable": Column("text", "What the texts are grouped by (candidate ethnic group, band, panel, ...)."),
    "level": Column("text", "The group (value of the variable)."),
    "mean": Column("estimate", "Mean of the measure in the group."),
    "family": Column("text", "The set of comparisons the q-value adjusts over."),
    "outcome": Column("text", "What is compared: tone (sentiment) or the share of a topic (topic_share:<id>)."),
    "adjustment": Column("text", "unadjusted, or adjusted for the controls listed."),
    "controls": Column("text", "Variables the adjusted comparison holds constant."),
    "measure": Column("text", "What the value measures."),
    "breakdown": Column("text", "What the rows are broken down by."),
    "value": Column("estimate", "The value of the measure."),
    "mean_z": Column("estimate", "Mean standardised score (z) of the group."),
    "specification": Column("text", "Which model: candidate-level, or score sheets with two-way fixed effects."),
    "n_groups": Column("integer", "Number of groups (vacancies or panels) in the model."),
    "primary": Column("flag", "True for the model the report leads with."),
    "snapshot_month": Column("date", "Month of the workforce snapshot."),
    "n_bme": Column("count", "BME staff."),
    "n_unknown": Column("count", "Staff whose ethnicity is not known."),
    "target": Column("proportion", "Model Employer target: BME share the band should reach."),
    "gap": Column("proportion", "BME share minus the target (negative: below target)."),
    "row_type": Column("text", "period (one month of the series), pooled (before/after) or its (model term)."),
    "frequency": Column("text", "Length of each period of the series."),
    "period_start": Column("date", "First day of the period."),
    "period_end": Column("date", "Last day of the period."),
    "t_months": Column("estimate", "Months since the programme start (negative before)."),
    "post_programme": Column("integer", "1 after the programme started, 0 before."),
    "n_periods": Column("integer", "Number of months in the model."),
    "hac_maxlags": Column("integer", "Lags of the autocorrelation-robust standard error (technical)."),
    "suite": Column("text", "The extract table checked."),
    "expectation": Column("text", "The check."),
    "expectation_type": Column("text", "The kind of check (Great Expectations name)."),
    "column_name": Column("text", "The column checked."),
    "severity": Column("text", "critical (stops the run), row-level (failing rows quarantined) or warning."),
    "success": Column("flag", "True when the check passed."),
    "element_count": Column("count", "Rows checked."),
    "unexpected_count": Column("count", "Rows that failed the check."),
    "unexpected_percent": Column("percent", "Percent of rows that failed the check."),
    "action_taken": Column("text", "What the run did about failures."),
    "file_names": Column("text", "Extract file(s) checked."),
    "reason": Column("text", "Why the check exists, or why rows were set aside."),
    "table_name": Column("text", "The published or extract table."),
    "rows": Column("count", "Rows set aside."),
    "policy_version": Column("text", "Version of the disclosure policy (config/disclosure_policy.yaml)."),
    "policy_sha256": Column("text", "Fingerprint of the policy file."),
    "policy_summary": Column("text", "The disclosure rules in words."),
    "rows_published": Column("integer", "Rows published in the table."),
    "count_cells": Column("integer", "Count cells in the table."),
    "primary_suppressed": Column("integer", "Cells suppressed because the count was 1-7."),
    "secondary_suppressed": Column("integer", "Further cells suppressed so that totals cannot reveal a "
                                              "suppressed one."),
    "rates_withheld": Column("integer", "Rates withheld (denominator under 20)."),
    "derived_withheld": Column("integer", "Figures withheld because a count they use is suppressed."),
    "estimates_flagged": Column("integer", "Estimates flagged for small numbers."),
    "published_at": Column("datetime", "When the table was published."),
}


# Columns whose meaning differs in one table
TABLE_COLUMNS: dict[str, dict[str, Column]] = {
    "representation": {
        "measure": Column("text", "bme_share: BME share of staff in the band; representation_ratio: the band's "
                                  "BME share divided by the whole workforce's."),
        "value": Column("estimate", "The BME share (a proportion) or the representation ratio, as the measure says."),
        "n": Column("count", "Staff in the band."),
    },
    "interview_scores": {
        "measure": Column("text", "mean_normalised_score (0-1), scoring_rate (share of sheets scored) or "
                                  "sheet_count."),
        "value": Column("estimate", "The measure's value for the group."),
        "impact_ratio": Column("ratio", "The group's scoring rate divided by the reference group's."),
    },
    "national_reference": {
        "period": Column("text", "WRES year of the figure (the year to 31 March), or all_to_date for this trust."),
        "scope": Column("text", "Area the figure covers (England, a region, or this trust)."),
        "ci_low": Column("ratio", "Lower end of the 95% confidence interval (this trust only)."),
        "ci_high": Column("ratio", "Upper end of the 95% confidence interval (this trust only)."),
    },
    "wres_indicator2": {"ci_low": Column("ratio", _CI_LOW.meaning), "ci_high": Column("ratio", _CI_HIGH.meaning)},
    "odds_ratios": {"ci_low": Column("ratio", "Lower end of the 95% confidence interval of the odds ratio."),
                    "ci_high": Column("ratio", "Upper end of the 95% confidence interval of the odds ratio.")},
    "adverse_impact": {"period": Column("text", "all, pre_programme or post_programme.")},
    "programme_impact": {
        "measure": Column("text", "bme_share_appointed (BME share of appointments) or wres_indicator2."),
        "estimate": Column("estimate", "The month's value (period rows) or the model term's estimate (its rows)."),
        "term": Column("text", "Model term of the its rows (in words; the code is in the term_code column)."),
    },
    "sentiment_by_group": {"mean": Column("estimate", "Mean tone of the group's texts (-1 negative to +1 positive).")},
    "topic_prevalence": {"mean": Column("proportion", "Mean share of the group's texts on the topic.")},
    "text_effects": {"n": Column("count", "Texts compared.")},
    "topics": {"source": Column("text", "Which texts: assessments (panel write-ups) or ceo_letters.")},
    "quarantine_summary": {"expectation": Column("text", "The check the rows failed.")},
}


# A value column whose kind follows another column of the row: (table, column) -> (by column, {value: kind})
_BY_REPRESENTATION_MEASURE: tuple[str, dict[str, Kind]] = ("measure", {"bme_share": "proportion",
                                                                         "representation_ratio": "ratio"})
_BY_IMPACT_MEASURE: tuple[str, dict[str, Kind]] = ("measure", {"bme_share_appointed": "proportion",
                                                               "wres_indicator2": "ratio"})
ROW_KINDS: dict[tuple[str, str], tuple[str, dict[str, Kind]]] = {
    ("representation", "value"): _BY_REPRESENTATION_MEASURE,
    ("representation", "ci_low"): _BY_REPRESENTATION_MEASURE,
    ("representation", "ci_high"): _BY_REPRESENTATION_MEASURE,
    ("interview_scores", "value"): ("measure", {"scoring_rate": "proportion", "sheet_count": "integer"}),
    ("programme_impact", "estimate"): _BY_IMPACT_MEASURE,
    ("programme_impact", "ci_low"): _BY_IMPACT_MEASURE,
    ("programme_impact", "ci_high"): _BY_IMPACT_MEASURE,
}


def table(name: str) -> Table:
    """The title and meaning of a published table (a table not listed gets its name in words)."""
    return TABLES.get(name) or Table(name.replace("_", " ").capitalize(), "")


def report_order(names) -> list[str]:
    """Table names in report order; tables not listed follow in name order."""
    known = [n for n in TABLES if n in set(names)]
    return known + sorted(n for n in names if n not in TABLES)


def _inferred(dtype: str) -> Kind:
    d = dtype.lower()
    if d.startswith(("int", "uint")):
        return "integer"
    if d.startswith("float"):
        return "estimate"
    if d.startswith("bool"):
        return "flag"
    if d.startswith("datetime"):
        return "datetime"
    if d.startswith("date"):
        return "date"
    return "text"


def column(table_name: str, name: str, dtype: str = "String") -> Column:
    """What a column of a table means and its kind (a column not listed: its kind from its type)."""
    got = TABLE_COLUMNS.get(table_name, {}).get(name) or COLUMNS.get(name)
    return got or Column(_inferred(str(dtype)), name.replace("_", " "))


def undocumented(table_name: str, columns) -> list[str]:
    """Columns of a table with no entry in the dictionary."""
    return [c for c in columns if c not in COLUMNS and c not in TABLE_COLUMNS.get(table_name, {})]
