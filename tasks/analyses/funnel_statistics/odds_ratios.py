"""The ``odds_ratios`` result table: every stage's fits, contrasts, Wald intervals and BH q-values.

Reads a frame shaped like ``marts.application_funnel`` (and ``marts.workforce``
for the ``apply_workforce`` stage); returns the table of docs/data-contract.md
(without run_id).  Implements docs/methods.md sections 1.2 (which model at
which stage), 1.3 (contrasts) and 1.4 (q-value families).  Never reads the
environment: the engine thresholds are keyword parameters, filled from
``ctx.params`` by :func:`tasks.analyses.funnel_statistics.analysis.analyse`.
"""
from __future__ import annotations

import logging
import math
from typing import Iterable, Sequence

import numpy as np
import polars as pl

from tasks.analyses.funnel_statistics.fits import (
    CL_STATSMODELS_MAX_ROWS,
    FLAG_NOT_ESTIMABLE,
    STATSMODELS_MAX_ROWS,
    Fit,
    fit_conditional_logit,
    fit_logit,
)
from tasks.analyses.funnel_statistics.populations import (
    apply_pool_population,
    apply_workforce_population,
    appoint_population,
    offer_population,
    shortlist_population,
    with_disability_indicator,
)
from tasks.analyses.funnel_statistics.specs import (
    CONTRASTS,
    PROGRAMME_FEATURES,
    SPEC_APPLY_POOL,
    SPEC_APPLY_WORKFORCE,
    SPEC_CONDITIONAL,
    SPEC_INDIVIDUAL,
    SPEC_STRATUM_CONDITIONAL,
    SPEC_STRATUM_INDIVIDUAL,
    present,
)
from tasks.core.vocabulary import (
    MODEL_BINOMIAL_GLM,
    STAGE_APPLY_POOL,
    STAGE_APPLY_WORKFORCE,
    STAGE_APPOINT_FROM_SHORTLIST,
    STAGE_OFFER,
    STAGE_SHORTLIST,
    TERM_BME,
    TERM_INTERCEPT,
    TERM_POST_PROGRAMME,
    WORKFORCE_BANDS,
    contrast_term,
    interaction,
)
from tasks.stats.intervals import wald_interval, wald_p_value
from tasks.stats.multiple_testing import bh_qvalues

log = logging.getLogger(__name__)


Contrasts = tuple[tuple[str, int], ...]



ODDS_RATIO_SCHEMA: dict[str, pl.DataType] = {
    "analysis": pl.String, "stage": pl.String, "model": pl.String, "term": pl.String,
    "estimate": pl.Float64, "std_error": pl.Float64, "odds_ratio": pl.Float64,
    "ci_low": pl.Float64, "ci_high": pl.Float64, "p_value": pl.Float64, "q_value": pl.Float64,
    "n_obs": pl.Int64, "n_events": pl.Int64, "n_clusters": pl.Int64, "flags": pl.String,
}


def stratum_analysis(column: str, value: str) -> str:
    """Analysis label of a stratified fit, e.g. ``stratum:band=8b``."""
    return f"stratum:{column}={value}"


# --------------------------------------------------------------------------
# Contrasts and output rows
# --------------------------------------------------------------------------
def contrast_weights(fit: Fit, feature: str, level: int, base: str = TERM_BME) -> dict[str, float] | None:
    """Weights of the BME log-odds ratio among the analysed rows at ``feature = level``.

    beta_bme + level * beta_{bme:feature} + sum over the other bme interactions
    of (mean of the other feature among rows at feature = level) * beta_{bme:other}.
    Returns None if the fit has no ``bme:feature`` term.
    """
    own = interaction(base, feature)
    if base not in fit.terms or own not in fit.terms:
        return None
    w = {base: 1.0, own: float(level)}
    means = fit.feature_means.get((feature, level), {})
    for t in fit.terms:
        if t.startswith(base + ":") and t != own:
            other = t.split(":", 1)[1]
            w[t] = means.get(other, 0.0)
    return w


