"""Fitting the funnel models: the result container, engine choice, robustness flags.

Reads polars frames shaped like the stage populations
(:mod:`tasks.analyses.funnel_statistics.populations`) and a
:class:`~tasks.analyses.funnel_statistics.specs.Spec`; returns a :class:`Fit`.
Implements docs/methods.md sections 1.2 (engines, fitting on sufficient
statistics) and 1.4 (robustness and flags).  The estimators themselves live
in :mod:`tasks.stats`; this module decides which one to use and what to flag.
Never reads the environment or the warehouse.

* Logit / binomial GLM (:func:`fit_logit`): the data are collapsed to one row
  per (cluster, covariate pattern) with trials and events.  Up to
  ``statsmodels_max_rows`` (default :data:`STATSMODELS_MAX_ROWS`) such rows the
  estimate is statsmodels' binomial GLM, above it our Newton-IRLS on the
  pattern table; either way the SEs are the bias-reduced CR2 cluster sandwich
  (:func:`tasks.stats.logit.cluster_sandwich_cr2`; statsmodels has no CR2).
  ``model = binomial_glm`` (apply_pool: one row per vacancy with its applicant
  counts) takes quasi-binomial SEs instead (:func:`quasi_binomial_cov`): with one
  row per cluster the sandwich is HC0, which understates SEs when the terms
  are many for the vacancies (docs/methods.md 1.2).
* Conditional logit (:func:`fit_conditional_logit`): statsmodels'
  ``ConditionalLogit`` up to ``statsmodels_max_rows`` informative rows (default
  :data:`CL_STATSMODELS_MAX_ROWS`) when no stratum has more than
  ``statsmodels_max_stratum_rows`` rows (default :data:`CL_STATSMODELS_MAX_STRATUM_ROWS`);
  otherwise our exact conditional likelihood (log-space recursion, no Python recursion).
* Separation (Konis' LP test before fitting, divergence after) -> Firth refit,
  flags ``separation`` / ``firth``; ``sparse_cell``, ``small_numbers``,
  ``not_estimable``, ``not_converged``, ``model_based_se``.
  ``Fit.engine`` records which engine produced a fit (logged at INFO).
"""
from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from tasks.analyses.funnel_statistics.specs import Spec, design
from tasks.core.vocabulary import MODEL_BINOMIAL_GLM, MODEL_CONDITIONAL_LOGIT, MODEL_LOGIT, TERM_INTERCEPT
from tasks.stats.clustered import cluster_codes
from tasks.stats.conditional_logit import (
    ConditionalLogitData,
    conditional_logit_newton,
    statsmodels_conditional_logit,
    within_stratum_differences,
)
from tasks.stats.firth import firth_binomial, firth_conditional_logit
from tasks.stats.logit import (
    binomial_model_cov,
    cluster_sandwich_cr2,
    detect_separation_lp,
    independent_columns,
    mle_binomial,
    separation_constraints,
    statsmodels_binomial_glm,
)

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------
# Flags (values of the ``flags`` column, ';'-separated)
# --------------------------------------------------------------------------
FLAG_SEPARATION = "separation"


FLAG_FIRTH = "firth"


FLAG_SPARSE = "sparse_cell"


FLAG_SMALL = "small_numbers"


FLAG_NOT_CONVERGED = "not_converged"


FLAG_NOT_ESTIMABLE = "not_estimable"


FLAG_MODEL_SE = "model_based_se"


FLAG_NO_DATA = "no_data"


SMALL_EVENTS = 10  # fits with fewer events are flagged small_numbers


SPARSE_CELL = 5  # an indicator with fewer events or non-events where it is 1


MAX_ABS_LOG_ODDS = 12.0  # an unpenalised estimate beyond this is treated as divergence


# Engines (Fit.engine) and the default size thresholds above which the own fast path is used
ENGINE_STATSMODELS = "statsmodels"


ENGINE_OWN = "own_fast_path"


ENGINE_FIRTH = "own_firth"


STATSMODELS_MAX_ROWS = 2_000_000  # cluster-pattern rows (logit); run parameter funnel_statsmodels_max_rows


# informative rows (conditional logit); run parameter funnel_cl_statsmodels_max_rows.  statsmodels'
# ConditionalLogit loops over strata in Python and takes a numerical Hessian (6 s for the demo trust's
# main offer fit of ~5,000 rows); the own exact likelihood has the analytic one (0.06 s, the same
# estimates to 1e-12 and SEs to 1e-7: tests/analyses/funnel_statistics/test_fits.py)
CL_STATSMODELS_MAX_ROWS = 2_000


