"""Backfill against a local Prefect API (tests/flows/conftest.py): three months, twice (no-op), then the last
month forced (identical figures); point in time (a backfilled month equals a run on extracts
truncated at that month, statuses included: tests/flow_helpers.py truncates by the
export's status dates, independently of the pipeline's rule in tasks/marts.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from flow_helpers import analysis_tables, registry_row, run_tables, small_trust, truncate_extracts

START, END = "2023-10", "2023-12"
PIT_MONTH = "2023-11"
TOL = {"abs_tol": 1e-12, "rel_tol": 1e-12}   # last-bit BLAS noise only (see test_flows_monthly)
# Every table, odds_ratios included, must be identical.  (odds_ratios once flipped between runs:
# a convergence verdict read from process-global warning capture while other analyses ran in threads,
# and unordered polars group_by output; both fixed in tasks/analyses/funnel_statistics/odds_ratios.py and tasks/warehouse/.)


@pytest.fixture(scope="module")
def trust(tmp_path_factory) -> Path:
    return small_trust(tmp_path_factory.mktemp("backfill") / "extracts")


@pytest.fixture(scope="module")
def space(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("backfill_wh")
    return {"db": str(base / "edi.duckdb"), "out": str(base / "out")}


def _backfill(trust, space, start=START, **kw):
    from flows.backfill import backfill

    return backfill(start, END, extracts=str(trust), db=space["db"], out_dir=space["out"],
                    report=False, exports=False, concurrency=2, **kw)


@pytest.fixture(scope="module")
def runs(harness, trust, space) -> dict:
    first = _backfill(trust, space)
    again = _backfill(trust, space)
    forced = _backfill(trust, space, start=END, force=True)   # one month forced: enough to recompute, in CI time
    return {"first": first, "again": again, "forced": forced}


# ---------------------------------------------------------------- pure
def test_months_between_and_skip_rule():
    from tasks.core.months import months_between
    from tasks.publish.registry import should_skip

    assert months_between("2023-11", "2024-02") == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert months_between("2024-01", "2024-01") == ["2024-01"]
    with pytest.raises(ValueError, match="before"):
        months_between("2024-02", "2024-01")
    params = {"as_of": "2024-01", "window": "all_to_date", "mapping": None}
    last = {"run_id": "r", "input_sha256": "abc", "code_version": "v1",
            "params_json": json.dumps(params, sort_keys=True)}
    assert should_skip(last, input_sha256="abc", code_version="v1", params=dict(params))
    assert not should_skip(last, input_sha256="abd", code_version="v1", params=params)        # new extracts
    assert not should_skip(last, input_sha256="abc", code_version="v2", params=params)        # new code
    assert not should_skip(last, input_sha256="abc", code_version="v1", params={**params, "window": "last_12_months"})
    assert not should_skip(None, input_sha256="abc", code_version="v1", params=params)        # never completed


# ---------------------------------------------------------------- backfill
def test_first_backfill_runs_every_month(runs, space):
    first = runs["first"]
    assert [m["as_of"] for m in first["months"]] == ["2023-10", "2023-11", "2023-12"]
    assert first["ran"] == 3 and first["skipped"] == 0 and first["failed"] == []
    for m in first["months"]:
        row = registry_row(space["db"], m["run_id"])
        assert row["status"] == "completed" and row["as_of"] == m["as_of"]
        assert row["input_sha256"] == first["input_sha256"]


def test_second_backfill_is_a_no_op(runs, space):
    from tasks.publish.registry import list_runs
    from tasks.warehouse.connection import reading

    again = runs["again"]
    assert again["ran"] == 0 and again["skipped"] == 3
    assert [m["run_id"] for m in again["months"]] == [m["run_id"] for m in runs["first"]["months"]]
    with reading(space["db"]) as con:
        n = list_runs(con).height
    assert n == 4   # 3 first + 1 forced; the no-op added none


def test_forced_backfill_recomputes_identical_figures(runs, space):
    from tasks.publish.run_diff import diff_tables

    forced = runs["forced"]
    assert forced["ran"] == 1 and [m["as_of"] for m in forced["months"]] == [END]
    for a, b in zip(runs["first"]["months"][-1:], forced["months"]):
        assert a["as_of"] == b["as_of"] and a["run_id"] != b["run_id"]
        ta, tb = run_tables(space["db"], a["run_id"]), run_tables(space["db"], b["run_id"])
        d = diff_tables(analysis_tables(ta), analysis_tables(tb), **TOL)
        assert len(d.tables) >= 4 and d.identical, (a["as_of"], [n for n, t in d.tables.items() if not t.identical])


def test_months_differ_from_each_other(runs, space):
    """The point-in-time filter is doing something: later months see more applications."""
    import polars as pl

    totals = []
    for m in runs["first"]["months"]:
        fc = run_tables(space["db"], m["run_id"])["funnel_counts"]
        totals.append(fc.filter((pl.col("band") == "All") & (pl.col("wres_group") == "All"))["applications"].item())
    assert totals[0] < totals[1] < totals[2]


def test_backfilled_month_equals_run_on_truncated_extracts(runs, trust, space, tmp_path):
    from flows.monthly_evaluation import monthly_evaluation
    from tasks.publish.run_diff import diff_tables

    backfilled = next(m for m in runs["first"]["months"] if m["as_of"] == PIT_MONTH)
    cut = truncate_extracts(trust, tmp_path / "cut", PIT_MONTH)
    db = tmp_path / "cut.duckdb"
    res = monthly_evaluation(as_of=PIT_MONTH, extracts=str(cut), db=str(db), out_dir=str(tmp_path / "out"),
                             report=False, exports=False)
    assert registry_row(db, res["run_id"])["input_sha256"] != runs["first"]["input_sha256"]
    full_a, full_b = run_tables(space["db"], backfilled["run_id"]), run_tables(db, res["run_id"])
    ta, tb = analysis_tables(full_a), analysis_tables(full_b)
    d = diff_tables(ta, tb, **TOL)
    assert set(full_a) == set(full_b) and len(ta) >= 10
    assert d.identical, {n: (t.changed[:3], t.only_in_a[:3], t.only_in_b[:3]) for n, t in d.tables.items()
                         if not t.identical}
    # the registry records that the extracts date every status (so the months read statuses as of them)
    from tasks.core.vocabulary import STATUS_DATES_COMPLETE

    assert registry_row(space["db"], backfilled["run_id"])["status_dates"] == STATUS_DATES_COMPLETE
