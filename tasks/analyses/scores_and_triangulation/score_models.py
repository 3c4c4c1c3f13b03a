"""Interview-score models: the adjusted score gaps and panel homophily (rows of ``results.score_effects``).

Contract: pure functions on polars frames, no I/O.  Input is the candidate
frame (``cands``) or the sheet frame that
:func:`tasks.analyses.scores_and_triangulation.interview_scores.prepare`
builds; each ``fit_*`` returns a frame with :data:`SCORE_EFFECTS_SCHEMA`
(stage ``interview_score``), empty with that schema when the data cannot
support the fit.  Clusters and fixed-effect groups are coded by first
appearance, never by the pseudonymous IDs.  The method is documented in
docs/methods.md section 3 ("Adjusted gap", "The gap before and after the
programme", "Panel homophily").

* :func:`fit_mixed_gap`: the primary MixedLM, score ~ bme + female +
  internal + band, random intercept per vacancy (REML);
* :func:`fit_cluster_ols`: its cross-check, OLS with vacancy-clustered (CR1)
  SEs and t(G-1) intervals;
* :func:`fit_programme_gap`: the BME gap before and after the programme;
* :func:`fit_homophily`: sheet-level ethnicity match with application and
  member fixed effects (:func:`ethnicity_match` builds its regressor).
"""
from __future__ import annotations

import logging
import math
import warnings

import numpy as np
import polars as pl
from scipy import stats

from tasks.core.vocabulary import (
    MODEL_LINEAR,
    MODEL_MIXED_LINEAR,
    REFERENCE_BAND,
    SENIOR_BANDS,
    STAGE_INTERVIEW_SCORE,
    TERM_BME,
    TERM_ETHNICITY_MATCH,
    TERM_FEMALE,
    TERM_INTERCEPT,
    TERM_INTERNAL,
    TERM_POST_PROGRAMME,
    WRES_BME,
    WRES_WHITE,
    band_term,
    contrast_term,
    interaction,
)
from tasks.stats.clustered import cluster_codes
from tasks.stats.fixed_effects import demean_twoway

log = logging.getLogger(__name__)

MIXEDLM_WARNINGS_MODULE = r"statsmodels\.regression\.mixed_linear_model"


def quiet_mixedlm_warnings() -> None:
    """Ignore MixedLM's own warnings (boundary MLE, retries, singular covariance) process-wide.

    Each fit's convergence is judged from the fit (:func:`_fit_mixedlm`) and logged there.  A
    catch_warnings() block alone is not enough: it swaps the process's filters, and the analyses run in
    threads, so another thread's block could restore the filters while a fit warns (the warning then
    reached the run log).  Installed at import and again before every fit (idempotent: one entry), the
    filter is in the copy any later block saves and restores.
    """
    warnings.filterwarnings("ignore", module=MIXEDLM_WARNINGS_MODULE)


quiet_mixedlm_warnings()


# specifications in results.score_effects
SPEC_CANDIDATE = "candidate"


SPEC_SHEET = "sheet_twoway_fe"


SPEC_PROGRAMME = "candidate_by_period"  # the gap before/after the programme (fit_programme_gap)

SCORE_EFFECTS_SCHEMA = {
    "stage": pl.String, "model": pl.String, "specification": pl.String, "term": pl.String,
    "estimate": pl.Float64, "std_error": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
    "p_value": pl.Float64, "n_obs": pl.Int64, "n_groups": pl.Int64, "primary": pl.Boolean,
}


def _design(cands: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str], pl.DataFrame]:
    """Candidate design matrix: intercept, bme, female, internal and band dummies (reference 8a).

    Candidates of unknown ethnicity are left out of the models.
    """
    d = cands.filter(pl.col("bme").is_not_null() & pl.col("score").is_not_null())
    cols = [np.ones(d.height), d["bme"].cast(pl.Float64).to_numpy(),
            d["female"].cast(pl.Float64).fill_null(0).to_numpy(),
            d["internal"].cast(pl.Float64).fill_null(0).to_numpy()]
    names = [TERM_INTERCEPT, TERM_BME, TERM_FEMALE, TERM_INTERNAL]
    if "band" in d.columns:
        present = set(d["band"].to_list())
        for b in SENIOR_BANDS:
            if b != REFERENCE_BAND and b in present and REFERENCE_BAND in present:
                cols.append((d["band"] == b).cast(pl.Float64).to_numpy())
                names.append(band_term(b))
    X = np.column_stack(cols)
    keep = [j for j in range(X.shape[1]) if j == 0 or np.ptp(X[:, j]) > 0]
    return d["score"].to_numpy().astype(float), X[:, keep], [names[j] for j in keep], d


