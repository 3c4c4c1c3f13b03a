"""Funnel plot of WRES indicator 2 across trusts (Spiegelhalter 2005, Statistics in Medicine 24:1185).

Reads one row per trust: ``trust_code`` and the four counts ``shortlisted_white``,
``appointed_white``, ``shortlisted_bme``, ``appointed_bme`` (null = suppressed).
Returns a frozen :class:`FunnelPlot`: each trust's log relative likelihood, its
control limits, z-score and position, and the curve of the limits against the
shortlisted BME count, the funnel's precision axis.  Implements "a funnel plot"
of issue 16 (docs/methods.md, national evaluation section, still to be written).

The exact choices:

* **Target** ``theta0 = log(p_w / p_b)`` with ``p_w = A_w / S_w`` and
  ``p_b = A_b / S_b`` summed over the trusts with complete counts (no
  zero-cell correction: with 0 or all appointed in a national group, or no
  shortlisted applicant, the target is undefined, every trust is
  ``not_plotted``, flag ``national_value_undefined``).
* **Trust value** ``y = log RL`` with :func:`tasks.national.wres_pooled.log_relative_likelihood`
  (Haldane-Anscombe 0.5 when a cell is 0, flag ``zero_cell_haldane``; no
  shortlisted applicant in a group or a suppressed count: ``not_plotted``).
  ``std_error`` is that trust's observed Katz SE, reported but not used for limits.
* **Limits** are drawn under the null that the trust has the national rates:
  the Katz variance at the expected counts ``a = p s`` is
  ``s0^2 = (1 - p_w) / (p_w s_w) + (1 - p_b) / (p_b s_b)``, and the limits are
  ``theta0 -/+ z s0`` with z = 1.960 (95%) and 3.090 (99.8%).  A trust is judged
  against the limits at its own ``s_w`` and ``s_b`` (columns ``lower_998`` ...
  ``upper_998``).  The drawn **curve** expresses ``s0`` as a function of the
  BME shortlisted count ``x`` at the national White/BME mix ``r = S_w / S_b``:
  ``s0(x)^2 = (1 - p_w) / (p_w r x) + (1 - p_b) / (p_b x)``; so a trust whose
  mix differs from the national one may sit on the other side of the drawn
  curve from its own flag, and its own limits are the ones that count.
* **Position** ``above_99_8`` / ``above_95`` / ``inside`` / ``below_95`` /
  ``below_99_8``: above means White shortlisted applicants are relatively more
  likely to be appointed than nationally.  Points on a limit are inside.
* **Overdispersion** (Spiegelhalter 2005 section 3.3), optional: z-scores
  ``z = (y - theta0) / s0`` of the plotted trusts are winsorised (the lowest and
  highest 10% set to the 10th and 90th percentiles), ``phi = mean(z_w^2)``.
  ``"multiplicative"``: limits ``theta0 -/+ z sqrt(phi) s0`` when phi > 1 (never
  narrowed).  ``"additive"``: ``tau^2 = max(0, (I phi - (I - 1)) / (sum w -
  sum w^2 / sum w))``, ``w = 1 / s0^2`` (the DerSimonian-Laird form), limits
  ``theta0 -/+ z sqrt(s0^2 + tau^2)``.  Fewer than 2 plotted trusts: no
  adjustment, flag ``overdispersion_needs_2_trusts``.  The reported ``z_score``
  is ``(y - theta0) / sqrt(phi s0^2 + tau^2)``, i.e. after any adjustment.

Never draws (the report draws from these frames), never reads files, never names
a trust beyond the ``trust_code`` it was given.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl
from scipy import stats

from tasks.national.wres_pooled import COUNT_COLUMNS, log_relative_likelihood

Overdispersion = Literal["none", "multiplicative", "additive"]


INNER_LEVEL, OUTER_LEVEL = 0.95, 0.998


DEFAULT_WINSORISE = 0.10


POSITION_ABOVE_OUTER, POSITION_ABOVE_INNER = "above_99_8", "above_95"


POSITION_INSIDE = "inside"


POSITION_BELOW_INNER, POSITION_BELOW_OUTER = "below_95", "below_99_8"


POSITION_NOT_PLOTTED = "not_plotted"


FLAG_NATIONAL_UNDEFINED = "national_value_undefined"


FLAG_SUPPRESSED = "suppressed_counts"


FLAG_FEW_TRUSTS = "overdispersion_needs_2_trusts"


LIMIT_COLUMNS: tuple[str, ...] = ("lower_998", "lower_95", "upper_95", "upper_998")


@dataclass(frozen=True)
class NationalTarget:
    """National appointment rates, White/BME mix and target ``theta0`` (None when undefined)."""

    rate_white: float | None
    rate_bme: float | None
    white_per_bme: float | None
    theta0: float | None


@dataclass(frozen=True)
class FunnelPlot:
    """Trust rows, the drawn curve, the target and the overdispersion used (phi = 1, tau2 = 0: none)."""

    trusts: pl.DataFrame
    curve: pl.DataFrame
    target: NationalTarget
    overdispersion: str
    phi: float
    tau2: float
    flags: tuple[str, ...]


def national_target(*, shortlisted_white: int, appointed_white: int, shortlisted_bme: int,
                    appointed_bme: int) -> NationalTarget:
    """Rates and ``theta0 = log(p_w / p_b)`` from summed counts; theta0 None unless 0 < p < 1 in both groups."""
    p_w = appointed_white / shortlisted_white if shortlisted_white else None
    p_b = appointed_bme / shortlisted_bme if shortlisted_bme else None
    mix = shortlisted_white / shortlisted_bme if shortlisted_bme else None
    defined = p_w is not None and p_b is not None and 0 < p_w < 1 and 0 < p_b < 1
    return NationalTarget(p_w, p_b, mix, math.log(p_w / p_b) if defined else None)


def null_std_error(*, shortlisted_white, shortlisted_bme, target: NationalTarget):
    """SE of log RL under the national rates: ``sqrt((1-p_w)/(p_w s_w) + (1-p_b)/(p_b s_b))`` (arrays work)."""
    p_w, p_b = target.rate_white, target.rate_bme
    return np.sqrt((1 - p_w) / (p_w * np.asarray(shortlisted_white, dtype=float))
                   + (1 - p_b) / (p_b * np.asarray(shortlisted_bme, dtype=float)))


def control_limits(*, null_std_errors, theta0: float, phi: float = 1.0, tau2: float = 0.0) -> dict[str, np.ndarray]:
    """``theta0 -/+ z * sqrt(phi * s0^2 + tau2)`` at 95% and 99.8%, keyed by :data:`LIMIT_COLUMNS`."""
    s = np.sqrt(phi * np.asarray(null_std_errors, dtype=float) ** 2 + tau2)
    z_in, z_out = (float(stats.norm.ppf(0.5 + level / 2)) for level in (INNER_LEVEL, OUTER_LEVEL))
    return {"lower_998": theta0 - z_out * s, "lower_95": theta0 - z_in * s,
            "upper_95": theta0 + z_in * s, "upper_998": theta0 + z_out * s}


def estimate_overdispersion(*, z_scores: np.ndarray, null_std_errors: np.ndarray, method: Overdispersion,
                            winsorise: float = DEFAULT_WINSORISE) -> tuple[float, float]:
    """``(phi, tau2)`` to apply (see the module docstring); ``(1.0, 0.0)`` for ``"none"`` or < 2 trusts."""
    if method == "none" or z_scores.size < 2:
        return 1.0, 0.0
    low, high = np.quantile(z_scores, [winsorise, 1 - winsorise])
    phi = float(np.mean(np.clip(z_scores, low, high) ** 2))
    if method == "multiplicative":
        return max(phi, 1.0), 0.0
    w = 1.0 / null_std_errors ** 2
    n = z_scores.size
    tau2 = max(0.0, (n * phi - (n - 1)) / float(np.sum(w) - np.sum(w ** 2) / np.sum(w)))
    return 1.0, tau2


def position(*, value: float, limits: dict[str, float]) -> str:
    """Where ``value`` lies against one trust's limits (points on a limit are inside)."""
    if value > limits["upper_998"]:
        return POSITION_ABOVE_OUTER
    if value > limits["upper_95"]:
        return POSITION_ABOVE_INNER
    if value < limits["lower_998"]:
        return POSITION_BELOW_OUTER
    if value < limits["lower_95"]:
        return POSITION_BELOW_INNER
    return POSITION_INSIDE


