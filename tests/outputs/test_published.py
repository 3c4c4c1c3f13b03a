"""The outputs' one reader of published.*: which run, which tables, which policy."""
from __future__ import annotations

import logging

import pytest
from fake_warehouse import build_fake_warehouse, fake_results

from tasks.outputs.published import NO_PUBLISHED_RUN, PublishedRun, load_published, load_run


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("published")
    db = d / "w.duckdb"
    build_fake_warehouse(db, d / "res1", run_id="run-old", as_of="2023-12")
    build_fake_warehouse(db, d / "res2", run_id="run-new", as_of="2024-01",
                         tables={"funnel_counts": fake_results()["funnel_counts"]})
    return db


def test_default_run_is_the_latest_completed_published_one(two_runs):
    got = load_run(two_runs)
    assert isinstance(got, PublishedRun)
    rid, run, tables, policy = got  # still unpacks as the four-tuple the outputs used
    assert rid == got.run_id == "run-new"
    assert run["as_of"] == "2024-01" and run["status"] == "completed" and run["code_version"] == "test-version"
    # every published table is read; those this run did not publish come back empty
    assert list(tables) == sorted(set(fake_results()) | {"disclosure_log"})
    assert sorted(n for n, df in tables.items() if df.height) == ["disclosure_log", "funnel_counts"]
    assert policy["tables"] == ["funnel_counts"] and policy["policy_version"].startswith("nhsd-2018")


def test_a_named_run_gets_only_its_own_rows(two_runs):
    got = load_run(two_runs, "run-old")
    assert got.run["as_of"] == "2023-12"
    assert set(got.tables) == set(fake_results()) | {"disclosure_log"}
    for name, df in got.tables.items():
        assert df.height > 0, name
        assert df["run_id"].unique().to_list() == ["run-old"], name
    assert list(got.tables) == sorted(got.tables)  # table-name order


def test_load_published_reads_named_tables_in_order_and_skips_missing(two_runs):
    got = load_published(two_runs, "run-old", ("wres_indicator2", "no_such_table", "odds_ratios"))
    assert list(got) == ["wres_indicator2", "odds_ratios"]
    assert got["odds_ratios"]["run_id"].unique().to_list() == ["run-old"]
    assert load_published(two_runs, "run-new", ("odds_ratios",))["odds_ratios"].height == 0


def test_a_run_without_published_tables_warns_and_has_no_tables(two_runs, caplog):
    with caplog.at_level(logging.WARNING, logger="tasks.outputs.published"):
        got = load_run(two_runs, "run-never")
    assert all(df.height == 0 for df in got.tables.values())
    assert got.run == {"run_id": "run-never"} and got.policy == {"tables": []}
    assert "run-never has no published tables" in caplog.text


def test_an_empty_warehouse_is_a_clear_error(tmp_path):
    from tasks.warehouse.connection import connect

    connect(tmp_path / "empty.duckdb").close()
    with pytest.raises(ValueError, match=NO_PUBLISHED_RUN.format(db=".*").split(":")[0]):
        load_run(tmp_path / "empty.duckdb")
