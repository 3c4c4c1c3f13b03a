"""Recruitment-funnel regression models: populations, fits, contrasts, robustness.

Pure functions on polars frames shaped like ``marts.application_funnel`` and
``marts.workforce`` (docs/data-contract.md).  No DuckDB, no Prefect.

Estimators (docs/methods.md section 1)
--------------------------------------
* Logistic regression / binomial GLM (``fit_logit``).  The data are first
  collapsed to covariate-pattern aggregates *within cluster* (vacancy): one row
  per (cluster, pattern) with the number of trials and events.  The primary
  fit is ``statsmodels`` ``GLM(family=Binomial())`` on that table, with a
  two-column (events, non-events) endog and ``cov_type="cluster"`` by
  vacancy.  Aggregating *within* cluster keeps every cluster's score sum
  unchanged, so the clustered standard errors equal those of a one-row-per-
  application fit (tests/analyses/funnel_statistics/test_models.py checks this); the small-sample
  factor is G/(G-1) (statsmodels ``use_correction=False`` times G/(G-1), since
  statsmodels' own correction also uses the number of rows, which aggregation
  changes).
* Conditional logistic regression stratified by vacancy
  (``fit_conditional_logit``): primary fit ``statsmodels.discrete.
  conditional_models.ConditionalLogit(groups=vacancy)``, Newton from zero.
* Fast path (own code, used only above a size threshold): statsmodels' binomial
  GLM works on dense (rows x terms) arrays with a least-squares solve per IRLS
  step, and its ConditionalLogit evaluates the likelihood stratum by stratum in
  Python (about 1 s per 1,000 informative rows at the default specification).
  Above ``STATSMODELS_MAX_ROWS`` (cluster-pattern rows, default 2,000,000) the
  logit is fitted by our own Newton-IRLS on the pattern table with the same
  cluster sandwich computed from the (cluster, pattern) table; above
  ``CL_STATSMODELS_MAX_ROWS`` (informative rows, default 50,000,
  about 200,000 applications) the
  conditional logit uses our own exact conditional likelihood (vectorised
  softmax for one-event strata, Gail-Lubin-Rubinstein recursion for several
  events).  Both are checked against statsmodels to 1e-6 in the tests.  The
  thresholds are module settings, overridable with the environment variables
  ``EDI_FUNNEL_STATSMODELS_MAX_ROWS`` / ``EDI_FUNNEL_CL_STATSMODELS_MAX_ROWS``.
  ``Fit.engine`` records which engine produced a fit (logged at INFO).
* Robustness: complete / quasi-complete separation is detected with the
  linear-programming test of Konis (2007) before fitting (and by divergence
  after).  When found, the model is refitted with Firth's penalised
  likelihood (Jeffreys prior; own code, statsmodels has none), which always
  gives finite estimates, and the affected terms carry the flag
  ``separation`` (all terms carry ``firth``).  Sparse cells (< 5 events or
  non-events among rows where an indicator is 1) are flagged ``sparse_cell``;
  fits with fewer than 10 events are flagged ``small_numbers``.
"""
from __future__ import annotations

import logging
import math
import os
import threading
import warnings
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np
import polars as pl
from scipy import optimize, stats

from tasks.core.vocabulary import (
    AGE_BANDS,
    DIRECTORATES,
    MODEL_BINOMIAL_GLM,
    MODEL_CONDITIONAL_LOGIT,
    MODEL_LOGIT,
    REFERENCE_AGE_BAND,
    REFERENCE_BAND,
    TERM_BME,
    TERM_DISABILITY,
    TERM_DIVERSE_PANEL,
    TERM_FEMALE,
    TERM_INTERCEPT,
    TERM_INTERNAL,
    TERM_LETTER_TO_CEO,
    TERM_MANAGER_BME,
    TERM_MANAGER_FEMALE,
    TERM_POST_PROGRAMME,
    WORKFORCE_BANDS,
    age_band_term,
    band_term,
    contrast_term,
    interaction,
)

try:  # added to the vocabulary by the generator's author
    from tasks.core.vocabulary import WORKFORCE_REFERENCE_BAND
except ImportError:  # pragma: no cover
    WORKFORCE_REFERENCE_BAND = "7"


log = logging.getLogger(__name__)


_WARNINGS_LOCK = threading.RLock()  # catch_warnings is not thread-safe


CL_SCORE_TOL = 1e-4          # |d loglik / d beta| at a converged conditional-logit solution


CL_MAX_ABS_ESTIMATE = 20.0   # a log-odds beyond this is divergence (separation), not an estimate


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


# Engines (Fit.engine) and the size thresholds above which the own fast path is used
ENGINE_STATSMODELS = "statsmodels"


ENGINE_OWN = "own_fast_path"


ENGINE_FIRTH = "own_firth"


STATSMODELS_MAX_ROWS = int(os.environ.get("EDI_FUNNEL_STATSMODELS_MAX_ROWS", 2_000_000))


CL_STATSMODELS_MAX_ROWS = int(os.environ.get("EDI_FUNNEL_CL_STATSMODELS_MAX_ROWS", 50_000))


# Term names of levels that have no helper in the vocabulary
DIRECTORATE_COLUMN = "directorate"


def directorate_term(name: str) -> str:
    """Term of a directorate dummy, ``directorate=<name>`` (same pattern as band_term)."""
    return f"{DIRECTORATE_COLUMN}={name}"


# --------------------------------------------------------------------------
# Model specification and design matrix
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Categorical:
    column: str
    reference: str
    term: Callable[[str], str]
    order: tuple[str, ...] = ()


BAND_CAT = Categorical("band", REFERENCE_BAND, band_term, WORKFORCE_BANDS)


AGE_CAT = Categorical("age_band", REFERENCE_AGE_BAND, age_band_term, AGE_BANDS)


DIRECTORATE_CAT = Categorical(DIRECTORATE_COLUMN, DIRECTORATES[0], directorate_term, DIRECTORATES)


