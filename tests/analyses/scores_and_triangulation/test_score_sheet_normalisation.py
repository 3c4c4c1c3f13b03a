"""The score-sheet normalisation of marts.score_sheets (sql/models/marts/score_sheets.sql), and its test oracle.

The SQL is the implementation; score_sheet_oracle.py re-implements it for the
tests that start from raw score rows.  Here the mart's SQL runs in a scratch
in-memory DuckDB on hand-made rows (mixed scales, partial sheets, a null
criterion score, an all-null sheet) and on seeded random rows with null
scores: hand values are checked on the SQL's output, and the oracle must
agree with the SQL row for row.  The null rule (docs/methods.md section 3):
a criterion row with a null score is not scored, like a criterion with no row:
it is left out of n_criteria and of both sums, and the sheet is partial.
"""
from __future__ import annotations

import duckdb
import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from score_sheet_oracle import normalise_score_rows
from test_interview_scores import MAX, RAW, _rows

from tasks.analyses.scores_and_triangulation import interview_scores as isc
from tasks.core.paths import REFERENCE_DIR
from tasks.warehouse.sql import run_sql, to_polars

KEY = ["application_id", "member_id", "vacancy_id"]
SHEET_COLUMNS = [*KEY, "n_criteria", "score_sum", "max_score_sum", "normalised_score"]


def mart_score_sheets(rows: pl.DataFrame) -> pl.DataFrame:
    """marts.score_sheets built by the project's SQL from raw score rows (with vacancy_id), sorted by KEY.

    Staging holds the rows as given; the funnel and panel marts are stubs holding just the keys the
    mart joins on (every member is on the panel of the vacancy, so no row is lost to the joins).
    """
    con = duckdb.connect()
    try:
        for schema in ("meta", "staging", "marts"):
            con.execute(f"CREATE SCHEMA {schema}")
        run_sql(con, "models/marts/reference", {  # the edi_lineage macro, as build_marts defines it
            "ethnic_csv": str(REFERENCE_DIR / "nhs_ethnic_category.csv"),
            "wres_csv": str(REFERENCE_DIR / "wres_indicator2_national.csv"),
        })
        raw = rows.with_row_index("_row_number").with_columns(pl.lit("test-extract").alias("_sha256"))
        con.register("raw", raw.to_arrow())
        con.execute("""CREATE TABLE staging.interview_scores AS
            SELECT application_id, member_id, criterion, CAST(score AS DOUBLE) AS score,
                   CAST(max_score AS DOUBLE) AS max_score, _sha256, CAST(_row_number AS BIGINT) AS _row_number
            FROM raw""")
        con.execute("""CREATE TABLE marts.application_funnel AS
            SELECT DISTINCT application_id, vacancy_id, NULL::DATE AS advert_date, NULL::DATE AS applied_date,
                   NULL::DATE AS interviewed_date FROM raw""")
        con.execute("""CREATE TABLE marts.panel_members AS
            SELECT DISTINCT vacancy_id, member_id, 'White' AS wres_group, 0 AS member_bme, 0 AS member_female,
                   'member' AS role FROM raw""")
        run_sql(con, "models/marts/score_sheets")
        out = to_polars(con.execute(
            f"SELECT {', '.join(SHEET_COLUMNS)} FROM marts.score_sheets ORDER BY {', '.join(KEY)}"))
    finally:
        con.close()
    return out


def _oracle(rows: pl.DataFrame) -> pl.DataFrame:
    return normalise_score_rows(rows).select(SHEET_COLUMNS).sort(KEY)


def _sheet(sheets, app, member):
    return sheets.filter((pl.col("application_id") == app) & (pl.col("member_id") == member)).row(0, named=True)


# a sheet with a null criterion score next to the RAW sheets of test_interview_scores.py
NULL_CRITERION = _rows({("A4", "M1"): {"c1": 4, "c2": None, "c3": 3}})


