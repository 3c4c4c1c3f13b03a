"""Artifact builders (pure): headline markdown and tables from published-shaped frames."""
from __future__ import annotations

import polars as pl

from tasks.outputs import artifacts as A


def _odds() -> pl.DataFrame:
    return pl.DataFrame({
        "run_id": ["r"] * 6,
        "analysis": ["main", "main", "main", "main", "stratum:band=8a", "main"],
        "stage": ["shortlist", "shortlist", "shortlist", "appoint_from_shortlist", "shortlist", "shortlist"],
        "model": ["logit"] * 6,
        "term": ["bme", "female", "bme:letter_to_ceo", "bme", "bme", "bme@diverse_panel=1"],
        "odds_ratio": [0.62, 1.1, 1.4, 0.80, 0.5, 0.9],
        "ci_low": [0.5, 0.9, 1.0, 0.55, 0.3, 0.7], "ci_high": [0.77, 1.3, 1.9, 1.16, 0.8, 1.2],
        "p_value": [0.0001, 0.3, 0.04, 0.24, 0.01, 0.4], "q_value": [0.0004, 0.4, 0.08, 0.3, 0.02, 0.5],
        "n_obs": ["1495", "1495", "1495", "230", "300", "700"], "flags": ["", "", "", "", "", ""],
    })


def _wres() -> pl.DataFrame:
    return pl.DataFrame({
        "run_id": ["r"] * 4, "scope": ["band", "overall", "band", "month"], "scope_value": ["8b", "all", "8a", "2024-01"],
        "shortlisted_white": ["80", "230", "85", "*"], "appointed_white": ["15", "45", "20", "*"],
        "shortlisted_bme": ["70", "200", "90", "*"], "appointed_bme": ["5", "20", "10", "*"],
        "relative_likelihood": [2.6, 1.96, None, None], "ci_low": [1.0, 1.2, None, None],
        "ci_high": [6.7, 3.2, None, None], "p_value": [0.04, 0.004, None, None],
        "in_non_adverse_band": [False, False, None, None], "flags": ["", "", "", ""],
    })


def test_key_odds_ratios_are_in_funnel_order_in_words():
    rows = A.key_odds_ratios(_odds())
    assert [(r["stage"], r["comparison"]) for r in rows] == [
        ("Shortlisting", "BME vs White"), ("Shortlisting", "BME vs White, with a diverse panel"),
        ("Shortlisting", "Change in the BME vs White gap with a letter to the CEO"),
        ("Appointment (from shortlist)", "BME vs White")]
    first = rows[0]
    assert first["odds ratio"] == "0.62" and first["95% CI"] == "0.50–0.77" and first["p"] == "<0.001"
    assert first["n"] == "1495" and first["model"] == "logistic regression"  # published counts pass through
    raw = {"bme", "bme:letter_to_ceo", "bme@diverse_panel=1", "shortlist", "appoint_from_shortlist", "logit"}
    assert not raw & {v for r in rows for v in r.values()}


def test_wres_by_band_orders_bands_as_agenda_for_change_then_overall_and_shows_suppression():
    wres = pl.concat([_wres(), _wres().head(1).with_columns(pl.lit("VSM").alias("scope_value"))])
    rows = A.wres_by_band(wres)
    assert [r["band"] for r in rows] == ["Band 8a", "Band 8b", "Very senior managers (VSM)",
                                         "All senior bands (8a-VSM)"]
    assert rows[0]["relative likelihood"] == "–" and rows[1]["relative likelihood"] == "2.60"
    assert rows[1]["within 0.80–1.25"] == "no" and rows[3]["shortlisted White"] == "230"