def funnel_curve(*, target: NationalTarget, max_shortlisted_bme: float, phi: float = 1.0, tau2: float = 0.0,
                 points: int = 200) -> pl.DataFrame:
    """The drawn limits against the BME shortlisted count x (1 to the largest trust's) at the national mix."""
    cols = {"shortlisted_bme": pl.Float64, "null_std_error": pl.Float64} | {c: pl.Float64 for c in LIMIT_COLUMNS}
    if target.theta0 is None:
        return pl.DataFrame(schema=cols)
    x = np.geomspace(1.0, max(float(max_shortlisted_bme), 2.0), points)
    s0 = null_std_error(shortlisted_white=target.white_per_bme * x, shortlisted_bme=x, target=target)
    limits = control_limits(null_std_errors=s0, theta0=target.theta0, phi=phi, tau2=tau2)
    return pl.DataFrame({"shortlisted_bme": x, "null_std_error": s0, **limits}, schema=cols)


def _trust_values(counts: pl.DataFrame, target: NationalTarget) -> list[dict]:
    """log RL, observed SE, null SE and flags per trust (``y`` None when not plotted)."""
    rows = []
    for r in counts.select(COUNT_COLUMNS).iter_rows(named=True):
        if any(r[c] is None for c in COUNT_COLUMNS):
            rows.append({"y": None, "se": None, "s0": None, "flags": (FLAG_SUPPRESSED,)})
            continue
        lr = log_relative_likelihood(**{c: int(r[c]) for c in COUNT_COLUMNS})
        flags = lr.flags + ((FLAG_NATIONAL_UNDEFINED,) if target.theta0 is None else ())
        plotted = lr.log_rl is not None and target.theta0 is not None
        s0 = float(null_std_error(shortlisted_white=r["shortlisted_white"], shortlisted_bme=r["shortlisted_bme"],
                                  target=target)) if plotted else None
        rows.append({"y": lr.log_rl if plotted else None, "se": lr.std_error, "s0": s0, "flags": flags})
    return rows