@dataclass(frozen=True)
class Spec:
    """Which terms a model has.  Binary term names are also the column names."""

    binary: tuple[str, ...] = ()
    categorical: tuple[Categorical, ...] = ()
    interactions: tuple[tuple[str, str], ...] = ()
    intercept: bool = True

    def without(self, *names: str) -> "Spec":
        return Spec(
            tuple(b for b in self.binary if b not in names),
            tuple(c for c in self.categorical if c.column not in names),
            tuple(i for i in self.interactions if i[0] not in names and i[1] not in names),
            self.intercept,
        )


def _levels(df: pl.DataFrame, cat: Categorical) -> tuple[str, list[str]]:
    present = [v for v in df.get_column(cat.column).drop_nulls().unique().to_list()]
    ordered = [v for v in cat.order if v in present] + sorted(v for v in present if v not in cat.order)
    if not ordered:
        return cat.reference, []
    ref = cat.reference if cat.reference in ordered else max(
        ordered, key=lambda v: (df.get_column(cat.column) == v).sum()
    )
    return ref, [v for v in ordered if v != ref]


def design(df: pl.DataFrame, spec: Spec) -> tuple[list[str], list[pl.Expr], list[str]]:
    """Term names, polars expressions (Float64 0/1 columns named by term) and the source columns used."""
    terms: list[str] = []
    exprs: list[pl.Expr] = []
    used: list[str] = []
    if spec.intercept:
        terms.append(TERM_INTERCEPT)
        exprs.append(pl.lit(1.0).alias(TERM_INTERCEPT))
    for b in spec.binary:
        terms.append(b)
        exprs.append(pl.col(b).cast(pl.Float64).alias(b))
        used.append(b)
    for cat in spec.categorical:
        _, levels = _levels(df, cat)
        used.append(cat.column)
        for lev in levels:
            t = cat.term(lev)
            terms.append(t)
            exprs.append((pl.col(cat.column) == lev).cast(pl.Float64).alias(t))
    for a, b in spec.interactions:
        t = interaction(a, b)
        terms.append(t)
        exprs.append((pl.col(a).cast(pl.Float64) * pl.col(b).cast(pl.Float64)).alias(t))
        used += [a, b]
    return terms, exprs, list(dict.fromkeys(used))


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
        """Estimate and standard error of sum(w * beta)."""
        L = np.zeros(len(self.terms))
        for t, w in weights.items():
            if t in self.terms:
                L[self.index(t)] = w
        est = float(L @ self.params)
        var = float(L @ self.cov @ L)
        return est, math.sqrt(var) if var >= 0 and np.isfinite(var) else float("nan")


def empty_fit(stage: str, model: str, analysis: str, n_obs: int = 0, n_events: int = 0, n_clusters: int = 0) -> Fit:
    return Fit(stage, model, analysis, [], np.zeros(0), np.zeros((0, 0)), n_obs, n_events, n_clusters,
               model_flags={FLAG_NO_DATA})


# --------------------------------------------------------------------------
# Linear algebra helpers
# --------------------------------------------------------------------------
def _independent_columns(X: np.ndarray, w: np.ndarray | None = None, tol: float = 1e-10) -> list[int]:
    """Indices of a maximal set of linearly independent columns (greedy, left to right).

    Works on the k x k Gram matrix (cheap for many rows): a column is kept if
    its residual sum of squares after projection on the kept columns is a
    non-negligible share of its own sum of squares.
    """
    if X.shape[0] == 0:
        return []
    Xw = X if w is None else X * np.sqrt(np.maximum(w, 0))[:, None]
    G = Xw.T @ Xw
    keep: list[int] = []
    for j in range(X.shape[1]):
        gjj = G[j, j]
        if gjj <= 0:
            continue
        if keep:
            Gk = G[np.ix_(keep, keep)]
            g = G[keep, j]
            resid = gjj - g @ np.linalg.solve(Gk, g)
        else:
            resid = gjj
        if resid > tol * gjj and resid > 1e-12:
            keep.append(j)
    return keep