# Largest stratum (informative rows) given to statsmodels' ConditionalLogit: its exact likelihood
# recurses once per row of a stratum (RecursionError from about 1,000 rows) and memoises rows x
# events states (strata of several hundred take minutes and GBs).  Larger strata take the own
# exact log-space recursion (tasks.stats.conditional_logit.stratum_loglik), equal to 1e-6.
CL_STATSMODELS_MAX_STRATUM_ROWS = 100


# --------------------------------------------------------------------------
# Result container
# --------------------------------------------------------------------------
@dataclass
class Fit:
    stage: str
    model: str
    analysis: str
    terms: list[str]
    params: np.ndarray
    cov: np.ndarray
    n_obs: int
    n_events: int
    n_clusters: int
    term_flags: dict[str, set[str]] = field(default_factory=dict)
    model_flags: set[str] = field(default_factory=set)
    # mean of each programme feature over the analysed rows, by level of each
    # programme feature: used to build the contrasts
    feature_means: dict[tuple[str, int], dict[str, float]] = field(default_factory=dict)
    engine: str = ENGINE_STATSMODELS

    def index(self, term: str) -> int:
        return self.terms.index(term)

    def lincom(self, weights: dict[str, float]) -> tuple[float, float]:
        """Estimate and standard error of sum(w * beta) over the terms with a non-zero weight.

        Only the coefficients used enter: a term of weight 0 (or absent from the fit)
        is skipped, so an inestimable (NaN) coefficient the contrast does not use
        cannot blank it (0 * NaN would).  NaN when a used coefficient is NaN.
        """
        used = [(self.index(t), float(w)) for t, w in weights.items() if w != 0 and t in self.terms]
        if not used:
            return 0.0, float("nan")
        idx = np.array([j for j, _ in used])
        L = np.array([w for _, w in used])
        est = float(L @ self.params[idx])
        var = float(L @ self.cov[np.ix_(idx, idx)] @ L)
        return est, math.sqrt(var) if var >= 0 and np.isfinite(var) else float("nan")


def empty_fit(stage: str, model: str, analysis: str, n_obs: int = 0, n_events: int = 0, n_clusters: int = 0) -> Fit:
    return Fit(stage, model, analysis, [], np.zeros(0), np.zeros((0, 0)), n_obs, n_events, n_clusters,
               model_flags={FLAG_NO_DATA})


def _diverged(beta: np.ndarray, converged: bool) -> bool:
    return not converged or not np.all(np.isfinite(beta)) or np.abs(beta).max() > MAX_ABS_LOG_ODDS


# --------------------------------------------------------------------------
# Logistic regression on grouped data
# --------------------------------------------------------------------------
def fit_logit(
    df: pl.DataFrame,
    spec: Spec,
    outcome: str,
    cluster: str,
    *,
    stage: str,
    analysis: str = "main",
    trials: str | None = None,
    model: str = MODEL_LOGIT,
    feature_levels: Sequence[str] = (),
    statsmodels_max_rows: int = STATSMODELS_MAX_ROWS,
) -> Fit:
    """Logit (binary outcome, one row per unit) or binomial GLM (``trials`` given: outcome = events).

    Rows with a null in any used column are dropped (complete cases).  Above
    ``statsmodels_max_rows`` (cluster, pattern) rows the own IRLS fast path is used.
    """
    terms, exprs, used = design(df, spec)
    need = list(dict.fromkeys(used + [outcome, cluster] + ([trials] if trials else [])))
    d = df.select(need).drop_nulls()
    if d.height == 0:
        return empty_fit(stage, model, analysis)
    events = pl.col(outcome).cast(pl.Float64)
    tri = pl.col(trials).cast(pl.Float64) if trials else pl.lit(1.0)
    # clusters numbered by first appearance, not by their (pseudonymous, key-dependent) IDs
    cl_codes = pl.Series("_cluster", cluster_codes(d.get_column(cluster).cast(pl.Utf8).to_numpy()))
    cl_pat = (
        d.select([pl.lit(cl_codes), *exprs, tri.alias("_n"), events.alias("_y")])
        .group_by(["_cluster", *terms])
        .agg(pl.col("_n").sum(), pl.col("_y").sum())
        .sort(["_cluster", *terms])  # polars group_by order is not deterministic; fits must be
    )
    cl_pat = cl_pat.filter(pl.col("_n") > 0)
    pat = cl_pat.group_by(terms).agg(pl.col("_n").sum(), pl.col("_y").sum()).sort(terms)
    X = pat.select(terms).to_numpy().astype(float)
    n = pat.get_column("_n").to_numpy().astype(float)
    y = pat.get_column("_y").to_numpy().astype(float)
    n_obs, n_events = int(round(n.sum())), int(round(y.sum()))
    n_clusters = cl_pat.get_column("_cluster").n_unique()
    use_sm = cl_pat.height <= statsmodels_max_rows
    fit = _fit_grouped(X, n, y, terms, Fit(stage, model, analysis, list(terms), np.zeros(0), np.zeros((0, 0)),
                                            n_obs, n_events, n_clusters), cl_pat if use_sm else None)
    if fit.engine == ENGINE_OWN:
        log.info("%s/%s/%s: %d cluster-pattern rows > %d: own IRLS fast path", analysis, stage, model,
                 cl_pat.height, statsmodels_max_rows)
    if fit.params.size and model == MODEL_BINOMIAL_GLM and fit.engine != ENGINE_FIRTH:
        fit.cov = quasi_binomial_cov(cl_pat, fit)
    elif fit.params.size and fit.engine != ENGINE_FIRTH:
        fit.cov = _cluster_cov(cl_pat, fit)
    elif fit.params.size and fit.engine == ENGINE_FIRTH:
        for t in fit.terms:
            fit.term_flags.setdefault(t, set()).add(FLAG_MODEL_SE)
    _feature_means(fit, d, exprs, feature_levels)
    return fit


