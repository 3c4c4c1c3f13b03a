"""Pooled effect in trusts that adopt a rule against trusts that do not.

Reads one (estimate, standard error, adopted) triple per trust for one term, as
sequences, or a long polars frame.  Returns a frozen :class:`AdoptionComparison`:
the random-effects pooled estimate in each subgroup
(:func:`tasks.national.meta_analysis.random_effects`, each subgroup with its own
tau^2), the between-subgroup Q test, and a mixed-effects meta-regression on the
0/1 adoption indicator (one common residual tau^2 by REML).  Implements "the
pooled effect in adopters vs non-adopters" of issue 16 (docs/methods.md,
national evaluation section, still to be written).

* **Between-subgroup Q** (Borenstein et al. 2009, ch. 19, separate tau^2):
  ``Q_b = sum_g w_g (mu_g - mu_bar)^2`` with ``w_g = 1 / se_g^2`` over the two
  subgroup estimates, on 1 df; with two groups it equals
  ``(mu_1 - mu_0)^2 / (se_1^2 + se_0^2)``.  ``difference = mu_1 - mu_0``
  (adopters minus non-adopters) with that SE and a z interval.
* **Meta-regression**: ``y = b0 + b1 adopted + u + e``, ``u ~ N(0, tau^2)``, tau^2 by
  REML (:func:`tasks.national.meta_analysis.tau2_reml` with the design matrix), b1
  with its WLS SE, a z interval and a z-test p-value.

A subgroup with no usable trust has no estimate: the difference, Q_b and the
meta-regression are None with flag ``subgroup_without_trusts``; the meta-regression
also needs 3 trusts (flag ``meta_regression_needs_3_studies``).  Trusts with a
missing adoption value are left out and counted (flag ``adoption_unknown``).

Never reads files or the warehouse; never decides which trusts adopted a rule.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats

from tasks.national.meta_analysis import (
    IntervalMethod,
    PooledEffect,
    Tau2Method,
    random_effects,
    tau2_reml,
    weighted_fit,
)

FLAG_EMPTY_SUBGROUP = "subgroup_without_trusts"


FLAG_ADOPTION_UNKNOWN = "adoption_unknown"


FLAG_META_REGRESSION_SMALL = "meta_regression_needs_3_studies"


ERROR_LENGTHS = "estimates, std_errors and adopted must have the same length"


@dataclass(frozen=True)
class AdoptionComparison:
    """Adopters against non-adopters for one term (None where undefined; ``flags`` say why)."""

    adopters: PooledEffect
    non_adopters: PooledEffect
    difference: float | None
    difference_std_error: float | None
    difference_ci_low: float | None
    difference_ci_high: float | None
    q_between: float | None
    q_between_p_value: float | None
    regression_coefficient: float | None
    regression_std_error: float | None
    regression_ci_low: float | None
    regression_ci_high: float | None
    regression_p_value: float | None
    regression_tau2: float | None
    adoption_unknown: int
    flags: tuple[str, ...]


def _meta_regression(estimates, std_errors, adopted: np.ndarray, z: float) -> tuple | None:
    """(b1, se, low, high, p, tau2) of the REML meta-regression on adoption, or None when not estimable."""
    y = np.array([np.nan if e is None else e for e in estimates], dtype=float)
    se = np.array([np.nan if e is None else e for e in std_errors], dtype=float)
    keep = np.isfinite(y) & np.isfinite(se) & (se > 0)
    y, v, a = y[keep], se[keep] ** 2, adopted[keep]
    if y.size < 3 or a.min() == a.max():
        return None
    design = np.column_stack([np.ones(y.size), a])
    tau2, _ = tau2_reml(estimates=y, variances=v, design=design)
    beta, cov = weighted_fit(estimates=y, variances=v, tau2=tau2, design=design)
    b1, s1 = float(beta[1]), math.sqrt(float(cov[1, 1]))
    return b1, s1, b1 - z * s1, b1 + z * s1, float(2 * stats.norm.sf(abs(b1 / s1))), tau2


def compare_adopters(*, estimates, std_errors, adopted, method: Tau2Method = "reml",
                     interval: IntervalMethod = "z", level: float = 0.95) -> AdoptionComparison:
    """Subgroup random-effects estimates, the between-subgroup Q test and the meta-regression on adoption.

    Parameters
    ----------
    estimates, std_errors:
        One log-odds estimate and SE per trust (None or non-finite: left out, see
        :func:`tasks.national.meta_analysis.random_effects`).
    adopted:
        One bool (or 0/1) per trust, None when unknown.
    method, interval, level:
        Passed to :func:`tasks.national.meta_analysis.random_effects` for each subgroup.

    Returns
    -------
    An :class:`AdoptionComparison` (adopters minus non-adopters).
    """
    if not len(estimates) == len(std_errors) == len(adopted):
        raise ValueError(ERROR_LENGTHS)
    known = [a is not None for a in adopted]
    unknown = len(adopted) - sum(known)
    y = [e for e, ok in zip(estimates, known) if ok]
    s = [e for e, ok in zip(std_errors, known) if ok]
    a = np.array([bool(x) for x in adopted if x is not None], dtype=float)
    groups = {}
    for label, value in (("adopters", 1.0), ("non_adopters", 0.0)):
        idx = [i for i, x in enumerate(a) if x == value]
        groups[label] = random_effects(estimates=[y[i] for i in idx], std_errors=[s[i] for i in idx],
                                       method=method, interval=interval, level=level)
    flags = [FLAG_ADOPTION_UNKNOWN] if unknown else []
    z = float(stats.norm.ppf(0.5 + level / 2))
    one, zero = groups["adopters"], groups["non_adopters"]
    diff = diff_se = diff_low = diff_high = q_b = q_p = None
    if one.std_error is not None and zero.std_error is not None:
        diff = one.estimate - zero.estimate
        diff_se = math.sqrt(one.std_error ** 2 + zero.std_error ** 2)
        diff_low, diff_high = diff - z * diff_se, diff + z * diff_se
        q_b = diff ** 2 / diff_se ** 2
        q_p = float(stats.chi2.sf(q_b, 1))
    else:
        flags.append(FLAG_EMPTY_SUBGROUP)
    reg = _meta_regression(y, s, a, z) if a.size else None
    if reg is None and diff is not None:
        flags.append(FLAG_META_REGRESSION_SMALL)
    reg = reg or (None,) * 6
    return AdoptionComparison(one, zero, diff, diff_se, diff_low, diff_high, q_b, q_p, *reg,
                              adoption_unknown=unknown, flags=tuple(flags))


ADOPTION_SCHEMA: dict[str, pl.DataType] = {
    "term": pl.String, "rule": pl.String, "adopters_k": pl.Int64, "adopters_estimate": pl.Float64,
    "adopters_std_error": pl.Float64, "adopters_tau2": pl.Float64, "non_adopters_k": pl.Int64,
    "non_adopters_estimate": pl.Float64, "non_adopters_std_error": pl.Float64, "non_adopters_tau2": pl.Float64,
    "difference": pl.Float64, "difference_std_error": pl.Float64, "difference_ci_low": pl.Float64,
    "difference_ci_high": pl.Float64, "q_between": pl.Float64, "q_between_p_value": pl.Float64,
    "regression_coefficient": pl.Float64, "regression_std_error": pl.Float64, "regression_p_value": pl.Float64,
    "regression_tau2": pl.Float64, "adoption_unknown": pl.Int64, "flags": pl.String,
}


def adoption_comparison_row(comparison: AdoptionComparison, *, term: str, rule: str) -> dict:
    """One :data:`ADOPTION_SCHEMA` row; the subgroup flags are prefixed ``adopters:`` / ``non_adopters:``."""
    one, zero = comparison.adopters, comparison.non_adopters
    flags = list(comparison.flags) + [f"adopters:{f}" for f in one.flags] + [f"non_adopters:{f}" for f in zero.flags]
    return {
        "term": term, "rule": rule, "adopters_k": one.k, "adopters_estimate": one.estimate,
        "adopters_std_error": one.std_error, "adopters_tau2": one.tau2, "non_adopters_k": zero.k,
        "non_adopters_estimate": zero.estimate, "non_adopters_std_error": zero.std_error,
        "non_adopters_tau2": zero.tau2, "difference": comparison.difference,
        "difference_std_error": comparison.difference_std_error, "difference_ci_low": comparison.difference_ci_low,
        "difference_ci_high": comparison.difference_ci_high, "q_between": comparison.q_between,
        "q_between_p_value": comparison.q_between_p_value,
        "regression_coefficient": comparison.regression_coefficient,
        "regression_std_error": comparison.regression_std_error,
        "regression_p_value": comparison.regression_p_value, "regression_tau2": comparison.regression_tau2,
        "adoption_unknown": comparison.adoption_unknown, "flags": ";".join(flags),
    }
