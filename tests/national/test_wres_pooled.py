"""National WRES indicator 2: hand-computed 2x2s, zero-cell rules, the WRES year, sums by year and region."""
from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from tasks.national.wres_pooled import (
    ERROR_COUNTS,
    FLAG_NO_DATA,
    FLAG_SUPPRESSED,
    FLAG_ZERO_CELL,
    katz_row,
    log_relative_likelihood,
    national_indicator2,
    wres_year,
    wres_year_expr,
)

Z95 = 1.959963984540054


def test_hand_computed_two_by_two():
    """White 40/200 = 0.2, BME 10/100 = 0.1: RL 2, se^2 = 1/40 - 1/200 + 1/10 - 1/100 = 0.11."""
    row = katz_row(shortlisted_white=200, appointed_white=40, shortlisted_bme=100, appointed_bme=10)
    assert row["relative_likelihood"] == pytest.approx(2.0)
    assert row["std_error"] == pytest.approx(math.sqrt(0.11))
    assert row["ci_low"] == pytest.approx(2.0 * math.exp(-Z95 * math.sqrt(0.11)))
    assert row["ci_high"] == pytest.approx(2.0 * math.exp(Z95 * math.sqrt(0.11)))
    assert row["flags"] == ""


def test_zero_appointed_uses_haldane_anscombe():
    """White 6/30, BME 0/15 -> cells 6.5, 24.5, 0.5, 15.5."""
    r = log_relative_likelihood(shortlisted_white=30, appointed_white=6, shortlisted_bme=15, appointed_bme=0)
    assert r.log_rl == pytest.approx(math.log((6.5 / 31) / (0.5 / 16)))
    assert r.std_error == pytest.approx(math.sqrt(1 / 6.5 - 1 / 31 + 1 / 0.5 - 1 / 16))
    assert r.flags == (FLAG_ZERO_CELL,)


def test_all_appointed_uses_haldane_anscombe():
    r = log_relative_likelihood(shortlisted_white=4, appointed_white=4, shortlisted_bme=5, appointed_bme=2)
    assert r.log_rl == pytest.approx(math.log((4.5 / 5) / (2.5 / 6))) and r.flags == (FLAG_ZERO_CELL,)


def test_no_shortlisted_group_is_none_with_a_flag():
    row = katz_row(shortlisted_white=0, appointed_white=0, shortlisted_bme=5, appointed_bme=1)
    assert row["relative_likelihood"] is None and row["std_error"] is None and row["flags"] == FLAG_NO_DATA


def test_impossible_counts_are_refused():
    with pytest.raises(ValueError, match=ERROR_COUNTS):
        log_relative_likelihood(shortlisted_white=3, appointed_white=4, shortlisted_bme=5, appointed_bme=1)


@pytest.mark.parametrize("month,year", [
    ("2024-03", "2023/24"), ("2024-04", "2024/25"), ("2023-04-01", "2023/24"), ("1999-12", "1999/00"),
    (dt.date(2024, 3, 31), "2023/24"), (dt.date(2024, 4, 1), "2024/25"),
])
def test_wres_year_runs_april_to_march(month, year):
    assert wres_year(month) == year


def test_wres_year_expression_agrees_with_the_function():
    months = ["2023-03", "2023-04", "2024-01", "2024-12", "2009-05"]
    frame = pl.DataFrame({"month": months})
    assert frame.select(wres_year_expr("month")).to_series().to_list() == [wres_year(m) for m in months]
    dates = pl.DataFrame({"month": [dt.date(2024, 3, 31), dt.date(2024, 4, 1)]})
    assert dates.select(wres_year_expr("month")).to_series().to_list() == ["2023/24", "2024/25"]


def trust_months() -> pl.DataFrame:
    return pl.DataFrame({
        "trust_code": ["RA1", "RA1", "RB2", "RC3", "RC3"],
        "region": ["London", "London", "North", "North", "North"],
        "month": ["2023-03", "2023-04", "2023-05", "2023-06", "2023-07"],
        "shortlisted_white": [50, 100, 100, 40, None],
        "appointed_white": [10, 20, 20, 8, 3],
        "shortlisted_bme": [20, 50, 50, 20, 9],
        "appointed_bme": [2, 5, 5, 2, 1],
    })


def test_national_rows_sum_counts_by_year_and_region():
    out = national_indicator2(trust_months())
    keys = list(zip(out["wres_year"], out["region"]))
    assert keys == [("2022/23", "All"), ("2022/23", "London"), ("2023/24", "All"), ("2023/24", "London"),
                    ("2023/24", "North"), ("All", "All"), ("All", "London"), ("All", "North")]
    north = out.filter((pl.col("wres_year") == "2023/24") & (pl.col("region") == "North")).row(0, named=True)
    # RB2 100/20 + RC3 40/8 White, 50/5 + 20/2 BME; RC3's suppressed July row left out
    assert (north["shortlisted_white"], north["appointed_white"]) == (140, 28)
    assert (north["shortlisted_bme"], north["appointed_bme"]) == (70, 7)
    assert north["relative_likelihood"] == pytest.approx((28 / 140) / (7 / 70))
    assert north["std_error"] == pytest.approx(math.sqrt(1 / 28 - 1 / 140 + 1 / 7 - 1 / 70))
    assert north["trusts"] == 2 and north["rows_excluded"] == 1 and north["flags"] == FLAG_SUPPRESSED
    total = out.filter((pl.col("wres_year") == "All") & (pl.col("region") == "All")).row(0, named=True)
    assert (total["shortlisted_white"], total["appointed_bme"]) == (290, 14) and total["trusts"] == 3


def test_a_cell_with_only_suppressed_rows_has_no_data():
    frame = trust_months().filter(pl.col("month") == "2023-07")
    out = national_indicator2(frame)
    row = out.row(0, named=True)
    assert row["relative_likelihood"] is None and row["trusts"] == 0
    assert row["flags"] == f"{FLAG_NO_DATA};{FLAG_SUPPRESSED}"
