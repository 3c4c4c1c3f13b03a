"""The validation gate on a clean generated trust: results, drift, quarantine, critical stops, mappings."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tasks.core.paths import PROJECT_ROOT
from tasks.ingest.staging import ingest_extracts
from tasks.validation.gate import ValidationCritical, validate
from tasks.validation.gx import GXContext
from tasks.validation.rules import VALIDATION_ORDER, load_suite_file

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
    built = GXContext.built   # the clean fixture's run built the process's GX context
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
    assert GXContext.built == built >= 1   # two more runs in this process, no new context
    w = out.warnings
    assert w.filter(pl.col("expectation") == "row_count_drift")["suite"].to_list() == ["workforce"]
    fired = w.filter(pl.col("expectation") == "row_count_drift").row(0, named=True)
    n_before = drift.filter(pl.col("suite") == "workforce")["element_count"][0]
    assert "moved by more than the drift threshold" in fired["reason"]
    assert f"{n_before:,} in the previous validated run" in fired["detail"]   # exact figures: detail only
    assert not re.search(r"\d", fired["reason"])
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


def test_the_gate_checks_headers_against_the_mappings_the_run_used(clean, tmp_path):
    """A run with a custom mapping validates against that mapping, not the files in mappings/."""
    ex = tmp_path / "extracts"
    shutil.copytree(clean["dir"], ex)
    path = ex / "interview_scores.csv"
    header, rest = path.read_text(encoding="utf-8").split("\n", 1)
    assert '"Score"' in header or ",Score," in header
    path.write_text(header.replace("Score,", "Panel Score,", 1).replace('"Score"', '"Panel Score"', 1) + "\n" + rest,
                    encoding="utf-8")
    custom = tmp_path / "my_trac.yaml"
    trac = (ROOT / "mappings" / "trac.yaml").read_text(encoding="utf-8")
    custom.write_text(trac.replace('"Score": score', '"Panel Score": score'), encoding="utf-8")
    mapping_paths = [custom, ROOT / "mappings" / "esr.yaml"]
    db = tmp_path / "edi.duckdb"
    ingest_extracts(ex, db, mapping_paths=mapping_paths)

    def unmapped(out) -> dict:
        v = out.tables["validation"].filter(pl.col("expectation") == "no_unmapped_columns")
        return {r["suite"]: (r["success"], r["column_name"]) for r in v.iter_rows(named=True)}

    used = validate(str(db), "custom", as_of=AS_OF, out_dir=str(tmp_path / "out"), data_docs=False,
                    mapping_paths=mapping_paths)
    assert unmapped(used)["interview_scores"] == (True, "")
    assert all(ok for ok, _ in unmapped(used).values())
    # the default (every file in mappings/) does not know the renamed header
    default = validate(str(db), "default", as_of=AS_OF, out_dir=str(tmp_path / "out"), data_docs=False)
    assert unmapped(default)["interview_scores"] == (False, "Panel Score")
    # mappings the run names must load
    with pytest.raises(ValidationCritical, match="the run's mappings could not be read"):
        validate(str(db), "missing", as_of=AS_OF, out_dir=str(tmp_path / "out"), data_docs=False,
                 mapping_paths=[tmp_path / "nope.yaml"])