def _expit(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def detect_separation_lp(A: np.ndarray, tol: float = 1e-7) -> tuple[bool, np.ndarray]:
    """Konis' LP test.  Rows of ``A`` are constraints a_i . beta >= 0 (sign-adjusted design rows).

    Data are separated (completely or quasi-completely) iff some beta != 0 makes
    every a_i . beta >= 0 with at least one strict; maximise sum_i a_i . beta over
    the box |beta_j| <= 1.  Returns (separated, direction).
    """
    k = A.shape[1]
    if A.shape[0] == 0 or k == 0:
        return False, np.zeros(k)
    # duplicate constraints add nothing: with 0/1 covariates there are few distinct rows
    A = np.unique(A, axis=0)
    c = -A.sum(axis=0)
    scale = np.abs(A).max() or 1.0
    res = optimize.linprog(
        c / scale, A_ub=-A / scale, b_ub=np.zeros(A.shape[0]), bounds=[(-1, 1)] * k, method="highs"
    )
    if res.status != 0 or res.x is None:
        return False, np.zeros(k)
    obj = float(A.sum(axis=0) @ res.x)
    if obj <= tol * max(1.0, np.abs(A).sum() * 1e-6):
        return False, np.zeros(k)
    return True, res.x


# --------------------------------------------------------------------------
# Logistic regression on grouped data
# --------------------------------------------------------------------------
def _firth_binomial(X: np.ndarray, n: np.ndarray, y: np.ndarray, maxiter: int = 200, tol: float = 1e-8):
    """Firth-penalised binomial logit on grouped rows.  Returns (beta, cov, converged)."""
    k = X.shape[1]
    beta = np.zeros(k)

    def pen_ll(b):
        mu = _expit(X @ b)
        mu = np.clip(mu, 1e-300, 1 - 1e-16)
        w = n * mu * (1 - mu)
        info = (X * w[:, None]).T @ X
        sign, logdet = np.linalg.slogdet(info)
        ll = float(np.sum(y * np.log(mu) + (n - y) * np.log1p(-mu)))
        return ll + 0.5 * logdet if sign > 0 else -np.inf

    current = pen_ll(beta)
    converged = False
    for _ in range(maxiter):
        mu = _expit(X @ beta)
        w = n * mu * (1 - mu)
        info = (X * w[:, None]).T @ X
        inv = np.linalg.pinv(info)
        h = w * np.einsum("ij,jk,ik->i", X, inv, X)
        score = X.T @ (y - n * mu + h * (0.5 - mu))
        step = inv @ score
        # cap the step for stability
        mx = np.abs(step).max()
        if mx > 5:
            step *= 5 / mx
        t = 1.0
        while t > 1e-6:
            cand = beta + t * step
            val = pen_ll(cand)
            if val >= current - 1e-12:
                break
            t /= 2
        beta, current = beta + t * step, val
        if np.abs(t * step).max() < tol:
            converged = True
            break
    mu = _expit(X @ beta)
    w = n * mu * (1 - mu)
    cov = np.linalg.pinv((X * w[:, None]).T @ X)
    return beta, cov, converged


def _mle_binomial(X: np.ndarray, n: np.ndarray, y: np.ndarray, maxiter: int = 100, tol: float = 1e-10):
    """Unpenalised ML for grouped binomial logit by Newton-Raphson (IRLS).  Returns (beta, converged).

    Gives the same estimate as ``statsmodels.GLM(family=Binomial())`` (checked in
    tests/analyses/funnel_statistics/test_models.py) without its per-iteration pseudo-inverse, which
    matters on the pattern tables of 1M-10M applications.
    """
    k = X.shape[1]
    p0 = np.clip(y.sum() / n.sum(), 1e-6, 1 - 1e-6)
    beta = np.zeros(k)
    if k and np.allclose(X[:, 0], 1.0):
        beta[0] = math.log(p0 / (1 - p0))
    for _ in range(maxiter):
        mu = _expit(X @ beta)
        w = n * mu * (1 - mu)
        info = (X * w[:, None]).T @ X
        score = X.T @ (y - n * mu)
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            return beta, False
        mx = np.abs(step).max() if k else 0.0
        if mx > 10:
            step *= 10 / mx
        beta = beta + step
        if not np.all(np.isfinite(beta)):
            return beta, False
        if mx < tol:
            return beta, True
    return beta, False


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
) -> Fit:
    """Logit (binary outcome, one row per unit) or binomial GLM (``trials`` given: outcome = events).

    Rows with a null in any used column are dropped (complete cases).
    """
    terms, exprs, used = design(df, spec)
    need = list(dict.fromkeys(used + [outcome, cluster] + ([trials] if trials else [])))
    d = df.select(need).drop_nulls()
    if d.height == 0:
        return empty_fit(stage, model, analysis)
    events = pl.col(outcome).cast(pl.Float64)
    tri = pl.col(trials).cast(pl.Float64) if trials else pl.lit(1.0)
    cl_pat = (
        d.select([pl.col(cluster).alias("_cluster"), *exprs, tri.alias("_n"), events.alias("_y")])
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
    fit = _fit_grouped(X, n, y, terms, stage, model, analysis, n_obs, n_events, n_clusters, cl_pat)
    if fit.params.size and fit.engine == ENGINE_OWN:
        fit.cov = _cluster_cov(cl_pat, fit, n_clusters)
    elif fit.params.size and fit.engine == ENGINE_FIRTH:
        for t in fit.terms:
            fit.term_flags.setdefault(t, set()).add(FLAG_MODEL_SE)
    _feature_means(fit, d, exprs, feature_levels)
    return fit


def _statsmodels_glm(cl_pat: pl.DataFrame, terms: Sequence[str], n_clusters: int):
    """statsmodels binomial GLM on (cluster, pattern) rows, SEs clustered by ``_cluster``.

    Returns (params, cov, converged).  Covariance = statsmodels' sandwich without
    its row-count-based correction, times G/(G-1) (the same as a per-row fit).
    """
    import statsmodels.api as sm

    X = cl_pat.select(list(terms)).to_numpy().astype(float)
    n = cl_pat.get_column("_n").to_numpy().astype(float)
    y = cl_pat.get_column("_y").to_numpy().astype(float)
    groups = cl_pat.get_column("_cluster").rank("dense").cast(pl.Int64).to_numpy()
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # perfect-prediction / overflow warnings: divergence is checked below
        res = sm.GLM(np.column_stack([y, n - y]), X, family=sm.families.Binomial()).fit(
            maxiter=100, tol=1e-10, cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False})
    G = n_clusters
    corr = G / (G - 1) if G > 1 else 1.0
    conv = bool(getattr(res, "converged", True))
    return np.asarray(res.params, float), np.asarray(res.cov_params(), float) * corr, conv


