"""Workforce representation: hand counts on a small snapshot."""
from __future__ import annotations

import math
from datetime import date

import polars as pl
import pytest
from scipy import stats

from tasks.analyses.scores_and_triangulation import representation as rep

JAN, FEB = date(2023, 1, 1), date(2023, 2, 1)


def _workforce():
    rows = [
        # (month, band, bme)
        (JAN, "7", 1), (JAN, "7", 1), (JAN, "7", 0), (JAN, "7", None),
        (JAN, "8a", 1), (JAN, "8a", 0), (JAN, "8a", 0),
        (JAN, "9", 0),
        (FEB, "6", 0), (FEB, "6", 1), (FEB, "8a", 1),
    ]
    return pl.DataFrame({
        "snapshot_month": [r[0] for r in rows], "staff_id": [f"S-{i}" for i in range(len(rows))],
        "band": [r[1] for r in rows], "bme": [r[2] for r in rows],
    }, schema={"snapshot_month": pl.Date, "staff_id": pl.String, "band": pl.String, "bme": pl.Int64})


def _funnel():
    rows = [  # (band, bme, appointed, advert_date)
        ("8a", 1, 1, JAN), ("8a", 0, 1, FEB), ("8b", 1, 1, FEB), ("8b", None, 1, FEB), ("8b", 1, 0, JAN),
    ]
    return pl.DataFrame({"application_id": [f"A-{i}" for i in range(len(rows))],
                         "band": [r[0] for r in rows], "bme": [r[1] for r in rows],
                         "appointed": [r[2] for r in rows], "advert_date": [r[3] for r in rows]},
                        schema={"application_id": pl.String, "band": pl.String, "bme": pl.Int64,
                                "appointed": pl.Int64, "advert_date": pl.Date})


def _row(t, **kw):
    sub = t
    for k, v in kw.items():
        sub = sub.filter(pl.col(k) == v)
    assert sub.height == 1, (kw, sub)
    return sub.row(0, named=True)


def test_share_by_band_equals_hand_count():
    t = rep.share_by_band_month(_workforce())
    r7 = _row(t, snapshot_month=JAN, band="7")
    assert (r7["n"], r7["n_bme"], r7["n_unknown"], r7["value"]) == (3, 2, 1, pytest.approx(2 / 3))
    r8a = _row(t, snapshot_month=JAN, band="8a")
    assert (r8a["n"], r8a["n_bme"], r8a["value"]) == (3, 1, pytest.approx(1 / 3))
    assert _row(t, snapshot_month=JAN, band="9")["value"] == 0.0
    senior = _row(t, snapshot_month=JAN, band=rep.BAND_SENIOR)
    assert (senior["n"], senior["n_bme"]) == (4, 1)
    whole = _row(t, snapshot_month=JAN, band=rep.BAND_ALL)
    assert (whole["n"], whole["n_bme"], whole["n_unknown"]) == (7, 3, 1)
    # Model Employer parity target = whole-workforce share; gap per band
    assert r8a["target"] == pytest.approx(3 / 7) and r8a["gap"] == pytest.approx(1 / 3 - 3 / 7)
    feb = _row(t, snapshot_month=FEB, band="8a")
    assert feb["value"] == 1.0 and feb["target"] == pytest.approx(2 / 3)
    assert t.filter(pl.col("snapshot_month") == FEB)["band"].to_list() == ["6", "8a", rep.BAND_SENIOR, rep.BAND_ALL]


def test_representation_ratio_hand_count():
    t = rep.representation_ratios(_funnel(), _workforce(), programme_start=FEB)
    allp = _row(t, period=rep.PERIOD_ALL, band=rep.BAND_SENIOR)
    # feeder staff-months: Jan band 7 (2 BME of 3 known) + Feb band 6 (1 of 2) = 3/5
    assert allp["target"] == pytest.approx(0.6)
    # appointees: 8a BME (Jan), 8a White, 8b BME, 8b unknown -> 2 of 3 known
    assert (allp["n"], allp["n_bme"], allp["n_unknown"]) == (3, 2, 1)
    assert allp["value"] == pytest.approx((2 / 3) / 0.6)
    z = stats.norm.ppf(0.975)
    se = math.sqrt((1 - 2 / 3) / 2 + (1 - 0.6) / (0.6 * 2.5))  # feeder n = mean monthly known headcount 2.5
    assert allp["ci_low"] == pytest.approx(allp["value"] * math.exp(-z * se))
    assert _row(t, period=rep.PERIOD_ALL, band="8a")["value"] == pytest.approx(0.5 / 0.6)
    pre = _row(t, period=rep.PERIOD_PRE, band=rep.BAND_SENIOR)
    assert pre["target"] == pytest.approx(2 / 3) and pre["value"] == pytest.approx(1 / (2 / 3))
    post = _row(t, period=rep.PERIOD_POST, band=rep.BAND_SENIOR)
    assert post["target"] == pytest.approx(0.5) and post["value"] == pytest.approx(0.5 / 0.5)


def test_table_schema():
    t = rep.representation_table(_workforce(), _funnel(), FEB)
    assert t.schema == pl.Schema(rep.REPRESENTATION_SCHEMA)
    assert set(t["measure"].to_list()) == {rep.MEASURE_SHARE, rep.MEASURE_RATIO}