def _row(fit: Fit, term: str, est: float, se: float, flags: Iterable[str]) -> dict:
    ok = np.isfinite(est) and np.isfinite(se) and se > 0
    low, high = wald_interval(estimate=est, std_error=se) if ok else (None, None)
    return {
        "analysis": fit.analysis,
        "stage": fit.stage,
        "model": fit.model,
        "term": term,
        "estimate": float(est) if np.isfinite(est) else None,
        "std_error": float(se) if ok else None,
        "odds_ratio": float(math.exp(est)) if np.isfinite(est) else None,
        "ci_low": float(math.exp(low)) if ok else None,
        "ci_high": float(math.exp(high)) if ok else None,
        "p_value": wald_p_value(estimate=est, std_error=se) if ok else None,
        "q_value": None,
        "n_obs": fit.n_obs,
        "n_events": fit.n_events,
        "n_clusters": fit.n_clusters,
        "flags": ";".join(sorted(set(flags))),
    }


def fit_rows(fit: Fit, contrasts: Iterable[tuple[str, int]] = ()) -> list[dict]:
    """Rows of results.odds_ratios for a fit: every term, then the requested contrasts."""
    if not fit.terms:
        dummy = Fit(fit.stage, fit.model, fit.analysis, [], np.zeros(0), np.zeros((0, 0)),
                    fit.n_obs, fit.n_events, fit.n_clusters)
        return [_row(dummy, TERM_BME, float("nan"), float("nan"), fit.model_flags)]
    rows = []
    for j, t in enumerate(fit.terms):
        se = math.sqrt(fit.cov[j, j]) if np.isfinite(fit.cov[j, j]) and fit.cov[j, j] >= 0 else float("nan")
        rows.append(_row(fit, t, fit.params[j], se, fit.term_flags.get(t, set()) | fit.model_flags))
    for feature, level in contrasts:
        w = contrast_weights(fit, feature, level)
        if w is not None:
            rows.append(contrast_row(fit, contrast_term(feature, level), w))
    return rows


def contrast_row(fit: Fit, term: str, weights: dict[str, float]) -> dict:
    """The row of one contrast: it depends only on the coefficients it uses (non-zero weight).

    Flags come from the model and from the terms used.  A contrast that cannot be
    estimated (a used coefficient or its variance is not finite) is never left blank
    without a flag: it is flagged ``not_estimable``, and the reason is logged and
    visible in the rows of the used terms (themselves flagged ``not_estimable``).
    """
    used = {t: v for t, v in weights.items() if v != 0}
    est, se = fit.lincom(used)
    flags = set(fit.model_flags)
    for t in used:
        flags |= fit.term_flags.get(t, set())
    if not (np.isfinite(est) and np.isfinite(se) and se > 0):
        flags.add(FLAG_NOT_ESTIMABLE)
        bad = [t for t in used if t not in fit.terms or not np.isfinite(fit.params[fit.index(t)])]
        log.info("%s/%s/%s: contrast %s not estimable: %s", fit.analysis, fit.stage, fit.model, term,
                 f"uses inestimable term(s) {', '.join(bad)}" if bad else "no finite positive variance")
    return _row(fit, term, est, se, flags)


def add_qvalues(frame: pl.DataFrame) -> pl.DataFrame:
    """BH q-values within families.

    * main analyses: one family per (analysis, stage, model), all terms except the intercept;
    * stratified analyses (analysis ``stratum:...``): one family per (stage, model, term)
      across the strata.
    """
    if frame.height == 0:
        return frame
    fam = (
        pl.when(pl.col("analysis").str.starts_with("stratum:"))
        .then(pl.concat_str([pl.lit("strata"), pl.col("stage"), pl.col("model"), pl.col("term")], separator="|"))
        .otherwise(pl.concat_str([pl.col("analysis"), pl.col("stage"), pl.col("model")], separator="|"))
    )
    f = frame.with_row_index("_i").with_columns(fam.alias("_family"))
    q = [None] * f.height
    for (_,), grp in f.filter(pl.col("term") != TERM_INTERCEPT).group_by(["_family"], maintain_order=True):
        qs = bh_qvalues(grp.get_column("p_value").to_list())
        for i, v in zip(grp.get_column("_i").to_list(), qs):
            q[i] = v
    return f.with_columns(pl.Series("q_value", q, dtype=pl.Float64)).drop(["_i", "_family"])


def rows_to_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=ODDS_RATIO_SCHEMA) if rows else pl.DataFrame(schema=ODDS_RATIO_SCHEMA)