def _effect_rows(model: str, spec: str, names, params, bse, pvalues, df, n_obs, n_groups,
                 primary_terms: set[str]) -> list[dict]:
    crit = stats.t.ppf(0.975, df) if df and np.isfinite(df) else stats.norm.ppf(0.975)
    rows = []
    for name, b, se, p in zip(names, params, bse, pvalues):
        ok = se is not None and np.isfinite(se)
        rows.append({
            "stage": STAGE_INTERVIEW_SCORE, "model": model, "specification": spec, "term": name,
            "estimate": float(b), "std_error": float(se) if ok else None,
            "ci_low": float(b - crit * se) if ok else None, "ci_high": float(b + crit * se) if ok else None,
            "p_value": float(p) if ok and np.isfinite(p) else None, "n_obs": int(n_obs),
            "n_groups": int(n_groups), "primary": name in primary_terms,
        })
    return rows


def _fit_mixedlm(y, X, groups, what: str):
    """REML MixedLM with a random intercept per group, trying bfgs, powell then nm.

    Returns the first converged fit, else the last fit that ran (unconverged), else None.
    """
    import statsmodels.api as sm

    quiet_mixedlm_warnings()
    res = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method in ("bfgs", "powell", "nm"):
            try:
                fit = sm.MixedLM(y, X, groups=groups).fit(reml=True, method=method)
            except (np.linalg.LinAlgError, ValueError) as exc:
                log.info("%s %s failed: %s", what, method, type(exc).__name__)
                continue
            if res is None or fit.converged:
                res = fit
            if fit.converged:
                break
    return res


def fit_mixed_gap(cands: pl.DataFrame) -> pl.DataFrame:
    """MixedLM: score ~ bme + female + internal + band, random intercept per vacancy (REML)."""


    y, X, names, d = _design(cands)
    groups = cluster_codes(d["vacancy_id"].to_numpy())  # by appearance, not the pseudonymous ID
    n_groups = len(set(groups.tolist()))
    if d.height <= X.shape[1] + 2 or n_groups < 2:
        return pl.DataFrame(schema=SCORE_EFFECTS_SCHEMA)
    res = _fit_mixedlm(y, X, groups, "MixedLM")
    if res is None:
        log.warning("MixedLM did not fit; no mixed-model rows")
        return pl.DataFrame(schema=SCORE_EFFECTS_SCHEMA)
    k = X.shape[1]
    params, bse, pv = np.asarray(res.fe_params), np.asarray(res.bse_fe), np.asarray(res.pvalues)[:k]
    rows = _effect_rows(MODEL_MIXED_LINEAR, SPEC_CANDIDATE, names, params, bse, pv, None, d.height, n_groups,
                        primary_terms={n for n in names})
    return pl.DataFrame(rows, schema=SCORE_EFFECTS_SCHEMA)


def fit_cluster_ols(cands: pl.DataFrame) -> pl.DataFrame:
    """OLS with vacancy-clustered (CR1) SEs and t(G-1) intervals: the cross-check of the mixed model."""
    import statsmodels.api as sm

    y, X, names, d = _design(cands)
    codes = cluster_codes(d["vacancy_id"].to_numpy())  # by appearance, not the pseudonymous ID
    n_groups = len(np.unique(codes))
    if d.height <= X.shape[1] + 2 or n_groups < 3:
        return pl.DataFrame(schema=SCORE_EFFECTS_SCHEMA)
    res = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)
    rows = _effect_rows(MODEL_LINEAR, SPEC_CANDIDATE, names, res.params, res.bse, res.pvalues, n_groups - 1,
                        d.height, n_groups, primary_terms=set())
    return pl.DataFrame(rows, schema=SCORE_EFFECTS_SCHEMA)