def _fit_grouped(X, n, y, terms, stage, model, analysis, n_obs, n_events, n_clusters,
                 cl_pat: pl.DataFrame | None = None) -> Fit:
    """Fit on the pattern table ``X, n, y``; statsmodels on ``cl_pat`` when given and small enough."""
    term_flags: dict[str, set[str]] = {t: set() for t in terms}
    model_flags: set[str] = set()
    if n_events < SMALL_EVENTS or (n_obs - n_events) < SMALL_EVENTS:
        model_flags.add(FLAG_SMALL)
    # sparse cells for indicator terms
    for j, t in enumerate(terms):
        if t == TERM_INTERCEPT:
            continue
        on = X[:, j] != 0
        ev, nonev = y[on].sum(), (n[on] - y[on]).sum()
        if min(ev, nonev) < SPARSE_CELL:
            term_flags[t].add(FLAG_SPARSE)
    keep = _independent_columns(X)
    dropped = [terms[j] for j in range(len(terms)) if j not in keep]
    for t in dropped:
        term_flags[t].add(FLAG_NOT_ESTIMABLE)
    Xk = X[:, keep]
    params = np.full(len(terms), np.nan)
    cov = np.full((len(terms), len(terms)), np.nan)
    # separation test on sign-adjusted rows: events -> x, non-events -> -x
    A = np.vstack([Xk[y > 0], -Xk[(n - y) > 0]])
    separated, direction = detect_separation_lp(A)
    beta = None
    engine = ENGINE_OWN
    use_sm = cl_pat is not None and cl_pat.height <= STATSMODELS_MAX_ROWS
    if not separated:
        if use_sm:
            engine = ENGINE_STATSMODELS
            beta, ck, conv = _statsmodels_glm(cl_pat, [terms[j] for j in keep], n_clusters)
        else:
            beta, conv = _mle_binomial(Xk, n, y)
        if not conv or not np.all(np.isfinite(beta)) or np.abs(beta).max() > MAX_ABS_LOG_ODDS:
            separated = True
            direction = np.where(np.isfinite(beta) & (np.abs(beta) > MAX_ABS_LOG_ODDS), 1.0, 0.0) if beta is not None else direction
            if not conv:
                model_flags.add(FLAG_NOT_CONVERGED)
    if separated:
        engine = ENGINE_FIRTH
        model_flags.add(FLAG_FIRTH)
        for jj, j in enumerate(keep):
            term_flags[terms[j]].add(FLAG_FIRTH)
            if abs(direction[jj]) > 1e-6:
                term_flags[terms[j]].add(FLAG_SEPARATION)
        beta, ck, conv = _firth_binomial(Xk, n, y)
        if not conv:
            model_flags.add(FLAG_NOT_CONVERGED)
        cov[np.ix_(keep, keep)] = ck
        log.info("%s/%s/%s: separation detected; Firth-penalised fit", analysis, stage, model)
    elif engine == ENGINE_STATSMODELS:
        cov[np.ix_(keep, keep)] = ck
    else:
        mu = _expit(Xk @ beta)
        w = n * mu * (1 - mu)
        cov[np.ix_(keep, keep)] = np.linalg.pinv((Xk * w[:, None]).T @ Xk)
        log.info("%s/%s/%s: %d cluster-pattern rows > %d: own IRLS fast path", analysis, stage, model,
                 -1 if cl_pat is None else cl_pat.height, STATSMODELS_MAX_ROWS)
    params[keep] = beta
    fit = Fit(stage, model, analysis, list(terms), params, cov, n_obs, n_events, n_clusters, term_flags, model_flags,
              engine=engine)
    fit._keep = keep  # type: ignore[attr-defined]
    return fit


def _cluster_cov(cl_pat: pl.DataFrame, fit: Fit, n_clusters: int) -> np.ndarray:
    """Cluster-robust sandwich from (cluster, pattern) aggregates.  Factor G/(G-1)."""
    keep = fit._keep  # type: ignore[attr-defined]
    terms = [fit.terms[j] for j in keep]
    beta = fit.params[keep]
    codes = cl_pat.get_column("_cluster").rank("dense").cast(pl.Int64).to_numpy() - 1
    G = int(codes.max()) + 1 if codes.size else 0
    eta = np.zeros(cl_pat.height)
    cols = []
    for j, t in enumerate(terms):
        x = cl_pat.get_column(t).to_numpy().astype(float)
        eta += beta[j] * x
        cols.append(x)
    mu = _expit(eta)
    n = cl_pat.get_column("_n").to_numpy().astype(float)
    y = cl_pat.get_column("_y").to_numpy().astype(float)
    r = y - n * mu
    w = n * mu * (1 - mu)
    k = len(terms)
    S = np.empty((G, k))
    info = np.empty((k, k))
    for j in range(k):
        S[:, j] = np.bincount(codes, weights=r * cols[j], minlength=G)
        for i in range(j + 1):
            info[i, j] = info[j, i] = float(np.dot(w * cols[i], cols[j]))
    bread = np.linalg.pinv(info)
    meat = S.T @ S
    corr = G / (G - 1) if G > 1 else 1.0
    V = corr * bread @ meat @ bread
    full = np.full((len(fit.terms), len(fit.terms)), np.nan)
    full[np.ix_(keep, keep)] = V
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
class _CLData:
    """Informative strata only, sorted by stratum, with single- and multi-event parts."""

    def __init__(self, X: np.ndarray, y: np.ndarray, codes: np.ndarray):
        order = np.argsort(codes, kind="stable")
        X, y, codes = X[order], y[order], codes[order]
        uniq, start, size = np.unique(codes, return_index=True, return_counts=True)
        ev = np.add.reduceat(y, start) if codes.size else np.zeros(0)
        informative = (ev > 0) & (ev < size)
        keep_rows = np.repeat(informative, size)
        self.X, self.y, self.codes = X[keep_rows], y[keep_rows], codes[keep_rows]
        size, ev = size[informative], ev[informative]
        self.n_strata = int(informative.sum())
        bounds = np.concatenate([[0], np.cumsum(size)])
        single = ev == 1
        rows_single = np.repeat(single, size)
        self.Xs = self.X[rows_single]
        self.ys = self.y[rows_single]
        ss = size[single]
        self.starts = np.concatenate([[0], np.cumsum(ss)[:-1]]).astype(int) if ss.size else np.zeros(0, int)
        self.sizes_s = ss
        self.gid = np.repeat(np.arange(ss.size), ss)
        self.multi = [
            (self.X[bounds[i]:bounds[i + 1]], self.y[bounds[i]:bounds[i + 1]], int(ev[i]))
            for i in np.nonzero(~single)[0]
        ]

    def loglik(self, beta: np.ndarray, derivs: bool = True):
        k = beta.size
        ll, g, H = 0.0, np.zeros(k), np.zeros((k, k))
        if self.Xs.shape[0]:
            eta = self.Xs @ beta
            mx = np.maximum.reduceat(eta, self.starts)
            e = np.exp(eta - mx[self.gid])
            den = np.add.reduceat(e, self.starts)
            p = e / den[self.gid]
            ll += float(eta[self.ys == 1].sum() - (np.log(den) + mx).sum())
            if derivs:
                xbar = np.vstack([np.add.reduceat(p * self.Xs[:, j], self.starts) for j in range(k)]).T
                g += self.Xs[self.ys == 1].sum(axis=0) - xbar.sum(axis=0)
                H -= (self.Xs * p[:, None]).T @ self.Xs - xbar.T @ xbar
        for Xg, yg, d in self.multi:
            l1, g1, H1 = _cl_recursion(Xg, yg, d, beta, derivs)
            ll += l1
            if derivs:
                g += g1
                H += H1
        return ll, g, H


