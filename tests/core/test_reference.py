"""National reference data: the project's copy matches its source and is what the analysis loads."""
from __future__ import annotations

import csv

import polars as pl
import pytest

from tasks.analyses.scores_and_triangulation import programme_impact as pi
from tasks.core.paths import PROJECT_ROOT, REFERENCE_DIR

SOURCE = PROJECT_ROOT.parent / "shared" / "reference" / "wres_indicator2_national.csv"
COPY = REFERENCE_DIR / "wres_indicator2_national.csv"


def _rows(path):
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.skipif(not SOURCE.exists(), reason="the shared reference directory is not present")
def test_national_reference_copy_matches_source_file():
    assert _rows(COPY) == _rows(SOURCE)


def test_reference_rows_have_values_and_sources():
    rows = _rows(COPY)
    assert rows, "no national reference values"
    for r in rows:
        assert r["source"].strip(), r
        assert 0.5 < float(r["relative_likelihood"]) < 3.0, r
        assert r["period"].isdigit() and r["scope"].strip()


def test_analysis_loads_exactly_the_reference_values():
    loaded = pi.load_national_reference()
    assert pi.NATIONAL_REFERENCE_PATH == COPY
    rows = _rows(COPY)
    assert loaded.height == len(rows)
    assert loaded["relative_likelihood"].to_list() == [float(r["relative_likelihood"]) for r in rows]
    assert loaded["source"].to_list() == [r["source"] for r in rows]
    assert loaded["scope"].to_list() == [r["scope"] for r in rows]
    assert not loaded["is_trust"].any()
    # national England 2022 value as published (NHS England WRES 2022 report)
    eng = loaded.filter((pl.col("period") == "2022") & (pl.col("scope") == "England NHS trusts"))
    assert eng["relative_likelihood"].to_list() == [1.54]
