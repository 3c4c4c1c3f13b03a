"""Run diff: which figures changed between two runs (hand-built frames and a tiny warehouse)."""
from __future__ import annotations

import polars as pl
import pytest

from tasks.publish.run_diff import diff_frames, diff_tables, format_diff, natural_key, resolve_run_id


def _wres(rl_8a: float, n_8b: int = 40) -> pl.DataFrame:
    return pl.DataFrame({
        "run_id": ["r"] * 3, "scope": ["overall", "band", "band"], "scope_value": ["all", "8a", "8b"],
        "shortlisted_white": [100, 60, n_8b], "relative_likelihood": [1.30, rl_8a, 1.10],
        "flags": ["", "", "small_numbers"],
    })


def test_identical_apart_from_run_metadata():
    a = _wres(1.5)
    b = _wres(1.5).with_columns(pl.lit("other-run").alias("run_id"), pl.lit("2024-01").alias("run_as_of"))
    d = diff_frames("wres_indicator2", a, b)
    assert d.identical and d.key == ("scope", "scope_value") and d.rows_a == 3


def test_changed_figure_reported_with_key_and_delta():
    d = diff_frames("wres_indicator2", _wres(1.5), _wres(1.75, n_8b=45))
    assert not d.identical
    by_col = {(c["scope_value"], c["column"]): c for c in d.changed}
    assert set(by_col) == {("8a", "relative_likelihood"), ("8b", "shortlisted_white")}
    assert by_col[("8a", "relative_likelihood")]["delta"] == pytest.approx(0.25)
    assert by_col[("8b", "shortlisted_white")]["a"] == 40 and by_col[("8b", "shortlisted_white")]["delta"] == 5


def test_tolerance_absorbs_rounding_noise_only():
    a, b = _wres(1.5), _wres(1.5 + 1e-13)
    assert not diff_frames("wres_indicator2", a, b, abs_tol=0.0, rel_tol=0.0).identical
    assert diff_frames("wres_indicator2", a, b, abs_tol=1e-12, rel_tol=1e-12).identical
    assert not diff_frames("wres_indicator2", a, _wres(1.5 + 1e-6), abs_tol=1e-9, rel_tol=1e-9).identical


def test_rows_only_in_one_run_and_text_values():
    a = _wres(1.5)
    b = pl.concat([a.filter(pl.col("scope_value") != "8b"),
                   pl.DataFrame({"run_id": ["r"], "scope": ["band"], "scope_value": ["9"], "shortlisted_white": [9],
                                 "relative_likelihood": [None], "flags": ["zero_cell_haldane"]},
                                schema=a.schema)])
    d = diff_frames("wres_indicator2", a, b)
    assert d.only_in_a == [{"scope": "band", "scope_value": "8b"}]
    assert d.only_in_b == [{"scope": "band", "scope_value": "9"}]
    f = diff_frames("wres_indicator2", a, a.with_columns(pl.lit("x").alias("flags")))
    assert {c["column"] for c in f.changed} == {"flags"}


def test_null_equals_null_and_nan_equals_nan():
    a = pl.DataFrame({"term": ["bme", "female"], "odds_ratio": [None, float("nan")]}, schema={"term": pl.String, "odds_ratio": pl.Float64})
    assert diff_frames("x", a, a.clone()).identical
    assert not diff_frames("x", a, a.with_columns(pl.lit(1.0).alias("odds_ratio"))).identical


def test_unknown_table_key_is_its_text_columns():
    df = pl.DataFrame({"run_id": ["r"], "stage": ["shortlist"], "group": ["BME"], "n": [5], "rate": [0.5],
                       "flags": [""]})
    assert natural_key("something_new", df) == ("stage", "group")
    assert natural_key("odds_ratios", pl.DataFrame({"analysis": ["m"], "stage": ["s"], "model": ["l"],
                                                    "term": ["bme"], "estimate": [0.1]})) == \
        ("analysis", "stage", "model", "term")


def test_tables_only_in_one_run_and_text_summary():
    d = diff_tables({"wres_indicator2": _wres(1.5), "topics": pl.DataFrame({"topic": ["a"]})},
                    {"wres_indicator2": _wres(2.0)}, "run-a", "run-b")
    assert d.only_in_a == ["topics"] and d.changed_figures() == 1 and not d.identical
    text = format_diff(d)
    assert "1 figure(s) changed" in text and "scope=band scope_value=8a" in text and "relative_likelihood: 1.5 -> 2.0" in text


def test_resolve_run_id_prefixes():
    known = ["abc123", "abd456", "ffff"]
    assert resolve_run_id(known, "abc") == "abc123" and resolve_run_id(known, "ffff") == "ffff"
    with pytest.raises(ValueError, match="matches 2 runs"):
        resolve_run_id(known, "ab")
    with pytest.raises(ValueError, match="no run"):
        resolve_run_id(known, "zz")


def test_cli_diff_on_a_published_warehouse(tmp_path, capsys):
    """Two runs published through tasks.publish; the CLI names the changed figure."""
    from result_files import write_results_parquet

    from edi_recruit.cli import main
    from tasks.publish import registry
    from tasks.publish.writer import publish_run
    from tasks.warehouse.connection import writing

    db = tmp_path / "w.duckdb"
    for run_id, rl in (("run-aaaa", 1.5), ("run-bbbb", 1.8)):
        paths = write_results_parquet({"wres_indicator2": _wres(rl).drop("run_id")}, tmp_path / run_id)
        with writing(db) as con:
            registry.start_run(con, run_id=run_id, flow="monthly-evaluation", as_of="2024-01", params={})
            con.begin()
            publish_run(con, run_id, paths, own_transaction=False)
            registry.finish_run(con, run_id, "completed")
            con.commit()
    assert main(["diff", "run-a", "run-b", "--db", str(db)]) == 0   # the published tables by default
    out = capsys.readouterr().out
    assert "run-aaaa -> run-bbbb: 1 figure(s) changed" in out and "relative_likelihood: 1.5 -> 1.8" in out
    assert "disclosure_log: identical" in out
    assert main(["diff", "run-a", "run-b", "--db", str(db), "--results"]) == 0   # opt in: unprotected results
    out = capsys.readouterr().out
    assert "relative_likelihood: 1.5 -> 1.8" in out and "disclosure_log" not in out
    assert main(["diff", "run-a", "run-a", "--db", str(db)]) == 0
    assert "identical figures" in capsys.readouterr().out
    assert main(["diff", "run-", "run-a", "--db", str(db)]) == 1   # ambiguous prefix: one-line error
    assert "matches 2 runs" in capsys.readouterr().err
    # `runs` lists both, filters by month and status
    assert main(["runs", "--db", str(db), "--as-of", "2024-01", "--status", "completed"]) == 0
    listing = capsys.readouterr().out
    assert "run-aaaa" in listing and "run-bbbb" in listing and "monthly-evaluation" in listing
    assert main(["runs", "--db", str(db), "--status", "failed"]) == 0
    assert capsys.readouterr().out.strip() == "No runs match."