def funnel_plot(counts: pl.DataFrame, *, overdispersion: Overdispersion = "none",
                winsorise: float = DEFAULT_WINSORISE, curve_points: int = 200) -> FunnelPlot:
    """Funnel plot data of WRES indicator 2: trust positions against 95% and 99.8% limits.

    Parameters
    ----------
    counts:
        One row per trust with ``trust_code`` and :data:`tasks.national.wres_pooled.COUNT_COLUMNS`.
    overdispersion:
        ``"none"``, ``"multiplicative"`` (phi) or ``"additive"`` (tau^2).
    winsorise:
        Share of z-scores winsorised at each end before phi is estimated.
    curve_points:
        Number of points of the drawn curve.

    Returns
    -------
    A :class:`FunnelPlot`; ``trusts`` is ``counts`` plus ``relative_likelihood``,
    ``log_relative_likelihood``, ``std_error``, ``null_std_error``, ``z_score``, the
    :data:`LIMIT_COLUMNS` (log scale), ``position`` and ``flags``.
    """
    complete = counts.drop_nulls(list(COUNT_COLUMNS))
    target = national_target(**{c: int(complete.get_column(c).sum() or 0) for c in COUNT_COLUMNS})
    values = _trust_values(counts, target)
    plotted = [v for v in values if v["y"] is not None]
    z = np.array([(v["y"] - target.theta0) / v["s0"] for v in plotted])
    s0 = np.array([v["s0"] for v in plotted])
    phi, tau2 = estimate_overdispersion(z_scores=z, null_std_errors=s0, method=overdispersion, winsorise=winsorise)
    flags = (FLAG_FEW_TRUSTS,) if overdispersion != "none" and len(plotted) < 2 else ()
    flags += (FLAG_NATIONAL_UNDEFINED,) if target.theta0 is None else ()
    rows = []
    for v in values:
        row = {"relative_likelihood": None, "log_relative_likelihood": v["y"], "std_error": v["se"],
               "null_std_error": v["s0"], "z_score": None, **{c: None for c in LIMIT_COLUMNS},
               "position": POSITION_NOT_PLOTTED, "flags": ";".join(v["flags"])}
        if v["y"] is not None:
            limits = {k: float(x) for k, x in control_limits(null_std_errors=v["s0"], theta0=target.theta0,
                                                              phi=phi, tau2=tau2).items()}
            row.update(limits, relative_likelihood=math.exp(v["y"]), position=position(value=v["y"], limits=limits),
                       z_score=(v["y"] - target.theta0) / math.sqrt(phi * v["s0"] ** 2 + tau2))
        rows.append(row)
    schema = {c: pl.Float64 for c in ("relative_likelihood", "log_relative_likelihood", "std_error",
                                      "null_std_error", "z_score", *LIMIT_COLUMNS)}
    trusts = counts.hstack(pl.DataFrame(rows, schema=schema | {"position": pl.String, "flags": pl.String}))
    max_x = max([float(x) for x in counts.get_column("shortlisted_bme").drop_nulls().to_list()] or [2.0])
    curve = funnel_curve(target=target, max_shortlisted_bme=max_x, phi=phi, tau2=tau2, points=curve_points)
    return FunnelPlot(trusts, curve, target, overdispersion, phi, tau2, flags)
