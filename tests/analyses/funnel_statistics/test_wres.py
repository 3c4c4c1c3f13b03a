"""WRES indicator 2 against a hand count on a small extract."""
from __future__ import annotations

import math

import polars as pl
import pytest
from scipy import stats

from tasks.analyses.funnel_statistics import wres


def _extract() -> pl.DataFrame:
    """Shortlisted / appointed by hand.

    band 8a: White 6 shortlisted, 3 appointed; BME 4 shortlisted, 1 appointed
    band 8b: White 4 shortlisted, 1 appointed; BME 6 shortlisted, 2 appointed
    plus: 2 shortlisted of unknown ethnicity (one appointed), 1 White and 1 BME
    who were offered and declined (all excluded), 3 not shortlisted (ignored).
    """
    rows = []

    def add(n, band, group, shortlisted, appointed, offered=None, declined=0, post=0):
        offered = appointed if offered is None else offered
        for _ in range(n):
            rows.append((group, band, shortlisted, offered, declined, appointed, post, "Medicine", "2023-01-01"))

    add(3, "8a", "White", 1, 1)
    add(3, "8a", "White", 1, 0)
    add(1, "8a", "BME", 1, 1, post=1)
    add(3, "8a", "BME", 1, 0, post=1)
    add(1, "8b", "White", 1, 1)
    add(3, "8b", "White", 1, 0)
    add(2, "8b", "BME", 1, 1, post=1)
    add(4, "8b", "BME", 1, 0, post=1)
    add(1, "8a", "Unknown", 1, 1)
    add(1, "8b", None, 1, 0)
    add(1, "8a", "White", 1, 0, offered=1, declined=1)
    add(1, "8b", "BME", 1, 0, offered=1, declined=1)
    add(3, "8a", "BME", 0, 0)
    return pl.DataFrame(rows, schema=["wres_group", "band", "shortlisted", "offered", "offer_declined", "appointed",
                                      "post_programme", "directorate", "advert_month"], orient="row")


def test_overall_matches_hand_count_with_exclusions():
    out = wres.wres_indicator2(_extract())
    o = out.filter(pl.col("scope") == "overall").row(0, named=True)
    assert (o["shortlisted_white"], o["appointed_white"], o["shortlisted_bme"], o["appointed_bme"]) == (10, 4, 10, 3)
    assert o["excluded_unknown_ethnicity"] == 2 and o["excluded_declined_offer"] == 2
    assert o["proportion_white"] == pytest.approx(0.4) and o["proportion_bme"] == pytest.approx(0.3)
    rl = 0.4 / 0.3
    assert o["relative_likelihood"] == pytest.approx(rl)
    se = math.sqrt(1 / 4 - 1 / 10 + 1 / 3 - 1 / 10)
    assert o["ci_low"] == pytest.approx(rl * math.exp(-1.959963984540054 * se))
    assert o["ci_high"] == pytest.approx(rl * math.exp(1.959963984540054 * se))
    assert o["p_value"] == pytest.approx(stats.fisher_exact([[4, 6], [3, 7]]).pvalue)
    assert o["in_non_adverse_band"] is False  # 1.33 > 1.25
    assert o["orientation"].startswith("White shortlisted applicants were 1.33 times as likely")
    assert "small_numbers" in o["flags"]


def test_band_and_period_scopes():
    out = wres.wres_indicator2(_extract())
    b = {r["scope_value"]: r for r in out.filter(pl.col("scope") == "band").iter_rows(named=True)}
    assert b["8a"]["relative_likelihood"] == pytest.approx((3 / 6) / (1 / 4))
    assert b["8b"]["relative_likelihood"] == pytest.approx((1 / 4) / (2 / 6))
    assert "BME shortlisted applicants were 1.33 times as likely" in b["8b"]["orientation"]
    assert b["8a"]["q_value"] >= b["8a"]["p_value"]
    per = {r["scope_value"]: r for r in out.filter(pl.col("scope") == "programme_period").iter_rows(named=True)}
    assert per["pre_programme"]["shortlisted_bme"] == 0 and per["pre_programme"]["relative_likelihood"] is None
    assert "no_data" in per["pre_programme"]["flags"]
    assert set(out["scope"].unique()) == {"overall", "band", "programme_period", "directorate", "month",
                                          "wres_year", "calendar_year"}
    assert out.filter(pl.col("scope") == "month")["scope_value"].to_list() == ["2023-01"]


def test_zero_appointed_bme_gives_haldane_rl_and_flag():
    r = wres.indicator2_row(shortlisted_white=20, appointed_white=5, shortlisted_bme=8, appointed_bme=0)
    assert r["relative_likelihood"] == pytest.approx((5.5 / 21) / (0.5 / 9))
    assert math.isfinite(r["ci_high"]) and r["ci_low"] > 0
    assert "zero_cell_haldane" in r["flags"]
    assert r["p_value"] == pytest.approx(stats.fisher_exact([[5, 15], [0, 8]]).pvalue)


