"""Funnel plot of WRES indicator 2: limits against the closed form, planted outliers, overdispersion, edge cases."""
from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from tasks.national.funnel_plot import (
    FLAG_NATIONAL_UNDEFINED,
    POSITION_ABOVE_OUTER,
    POSITION_BELOW_INNER,
    POSITION_INSIDE,
    POSITION_NOT_PLOTTED,
    estimate_overdispersion,
    funnel_plot,
)

Z95, Z998 = 1.959963984540054, 3.090232306167813


def trusts(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["trust_code", "shortlisted_white", "appointed_white", "shortlisted_bme",
                                      "appointed_bme"], orient="row")


def test_limits_equal_the_closed_form():
    """Totals: White 60/300 = 0.2, BME 20/150 = 2/15; theta0 = log 1.5."""
    f = funnel_plot(trusts([("A", 200, 40, 100, 10), ("B", 100, 20, 50, 10)]))
    assert f.target.theta0 == pytest.approx(math.log(1.5))
    a = f.trusts.row(0, named=True)
    s0 = math.sqrt(0.8 / (0.2 * 200) + (13 / 15) / ((2 / 15) * 100))  # sqrt(0.02 + 0.065)
    assert a["null_std_error"] == pytest.approx(s0)
    assert a["upper_95"] == pytest.approx(math.log(1.5) + Z95 * s0)
    assert a["lower_998"] == pytest.approx(math.log(1.5) - Z998 * s0)
    assert a["log_relative_likelihood"] == pytest.approx(math.log(2.0))
    assert a["std_error"] == pytest.approx(math.sqrt(0.11))  # observed Katz SE, reported only
    assert a["z_score"] == pytest.approx((math.log(2.0) - math.log(1.5)) / s0)
    assert a["position"] == POSITION_INSIDE


def test_curve_at_a_trust_with_the_national_mix_passes_through_its_limits():
    f = funnel_plot(trusts([("A", 200, 40, 100, 10), ("B", 100, 20, 50, 10)]), curve_points=50)
    b = f.trusts.row(1, named=True)
    x = f.curve.get_column("shortlisted_bme").to_numpy()
    at = np.interp(50.0, x, f.curve.get_column("upper_998").to_numpy())
    assert at == pytest.approx(b["upper_998"], rel=1e-3)  # B has the national 2:1 mix
    assert x[0] == 1.0 and x[-1] == pytest.approx(100.0)


def national_like(n: int) -> list[tuple]:
    """Trusts at exactly the national rates (White 20%, BME 15%), of several sizes."""
    return [(f"T{i:02d}", 20 * (i + 2), 4 * (i + 2), 20 * (i + 2), 3 * (i + 2)) for i in range(n)]


def test_a_planted_outlier_is_flagged():
    rows = national_like(20) + [("OUT", 400, 120, 400, 40), ("LOW", 100, 12, 100, 20)]
    f = funnel_plot(trusts(rows))
    pos = dict(zip(f.trusts["trust_code"], f.trusts["position"]))
    assert pos["OUT"] == POSITION_ABOVE_OUTER  # RL 3 at 400 BME shortlisted
    assert pos["LOW"] == POSITION_BELOW_INNER  # RL 0.6 at 100 against about 1.4 nationally: z = -2.73
    assert all(pos[f"T{i:02d}"] == POSITION_INSIDE for i in range(20))


def test_multiplicative_overdispersion_by_hand():
    z = np.array([-3.0, -1.0, -0.5, 0.0, 0.2, 0.4, 0.6, 1.0, 1.5, 4.0])
    low, high = np.quantile(z, [0.1, 0.9])
    phi = float(np.mean(np.clip(z, low, high) ** 2))
    assert estimate_overdispersion(z_scores=z, null_std_errors=np.ones(10), method="multiplicative") == (
        pytest.approx(max(phi, 1.0)), 0.0)
    assert estimate_overdispersion(z_scores=z / 10, null_std_errors=np.ones(10), method="multiplicative") == (1.0, 0.0)


def test_additive_overdispersion_by_hand():
    z = np.array([-2.5, -2.0, -1.0, 0.0, 1.0, 2.0, 2.5, 3.0])
    s0 = np.array([0.1, 0.2, 0.3, 0.1, 0.2, 0.3, 0.1, 0.2])
    low, high = np.quantile(z, [0.1, 0.9])
    phi = float(np.mean(np.clip(z, low, high) ** 2))
    w = 1 / s0 ** 2
    tau2 = (8 * phi - 7) / (w.sum() - (w ** 2).sum() / w.sum())
    assert estimate_overdispersion(z_scores=z, null_std_errors=s0, method="additive") == (1.0, pytest.approx(tau2))


def test_overdispersion_widens_the_limits():
    rng = np.random.default_rng(4)
    rows = [(f"T{i}", 200, int(rng.integers(20, 70)), 100, int(rng.integers(5, 30))) for i in range(30)]
    plain = funnel_plot(trusts(rows))
    for method in ("multiplicative", "additive"):
        wide = funnel_plot(trusts(rows), overdispersion=method)
        assert wide.phi > 1.0 or wide.tau2 > 0.0
        assert (wide.trusts["upper_95"] > plain.trusts["upper_95"]).all()
        inside = (wide.trusts["position"] == POSITION_INSIDE).sum()
        assert inside >= (plain.trusts["position"] == POSITION_INSIDE).sum()


def test_trusts_without_data_or_with_suppressed_counts_are_not_plotted():
    frame = pl.DataFrame({"trust_code": ["A", "B", "C"], "shortlisted_white": [200, 10, None],
                          "appointed_white": [40, 2, 3], "shortlisted_bme": [100, 0, 5], "appointed_bme": [10, 0, 1]})
    f = funnel_plot(frame, overdispersion="additive")
    assert f.trusts["position"].to_list() == [POSITION_INSIDE, POSITION_NOT_PLOTTED, POSITION_NOT_PLOTTED]
    assert f.trusts["flags"].to_list() == ["", "no_data", "suppressed_counts"]
    assert "overdispersion_needs_2_trusts" in f.flags


def test_undefined_national_value_plots_nobody():
    f = funnel_plot(trusts([("A", 20, 0, 10, 0), ("B", 30, 0, 10, 0)]))
    assert f.target.theta0 is None and FLAG_NATIONAL_UNDEFINED in f.flags
    assert set(f.trusts["position"]) == {POSITION_NOT_PLOTTED} and f.curve.height == 0