def _statsmodels_glm(cl_pat: pl.DataFrame, terms: Sequence[str], n_clusters: int):
    """statsmodels binomial GLM on the (cluster, pattern) frame, clustered by ``_cluster``."""
    X = cl_pat.select(list(terms)).to_numpy().astype(float)
    n = cl_pat.get_column("_n").to_numpy().astype(float)
    y = cl_pat.get_column("_y").to_numpy().astype(float)
    groups = cl_pat.get_column("_cluster").rank("dense").cast(pl.Int64).to_numpy()
    return statsmodels_binomial_glm(X, trials=n, events=y, groups=groups, n_clusters=n_clusters)


def _grouped_flags(X: np.ndarray, n: np.ndarray, y: np.ndarray, fit: Fit) -> None:
    """small_numbers for the fit; sparse_cell for indicator terms with < SPARSE_CELL events or non-events."""
    if fit.n_events < SMALL_EVENTS or (fit.n_obs - fit.n_events) < SMALL_EVENTS:
        fit.model_flags.add(FLAG_SMALL)
    for j, t in enumerate(fit.terms):
        if t == TERM_INTERCEPT:
            continue
        on = X[:, j] != 0
        ev, nonev = y[on].sum(), (n[on] - y[on]).sum()
        if min(ev, nonev) < SPARSE_CELL:
            fit.term_flags[t].add(FLAG_SPARSE)


def _mark_firth(fit: Fit, keep: list[int], direction: np.ndarray) -> None:
    fit.engine = ENGINE_FIRTH
    fit.model_flags.add(FLAG_FIRTH)
    for jj, j in enumerate(keep):
        fit.term_flags[fit.terms[j]].add(FLAG_FIRTH)
        if abs(direction[jj]) > 1e-6:
            fit.term_flags[fit.terms[j]].add(FLAG_SEPARATION)
    log.info("%s/%s/%s: separation detected; Firth-penalised fit", fit.analysis, fit.stage, fit.model)


def _fit_grouped(X, n, y, terms, fit: Fit, cl_pat: pl.DataFrame | None = None) -> Fit:
    """Fit on the pattern table ``X, n, y`` into ``fit``; statsmodels on ``cl_pat`` when given."""
    fit.term_flags = {t: set() for t in terms}
    _grouped_flags(X, n, y, fit)
    keep = independent_columns(X)
    for j in range(len(terms)):
        if j not in keep:
            fit.term_flags[terms[j]].add(FLAG_NOT_ESTIMABLE)
    Xk = X[:, keep]
    params = np.full(len(terms), np.nan)
    cov = np.full((len(terms), len(terms)), np.nan)
    separated, direction = detect_separation_lp(separation_constraints(Xk, trials=n, events=y))
    beta = None
    fit.engine = ENGINE_OWN
    if not separated:
        if cl_pat is not None:
            fit.engine = ENGINE_STATSMODELS
            beta, ck, conv = _statsmodels_glm(cl_pat, [terms[j] for j in keep], fit.n_clusters)
        else:
            beta, conv = mle_binomial(Xk, trials=n, events=y)
        if _diverged(beta, conv):
            separated = True
            direction = np.where(np.isfinite(beta) & (np.abs(beta) > MAX_ABS_LOG_ODDS), 1.0, 0.0)
            if not conv:
                fit.model_flags.add(FLAG_NOT_CONVERGED)
    if separated:
        _mark_firth(fit, keep, direction)
        beta, ck, conv = firth_binomial(Xk, trials=n, events=y)
        if not conv:
            fit.model_flags.add(FLAG_NOT_CONVERGED)
        cov[np.ix_(keep, keep)] = ck
    elif fit.engine == ENGINE_STATSMODELS:
        cov[np.ix_(keep, keep)] = ck
    else:
        cov[np.ix_(keep, keep)] = binomial_model_cov(Xk, trials=n, beta=beta)
    params[keep] = beta
    fit.params, fit.cov = params, cov
    fit._keep = keep  # type: ignore[attr-defined]
    return fit