def _cl_recursion(X: np.ndarray, y: np.ndarray, d: int, beta: np.ndarray, derivs: bool):
    """Exact conditional log-likelihood of one stratum with d events (Gail et al. 1981)."""
    k = beta.size
    eta = X @ beta
    shift = eta.max()
    w = np.exp(eta - shift)
    B = np.zeros(d + 1)
    B[0] = 1.0
    dB = np.zeros((d + 1, k))
    d2B = np.zeros((d + 1, k, k))
    for m in range(X.shape[0]):
        x = X[m]
        for j in range(min(d, m + 1), 0, -1):
            if derivs:
                d2B[j] += w[m] * (np.outer(x, x) * B[j - 1] + np.outer(x, dB[j - 1]) + np.outer(dB[j - 1], x) + d2B[j - 1])
                dB[j] += w[m] * (x * B[j - 1] + dB[j - 1])
            B[j] += w[m] * B[j - 1]
    logden = math.log(B[d]) + d * shift
    ll = float(eta[y == 1].sum() - logden)
    if not derivs:
        return ll, None, None
    gden = dB[d] / B[d]
    Hden = d2B[d] / B[d] - np.outer(gden, gden)
    return ll, X[y == 1].sum(axis=0) - gden, -Hden


def _cl_newton(data: _CLData, k: int, maxiter: int = 100, tol: float = 1e-9):
    beta = np.zeros(k)
    ll, g, H = data.loglik(beta)
    for _ in range(maxiter):
        step = np.linalg.solve(-H, g) if np.linalg.cond(H) < 1e14 else np.linalg.pinv(-H) @ g
        t = 1.0
        while t > 1e-8:
            cand = beta + t * step
            l2, g2, H2 = data.loglik(cand)
            if l2 >= ll - 1e-10:
                break
            t /= 2
        beta, ll, g, H = cand, l2, g2, H2
        if np.abs(t * step).max() < tol:
            return beta, H, True
    return beta, H, False


def _cl_firth(data: _CLData, k: int):
    """Firth-penalised conditional logit: maximise l(b) + 0.5 log det I(b) (numerical penalty gradient)."""

    def negpen(b):
        ll, g, H = data.loglik(b)
        sign, logdet = np.linalg.slogdet(-H)
        if sign <= 0:
            return 1e100
        return -(ll + 0.5 * logdet)

    def grad(b):
        ll, g, H = data.loglik(b)
        eps = 1e-5
        pg = np.zeros(k)
        for j in range(k):
            e = np.zeros(k)
            e[j] = eps
            _, _, Hp = data.loglik(b + e)
            _, _, Hm = data.loglik(b - e)
            pg[j] = 0.5 * (np.linalg.slogdet(-Hp)[1] - np.linalg.slogdet(-Hm)[1]) / (2 * eps)
        return -(g + pg)

    res = optimize.minimize(negpen, np.zeros(k), jac=grad, method="BFGS", options={"gtol": 1e-7, "maxiter": 500})
    _, _, H = data.loglik(res.x)
    return res.x, np.linalg.pinv(-H), bool(res.success)


def fit_conditional_logit(
    df: pl.DataFrame,
    spec: Spec,
    outcome: str,
    strata: str,
    *,
    stage: str,
    analysis: str = "main",
    feature_levels: Sequence[str] = (),
) -> Fit:
    """Conditional logit stratified by ``strata``.  ``spec.intercept`` is ignored (absorbed)."""
    spec = Spec(spec.binary, spec.categorical, spec.interactions, intercept=False)
    terms, exprs, used = design(df, spec)
    d = df.select(list(dict.fromkeys(used + [outcome, strata]))).drop_nulls()
    model = MODEL_CONDITIONAL_LOGIT
    if d.height == 0 or not terms:
        return empty_fit(stage, model, analysis)
    X = d.select(exprs).to_numpy().astype(float)
    y = d.get_column(outcome).cast(pl.Float64).to_numpy()
    codes = d.get_column(strata).rank("dense").cast(pl.Int64).to_numpy()
    data = _CLData(X, y, codes)
    n_obs, n_events = int(data.y.size), int(data.y.sum())
    term_flags: dict[str, set[str]] = {t: set() for t in terms}
    model_flags: set[str] = set()
    if data.n_strata == 0:
        fit = empty_fit(stage, model, analysis, n_obs, n_events, 0)
        return fit
    if n_events < SMALL_EVENTS:
        model_flags.add(FLAG_SMALL)
    # within-stratum design: differences event - non-event (for separation and estimability)
    diffs = _cl_differences(data)
    for j, t in enumerate(terms):
        on = data.X[:, j] != 0
        if min(data.y[on].sum(), (1 - data.y[on]).sum()) < SPARSE_CELL:
            term_flags[t].add(FLAG_SPARSE)
    keep = _independent_columns(diffs) if diffs.size else []
    for j, t in enumerate(terms):
        if j not in keep:
            term_flags[t].add(FLAG_NOT_ESTIMABLE)
    params = np.full(len(terms), np.nan)
    cov = np.full((len(terms), len(terms)), np.nan)
    engine = ENGINE_STATSMODELS
    if keep:
        sub = _CLData.__new__(_CLData)
        sub.__dict__ = dict(data.__dict__)
        sub.X, sub.Xs = data.X[:, keep], data.Xs[:, keep]
        sub.multi = [(Xg[:, keep], yg, dd) for Xg, yg, dd in data.multi]
        separated, direction = detect_separation_lp(diffs[:, keep])
        if not separated:
            if data.y.size <= CL_STATSMODELS_MAX_ROWS:
                engine = ENGINE_STATSMODELS
                beta, ck, conv = _statsmodels_cl(sub.X, sub.y, data.codes)
            else:
                engine = ENGINE_OWN
                beta, H, conv = _cl_newton(sub, len(keep))
                ck = np.linalg.pinv(-H)
                log.info("%s/%s/%s: %d informative rows > %d: own conditional-likelihood fast path",
                         analysis, stage, model, data.y.size, CL_STATSMODELS_MAX_ROWS)
            if not conv or not np.all(np.isfinite(beta)) or np.abs(beta).max() > MAX_ABS_LOG_ODDS:
                separated = True
                direction = (~np.isfinite(beta) | (np.abs(beta) > MAX_ABS_LOG_ODDS)).astype(float)
                if not conv:
                    model_flags.add(FLAG_NOT_CONVERGED)
        if separated:
            engine = ENGINE_FIRTH
            model_flags.add(FLAG_FIRTH)
            beta, ck, conv = _cl_firth(sub, len(keep))
            if not conv:
                model_flags.add(FLAG_NOT_CONVERGED)
            for jj, j in enumerate(keep):
                term_flags[terms[j]].add(FLAG_FIRTH)
                if abs(direction[jj]) > 1e-6:
                    term_flags[terms[j]].add(FLAG_SEPARATION)
            log.info("%s/%s/%s: separation detected; Firth-penalised fit", analysis, stage, model)
        params[keep] = beta
        cov[np.ix_(keep, keep)] = ck
    fit = Fit(stage, model, analysis, terms, params, cov, n_obs, n_events, data.n_strata, term_flags, model_flags,
              engine=engine)
    _feature_means(fit, d, exprs, feature_levels)
    return fit


