"""Recruitment-funnel statistics for the monthly run (docs/methods.md section 1).

``analyse(ctx)`` reads ``marts.application_funnel`` and ``marts.workforce``
(point in time, analysis window) and returns three result tables:

* ``odds_ratios``: logit / binomial GLM / conditional logit estimates by stage,
  with contrasts, clustered standard errors, BH q-values and robustness flags
  (tasks/analyses/funnel_statistics/odds_ratios.py);
* ``wres_indicator2``: WRES indicator 2 by scope (tasks/analyses/funnel_statistics/wres.py);
* ``adverse_impact``: four-fifths analysis by stage and grouping
  (tasks/analyses/funnel_statistics/adverse_impact.py).

Run parameters (``ctx.params``): ``funnel_statsmodels_max_rows`` and
``funnel_cl_statsmodels_max_rows``, the sizes above which the logit and the
conditional logit use the own fast path (defaults
:data:`~tasks.analyses.funnel_statistics.fits.STATSMODELS_MAX_ROWS` and
:data:`~tasks.analyses.funnel_statistics.fits.CL_STATSMODELS_MAX_ROWS`).
Never reads the environment.
"""
from __future__ import annotations

import logging
import time

import polars as pl

from tasks.analyses.funnel_statistics.adverse_impact import adverse_impact
from tasks.analyses.funnel_statistics.fits import CL_STATSMODELS_MAX_ROWS, STATSMODELS_MAX_ROWS
from tasks.analyses.funnel_statistics.odds_ratios import odds_ratios
from tasks.analyses.funnel_statistics.wres import wres_indicator2

log = logging.getLogger(__name__)


FUNNEL_MART = "application_funnel"


WORKFORCE_MART = "workforce"


FUNNEL_COLUMNS = [
    "application_id", "vacancy_id", "staff_id", "applied_date", "ethnic_category", "ethnic_main_code",
    "census_group", "wres_group", "bme", "sex", "female", "age_band", "disability", "internal",
    "shortlisted", "interviewed", "offered", "offer_declined", "appointed", "withdrawn_stage",
    "band", "directorate", "advert_date", "advert_month", "manager_bme", "manager_female",
    "letter_to_ceo", "diverse_panel", "post_programme",
]


WORKFORCE_COLUMNS = ["snapshot_month", "staff_id", "band", "bme", "female", "directorate"]


PARAM_STATSMODELS_MAX_ROWS = "funnel_statsmodels_max_rows"


PARAM_CL_STATSMODELS_MAX_ROWS = "funnel_cl_statsmodels_max_rows"


def analyse_frames(af: pl.DataFrame, workforce: pl.DataFrame | None, programme_start, *,
                   statsmodels_max_rows: int = STATSMODELS_MAX_ROWS,
                   cl_statsmodels_max_rows: int = CL_STATSMODELS_MAX_ROWS) -> dict[str, pl.DataFrame]:
    """The three result tables from mart-shaped frames (pure; used by tests)."""
    t0 = time.perf_counter()
    af = af.with_columns(pl.col("letter_to_ceo").cast(pl.Int64)) if "letter_to_ceo" in af.columns else af
    out = {"odds_ratios": odds_ratios(af, workforce, programme_start, statsmodels_max_rows=statsmodels_max_rows,
                                      cl_statsmodels_max_rows=cl_statsmodels_max_rows)}
    log.info("funnel models fitted in %.1fs", time.perf_counter() - t0)
    out["wres_indicator2"] = wres_indicator2(af)
    out["adverse_impact"] = adverse_impact(af)
    return out


def analyse(ctx) -> dict[str, pl.DataFrame]:
    from tasks.marts import load_mart

    af = load_mart(ctx, FUNNEL_MART, columns=FUNNEL_COLUMNS, window=True)
    wf = load_mart(ctx, WORKFORCE_MART, columns=WORKFORCE_COLUMNS, window=True)
    log.info("funnel statistics over %d applications and %d workforce rows", af.height, wf.height)
    return analyse_frames(
        af, wf, ctx.programme_start_date,
        statsmodels_max_rows=int(ctx.param(PARAM_STATSMODELS_MAX_ROWS, STATSMODELS_MAX_ROWS)),
        cl_statsmodels_max_rows=int(ctx.param(PARAM_CL_STATSMODELS_MAX_ROWS, CL_STATSMODELS_MAX_ROWS)),
    )