def test_non_adverse_band_edges():
    assert wres.indicator2_row(shortlisted_white=100, appointed_white=50, shortlisted_bme=100, appointed_bme=50)["in_non_adverse_band"] is True
    assert wres.indicator2_row(shortlisted_white=100, appointed_white=50, shortlisted_bme=100, appointed_bme=40)["in_non_adverse_band"] is True  # 1.25
    assert wres.indicator2_row(shortlisted_white=100, appointed_white=50, shortlisted_bme=100, appointed_bme=39)["in_non_adverse_band"] is False
    assert wres.indicator2_row(shortlisted_white=100, appointed_white=40, shortlisted_bme=100, appointed_bme=50)["in_non_adverse_band"] is True  # 0.80


def test_relative_likelihood_hand_computed_two_by_two():
    # White 30 of 100 appointed, BME 10 of 50: RL = 0.3 / 0.2 = 1.5
    r = wres.relative_likelihood(appointed_white=30, shortlisted_white=100, appointed_bme=10, shortlisted_bme=50)
    se = math.sqrt(1 / 30 - 1 / 100 + 1 / 10 - 1 / 50)
    z = stats.norm.ppf(0.975)
    assert r.estimate == pytest.approx(1.5)
    assert (r.ci_low, r.ci_high) == (pytest.approx(1.5 * math.exp(-z * se)), pytest.approx(1.5 * math.exp(z * se)))
    assert round(r.ci_low, 4) == 0.7989 and round(r.ci_high, 4) == 2.8165
    assert r.zero_cell_corrected is False


def test_relative_likelihood_zero_cell_rules():
    def rl(a_w, s_w, a_b, s_b, rule):
        return wres.relative_likelihood(appointed_white=a_w, shortlisted_white=s_w, appointed_bme=a_b,
                                        shortlisted_bme=s_b, zero_cells=rule)

    H, U = wres.ZERO_CELLS_HALDANE, wres.ZERO_CELLS_UNDEFINED
    # nobody shortlisted in one group: undefined under both rules
    for rule in (H, U):
        assert rl(3, 10, 0, 0, rule) == wres.RelativeLikelihood(None, None, None)
    # no BME appointee: Haldane adds 0.5 to every cell; "undefined" gives no figure
    h = rl(5, 20, 0, 8, H)
    assert h.zero_cell_corrected and h.estimate == pytest.approx((5.5 / 21) / (0.5 / 9))
    assert rl(5, 20, 0, 8, U) == wres.RelativeLikelihood(None, None, None)
    # no White appointee: Haldane-corrected RL; "undefined" gives RL = 0 with no interval
    assert rl(0, 20, 4, 8, H).estimate == pytest.approx((0.5 / 21) / (4.5 / 9))
    assert rl(0, 20, 4, 8, U) == wres.RelativeLikelihood(0.0, None, None)
    # everyone appointed in a group (a non-appointed cell is 0): Haldane corrects, "undefined" does not
    assert rl(10, 10, 2, 8, H).zero_cell_corrected
    u = rl(10, 10, 2, 8, U)
    assert u.estimate == pytest.approx(4.0) and not u.zero_cell_corrected
    assert u.ci_low == pytest.approx(4.0 * math.exp(-stats.norm.ppf(0.975) * math.sqrt(1 / 2 - 1 / 8)))


def test_relative_likelihood_arguments_are_keyword_only():
    with pytest.raises(TypeError):
        wres.relative_likelihood(100, 50, 100, 50)  # type: ignore[misc]


def test_wres_year_runs_from_april_to_march_beside_calendar_years():
    """31 March 2023 belongs to WRES year 2022/23, 1 April 2023 to 2023/24; calendar years split differently."""
    base = _extract().with_columns(pl.lit("2023-03-31").alias("advert_month"))
    later = _extract().with_columns(pl.lit("2023-04-01").alias("advert_month"))
    out = wres.wres_indicator2(pl.concat([base, later.filter(pl.col("wres_group") == "White")]))
    fy = {r["scope_value"]: r for r in out.filter(pl.col("scope") == "wres_year").iter_rows(named=True)}
    assert set(fy) == {"2022/23", "2023/24"}
    assert (fy["2022/23"]["shortlisted_white"], fy["2022/23"]["shortlisted_bme"]) == (10, 10)
    assert (fy["2023/24"]["shortlisted_white"], fy["2023/24"]["shortlisted_bme"]) == (10, 0)
    cal = out.filter(pl.col("scope") == "calendar_year")
    assert cal["scope_value"].to_list() == ["2023"] and cal["shortlisted_white"][0] == 20
    overall = out.filter(pl.col("scope") == "overall").row(0, named=True)
    assert sum(r["shortlisted_white"] for r in fy.values()) == overall["shortlisted_white"]