def test_summary_states_wres_verdict_and_bme_odds_by_stage_in_funnel_order():
    counts = pl.DataFrame({"band": ["All"], "wres_group": ["All"], "applications": ["1500"], "appointed": ["70"]})
    md = A.summary_markdown("2024-01", "run-1", {"odds_ratios": _odds(), "wres_indicator2": _wres(),
                                                 "funnel_counts": counts},
                            code_version="abc123", input_sha256="f" * 64)
    assert md.startswith("# Senior recruitment evaluation: 2024-01")
    assert "relative likelihood **1.96** (95% CI 1.20–3.20, p 0.004), above 1.25" in md
    assert "Shortlisting: BME vs White adjusted odds ratio **0.62**" in md and "significant after BH" in md
    assert "Appointment (from shortlist): BME vs White" in md and "not significant after BH correction" in md
    assert md.index("Shortlisting:") < md.index("Appointment (from shortlist):")
    assert "`shortlist`" not in md and "appoint_from_shortlist" not in md
    assert "Applications in scope: 1500; appointed: 70" in md and "`ffffffffffff`" in md


def test_summary_without_tables_says_so_and_all_artifacts_keyed():
    assert "No published findings" in A.summary_markdown("2024-01", "r", {})
    arts = A.build_run_artifacts("2024-01", "r", {}, db="/tmp/x.duckdb", report="/tmp/r/report.html")
    assert [a.key for a in arts] == list(A.RUN_ARTIFACT_KEYS)
    assert all(a.table == [] for a in arts if a.kind == "table")


def _run_folder(tmp_path):
    run = tmp_path / "out" / "run-1"
    (run / "results").mkdir(parents=True)
    (run / "data_docs").mkdir()
    (run / "report.html").write_text("<html></html>")
    (run / "edi-recruit_trust_2024-01_run1.xlsx").write_bytes(b"PK")
    (run / "data_docs" / "index.html").write_text("<html></html>")
    return run


def test_links_never_use_file_urls_and_show_paths_and_checks_inline(tmp_path):
    run = _run_folder(tmp_path)
    validation = pl.DataFrame({"suite": ["applications", "applications", "vacancies"],
                               "severity": ["critical", "warning", "row-level"], "success": [True, False, False]})
    md = A.links_markdown(str(run / "report.html"), None, str(run / "data_docs" / "index.html"), "/tmp/w.duckdb",
                          "run-1", {"validation": validation}, env={})
    assert "file:" not in md and "](" not in md                      # no server: no links at all
    assert f"`{run / 'report.html'}`" in md and "Excel workbook**: not produced" in md
    assert A.NO_OUTPUTS_SERVER in md
    assert "| applications | 2 | 0 | 0 | 1 |" in md and "| vacancies | 1 | 0 | 1 | 0 |" in md


def test_links_go_to_the_outputs_server_when_it_serves_the_folder(tmp_path):
    from edi_recruit.outputs_server import outputs_env

    run = _run_folder(tmp_path)
    env = outputs_env("http://127.0.0.1:4201", [tmp_path])
    xlsx = run / "edi-recruit_trust_2024-01_run1.xlsx"
    md = A.links_markdown(str(run / "report.html"), str(xlsx), str(run / "data_docs" / "index.html"),
                          "/tmp/w.duckdb", "run-1", env=env)
    assert f"[HTML report](http://127.0.0.1:4201{(run / 'report.html').resolve().as_posix()})" in md
    assert f"[Excel workbook](http://127.0.0.1:4201{xlsx.resolve().as_posix()})" in md
    assert "[Data Docs](http://127.0.0.1:4201" in md and A.OUTPUTS_HINT in md and "file:" not in md
    # a folder the server does not serve: the path only
    elsewhere = outputs_env("http://127.0.0.1:4201", [tmp_path / "other"])
    md = A.links_markdown(str(run / "report.html"), None, None, "/tmp/w.duckdb", "run-1", env=elsewhere)
    assert "](" not in md and A.NO_OUTPUTS_SERVER in md


def test_backfill_markdown_lists_each_month():
    md = A.backfill_markdown([{"as_of": "2023-10", "action": "skipped", "run_id": "abc", "note": "unchanged"},
                              {"as_of": "2023-11", "action": "ran", "run_id": "def", "note": ""}])
    assert "| 2023-10 | skipped | `abc` | unchanged |" in md and "| 2023-11 | ran | `def` |  |" in md