def random_rows(seed: int, n_vac: int = 6, per_vac: int = 5, panel: int = 3) -> pl.DataFrame:
    """Raw score rows on mixed scales: ~15% null scores, ~10% criteria without a row, some all-null sheets."""
    rng = np.random.default_rng(seed)
    out = []
    for v in range(n_vac):
        maxes = rng.choice([4.0, 5.0, 10.0], size=int(rng.integers(3, 7)))
        for c in range(per_vac):
            for m in range(panel):
                all_null = rng.random() < 0.05
                for k, mx in enumerate(maxes):
                    if rng.random() < 0.10:
                        continue  # criterion not on this sheet
                    score = None if all_null or rng.random() < 0.15 else float(rng.integers(0, int(mx) + 1))
                    out.append({"vacancy_id": f"V{v}", "application_id": f"A{v}_{c}", "member_id": f"M{v}_{m}",
                                "criterion": f"c{k}", "score": score, "max_score": float(mx)})
    return pl.DataFrame(out, schema={"vacancy_id": pl.String, "application_id": pl.String, "member_id": pl.String,
                                     "criterion": pl.String, "score": pl.Float64, "max_score": pl.Float64})


def test_mart_normalisation_is_sum_over_sum_of_max_on_mixed_scales():
    sheets = mart_score_sheets(RAW)
    s = _sheet(sheets, "A1", "M1")
    assert (s["n_criteria"], s["score_sum"], s["max_score_sum"]) == (3, 13.0, 19.0)
    assert s["normalised_score"] == pytest.approx(13 / 19)
    # not the mean of per-criterion ratios (4/5, 6/10, 3/4 -> 0.7167)
    assert s["normalised_score"] != pytest.approx(np.mean([4 / 5, 6 / 10, 3 / 4]))
    partial = _sheet(sheets, "A2", "M2")  # c3 has no row: normalised over the criteria scored
    assert (partial["n_criteria"], partial["normalised_score"]) == (2, pytest.approx(7 / 15))
    assert _sheet(sheets, "A3", "M3")["normalised_score"] is None  # every score null
    assert sheets.height == 7


def test_mart_two_scales_small_case():
    rows = pl.DataFrame({"vacancy_id": ["V", "V"], "application_id": ["A", "A"], "member_id": ["M", "M"],
                         "criterion": ["x", "y"], "score": [4.0, 6.0], "max_score": [5.0, 10.0]})
    assert mart_score_sheets(rows)["normalised_score"].to_list() == [pytest.approx(10 / 15)]


def test_a_null_criterion_score_is_not_scored():
    """The documented null rule, on the SQL: 4/5, null/10, 3/4 is 7/9 over the 2 criteria scored (a partial
    sheet, kept at coverage 2/3), not 7/19 over 3 with the blank scored 0 (a complete one)."""
    assert MAX == {"c1": 5.0, "c2": 10.0, "c3": 4.0}
    sheets = mart_score_sheets(pl.concat([RAW, NULL_CRITERION]))
    s = _sheet(sheets, "A4", "M1")
    assert (s["n_criteria"], s["score_sum"], s["max_score_sum"]) == (2, 7.0, 9.0)
    assert s["normalised_score"] == pytest.approx(7 / 9)
    ruled = isc.apply_sheet_rule(sheets)
    assert _sheet(ruled, "A4", "M1")["sheet_status"] == isc.SHEET_PARTIAL_KEPT
    assert _sheet(ruled, "A3", "M3")["sheet_status"] == isc.SHEET_INVALID
    assert (_sheet(sheets, "A3", "M3")["n_criteria"], _sheet(sheets, "A3", "M3")["max_score_sum"]) == (0, None)


def test_oracle_matches_the_mart_sql_on_hand_made_rows_with_a_null_criterion_score():
    rows = pl.concat([RAW, NULL_CRITERION])
    assert rows["score"].null_count() > 0
    assert_frame_equal(_oracle(rows), mart_score_sheets(rows))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_oracle_matches_the_mart_sql_on_random_rows_with_null_scores(seed):
    rows = random_rows(seed)
    mart = mart_score_sheets(rows)
    # the case the null rule decides is there: sheets with some, and with only, null scores
    nulls = rows.group_by(KEY).agg(pl.col("score").null_count().alias("k"), pl.len().alias("n"))
    assert nulls.filter((pl.col("k") > 0) & (pl.col("k") < pl.col("n"))).height > 0
    assert nulls.filter(pl.col("k") == pl.col("n")).height > 0
    assert mart.height == nulls.height
    assert_frame_equal(_oracle(rows), mart)
