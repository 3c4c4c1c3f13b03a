"""Adverse impact: four-fifths ratios, Fisher p, shortfall and small-group flags by hand."""
from __future__ import annotations

import polars as pl
import pytest
from scipy import stats

from tasks.analyses.funnel_statistics import adverse_impact as ai


def test_impact_table_hand_computed():
    groups = [("White", 100, 50), ("Asian", 40, 12), ("Black", 30, 13), ("Mixed", 5, 5), ("Not stated", 20, 15)]
    rows = {r["group"]: r for r in ai.impact_table(groups, "census_group")}
    # reference: highest-rate group that is neither small (Mixed: n=5) nor unknown (Not stated)
    assert rows["Asian"]["reference_group"] == "White" and rows["Asian"]["reference_rate"] == pytest.approx(0.5)
    assert rows["Asian"]["impact_ratio"] == pytest.approx(0.3 / 0.5)
    assert rows["Asian"]["four_fifths_flag"] is True and "adverse_impact" in rows["Asian"]["flags"]
    assert rows["Black"]["impact_ratio"] == pytest.approx((13 / 30) / 0.5)
    assert rows["Black"]["four_fifths_flag"] is False
    assert rows["Asian"]["shortfall"] == pytest.approx(40 * 0.5 - 12)
    assert rows["Black"]["shortfall"] == pytest.approx(30 * 0.5 - 13)
    assert rows["Asian"]["p_value"] == pytest.approx(stats.fisher_exact([[12, 28], [50, 50]]).pvalue)
    # small and unknown groups are kept and flagged
    assert rows["Mixed"]["small_group"] is True and "small_group" in rows["Mixed"]["flags"]
    assert rows["Mixed"]["shortfall"] == 0.0
    assert "unknown_category" in rows["Not stated"]["flags"]
    assert rows["White"]["impact_ratio"] == pytest.approx(1.0) and rows["White"]["p_value"] == 1.0
    assert rows["Asian"]["share"] == pytest.approx(40 / 195)


def test_small_share_rule():
    groups = [("A", 990, 300), ("D", 12, 1)]  # D: n >= 10 but 1.2% < 2%
    rows = {r["group"]: r for r in ai.impact_table(groups, "ethnic_category")}
    assert rows["D"]["small_group"] is True and rows["A"]["small_group"] is False


def test_reference_falls_back_when_all_small():
    rows = ai.impact_table([("X", 5, 4), ("Y", 6, 1)], "sex")
    assert all("reference_small" in r["flags"] for r in rows)
    assert rows[0]["reference_group"] == "X"


def test_adverse_impact_table_stages_and_groupings():
    af = pl.DataFrame({
        "ethnic_category": ["A", "A", "H", "H", "Z", "A"],
        "census_group": ["White", "White", "Asian", "Asian", "Not stated", "White"],
        "wres_group": ["White", "White", "BME", "BME", "Unknown", "White"],
        "sex": ["Female", "Male", "Female", "Male", "Female", "Male"],
        "shortlisted": [1, 1, 1, 0, 1, 0], "interviewed": [1, 1, 1, 0, 0, 0], "offered": [1, 0, 0, 0, 0, 0],
        "offer_declined": [0, 0, 0, 0, 0, 0], "appointed": [1, 0, 0, 0, 0, 0],
        "withdrawn_stage": [None, None, None, None, None, "application"],
        "post_programme": [1, 1, 0, 0, 1, 1],
    })
    out = ai.adverse_impact(af)
    sl = out.filter((pl.col("stage") == "shortlist") & (pl.col("period") == "all") & (pl.col("grouping") == "census_group"))
    got = {r["group"]: (r["n"], r["selected"]) for r in sl.iter_rows(named=True)}
    assert got == {"White": (2, 2), "Asian": (2, 1), "Not stated": (1, 1)}  # withdrawn application excluded
    inter = out.filter((pl.col("stage") == "shortlist") & (pl.col("period") == "all")
                       & (pl.col("grouping") == "census_group_x_sex"))
    assert set(inter["group"]) == {"White, Female", "White, Male", "Asian, Female", "Asian, Male", "Not stated, Female"}
    assert set(out["grouping"].unique()) == {"ethnic_category", "census_group", "wres_group", "sex", "census_group_x_sex"}
    assert set(out["stage"].unique()) == {"shortlist", "offer", "appoint_from_shortlist"}
    assert out["small_group"].all()  # every group here has n < 10, none dropped