def _statsmodels_cl(X: np.ndarray, y: np.ndarray, groups: np.ndarray):
    """statsmodels ConditionalLogit (Newton from zero; numerical Hessian).  Returns (params, cov, converged).

    Only informative strata are passed (statsmodels would drop the others with a warning).
    """
    from statsmodels.discrete.conditional_models import ConditionalLogit

    # warnings.catch_warnings is process-global and analyses run in threads: hold a lock while
    # it is active.  statsmodels' overflow / non-convergence warnings are silenced; convergence
    # is checked below from the solution.
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            mod = ConditionalLogit(y, X, groups=groups)
            res = mod.fit(method="newton", maxiter=100, disp=False)
        except (np.linalg.LinAlgError, ValueError, OverflowError, FloatingPointError):
            return np.full(X.shape[1], np.nan), np.full((X.shape[1],) * 2, np.nan), False
        params = np.asarray(res.params, float)
        cov = np.asarray(res.cov_params(), float)
        # Convergence is judged from the solution itself (score ~ 0, finite and bounded estimates),
        # not from whether a ConvergenceWarning was seen: warning capture is process-global and
        # other analyses run in parallel threads, which made the verdict flip between runs.
        try:
            grad = np.asarray(mod.score(params), float)
        except (ValueError, OverflowError, FloatingPointError):
            grad = np.full(params.shape, np.nan)
    conv = bool(np.all(np.isfinite(grad)) and np.max(np.abs(grad), initial=0.0) < CL_SCORE_TOL
                and np.all(np.abs(params) < CL_MAX_ABS_ESTIMATE))
    conv = conv and bool(np.all(np.isfinite(params)) and np.all(np.isfinite(np.diag(cov))) and np.all(np.diag(cov) > 0))
    return params, cov, conv


def _cl_differences(data: _CLData) -> np.ndarray:
    """Rows x_event - x_nonevent for every (event, non-event) pair within a stratum."""
    parts = []
    if data.Xs.shape[0]:
        ev_rows = np.nonzero(data.ys == 1)[0]
        ev_of_group = np.empty(data.sizes_s.size, dtype=int)
        ev_of_group[data.gid[ev_rows]] = ev_rows
        non = np.nonzero(data.ys == 0)[0]
        parts.append(data.Xs[ev_of_group[data.gid[non]]] - data.Xs[non])
    for Xg, yg, _ in data.multi:
        e, ne = Xg[yg == 1], Xg[yg == 0]
        parts.append((e[:, None, :] - ne[None, :, :]).reshape(-1, Xg.shape[1]))
    return np.vstack(parts) if parts else np.zeros((0, data.X.shape[1]))


