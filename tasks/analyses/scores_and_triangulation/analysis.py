"""Interview scores and triangulation with secondary data: the analysis the monthly flow runs.

``analyse(ctx)`` reads the marts (read-only, point in time) and returns

* ``interview_scores``: sheet-rule counts, mean normalised score with 95% CI
  and n by band x ethnicity and other characteristics, LL144 scoring rates and
  impact ratios, panel-member severity (tasks/analyses/scores_and_triangulation/interview_scores.py);
* ``score_effects``: adjusted score gaps (MixedLM, cluster-robust OLS) and the
  panel ethnicity-match term, stage ``interview_score``;
* ``representation``: BME share by band and month, parity gap, representation
  ratio of appointees vs feeder bands (tasks/analyses/scores_and_triangulation/representation.py);
* ``programme_impact``: BME share of appointments and WRES indicator 2 by
  period, pooled pre/post, and the interrupted time series
  (tasks/analyses/scores_and_triangulation/programme_impact.py);
* ``national_reference``: published national/regional WRES indicator 2 with
  the trust's own figure beside them.

Run parameters (``ctx.params``): ``its_frequency`` (``month`` default, or
``quarter``), ``its_maxlags`` (Newey-West lags; default rule of thumb).
Interview-score results respect the run's analysis window; representation and
programme impact always use the whole history to date (the time series needs
the pre-programme period).
"""
from __future__ import annotations

import logging

import polars as pl

from tasks.analyses.scores_and_triangulation import interview_scores, programme_impact, representation
from tasks.core.months import parse_month
from tasks.core.run_context import RunContext
from tasks.marts import load_mart

log = logging.getLogger(__name__)


RESULT_TABLES = ("interview_scores", "score_effects", "representation", "programme_impact", "national_reference")


def analyse(ctx: RunContext) -> dict[str, pl.DataFrame]:
    sheets = load_mart(ctx, "score_sheets", window=True)
    funnel = load_mart(ctx, "application_funnel")
    start = ctx.programme_start_date
    funnel_window = funnel if ctx.window_start is None else funnel.filter(pl.col("advert_date") >= ctx.window_start)
    scores = interview_scores.interview_score_tables(sheets, funnel_window)
    workforce = load_mart(ctx, "workforce")
    rep = representation.representation_table(workforce, funnel, start)
    impact = programme_impact.programme_impact_table(
        funnel, start, frequency=ctx.param("its_frequency", programme_impact.FREQ_MONTH),
        last_month=parse_month(ctx.as_of), maxlags=ctx.param("its_maxlags"))
    national = programme_impact.national_reference_table(funnel)
    log.info("scores and triangulation done for run %s", ctx.run_id)
    return {"interview_scores": scores["interview_scores"], "score_effects": scores["score_effects"],
            "representation": rep, "programme_impact": impact, "national_reference": national}