def _cluster_cov(cl_pat: pl.DataFrame, fit: Fit) -> np.ndarray:
    """Bias-reduced (CR2) cluster sandwich of a logit fit (either engine) from the (cluster, pattern) frame.

    CR1 (statsmodels' sandwich times G/(G-1)) covered the planted shortlist
    ``bme`` 177 times in 200 generated replicates of ~62 vacancies and 23 terms
    (docs/methods.md 1.7); CR2 removes the residual shrinkage behind that.
    """
    keep = fit._keep  # type: ignore[attr-defined]
    codes = cl_pat.get_column("_cluster").rank("dense").cast(pl.Int64).to_numpy() - 1
    X = cl_pat.select([fit.terms[j] for j in keep]).to_numpy()
    V = cluster_sandwich_cr2(X, trials=cl_pat.get_column("_n").to_numpy().astype(float),
                         events=cl_pat.get_column("_y").to_numpy().astype(float), codes=codes,
                         beta=fit.params[keep])
    full = np.full((len(fit.terms), len(fit.terms)), np.nan)
    full[np.ix_(keep, keep)] = V
    return full


def quasi_binomial_cov(cl_pat: pl.DataFrame, fit: Fit) -> np.ndarray:
    """Quasi-binomial covariance of a binomial GLM: phi (X'WX)^-1 over the (cluster, pattern) rows.

    phi = Pearson chi-square / (rows - k): 1 in expectation when the counts are
    binomial given the covariates (the generator's apply_pool), larger under
    extra-binomial variation between units of the same pattern.  Used for
    ``binomial_glm`` fits (apply_pool), whose units are the clusters: there the
    cluster sandwich is HC0, biased down by about k / G (coverage 0.83-0.87 for
    planted 95% CIs at 65 vacancies and 18 terms; quasi-binomial 0.91-0.94).
    """
    keep = fit._keep  # type: ignore[attr-defined]
    X = cl_pat.select([fit.terms[j] for j in keep]).to_numpy().astype(float)
    n = cl_pat.get_column("_n").to_numpy().astype(float)
    y = cl_pat.get_column("_y").to_numpy().astype(float)
    mu = 1 / (1 + np.exp(-(X @ fit.params[keep])))
    w = n * mu * (1 - mu)
    df = len(n) - len(keep)
    ok = w > 0
    if df > 0:
        phi = float(np.sum((y[ok] - n[ok] * mu[ok]) ** 2 / w[ok]) / df)
    else:  # as many terms as units: no residual to estimate phi from; the binomial model's own (phi = 1)
        phi = 1.0
        for j in keep:
            fit.term_flags.setdefault(fit.terms[j], set()).add(FLAG_MODEL_SE)
    full = np.full((len(fit.terms), len(fit.terms)), np.nan)
    full[np.ix_(keep, keep)] = phi * np.linalg.inv((X * w[:, None]).T @ X)
    return full


def _feature_means(fit: Fit, d: pl.DataFrame, exprs: list[pl.Expr], features: Sequence[str]) -> None:
    """Means of the programme-feature columns among the analysed rows at each level of each feature."""
    feats = [f for f in features if f in d.columns]
    if not feats or not fit.terms:
        return
    F = d.select([pl.col(f).cast(pl.Float64) for f in feats])
    for f in feats:
        for lev in (0, 1):
            sub = F.filter(pl.col(f) == lev)
            if sub.height:
                fit.feature_means[(f, lev)] = {g: float(sub.get_column(g).mean()) for g in feats}