# --------------------------------------------------------------------------
# All stages
# --------------------------------------------------------------------------
def stage_fits(
    af: pl.DataFrame,
    workforce: pl.DataFrame | None = None,
    programme_start=None,
    *,
    stages: Sequence[str] | None = None,
    strata: bool = True,
    statsmodels_max_rows: int = STATSMODELS_MAX_ROWS,
    cl_statsmodels_max_rows: int = CL_STATSMODELS_MAX_ROWS,
) -> list[tuple[Fit, Contrasts]]:
    """Fit every stage's model(s).  Returns (fit, contrasts to report) pairs.

    ``statsmodels_max_rows`` / ``cl_statsmodels_max_rows``: sizes above which the
    logit / conditional logit use the own fast path (docs/methods.md section 1.2).
    """
    want = set(stages) if stages else None
    out: list[tuple[Fit, Contrasts]] = []
    af = with_disability_indicator(af)

    def on(stage):
        return want is None or stage in want

    def logit(*args, **kw) -> Fit:
        return fit_logit(*args, statsmodels_max_rows=statsmodels_max_rows, **kw)

    def clogit(*args, **kw) -> Fit:
        return fit_conditional_logit(*args, statsmodels_max_rows=cl_statsmodels_max_rows, **kw)

    if on(STAGE_APPLY_POOL):
        pool = apply_pool_population(af)
        out.append((logit(pool, SPEC_APPLY_POOL, "n_bme", "vacancy_id", trials="n_known",
                          stage=STAGE_APPLY_POOL, model=MODEL_BINOMIAL_GLM), ()))
    if on(STAGE_APPLY_WORKFORCE) and workforce is not None and workforce.height and programme_start is not None:
        pop = apply_workforce_population(workforce, af, programme_start)
        out.append((logit(pop, SPEC_APPLY_WORKFORCE, "applied", "staff_id", stage=STAGE_APPLY_WORKFORCE,
                          feature_levels=(TERM_POST_PROGRAMME,)),
                    ((TERM_POST_PROGRAMME, 1), (TERM_POST_PROGRAMME, 0))))
    individual = [
        (STAGE_SHORTLIST, shortlist_population, "shortlisted"),
        (STAGE_OFFER, offer_population, "offered"),
        (STAGE_APPOINT_FROM_SHORTLIST, appoint_population, "appointed"),
    ]
    for stage, population, outcome in individual:
        if not on(stage):
            continue
        pop = population(af)
        if stage == STAGE_OFFER:
            out.append((clogit(pop, present(pop, SPEC_CONDITIONAL), outcome, "vacancy_id",
                               stage=stage, feature_levels=PROGRAMME_FEATURES), CONTRASTS))
        out.append((logit(pop, present(pop, SPEC_INDIVIDUAL), outcome, "vacancy_id", stage=stage,
                          feature_levels=PROGRAMME_FEATURES), CONTRASTS))
        if not strata:
            continue
        for band in [b for b in WORKFORCE_BANDS if b in set(pop.get_column("band").drop_nulls().to_list())]:
            sub = pop.filter(pl.col("band") == band)
            label = stratum_analysis("band", band)
            if stage == STAGE_OFFER:
                f = clogit(sub, SPEC_STRATUM_CONDITIONAL, outcome, "vacancy_id", stage=stage, analysis=label)
            else:
                f = logit(sub, SPEC_STRATUM_INDIVIDUAL, outcome, "vacancy_id", stage=stage, analysis=label)
            out.append((f, ()))
    return out


def odds_ratio_table(fits: list[tuple[Fit, Contrasts]]) -> pl.DataFrame:
    rows: list[dict] = []
    for fit, contrasts in fits:
        rows += fit_rows(fit, contrasts)
    return add_qvalues(rows_to_frame(rows))


def odds_ratios(af: pl.DataFrame, workforce: pl.DataFrame | None = None, programme_start=None, **kw) -> pl.DataFrame:
    """The ``odds_ratios`` result table (without run_id).

    Keyword options go to :func:`stage_fits` (``stages``, ``strata``,
    ``statsmodels_max_rows``, ``cl_statsmodels_max_rows``).
    """
    return odds_ratio_table(stage_fits(af, workforce, programme_start, **kw))
