"""Topic prevalence and tone by quarter: hand-computed means on a small frame."""
from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from tasks.analyses.text.trends import QUARTER_VARIABLE, quarter_rows


def _frame() -> pl.DataFrame:
    rows = []
    for i in range(12):  # 2022-Q3: share 0.2 / 0.4 alternating; 2022-Q4: 0.6; 2023-Q1: 2 documents only
        rows.append((date(2022, 7 + i % 3, 1), f"V{i % 4}", 0.2 if i % 2 else 0.4, 0.1))
        rows.append((date(2022, 10 + i % 3, 5), f"V{i % 4}", 0.6, -0.2 if i % 2 else 0.0))
    rows += [(date(2023, 1, 9), "V1", 0.9, 0.5), (date(2023, 2, 9), "V2", 0.9, 0.5)]
    return pl.DataFrame(rows, schema=["written_date", "vacancy_id", "_share_0", "sentiment"], orient="row")


def test_quarter_means_and_small_quarters_left_out():
    rows = quarter_rows("assessments", _frame(), {"_share_0": 0, "sentiment": None}, family="f")
    prev = {r["level"]: r for r in rows if r["topic_id"] == 0}
    assert set(prev) == {"2022-Q3", "2022-Q4"}  # 2023-Q1 has 2 documents (< 5)
    assert prev["2022-Q3"]["mean"] == pytest.approx(0.3) and prev["2022-Q4"]["mean"] == pytest.approx(0.6)
    assert prev["2022-Q3"]["n"] == 12 and prev["2022-Q3"]["p_value"] < 0.05
    tone = {r["level"]: r for r in rows if r["topic_id"] is None}
    assert tone["2022-Q4"]["mean"] == pytest.approx(-0.1)
    assert all(r["variable"] == QUARTER_VARIABLE and r["family"] == "f" for r in rows)


def test_no_dates_no_rows():
    assert quarter_rows("x", _frame().drop("written_date"), {"_share_0": 0}, family="f") == []