# --------------------------------------------------------------------------
# Conditional logistic regression (strata = vacancies)
# --------------------------------------------------------------------------
def _conditional_flags(data: ConditionalLogitData, fit: Fit) -> None:
    if fit.n_events < SMALL_EVENTS:
        fit.model_flags.add(FLAG_SMALL)
    for j, t in enumerate(fit.terms):
        on = data.X[:, j] != 0
        if min(data.y[on].sum(), (1 - data.y[on]).sum()) < SPARSE_CELL:
            fit.term_flags[t].add(FLAG_SPARSE)


def fit_conditional_logit(
    df: pl.DataFrame,
    spec: Spec,
    outcome: str,
    strata: str,
    *,
    stage: str,
    analysis: str = "main",
    feature_levels: Sequence[str] = (),
    statsmodels_max_rows: int = CL_STATSMODELS_MAX_ROWS,
    statsmodels_max_stratum_rows: int = CL_STATSMODELS_MAX_STRATUM_ROWS,
) -> Fit:
    """Conditional logit stratified by ``strata``.  ``spec.intercept`` is ignored (absorbed).

    Above ``statsmodels_max_rows`` informative rows, or with a stratum of more than
    ``statsmodels_max_stratum_rows`` rows, the own exact-likelihood fast path is used.
    """
    spec = Spec(spec.binary, spec.categorical, spec.interactions, intercept=False)
    terms, exprs, used = design(df, spec)
    d = df.select(list(dict.fromkeys(used + [outcome, strata]))).drop_nulls()
    model = MODEL_CONDITIONAL_LOGIT
    if d.height == 0 or not terms:
        return empty_fit(stage, model, analysis)
    X = d.select(exprs).to_numpy().astype(float)
    y = d.get_column(outcome).cast(pl.Float64).to_numpy()
    # strata numbered by first appearance: the same order whatever the pseudonymisation key
    codes = cluster_codes(d.get_column(strata).cast(pl.Utf8).to_numpy())
    data = ConditionalLogitData(X, y, codes)
    n_obs, n_events = int(data.y.size), int(data.y.sum())
    if data.n_strata == 0:
        return empty_fit(stage, model, analysis, n_obs, n_events, 0)
    fit = Fit(stage, model, analysis, terms, np.full(len(terms), np.nan), np.full((len(terms), len(terms)), np.nan),
              n_obs, n_events, data.n_strata, {t: set() for t in terms}, set())
    _conditional_flags(data, fit)
    # within-stratum design: differences event - non-event (for separation and estimability)
    diffs = within_stratum_differences(data)
    keep = independent_columns(diffs) if diffs.size else []
    for j, t in enumerate(terms):
        if j not in keep:
            fit.term_flags[t].add(FLAG_NOT_ESTIMABLE)
    if keep:
        use_sm = data.y.size <= statsmodels_max_rows and data.max_stratum_rows <= statsmodels_max_stratum_rows
        _fit_conditional_kept(fit, data, diffs, keep, use_sm)
    _feature_means(fit, d, exprs, feature_levels)
    return fit


def _fit_conditional_kept(fit: Fit, data: ConditionalLogitData, diffs: np.ndarray, keep: list[int],
                          use_statsmodels: bool) -> None:
    """Estimate the estimable columns ``keep`` into ``fit`` (statsmodels, fast path or Firth)."""
    sub = data.columns(keep)
    separated, direction = detect_separation_lp(diffs[:, keep])
    if not separated:
        if use_statsmodels:
            fit.engine = ENGINE_STATSMODELS
            beta, ck, conv = statsmodels_conditional_logit(sub.X, sub.y, data.codes)
        else:
            fit.engine = ENGINE_OWN
            beta, H, conv = conditional_logit_newton(sub, len(keep))
            ck = np.linalg.pinv(-H)
            log.info("%s/%s/%s: %d informative rows, largest stratum %d: own conditional-likelihood fast path",
                     fit.analysis, fit.stage, fit.model, data.y.size, data.max_stratum_rows)
        if _diverged(beta, conv):
            separated = True
            direction = (~np.isfinite(beta) | (np.abs(beta) > MAX_ABS_LOG_ODDS)).astype(float)
            if not conv:
                fit.model_flags.add(FLAG_NOT_CONVERGED)
    if separated:
        beta, ck, conv = firth_conditional_logit(sub, len(keep))
        if not conv:
            fit.model_flags.add(FLAG_NOT_CONVERGED)
        _mark_firth(fit, keep, direction)
    fit.params[keep] = beta
    fit.cov[np.ix_(keep, keep)] = ck
