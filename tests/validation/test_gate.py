"""The validation gate on a clean generated trust, and its policies."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tasks.core import vocabulary as V
from tasks.core.paths import PROJECT_ROOT
from tasks.ingest.staging import ingest_extracts
from tasks.validation.gate import (
    FORMULA_PATTERN,
    SEVERITIES,
    VALIDATION_ORDER,
    ValidationCritical,
    load_suite_file,
    resolve_suite,
    validate,
)

AS_OF = "2024-01"
ROOT = PROJECT_ROOT


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """A small clean trust, ingested and validated once."""
    from edi_recruit.synthetic.generator import generate_trust

    base = tmp_path_factory.mktemp("clean")
    ex = base / "extracts"
    generate_trust(ex, seed=11, applications=600)
    db = base / "edi.duckdb"
    ingest_extracts(ex, db)
    out = validate(str(db), "clean-1", as_of=AS_OF, out_dir=str(base / "out"))
    return {"dir": ex, "db": db, "out": out, "base": base}


# ---------------------------------------------------------------- the suites as code
def test_every_staged_table_has_a_suite_with_documented_severities():
    assert set(VALIDATION_ORDER) == set(V.CANONICAL_TABLES)
    for table in VALIDATION_ORDER:
        doc = json.loads((ROOT / "expectations" / f"{table}.json").read_text())
        assert doc["name"] == table
        names = [e["meta"]["name"] for e in doc["expectations"]]
        assert len(names) == len(set(names)), table
        for e in doc["expectations"]:
            assert e["meta"]["severity"] in SEVERITIES, (table, e["meta"]["name"])
            assert e["meta"]["reason"] and e["meta"]["action"], (table, e["meta"]["name"])
            if e["meta"]["severity"] == "row-level":  # row-level needs offending rows: a column map expectation
                assert e["type"].startswith("expect_column_values_"), (table, e["meta"]["name"])


def test_placeholders_resolve_to_the_vocabulary_and_params():
    doc = load_suite_file("vacancies")
    configs, skipped = resolve_suite(doc, {"row_count_min": None, "row_count_max": None})
    assert skipped == ["row_count_drift"]
    band = next(c for c in configs if c["meta"]["name"] == "band_valid")
    assert band["kwargs"]["value_set"] == list(V.SENIOR_BANDS)
    doc = load_suite_file("applications")
    configs, _ = resolve_suite(doc, {"known_ethnicity_min_share": 0.8, "row_count_min": 1, "row_count_max": 2})
    eth = next(c for c in configs if c["meta"]["name"] == "ethnic_code_valid")
    assert eth["kwargs"]["regex"] == V.ETHNIC_CODE_PATTERN
    share = next(c for c in configs if c["meta"]["name"] == "unknown_ethnicity_share")
    assert share["kwargs"]["mostly"] == 0.8 and share["kwargs"]["value_set"] == [0.0]


def test_ethnic_code_pattern_accepts_main_extended_and_unknown_codes():
    pat = re.compile(V.ETHNIC_CODE_PATTERN)
    for ok in ("A", "N", "Z", "99", "CA", "LH", "S1"):
        assert pat.match(ok), ok
    for bad in ("Q9", "I", "O", "ZZ", "AAA", "White British", "9"):
        assert not pat.match(bad), bad


def test_formula_pattern():
    pat = re.compile(FORMULA_PATTERN)
    for text in ('=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3+cmd|x", "  =1+1"):
        assert pat.search(text), text
    for text in ("Good candidate.", "- strong leadership", "Score 3-4 overall"):
        assert not pat.search(text), text


def test_docs_list_every_expectation_with_its_severity():
    doc = (ROOT / "docs" / "data-quality.md").read_text()
    for table in VALIDATION_ORDER:
        for e in load_suite_file(table)["expectations"]:
            line = f"`{table}.{e['meta']['name']}`"
            assert line in doc, line
            row = next(l for l in doc.splitlines() if line in l)
            assert e["meta"]["severity"] in row, line


# ---------------------------------------------------------------- a clean trust
def test_clean_trust_has_no_critical_and_no_row_level_failures(clean):
    v = clean["out"].tables["validation"]
    failed = v.filter(~pl.col("success"))
    assert failed.filter(pl.col("severity") == "critical").height == 0
    assert failed.filter(pl.col("severity") == "row-level").height == 0, failed
    assert sum(clean["out"].quarantined_rows.values()) == 0
    assert set(v["suite"].unique()) == set(VALIDATION_ORDER)
    assert all(r["balanced"] for r in clean["out"].reconciliation)
    # every expectation of every suite was evaluated (drift has no baseline on a first run)
    expected = sum(len(load_suite_file(t)["expectations"]) - 1 for t in VALIDATION_ORDER)
    assert v.filter(pl.col("expectation_type").str.starts_with("expect_")).height == expected


def test_outputs_persist_in_the_run_folder(clean):
    out = clean["out"]
    run_dir = clean["base"] / "out" / "clean-1"
    assert out.data_docs_path == str(run_dir / "data_docs" / "index.html")
    assert Path(out.data_docs_path).exists()
    assert (run_dir / "gx" / "gx" / "expectations").exists() or any((run_dir / "gx").rglob("applications.json"))
    stored = pl.read_parquet(out.result_paths["validation"])
    assert stored.equals(out.tables["validation"])
    assert set(stored.columns) >= {"suite", "expectation", "severity", "success", "unexpected_count", "sample_ids"}
    assert set(pl.read_parquet(out.result_paths["quarantine_summary"]).columns) == {
        "table_name", "expectation", "reason", "rows"}
    assert "critical 0" in out.summary and "reconciliation" in out.summary


def test_second_run_compares_row_counts_and_warns_on_drift(clean, tmp_path):
    base = tmp_path / "copy"
    shutil.copytree(clean["base"], base, ignore=shutil.ignore_patterns("out"))
    ex, db = base / "extracts", base / "edi.duckdb"
    # same extracts: no drift
    same = validate(str(db), "clean-2", as_of=AS_OF, out_dir=str(base / "out"))
    drift = same.tables["validation"].filter(pl.col("expectation") == "row_count_drift")
    assert drift.height == len(VALIDATION_ORDER) and drift["success"].all()
    # the recorded reason describes the outcome, not the failure it guards against
    for r in drift.iter_rows(named=True):
        assert "moved by more than" not in r["reason"] and "within the drift threshold" in r["reason"], r
    # a workforce export with half the rows: a warning, nothing stopped or quarantined
    path = ex / "workforce.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[: 1 + (len(lines) - 1) // 2]), encoding="utf-8")
    ingest_extracts(ex, db)
    out = validate(str(db), "clean-3", as_of=AS_OF, out_dir=str(base / "out"))
    w = out.warnings
    assert w.filter(pl.col("expectation") == "row_count_drift")["suite"].to_list() == ["workforce"]
    fired = w.filter(pl.col("expectation") == "row_count_drift").row(0, named=True)
    n_before = drift.filter(pl.col("suite") == "workforce")["element_count"][0]
    assert "moved by more than the drift threshold" in fired["reason"]
    assert f"{n_before:,} in the previous validated run" in fired["reason"]
    assert sum(out.quarantined_rows.values()) == 0


def test_quarantined_rows_come_back_when_the_corrected_extract_is_re_ingested(clean, tmp_path):
    base = tmp_path / "copy"
    shutil.copytree(clean["base"], base, ignore=shutil.ignore_patterns("out"))
    ex, db = base / "extracts", base / "edi.duckdb"
    path = ex / "interview_scores.csv"
    good = path.read_bytes()
    lines = good.decode().split("\n")
    lines[3] = lines[3].rsplit(",", 2)[0] + ",99,10\r" if lines[3].endswith("\r") else lines[3].rsplit(",", 2)[0] + ",99,10"
    path.write_bytes("\n".join(lines).encode())
    ingest_extracts(ex, db)
    out = validate(str(db), "bad", as_of=AS_OF, out_dir=str(base / "out"))
    assert out.quarantined_rows["interview_scores"] == 1
    con = duckdb.connect(str(db), read_only=True)
    raw = json.loads(con.execute("SELECT raw_values FROM quarantine.interview_scores").fetchone()[0])
    con.close()
    assert raw["Score"] == "99" and raw["_row_number"] == 3
    # the landed file is never modified
    landed = next((Path(f"{db}.landing")).rglob("interview_scores.csv"))
    assert landed.read_bytes() == path.read_bytes()
    path.write_bytes(good)
    ingest_extracts(ex, db)
    out = validate(str(db), "fixed", as_of=AS_OF, out_dir=str(base / "out"))
    assert sum(out.quarantined_rows.values()) == 0
    n = clean["out"].reconciliation
    staged = {r["table_name"]: r["staged_rows"] for r in out.reconciliation}
    assert staged == {r["table_name"]: r["staged_rows"] for r in n}


def test_critical_stop_rolls_back_and_records_reasons(clean, tmp_path):
    base = tmp_path / "copy"
    shutil.copytree(clean["base"], base, ignore=shutil.ignore_patterns("out"))
    ex, db = base / "extracts", base / "edi.duckdb"
    path = ex / "panel_members.csv"
    text = path.read_text(encoding="utf-8").replace('"Chair"', '"Convenor"').replace('"Member"', '"Panellist"')
    path.write_text(text, encoding="utf-8")
    ingest_extracts(ex, db)
    with pytest.raises(ValidationCritical) as exc:
        validate(str(db), "stopped", as_of=AS_OF, out_dir=str(base / "out"))
    msg = str(exc.value)
    assert msg.startswith("validation stopped the run: panel_members.csv: column role:")
    assert "panel_members.role_valid" in msg and "systemic" in msg and "e.g. V-" in msg and "\n" not in msg
    assert exc.value.data_docs_path and Path(exc.value.data_docs_path).exists()
    con = duckdb.connect(str(db), read_only=True)
    try:
        # nothing was moved: the gate's quarantine was rolled back
        assert con.execute("SELECT count(*) FROM quarantine.panel_members").fetchone()[0] == 0
        rows = con.execute("SELECT severity, success, action_taken FROM results.validation "
                           "WHERE run_id = 'stopped' AND suite = 'panel_members' AND expectation = 'role_valid'").fetchall()
        assert rows == [("critical", False, "stopped the run")]
    finally:
        con.close()
