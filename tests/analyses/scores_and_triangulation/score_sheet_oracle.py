"""Test oracle of the score-sheet normalisation in sql/models/marts/score_sheets.sql.

Test-only helper.  The product normalises in SQL (``marts.score_sheets``);
this is an independent polars version of the same arithmetic, used to turn
raw score rows into mart-like sheets where the tests cannot run the ingest
(generated extracts, in-process draws, hand-made cases).
test_score_sheet_normalisation.py runs the SQL on hand-made and random rows
and checks it agrees with this oracle row for row.

The rule (docs/methods.md section 3, "Normalisation"), as the SQL computes it
per sheet (application x panel member):

* ``n_criteria`` = the criteria scored: rows whose score is not null
  (``count(score)``);
* ``score_sum`` = sum of the non-null scores, null when none is;
* ``max_score_sum`` = sum of the maxima of the scored criteria (the rows with a
  non-null score), null when none is;
* ``normalised_score`` = score_sum / max_score_sum, null when either sum is
  null or max_score_sum is 0.

So a criterion row with a null score is not scored, exactly like a criterion
with no row: the sheet is partial and the partial-sheet rule decides it.
Nothing is imputed.  (Rows with a null max_score are quarantined by the
validation gate and never reach the mart; the oracle follows the SQL for
them anyway.)
"""
from __future__ import annotations

import polars as pl

SHEET_SCHEMA = {"n_criteria": pl.Int64, "score_sum": pl.Float64, "max_score_sum": pl.Float64,
                "normalised_score": pl.Float64}


def _sum_or_null(col: str) -> pl.Expr:
    """SQL ``sum``: null when every value is null (polars' sum would give 0)."""
    return pl.when(pl.col(col).count() > 0).then(pl.col(col).sum()).otherwise(None).cast(pl.Float64)


def normalise_score_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """Raw score rows (application_id, member_id, criterion, score, max_score[, vacancy_id]) -> one row per sheet.

    Columns: the keys, n_criteria, score_sum, max_score_sum, normalised_score (as marts.score_sheets),
    sorted by application_id, member_id[, vacancy_id].
    """
    group_cols = ["application_id", "member_id"] + (["vacancy_id"] if "vacancy_id" in rows.columns else [])
    scored = rows.with_columns(pl.when(pl.col("score").is_not_null()).then(pl.col("max_score")).alias("max_score"))
    sheets = scored.group_by(group_cols).agg(
        pl.col("score").count().cast(pl.Int64).alias("n_criteria"),
        _sum_or_null("score").alias("score_sum"),
        _sum_or_null("max_score").alias("max_score_sum"),
    ).with_columns(
        pl.when(pl.col("max_score_sum") != 0).then(pl.col("score_sum") / pl.col("max_score_sum"))
        .otherwise(None).alias("normalised_score")
    )
    return sheets.select(*group_cols, *SHEET_SCHEMA).sort(group_cols)
