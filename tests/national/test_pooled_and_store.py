"""The national tables from hand-made trust figures, the national warehouse and the national report (no pipeline)."""
from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tasks.national.meta_analysis import random_effects
from tasks.national.pooled import NATIONAL_TABLES, national_tables


def _figures(code, region, est, se, months, overall):
    estimates = [{"trust_code": code, "region": region, "stage": "offer", "model": "conditional_logit",
                  "term": "bme:letter_to_ceo", "estimate": est, "std_error": se, "n_obs": 500, "usable": True,
                  "flags": ""},
                 {"trust_code": code, "region": region, "stage": "offer", "model": "conditional_logit",
                  "term": "bme", "estimate": None, "std_error": None, "n_obs": None, "usable": False,
                  "flags": "not_estimable"}]
    keys = ("shortlisted_white", "appointed_white", "shortlisted_bme", "appointed_bme")
    return {"estimates": estimates,
            "wres_months": [{"trust_code": code, "region": region, "month": m, **dict(zip(keys, c))}
                            for m, c in months],
            "wres_overall": [{"trust_code": code, "region": region, "month": None, **dict(zip(keys, overall))}]}


@pytest.fixture(scope="module")
def tables():
    figures = {
        "AA1": _figures("AA1", "London", 0.6, 0.3, [("2023-03", (100, 30, 50, 10)), ("2023-04", (80, 20, 40, None))],
                        (180, 50, 90, 15)),
        "BB2": _figures("BB2", "London", 0.2, 0.4, [("2023-04", (60, 15, 60, 10))], (60, 15, 60, 10)),
        "CC3": _figures("CC3", "Midlands", 1.1, 0.5, [("2023-05", (200, 60, 100, 5))], (400, 200, 100, 5)),
    }
    runs = [{"trust_code": c, "region": f["estimates"][0]["region"], "status": "completed", "run_id": f"r-{c}",
             "reason": None, "seconds": 1.0, "worker": "h:1", "peak_rss_mb": 100.0} for c, f in figures.items()]
    runs.append({"trust_code": "DD4", "region": "London", "status": "failed", "run_id": None,
                 "reason": "ExtractError: bad file", "seconds": 0.1, "worker": "h:2"})
    adopts = {"AA1": {"letter_to_ceo": True}, "BB2": {"letter_to_ceo": False}, "CC3": {"letter_to_ceo": True},
              "DD4": {"letter_to_ceo": None}}
    return national_tables(runs, figures, adopts, as_of="2024-01")


def test_every_table_is_made(tables):
    assert set(tables) == set(NATIONAL_TABLES)
    assert tables["trust_runs"].filter(pl.col("status") == "failed")["reason"].to_list() == ["ExtractError: bad file"]


def test_pooled_effects_are_the_random_effects_of_the_usable_rows(tables):
    p = tables["pooled_effects"]
    letter = p.filter((pl.col("term") == "bme:letter_to_ceo") & (pl.col("method") == "reml")).row(0, named=True)
    ref = random_effects(estimates=[0.6, 0.2, 1.1], std_errors=[0.3, 0.4, 0.5])
    assert letter["estimate"] == pytest.approx(ref.estimate) and letter["k"] == 3
    bme = p.filter((pl.col("term") == "bme") & (pl.col("method") == "reml")).row(0, named=True)
    assert bme["k"] == 0 and bme["excluded"] == 3 and bme["estimate"] is None   # not_estimable rows left out
    assert set(p["method"]) == {"reml", "dl"}


def test_national_wres_leaves_out_suppressed_months(tables):
    w = tables["wres_indicator2"]
    london = w.filter((pl.col("wres_year") == "2023/24") & (pl.col("region") == "London")).row(0, named=True)
    assert (london["shortlisted_white"], london["rows_excluded"]) == (60, 1)   # AA1's 2023-04 row had a '*'
    total = w.filter((pl.col("wres_year") == "All") & (pl.col("region") == "All")).row(0, named=True)
    assert total["shortlisted_bme"] == 50 + 60 + 100 and total["trusts"] == 3


def test_funnel_names_the_outlier(tables):
    f = tables["funnel"]
    cc3 = f.filter(pl.col("trust_code") == "CC3").row(0, named=True)
    assert cc3["position"] == "above_99_8"   # 50% of White vs 5% of BME appointed
    assert tables["funnel_curve"].height == 200


def test_adoption_compares_adopters_with_non_adopters(tables):
    a = tables["adoption"].filter(pl.col("term") == "bme:letter_to_ceo").filter(pl.col("rule") == "letter_to_ceo")
    row = a.row(0, named=True)
    assert (row["adopters_k"], row["non_adopters_k"]) == (2, 1)
    assert row["difference"] == pytest.approx(row["adopters_estimate"] - 0.2)


def test_store_round_trip_report_and_workbook(tables, tmp_path):
    from openpyxl import load_workbook

    from tasks.national.store import (
        complete_national_run,
        fail_national_run,
        load_national_run,
        national_runs,
        register_national_run,
    )
    from tasks.outputs.national_report import write_national_outputs

    db = tmp_path / "nat.duckdb"
    register_national_run(db, run_id="n1", as_of="2024-01", manifest="m.yaml", dask_address=None, trusts=4)
    complete_national_run(db, run_id="n1", tables=tables, completed=3, failed=1)
    register_national_run(db, run_id="n2", as_of="2024-01", manifest="m.yaml", dask_address=None, trusts=4)
    fail_national_run(db, run_id="n2", reason="NoTrustCompleted: every trust failed")
    runs = national_runs(db)
    assert dict(zip(runs["run_id"], runs["status"])) == {"n1": "completed", "n2": "failed"}
    run, back = load_national_run(db)                 # the latest COMPLETED run
    assert run["run_id"] == "n1" and back["pooled_effects"].height == tables["pooled_effects"].height
    with pytest.raises(ValueError, match="no national run n3"):
        load_national_run(db, "n3")
    out = write_national_outputs(db, "n1", tmp_path / "out")
    html = Path(out["report"]).read_text(encoding="utf-8")
    assert "CC3 (above 99.8% limit)" in html and "ExtractError: bad file" in html
    assert html.count("<circle") == 3 and html.count("data-limit=") == 5
    assert "pooled_effects" in load_workbook(out["workbook"], read_only=True).sheetnames


def test_a_failing_national_section_says_so_and_the_rest_render(tables, monkeypatch, caplog):
    from tasks.outputs import national_report as nr

    def broken(t, run):
        raise KeyError("pooled_effects")

    monkeypatch.setitem(nr.RENDERERS, "national-pooled", broken)
    html = nr.build_national_html({"run_id": "n1", "as_of": "2024-01", "trusts": 4}, tables)
    pooled = html.split('id="national-pooled"')[1].split("</section>")[0]
    assert "could not be drawn: KeyError" in pooled
    assert html.count("<section ") == len(nr.SECTIONS) and "CC3 (above 99.8% limit)" in html
    assert any("national-pooled" in r.getMessage() for r in caplog.records)   # and the log says which
