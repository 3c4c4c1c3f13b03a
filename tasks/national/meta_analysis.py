"""Random-effects meta-analysis of one model term across trusts.

Reads (estimate, standard error) pairs on the log-odds scale, one per trust,
as numpy arrays, or a long polars frame of (term, estimate, std_error) rows.
Returns a frozen :class:`PooledEffect` per term (or one frame row per term):
the pooled estimate with its SE, confidence interval and p-value, tau^2, tau,
I^2, Cochran's Q with its p-value, the number of trusts used and excluded, and
the 95% prediction interval.  Implements the pooled-analysis part of issue 16
(docs/methods.md, national evaluation section, still to be written).

Method (documented rules):

* **tau^2.** ``"reml"`` (default): restricted maximum likelihood by Fisher
  scoring on tau^2 with step halving, truncated at 0 (the scoring of metafor's
  ``rma.uni``), started from the DerSimonian-Laird value.  ``"dl"``:
  DerSimonian-Laird (1986), the one-step moment estimator, kept as the
  cross-check.  :func:`tau2_reml` also takes a design matrix, so the same code
  fits the meta-regression on adoption in :mod:`tasks.national.adoption`.
* **Interval.** ``"z"`` (default): ``mu -/+ z se`` with ``se^2 = 1 / sum w*``,
  ``w* = 1 / (v + tau^2)``.  ``"hartung_knapp"``: Hartung-Knapp(-Sidik-Jonkman)
  ``se^2 = sum w* (y - mu)^2 / ((k - 1) sum w*)`` with t on k - 1 df, untruncated.
* **Heterogeneity.** Q is the fixed-effect Cochran Q on k - 1 df; I^2 is
  Higgins and Thompson's ``max(0, (Q - df) / Q)`` (0 when Q = 0), whichever
  tau^2 method is chosen.
* **Prediction interval** (Higgins, Thompson and Spiegelhalter 2009):
  ``mu -/+ t(k-2) sqrt(tau^2 + se^2)`` with the z-interval se.

Edge cases never raise and never return NaN: a trust with a missing or
non-finite estimate or SE, or SE <= 0, is left out and counted in
``excluded`` (flag ``excluded_missing_std_error``).  k = 0: every statistic is
None (flag ``no_studies``).  k = 1: tau^2 cannot be estimated, so it is 0, the
pooled value is that trust's own, Q, I^2 and the Hartung-Knapp interval are
None (flag ``single_study``).  k < 3: no prediction interval (flag
``prediction_interval_needs_3_studies``).  tau^2 = 0 is an ordinary answer.

Never reads files, the warehouse or Prefect state; never draws.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import polars as pl
from scipy import stats

Tau2Method = Literal["reml", "dl"]


IntervalMethod = Literal["z", "hartung_knapp"]


FLAG_EXCLUDED = "excluded_missing_std_error"


FLAG_NO_STUDIES = "no_studies"


FLAG_SINGLE_STUDY = "single_study"


FLAG_NO_PREDICTION = "prediction_interval_needs_3_studies"


FLAG_REML_NOT_CONVERGED = "reml_not_converged"


REML_TOLERANCE = 1e-10


ERROR_LENGTHS = "estimates and std_errors must have the same length"


REML_MAX_ITERATIONS = 200


POOLED_SCHEMA: dict[str, pl.DataType] = {
    "term": pl.String, "estimate": pl.Float64, "std_error": pl.Float64, "ci_low": pl.Float64,
    "ci_high": pl.Float64, "p_value": pl.Float64, "tau2": pl.Float64, "tau": pl.Float64, "i2": pl.Float64,
    "q": pl.Float64, "q_df": pl.Int64, "q_p_value": pl.Float64, "prediction_low": pl.Float64,
    "prediction_high": pl.Float64, "k": pl.Int64, "excluded": pl.Int64, "method": pl.String,
    "interval": pl.String, "flags": pl.String,
}


@dataclass(frozen=True)
class PooledEffect:
    """A random-effects pooled estimate of one term (None where undefined; ``flags`` say why).

    ``std_error`` is the SE behind the confidence interval: the model SE ``1 / sqrt(sum w*)`` for
    ``interval="z"``, the Hartung-Knapp SE for ``"hartung_knapp"``.
    """

    estimate: float | None
    std_error: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    tau2: float | None
    tau: float | None
    i2: float | None
    q: float | None
    q_df: int | None
    q_p_value: float | None
    prediction_low: float | None
    prediction_high: float | None
    k: int
    excluded: int
    method: str
    interval: str
    flags: tuple[str, ...]

    def as_row(self) -> dict:
        """The fields as one frame row, flags joined by ";"."""
        row = asdict(self)
        row["flags"] = ";".join(self.flags)
        return row


def usable_studies(*, estimates, std_errors) -> tuple[np.ndarray, np.ndarray, int]:
    """``(estimates, variances, excluded)`` keeping trusts with a finite estimate and a finite SE > 0.

    None in either input counts as missing.
    """
    y = np.array([np.nan if e is None else e for e in estimates], dtype=float)
    se = np.array([np.nan if s is None else s for s in std_errors], dtype=float)
    if y.shape != se.shape:
        raise ValueError(ERROR_LENGTHS)
    keep = np.isfinite(y) & np.isfinite(se) & (se > 0)
    return y[keep], se[keep] ** 2, int((~keep).sum())


def cochran_q(*, estimates: np.ndarray, variances: np.ndarray) -> float:
    """Fixed-effect Cochran Q: ``sum w (y - ybar_w)^2`` with ``w = 1 / v``."""
    w = 1.0 / variances
    mean = float(np.sum(w * estimates) / np.sum(w))
    return float(np.sum(w * (estimates - mean) ** 2))


def tau2_dersimonian_laird(*, estimates: np.ndarray, variances: np.ndarray) -> float:
    """DerSimonian-Laird moment estimate ``max(0, (Q - (k-1)) / (sum w - sum w^2 / sum w))``; 0 when k < 2."""
    if estimates.size < 2:
        return 0.0
    w = 1.0 / variances
    q = cochran_q(estimates=estimates, variances=variances)
    c = float(np.sum(w) - np.sum(w ** 2) / np.sum(w))
    return max(0.0, (q - (estimates.size - 1)) / c)


def _p_matrix(variances: np.ndarray, tau2: float, design: np.ndarray) -> np.ndarray:
    """``P = W - W X (X'WX)^-1 X'W`` with ``W = diag(1 / (v + tau^2))``."""
    w = 1.0 / (variances + tau2)
    wx = design * w[:, None]
    return np.diag(w) - wx @ np.linalg.solve(design.T @ wx, wx.T)


def restricted_log_likelihood(*, tau2: float, estimates: np.ndarray, variances: np.ndarray,
                              design: np.ndarray | None = None) -> float:
    """REML log-likelihood of tau^2, up to a constant: ``-1/2 [sum log(v+t) + log|X'WX| + y'Py]``."""
    w = 1.0 / (variances + tau2)
    if design is None:
        sw = float(np.sum(w))
        resid = estimates - float(np.sum(w * estimates)) / sw
        return -0.5 * (float(np.sum(np.log(variances + tau2))) + math.log(sw) + float(np.sum(w * resid ** 2)))
    _, logdet = np.linalg.slogdet(design.T @ (design * w[:, None]))
    py = _p_matrix(variances, tau2, design) @ estimates
    return -0.5 * (float(np.sum(np.log(variances + tau2))) + float(logdet) + float(estimates @ py))


def _fisher_scoring_step(estimates: np.ndarray, variances: np.ndarray, tau2: float,
                         design: np.ndarray | None) -> float:
    """Score / expected information of the REML likelihood: ``(y'PPy - tr P) / tr(PP)``.

    With the intercept alone ``P = W - w w' / sum w``, so the traces have closed forms
    and no k x k matrix is built.
    """
    if design is None:
        w = 1.0 / (variances + tau2)
        sw, sw2 = float(np.sum(w)), float(np.sum(w ** 2))
        py = w * (estimates - float(np.sum(w * estimates)) / sw)
        trace_p = sw - sw2 / sw
        trace_pp = sw2 - 2 * float(np.sum(w ** 3)) / sw + (sw2 / sw) ** 2
        return (float(py @ py) - trace_p) / trace_pp
    p = _p_matrix(variances, tau2, design)
    py = p @ estimates
    return float(py @ py - np.trace(p)) / float(np.sum(p * p.T))


def tau2_reml(*, estimates: np.ndarray, variances: np.ndarray, design: np.ndarray | None = None,
              tolerance: float = REML_TOLERANCE, max_iterations: int = REML_MAX_ITERATIONS) -> tuple[float, bool]:
    """REML estimate of tau^2 by Fisher scoring, truncated at 0, with step halving.

    Parameters
    ----------
    estimates, variances:
        One value per trust (variances = SE^2), all finite, variances > 0.
    design:
        k x p design matrix (default: the intercept alone, i.e. the plain random-effects model).
    tolerance, max_iterations:
        Stop when a step changes tau^2 by less than ``tolerance * (1 + tau^2)``.

    Returns
    -------
    ``(tau2, converged)``.  With k - p < 1 residual degrees of freedom tau^2 is not
    estimable: ``(0.0, True)``, and the caller flags it.
    """
    x = np.ones((estimates.size, 1)) if design is None else design
    if estimates.size - x.shape[1] < 1:
        return 0.0, True

    def loglik(t: float) -> float:
        return restricted_log_likelihood(tau2=t, estimates=estimates, variances=variances, design=design)

    tau2 = tau2_dersimonian_laird(estimates=estimates, variances=variances) if design is None else 0.0
    current = loglik(tau2)
    for _ in range(max_iterations):
        step = _fisher_scoring_step(estimates, variances, tau2, design)
        new = max(0.0, tau2 + step)
        new_ll = loglik(new)
        for _ in range(30):
            if new_ll >= current - 1e-12:
                break
            step /= 2
            new = max(0.0, tau2 + step)
            new_ll = loglik(new)
        if abs(new - tau2) < tolerance * (1 + tau2):
            return new, True
        tau2, current = new, new_ll
    return tau2, False


def weighted_fit(*, estimates: np.ndarray, variances: np.ndarray, tau2: float,
                 design: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares with weights ``1 / (v + tau^2)``: ``(coefficients, covariance)``."""
    x = np.ones((estimates.size, 1)) if design is None else design
    w = 1.0 / (variances + tau2)
    xtwx = x.T @ (x * w[:, None])
    cov = np.linalg.inv(xtwx)
    return cov @ (x.T @ (w * estimates)), cov


def _empty(*, excluded: int, method: str, interval: str) -> PooledEffect:
    flags = (FLAG_NO_STUDIES,) + ((FLAG_EXCLUDED,) if excluded else ())
    return PooledEffect(None, None, None, None, None, None, None, None, None, None, None, None, None,
                        0, excluded, method, interval, flags)


def random_effects(*, estimates, std_errors, method: Tau2Method = "reml", interval: IntervalMethod = "z",
                   level: float = 0.95) -> PooledEffect:
    """Random-effects pooled estimate of one term across trusts.

    Parameters
    ----------
    estimates, std_errors:
        One log-odds estimate and its SE per trust (sequences of equal length; None or
        non-finite values mark a trust to leave out).
    method:
        tau^2 estimator, ``"reml"`` or ``"dl"`` (DerSimonian-Laird).
    interval:
        ``"z"`` (normal) or ``"hartung_knapp"`` (t on k - 1 df) confidence interval and p-value.
    level:
        Coverage of the confidence and prediction intervals.

    Returns
    -------
    A :class:`PooledEffect`; see the module docstring for k = 0, 1, 2 and tau^2 = 0.
    """
    y, v, excluded = usable_studies(estimates=estimates, std_errors=std_errors)
    k = int(y.size)
    if k == 0:
        return _empty(excluded=excluded, method=method, interval=interval)
    flags: list[str] = [FLAG_EXCLUDED] if excluded else []
    if method == "reml":
        tau2, converged = tau2_reml(estimates=y, variances=v)
        if not converged:
            flags.append(FLAG_REML_NOT_CONVERGED)
    else:
        tau2 = tau2_dersimonian_laird(estimates=y, variances=v)
    beta, cov = weighted_fit(estimates=y, variances=v, tau2=tau2)
    mu, se = float(beta[0]), math.sqrt(float(cov[0, 0]))
    half_level = 0.5 + level / 2
    if k == 1:
        flags.append(FLAG_SINGLE_STUDY)
        q = q_df = q_p = i2 = None
    else:
        q, q_df = cochran_q(estimates=y, variances=v), k - 1
        q_p = float(stats.chi2.sf(q, q_df))
        i2 = max(0.0, (q - q_df) / q) if q > 0 else 0.0
    ci_se, crit, p_value = se, float(stats.norm.ppf(half_level)), float(2 * stats.norm.sf(abs(mu / se)))
    if interval == "hartung_knapp":
        ci_se = crit = p_value = None
        if k > 1:
            w = 1.0 / (v + tau2)
            ci_se = math.sqrt(float(np.sum(w * (y - mu) ** 2)) / ((k - 1) * float(np.sum(w))))
            crit = float(stats.t.ppf(half_level, k - 1))
            p_value = float(2 * stats.t.sf(abs(mu / ci_se), k - 1)) if ci_se > 0 else (1.0 if mu == 0 else 0.0)
    ci_low, ci_high = (None, None) if ci_se is None else (mu - crit * ci_se, mu + crit * ci_se)
    pred_low = pred_high = None
    if k >= 3:
        half = float(stats.t.ppf(half_level, k - 2)) * math.sqrt(tau2 + se * se)
        pred_low, pred_high = mu - half, mu + half
    else:
        flags.append(FLAG_NO_PREDICTION)
    return PooledEffect(mu, se if interval == "z" else ci_se, ci_low, ci_high, p_value, tau2, math.sqrt(tau2), i2,
                        q, q_df, q_p, pred_low, pred_high, k, excluded, method, interval, tuple(flags))


def pool_terms(coefficients: pl.DataFrame, *, method: Tau2Method = "reml", interval: IntervalMethod = "z",
               level: float = 0.95) -> pl.DataFrame:
    """One pooled row per term (:data:`POOLED_SCHEMA`), terms in order of first appearance.

    ``coefficients`` has one row per (trust, term) with ``term``, ``estimate`` and
    ``std_error`` (log-odds scale); other columns, e.g. ``trust_code``, are ignored.
    """
    rows = []
    for term in coefficients.get_column("term").unique(maintain_order=True).to_list():
        part = coefficients.filter(pl.col("term") == term)
        pooled = random_effects(estimates=part.get_column("estimate").to_list(),
                                std_errors=part.get_column("std_error").to_list(),
                                method=method, interval=interval, level=level)
        rows.append({"term": term, **pooled.as_row()})
    return pl.DataFrame(rows, schema=POOLED_SCHEMA) if rows else pl.DataFrame(schema=POOLED_SCHEMA)