# --------------------------------------------------------------------------
# Contrasts and output rows
# --------------------------------------------------------------------------
PROGRAMME_FEATURES: tuple[str, ...] = (TERM_LETTER_TO_CEO, TERM_DIVERSE_PANEL, TERM_POST_PROGRAMME)


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
    z = stats.norm.ppf(0.975)
    return {
        "analysis": fit.analysis,
        "stage": fit.stage,
        "model": fit.model,
        "term": term,
        "estimate": float(est) if np.isfinite(est) else None,
        "std_error": float(se) if ok else None,
        "odds_ratio": float(math.exp(est)) if np.isfinite(est) else None,
        "ci_low": float(math.exp(est - z * se)) if ok else None,
        "ci_high": float(math.exp(est + z * se)) if ok else None,
        "p_value": float(2 * stats.norm.sf(abs(est / se))) if ok else None,
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
        if w is None:
            continue
        est, se = fit.lincom(w)
        flags = set(fit.model_flags)
        for t in w:
            flags |= fit.term_flags.get(t, set())
        rows.append(_row(fit, contrast_term(feature, level), est, se, flags))
    return rows


ODDS_RATIO_SCHEMA: dict[str, pl.DataType] = {
    "analysis": pl.String, "stage": pl.String, "model": pl.String, "term": pl.String,
    "estimate": pl.Float64, "std_error": pl.Float64, "odds_ratio": pl.Float64,
    "ci_low": pl.Float64, "ci_high": pl.Float64, "p_value": pl.Float64, "q_value": pl.Float64,
    "n_obs": pl.Int64, "n_events": pl.Int64, "n_clusters": pl.Int64, "flags": pl.String,
}


def bh_qvalues(p: Sequence[float | None]) -> list[float | None]:
    """Benjamini-Hochberg adjusted p-values (q-values); None stays None."""
    idx = [i for i, v in enumerate(p) if v is not None and np.isfinite(v)]
    out: list[float | None] = [None] * len(p)
    m = len(idx)
    if m == 0:
        return out
    vals = np.array([p[i] for i in idx], dtype=float)
    order = np.argsort(vals)
    ranked = vals[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.minimum(q, 1.0)
    for pos, o in enumerate(order):
        out[idx[o]] = float(q[pos])
    return out


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
    for (_,), grp in f.filter(pl.col("term") != TERM_INTERCEPT).group_by(["_family"]):
        qs = bh_qvalues(grp.get_column("p_value").to_list())
        for i, v in zip(grp.get_column("_i").to_list(), qs):
            q[i] = v
    return f.with_columns(pl.Series("q_value", q, dtype=pl.Float64)).drop(["_i", "_family"])


def rows_to_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=ODDS_RATIO_SCHEMA) if rows else pl.DataFrame(schema=ODDS_RATIO_SCHEMA)


# --------------------------------------------------------------------------
# Stage populations (docs/methods.md section 1)
# --------------------------------------------------------------------------
def _not_withdrawn_at(stage_name: str) -> pl.Expr:
    return pl.col("withdrawn_stage").is_null() | (pl.col("withdrawn_stage") != stage_name)


def known_ethnicity(af: pl.DataFrame) -> pl.DataFrame:
    return af.filter(pl.col("bme").is_not_null())


def shortlist_population(af: pl.DataFrame) -> pl.DataFrame:
    """Applicants of known ethnicity, except those who withdrew at the application stage."""
    return known_ethnicity(af).filter(_not_withdrawn_at("application"))


def offer_population(af: pl.DataFrame) -> pl.DataFrame:
    """Interviewed candidates of known ethnicity who did not withdraw at interview."""
    return known_ethnicity(af).filter((pl.col("interviewed") == 1) & _not_withdrawn_at("interview"))


def appoint_population(af: pl.DataFrame) -> pl.DataFrame:
    """WRES indicator 2: shortlisted, known ethnicity, excluding offers that were declined."""
    return known_ethnicity(af).filter(
        (pl.col("shortlisted") == 1) & ~((pl.col("offered") == 1) & (pl.col("offer_declined") == 1))
    )


def apply_pool_population(af: pl.DataFrame, external_only: bool = True) -> pl.DataFrame:
    """One row per vacancy: applicants of known ethnicity (n_known) and BME among them (n_bme).

    By default only external applicants count: the pool's composition is a
    property of the labour market the advert reaches; internal applicants'
    propensity to apply is the ``apply_workforce`` model.
    """
    vac_cols = [c for c in ("band", "directorate", "letter_to_ceo", "diverse_panel", "post_programme") if c in af.columns]
    src = af.filter(pl.col("internal") == 0) if external_only else af
    return (
        known_ethnicity(src)
        .group_by("vacancy_id")
        .agg(
            pl.len().alias("n_known"),
            pl.col("bme").sum().alias("n_bme"),
            *[pl.col(c).first() for c in vac_cols],
        )
        .sort("vacancy_id")
    )


def apply_workforce_population(
    workforce: pl.DataFrame,
    af: pl.DataFrame,
    programme_start,
    eligible_bands: Sequence[str] = WORKFORCE_BANDS,
) -> pl.DataFrame:
    """Eligible staff x programme period (pre / post) with ``applied`` 0/1.

    A staff member is eligible in a period if any workforce snapshot in that
    period places them in a feeder or senior band; their band, directorate,
    sex and ethnicity are taken from their last snapshot in the period.
    ``applied`` = 1 if an application with their staff_id was made to a
    vacancy of that period (the vacancy's ``post_programme``, by advert date;
    the applied date when the column is absent).  Staff of unknown ethnicity are left out.
    """
    period = (pl.col("snapshot_month") >= pl.lit(programme_start)).cast(pl.Int64)
    wf = (
        workforce.filter(pl.col("band").is_in(list(eligible_bands)) & pl.col("bme").is_not_null())
        .with_columns(period.alias(TERM_POST_PROGRAMME))
        .sort(["staff_id", "snapshot_month"])
        .group_by(["staff_id", TERM_POST_PROGRAMME])
        .agg(pl.col("band", "directorate", "bme", "female").last())
    )
    # the period of an application is its vacancy's (post_programme, by advert date) when known
    app_period = (
        pl.col(TERM_POST_PROGRAMME).cast(pl.Int64) if TERM_POST_PROGRAMME in af.columns
        else (pl.col("applied_date") >= pl.lit(programme_start)).cast(pl.Int64)
    )
    apps = (
        af.filter(pl.col("staff_id").is_not_null())
        .with_columns(app_period.alias(TERM_POST_PROGRAMME))
        .select("staff_id", TERM_POST_PROGRAMME)
        .unique()
        .with_columns(pl.lit(1).alias("applied"))
    )
    return (
        wf.join(apps, on=["staff_id", TERM_POST_PROGRAMME], how="left")
        .with_columns(pl.col("applied").fill_null(0).cast(pl.Int64))
        .sort(["staff_id", TERM_POST_PROGRAMME])
    )


def with_disability_indicator(df: pl.DataFrame) -> pl.DataFrame:
    """Disability not declared (null) -> disability = 0 plus ``disability_not_declared`` = 1."""
    if TERM_DISABILITY not in df.columns:
        return df
    return df.with_columns(
        pl.col(TERM_DISABILITY).is_null().cast(pl.Int64).alias(TERM_DISABILITY_NOT_DECLARED),
        pl.col(TERM_DISABILITY).fill_null(0).cast(pl.Int64),
    )


TERM_DISABILITY_NOT_DECLARED = "disability_not_declared"


# --------------------------------------------------------------------------
# Stage model specifications
# --------------------------------------------------------------------------
BME_INTERACTIONS = ((TERM_BME, TERM_LETTER_TO_CEO), (TERM_BME, TERM_DIVERSE_PANEL), (TERM_BME, TERM_POST_PROGRAMME))


APPLICANT_BINARY = (TERM_BME, TERM_FEMALE, TERM_INTERNAL, TERM_DISABILITY, TERM_DISABILITY_NOT_DECLARED)


VACANCY_BINARY = (TERM_MANAGER_BME, TERM_MANAGER_FEMALE, TERM_DIVERSE_PANEL, TERM_LETTER_TO_CEO, TERM_POST_PROGRAMME)


SPEC_INDIVIDUAL = Spec(APPLICANT_BINARY + VACANCY_BINARY, (BAND_CAT, AGE_CAT), BME_INTERACTIONS)


SPEC_CONDITIONAL = Spec(APPLICANT_BINARY, (AGE_CAT,), BME_INTERACTIONS, intercept=False)


SPEC_APPLY_POOL = Spec((TERM_LETTER_TO_CEO, TERM_DIVERSE_PANEL, TERM_POST_PROGRAMME), (BAND_CAT, DIRECTORATE_CAT))


WORKFORCE_BAND_CAT = Categorical("band", WORKFORCE_REFERENCE_BAND, band_term, WORKFORCE_BANDS)


SPEC_APPLY_WORKFORCE = Spec(
    (TERM_BME, TERM_FEMALE, TERM_POST_PROGRAMME), (WORKFORCE_BAND_CAT, DIRECTORATE_CAT),
    ((TERM_BME, TERM_POST_PROGRAMME),),
)


# within-band strata: main effects only (small samples)
SPEC_STRATUM_INDIVIDUAL = Spec((TERM_BME, TERM_FEMALE, TERM_INTERNAL))


SPEC_STRATUM_CONDITIONAL = Spec((TERM_BME, TERM_FEMALE, TERM_INTERNAL), intercept=False)


CONTRASTS: tuple[tuple[str, int], ...] = tuple(
    (f, lev) for f in PROGRAMME_FEATURES for lev in (1, 0)
)


# --------------------------------------------------------------------------
# All stages
# --------------------------------------------------------------------------
ANALYSIS_MAIN = "main"


def stratum_analysis(column: str, value: str) -> str:
    """Analysis label of a stratified fit, e.g. ``stratum:band=8b``."""
    return f"stratum:{column}={value}"


def _present(df: pl.DataFrame, spec: Spec) -> Spec:
    """Drop binary terms whose columns are missing from the frame (e.g. older marts)."""
    missing = [b for b in spec.binary if b not in df.columns]
    return spec.without(*missing) if missing else spec


def stage_fits(
    af: pl.DataFrame,
    workforce: pl.DataFrame | None = None,
    programme_start=None,
    *,
    stages: Sequence[str] | None = None,
    strata: bool = True,
) -> list[tuple[Fit, tuple[tuple[str, int], ...]]]:
    """Fit every stage's model(s).  Returns (fit, contrasts to report) pairs."""
    from tasks.core.vocabulary import (
        STAGE_APPLY_POOL,
        STAGE_APPLY_WORKFORCE,
        STAGE_APPOINT_FROM_SHORTLIST,
        STAGE_OFFER,
        STAGE_SHORTLIST,
    )

    want = set(stages) if stages else None
    out: list[tuple[Fit, tuple[tuple[str, int], ...]]] = []
    af = with_disability_indicator(af)
    feats = PROGRAMME_FEATURES

    def on(stage):
        return want is None or stage in want

    if on(STAGE_APPLY_POOL):
        pool = apply_pool_population(af)
        out.append((fit_logit(pool, SPEC_APPLY_POOL, "n_bme", "vacancy_id", trials="n_known",
                              stage=STAGE_APPLY_POOL, model=MODEL_BINOMIAL_GLM), ()))
    if on(STAGE_APPLY_WORKFORCE) and workforce is not None and workforce.height and programme_start is not None:
        pop = apply_workforce_population(workforce, af, programme_start)
        out.append((fit_logit(pop, SPEC_APPLY_WORKFORCE, "applied", "staff_id", stage=STAGE_APPLY_WORKFORCE,
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
            out.append((fit_conditional_logit(pop, _present(pop, SPEC_CONDITIONAL), outcome, "vacancy_id",
                                              stage=stage, feature_levels=feats), CONTRASTS))
        out.append((fit_logit(pop, _present(pop, SPEC_INDIVIDUAL), outcome, "vacancy_id", stage=stage,
                              feature_levels=feats), CONTRASTS))
        if not strata:
            continue
        for band in [b for b in WORKFORCE_BANDS if b in set(pop.get_column("band").drop_nulls().to_list())]:
            sub = pop.filter(pl.col("band") == band)
            label = stratum_analysis("band", band)
            if stage == STAGE_OFFER:
                f = fit_conditional_logit(sub, SPEC_STRATUM_CONDITIONAL, outcome, "vacancy_id", stage=stage, analysis=label)
            else:
                f = fit_logit(sub, SPEC_STRATUM_INDIVIDUAL, outcome, "vacancy_id", stage=stage, analysis=label)
            out.append((f, ()))
    return out


def odds_ratio_table(fits: list[tuple[Fit, tuple[tuple[str, int], ...]]]) -> pl.DataFrame:
    rows: list[dict] = []
    for fit, contrasts in fits:
        rows += fit_rows(fit, contrasts)
    return add_qvalues(rows_to_frame(rows))


def odds_ratios(af: pl.DataFrame, workforce: pl.DataFrame | None = None, programme_start=None, **kw) -> pl.DataFrame:
    """The ``odds_ratios`` result table (without run_id)."""
    return odds_ratio_table(stage_fits(af, workforce, programme_start, **kw))
