"""Status-change dates of the generated applications (docs/synthetic-data.md, "Status-change dates").

Each date is present exactly when its flag (or withdrawal) is, follows the
funnel order (applied <= closing <= shortlisted < interviewed < offered <
declined/appointed), an interview date is the day its assessment was written,
and near the end of the period some outcomes are decided after its last day.
"""
from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from synthetic_readers import read_tables

from edi_recruit.synthetic.sinks import header_by_canonical
from tasks.core.months import month_end, parse_month
from tasks.core.vocabulary import DEFAULT_PERIOD_END, STATUS_DATE_COLUMNS

FLAG_OF_DATE = {d: f for f, d in STATUS_DATE_COLUMNS.items()}


def _canonical(df: pl.DataFrame, table: str) -> pl.DataFrame:
    raw_to_canon = {raw: canon for canon, raw in header_by_canonical()[table].items()}
    return df.rename({c: raw_to_canon[c] for c in df.columns if c in raw_to_canon})


def _dated(df: pl.DataFrame, cols) -> pl.DataFrame:
    return df.with_columns([pl.col(c).str.strptime(pl.Date, "%d/%m/%Y", strict=True) for c in cols])


def _frames(summary):
    tables = read_tables(summary)
    apps = _dated(_canonical(tables["applications"], "applications"), ["applied_date", *FLAG_OF_DATE])
    vac = _dated(_canonical(tables["vacancies"], "vacancies"), ["closing_date"]).select("vacancy_id", "closing_date")
    texts = _dated(_canonical(tables["assessments"], "assessments"), ["written_date"])
    return apps.join(vac, on="vacancy_id"), texts


def test_a_date_exactly_when_its_status_happened(small_trust):
    apps, _ = _frames(small_trust)
    for date_col, flag in FLAG_OF_DATE.items():
        happened = pl.col(flag).is_not_null() if flag == "withdrawn_stage" else pl.col(flag) == "Y"
        bad = apps.filter(happened != pl.col(date_col).is_not_null())
        assert bad.height == 0, f"{date_col}: {bad.height} rows where the date and {flag} disagree"


def test_dates_follow_the_funnel_order(small_trust):
    apps, texts = _frames(small_trust)
    order = [("applied_date", "closing_date", "<="), ("closing_date", "shortlisted_date", "<="),
             ("shortlisted_date", "interviewed_date", "<"), ("interviewed_date", "offered_date", "<"),
             ("offered_date", "declined_date", "<"), ("offered_date", "appointed_date", "<"),
             ("applied_date", "withdrawn_date", "<=")]
    for a, b, op in order:
        pair = apps.filter(pl.col(a).is_not_null() & pl.col(b).is_not_null())
        ok = pl.col(a) <= pl.col(b) if op == "<=" else pl.col(a) < pl.col(b)
        assert pair.height > 0 and pair.filter(~ok).height == 0, (a, b)
    # a withdrawal at interview comes after the interview; at shortlist, after shortlisting
    late = apps.filter((pl.col("withdrawn_stage") == "interview") & (pl.col("withdrawn_date") <= pl.col("interviewed_date")))
    assert late.height == 0
    joined = texts.join(apps.select("application_id", "interviewed_date"), on="application_id")
    assert joined.height == texts.height and (joined["written_date"] == joined["interviewed_date"]).all()


def test_some_outcomes_are_decided_after_the_period_end(small_trust):
    apps, _ = _frames(small_trust)
    end: date = month_end(parse_month(DEFAULT_PERIOD_END))
    known = apps.filter(pl.col("applied_date") <= end)
    after = {c: known.filter(pl.col(c) > end).height for c in FLAG_OF_DATE}
    assert after["shortlisted_date"] > 0 and after["appointed_date"] > 0, after
    # ... but only near the end: closing <= 28 days after the advert, then at most 14 + 7 + 21 days to appoint
    assert known.select(pl.max_horizontal(list(FLAG_OF_DATE)).max()).item() <= end + timedelta(days=28 + 14 + 7 + 21)