def fit_programme_gap(cands: pl.DataFrame) -> pl.DataFrame:
    """The BME score gap before and after the programme, and its change (docs/methods.md section 3).

    The primary model (MixedLM, random intercept per vacancy, REML) with ``post_programme`` and
    ``bme:post_programme`` added.  Publishes three rows, specification :data:`SPEC_PROGRAMME`:
    ``bme@post_programme=0`` (the gap before, = the bme coefficient), ``bme@post_programme=1`` (the gap after,
    bme + bme:post_programme, its SE from the covariance of the two) and ``bme:post_programme`` (after minus
    before); normal 95% intervals as for the mixed model.  Empty when either period has no BME or no White
    candidate.
    """


    if "post_programme" not in cands.columns:
        return pl.DataFrame(schema=SCORE_EFFECTS_SCHEMA)
    y, X, names, d = _design(cands.filter(pl.col("post_programme").is_not_null()))
    post = d["post_programme"].cast(pl.Float64).to_numpy()
    if TERM_BME not in names or not all(
            len(set(d.filter(pl.col("post_programme").cast(pl.Float64) == p)["bme"].to_list())) == 2 for p in (0, 1)):
        return pl.DataFrame(schema=SCORE_EFFECTS_SCHEMA)
    j = names.index(TERM_BME)
    X = np.column_stack([X, post, X[:, j] * post])
    groups = cluster_codes(d["vacancy_id"].to_numpy())  # by appearance, not the pseudonymous ID
    n_groups = len(set(groups.tolist()))
    if d.height <= X.shape[1] + 2 or n_groups < 2:
        return pl.DataFrame(schema=SCORE_EFFECTS_SCHEMA)
    res = _fit_mixedlm(y, X, groups, "MixedLM (by period)")
    if res is None:
        log.warning("MixedLM by period did not fit; no before/after score gap")
        return pl.DataFrame(schema=SCORE_EFFECTS_SCHEMA)
    k = X.shape[1]
    b, V = np.asarray(res.fe_params), np.asarray(res.cov_params())[:k, :k]
    gap_rows = [(contrast_term(TERM_POST_PROGRAMME, 0), np.eye(k)[j]),
                (contrast_term(TERM_POST_PROGRAMME, 1), np.eye(k)[j] + np.eye(k)[k - 1]),
                (interaction(TERM_BME, TERM_POST_PROGRAMME), np.eye(k)[k - 1])]
    est = [float(c @ b) for _, c in gap_rows]
    se = [float(np.sqrt(max(c @ V @ c, 0.0))) for _, c in gap_rows]
    pv = [2 * stats.norm.sf(abs(e / s)) if s > 0 else float("nan") for e, s in zip(est, se)]
    rows = _effect_rows(MODEL_MIXED_LINEAR, SPEC_PROGRAMME, [t for t, _ in gap_rows], est, se, pv, None,
                        d.height, n_groups, primary_terms=set())
    return pl.DataFrame(rows, schema=SCORE_EFFECTS_SCHEMA)


def ethnicity_match(candidate_group: pl.Expr, member_group: pl.Expr) -> pl.Expr:
    """1 when member and candidate share a known WRES group (White/BME), 0 when they differ, null if either unknown."""
    known = candidate_group.is_in([WRES_WHITE, WRES_BME]) & member_group.is_in([WRES_WHITE, WRES_BME])
    return pl.when(known).then((candidate_group == member_group).cast(pl.Int64)).otherwise(None)


def fit_homophily(sheet_frame: pl.DataFrame) -> pl.DataFrame:
    """Sheet-level panel homophily: normalised_score on ethnicity_match with application and member fixed effects.

    Application effects absorb everything about the candidate (ethnicity, sex,
    vacancy, panel); member effects absorb each member's severity and their own
    ethnicity's main effect, so the match coefficient is the extra a member
    gives a candidate of their own WRES group.  SEs clustered by vacancy (CR1),
    t(G-1) intervals.  Needs columns application_id, vacancy_id, member_id,
    normalised_score, ethnicity_match (sheets with an unknown side dropped).
    """
    d = sheet_frame.filter(pl.col("ethnicity_match").is_not_null() & pl.col("normalised_score").is_not_null())
    # singletons carry no within information
    d = d.filter(pl.len().over("application_id") >= 2)
    if d.height < 10:
        return pl.DataFrame(schema=SCORE_EFFECTS_SCHEMA)
    # codes by first appearance (the marts' lineage order), never by the pseudonymous IDs
    a = cluster_codes(d["application_id"].to_numpy())
    b = cluster_codes(d["member_id"].to_numpy())
    g = cluster_codes(d["vacancy_id"].to_numpy())
    Z = demean_twoway(np.column_stack([d["normalised_score"].to_numpy().astype(float),
                                        d["ethnicity_match"].cast(pl.Float64).to_numpy()]), a, b)
    y, x = Z[:, 0], Z[:, 1]
    sxx = float(x @ x)
    n_groups = int(g.max() + 1)
    if sxx < 1e-12 or n_groups < 3:
        return pl.DataFrame(schema=SCORE_EFFECTS_SCHEMA)
    beta = float(x @ y) / sxx
    u = y - beta * x
    score_g = np.bincount(g, weights=x * u, minlength=n_groups)
    var = float(score_g @ score_g) / sxx**2 * n_groups / (n_groups - 1)
    se = math.sqrt(var)
    p = 2 * stats.t.sf(abs(beta / se), n_groups - 1) if se > 0 else float("nan")
    rows = _effect_rows(MODEL_LINEAR, SPEC_SHEET, [TERM_ETHNICITY_MATCH], [beta], [se], [p], n_groups - 1,
                        d.height, n_groups, primary_terms={TERM_ETHNICITY_MATCH})
    return pl.DataFrame(rows, schema=SCORE_EFFECTS_SCHEMA)
