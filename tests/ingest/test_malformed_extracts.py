"""The malformed-extract corpus: each case is a small generated trust, corrupted one way.

Every case asserts the exact outcome (a critical stop, quarantine of exactly
the bad rows and the rows that depend on them, or a warning), that the message
names the problem, and that raw = staged + quarantined.  A few cases run the
real command line and check that no Python traceback reaches the user.
"""
from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tasks.core.paths import PROJECT_ROOT
from tasks.ingest.readers import ExtractError
from tasks.ingest.staging import ingest_extracts
from tasks.validation.gate import ValidationCritical, validate

AS_OF = "2024-01"
ROOT = PROJECT_ROOT
CLI = ROOT / ".venv" / "bin" / "edi-recruit"


# ---------------------------------------------------------------- fixtures and helpers
@pytest.fixture(scope="session")
def small_trust(tmp_path_factory) -> Path:
    from edi_recruit.synthetic.generator import generate_trust

    out = tmp_path_factory.mktemp("small_trust") / "extracts"
    generate_trust(out, seed=7, applications=600)
    for p in out.glob("truth*"):
        p.unlink()
    return out


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def write_rows(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


class Case:
    def __init__(self, base: Path, tmp: Path):
        self.dir = tmp / "extracts"
        shutil.copytree(base, self.dir)
        self.db = tmp / "edi.duckdb"
        self.out = tmp / "out"

    def table(self, name: str) -> tuple[list[str], list[list[str]]]:
        return read_rows(self.dir / f"{name}.csv")

    def edit(self, name: str, fn) -> None:
        header, rows = self.table(name)
        header, rows = fn(header, rows)
        write_rows(self.dir / f"{name}.csv", header, rows)

    def ingest(self):
        return ingest_extracts(self.dir, self.db)

    def validate(self, run_id: str = "run-1", **kw):
        kw.setdefault("data_docs", False)  # Data Docs are checked in the CLI case and test_validation
        return validate(str(self.db), run_id, as_of=AS_OF, out_dir=str(self.out), **kw)

    def quarantined(self, table: str) -> dict[int, str]:
        """raw row number -> expectation, for rows in quarantine.<table>."""
        con = duckdb.connect(str(self.db), read_only=True)
        try:
            return dict(con.execute(f"SELECT _row_number, expectation FROM quarantine.{table}").fetchall())
        finally:
            con.close()

    def all_quarantined(self) -> dict[str, dict[int, str]]:
        from tasks.core.vocabulary import CANONICAL_TABLES

        return {t: q for t in CANONICAL_TABLES if (q := self.quarantined(t))}

    def scalar(self, sql: str):
        con = duckdb.connect(str(self.db), read_only=True)
        try:
            return con.execute(sql).fetchone()[0]
        finally:
            con.close()

    def assert_reconciled(self) -> None:
        from tasks.ingest.quarantine import reconcile
        from tasks.warehouse.connection import writing

        with writing(self.db) as con:
            recs = reconcile(con)
        assert recs and all(r["balanced"] for r in recs), recs


def col(header: list[str], name: str) -> int:
    return header.index(name)


def children_of_applications(case: Case, refs: set[str]) -> dict[str, set[int]]:
    """Row numbers (1-based data rows) of scores and assessments of the given Application Refs."""
    out = {}
    for t in ("interview_scores", "assessments"):
        h, rows = case.table(t)
        i = col(h, "Application Ref")
        out[t] = {n for n, r in enumerate(rows, 1) if r[i] in refs}
    return {t: s for t, s in out.items() if s}


def pick_application(case: Case, *, children: bool) -> int:
    """0-based index of an application with (or without) scores/assessments."""
    h, rows = case.table("applications")
    i = col(h, "Application Ref")
    with_kids = set()
    for t in ("interview_scores", "assessments"):
        th, trows = case.table(t)
        with_kids |= {r[col(th, "Application Ref")] for r in trows}
    for k, r in enumerate(rows):
        if (r[i] in with_kids) == children and k > 10:
            return k
    raise AssertionError("no such application")


def run_cli(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, EDI_RECRUIT_QUIET="1", EDI_RECRUIT_PSEUDONYM_KEY="test-key-not-secret")
    env.pop("EDI_RECRUIT_DEBUG", None)
    env.update(env_extra or {})
    exe = [str(CLI)] if CLI.exists() else [sys.executable, "-m", "edi_recruit.cli"]
    return subprocess.run(exe + list(args), capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture
def case(small_trust, tmp_path) -> Case:
    return Case(small_trust, tmp_path)


# ---------------------------------------------------------------- critical stops at ingest
def test_01_missing_column_stops_with_the_file_and_column(case):
    case.edit("applications", lambda h, rows: (
        [x for x in h if x != "Gender"], [[v for j, v in enumerate(r) if j != col(h, "Gender")] for r in rows]))
    with pytest.raises(ExtractError) as exc:
        case.ingest()
    msg = str(exc.value)
    assert "applications.csv" in msg and "'Gender'" in msg and "sex" in msg
    assert "\n" not in msg


def test_02_column_renamed_outside_the_mapping_names_both_headers(case):
    case.edit("applications", lambda h, rows: ([("Ethnicity" if x == "Ethnic Origin" else x) for x in h], rows))
    with pytest.raises(ExtractError) as exc:
        case.ingest()
    msg = str(exc.value)
    assert "applications.csv" in msg and "'Ethnic Origin'" in msg and "Ethnicity" in msg
    assert "\n" not in msg


def test_04_empty_file_via_cli_one_line_no_traceback(case):
    (case.dir / "applications.csv").write_bytes(b"")
    res = run_cli("ingest", "--extracts", str(case.dir), "--db", str(case.db))
    assert res.returncode == 1
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout
    err = [line for line in res.stderr.splitlines() if line.startswith("edi-recruit")]
    assert len(err) == 1 and "applications.csv" in err[0] and "empty" in err[0]


# ---------------------------------------------------------------- critical stops at validation
def test_05_header_only_file_stops_the_run_via_cli(case):
    h, _ = case.table("applications")
    write_rows(case.dir / "applications.csv", h, [])
    res = run_cli("ingest", "--extracts", str(case.dir), "--db", str(case.db))
    assert res.returncode == 0, res.stderr
    res = run_cli("validate", "--db", str(case.db), "--as-of", AS_OF, "--out", str(case.out), "--run-id", "r-hdr")
    assert res.returncode == 1
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout
    err = [line for line in res.stderr.splitlines() if line.startswith("edi-recruit")]
    assert len(err) == 1
    assert "applications.csv" in err[0] and "no data rows" in err[0] and "applications.has_rows" in err[0]
    # the failed run keeps its reasons
    assert case.scalar("SELECT count(*) FROM results.validation WHERE run_id = 'r-hdr' "
                       "AND expectation = 'has_rows' AND suite = 'applications' AND NOT success") == 1


def test_03b_whole_column_of_the_wrong_type_is_critical(case):
    def bad(h, rows):
        i = col(h, "Date Applied")
        return h, [r[:i] + ["not a date"] + r[i + 1:] for r in rows]

    case.edit("applications", bad)
    case.ingest()
    with pytest.raises(ValidationCritical) as exc:
        case.validate()
    msg = str(exc.value)
    assert "applications.csv" in msg and "applied_date" in msg and "600 of 600" in msg and "systemic" in msg
    assert "\n" not in msg
    # a critical stop rolls back nothing it should not: ingest's quarantine stays, the gate adds nothing
    assert set(case.quarantined("applications").values()) == {"values_parse"}
    case.assert_reconciled()


# ---------------------------------------------------------------- row-level: exactly the bad rows
def test_03_wrong_type_values_are_quarantined_by_row(case):
    bad_rows = {5, 17}

    def bad(h, rows):
        i = col(h, "Score")
        for n in bad_rows:
            rows[n - 1][i] = "seven"
        return h, rows

    case.edit("interview_scores", bad)
    case.ingest()
    out = case.validate()
    assert case.all_quarantined() == {"interview_scores": {n: "values_parse" for n in bad_rows}}
    v = out.tables["validation"]
    row = v.filter((v["suite"] == "interview_scores") & (v["expectation"] == "values_parse")).row(0, named=True)
    assert row["unexpected_count"] == 2 and row["severity"] == "row-level" and "score" in row["detail"]
    case.assert_reconciled()


def test_06_exact_duplicate_row_quarantines_only_the_copy(case):
    k = pick_application(case, children=True)
    case.edit("applications", lambda h, rows: (h, rows + [list(rows[k])]))
    n_rows = len(case.table("applications")[1])
    case.ingest()
    out = case.validate()
    assert case.all_quarantined() == {"applications": {n_rows: "no_exact_duplicates"}}
    assert "quarantined" in out.summary
    case.assert_reconciled()


def test_06b_conflicting_duplicate_key_quarantines_both_and_their_children(case):
    h, rows = case.table("applications")
    k = pick_application(case, children=True)
    ref = rows[k][col(h, "Application Ref")]
    dup = list(rows[k])
    dup[col(h, "Age Band")] = "60+" if dup[col(h, "Age Band")] != "60+" else "<30"
    case.edit("applications", lambda h, rows: (h, rows + [dup]))
    case.ingest()
    case.validate()
    q = case.all_quarantined()
    assert q.pop("applications") == {k + 1: "key_unique", len(rows) + 1: "key_unique"}
    kids = children_of_applications(case, {ref})
    assert {t: set(v) for t, v in q.items()} == kids
    assert set(q["interview_scores"].values()) == {"application_found"}
    case.assert_reconciled()


def _set_app_value(case: Case, header_name: str, value: str, *, children: bool) -> tuple[int, str]:
    h, rows = case.table("applications")
    k = pick_application(case, children=children)

    def fn(h, rows):
        rows[k][col(h, header_name)] = value
        return h, rows

    case.edit("applications", fn)
    return k + 1, rows[k][col(h, "Application Ref")]


def test_07_unknown_ethnic_code_quarantines_the_row(case):
    n, _ = _set_app_value(case, "Ethnic Origin", "Q9", children=False)
    case.ingest()
    out = case.validate()
    assert case.all_quarantined() == {"applications": {n: "ethnic_code_valid"}}
    qs = out.tables["quarantine_summary"]
    assert qs.filter(qs["expectation"] == "ethnic_code_valid")["rows"].to_list() == [1]
    # the raw values are kept for re-ingest
    raw = case.scalar(f"SELECT raw_values::VARCHAR FROM quarantine.applications WHERE _row_number = {n}")
    assert '"Q9"' in raw
    case.assert_reconciled()


@pytest.mark.slow  # an extra beyond the 20 required cases; `make test-slow`
def test_07b_extended_local_codes_are_accepted(case):
    _set_app_value(case, "Ethnic Origin", "LH", children=False)
    case.ingest()
    case.validate()
    assert case.all_quarantined() == {}
    case.assert_reconciled()


def _vacancy_cascade(case: Case, vac_index: int) -> dict[str, set[int]]:
    vh, vrows = case.table("vacancies")
    ref = vrows[vac_index][col(vh, "Vacancy Reference")]
    expected = {"vacancies": {vac_index + 1}}
    for t in ("applications", "panel_members", "ceo_letters"):
        h, rows = case.table(t)
        s = {n for n, r in enumerate(rows, 1) if r[col(h, "Vacancy Reference")] == ref}
        if s:
            expected[t] = s
    ah, arows = case.table("applications")
    refs = {r[col(ah, "Application Ref")] for r in arows if r[col(ah, "Vacancy Reference")] == ref}
    expected.update(children_of_applications(case, refs))
    return expected


def test_08_invalid_band_quarantines_the_vacancy_and_its_dependents(case):
    expected = _vacancy_cascade(case, 4)

    def fn(h, rows):
        rows[4][col(h, "Pay Band")] = "Band 12"
        return h, rows

    case.edit("vacancies", fn)
    case.ingest()
    out = case.validate()
    q = case.all_quarantined()
    assert {t: set(v) for t, v in q.items()} == expected
    assert q["vacancies"] == {5: "band_valid"}
    assert set(q["applications"].values()) == {"vacancy_found"}
    assert "vacancies.band_valid" in out.summary
    case.assert_reconciled()


def _edit_score(case: Case, n: int, score: str) -> None:
    def fn(h, rows):
        rows[n - 1][col(h, "Score")] = score
        return h, rows

    case.edit("interview_scores", fn)


def test_09_score_above_max_score(case):
    _edit_score(case, 3, "12")
    case.ingest()
    case.validate()
    assert case.all_quarantined() == {"interview_scores": {3: "score_within_max"}}
    case.assert_reconciled()


def test_10_negative_score(case):
    _edit_score(case, 8, "-1")
    case.ingest()
    case.validate()
    assert case.all_quarantined() == {"interview_scores": {8: "score_not_negative"}}
    case.assert_reconciled()


def test_11_closing_date_before_advert_date(case):
    expected = _vacancy_cascade(case, 2)

    def fn(h, rows):
        a, c = col(h, "Advert Date"), col(h, "Closing Date")
        rows[2][a], rows[2][c] = rows[2][c], rows[2][a]
        return h, rows

    case.edit("vacancies", fn)
    case.ingest()
    case.validate()
    q = case.all_quarantined()
    assert q["vacancies"] == {3: "closing_not_before_advert"}
    assert {t: set(v) for t, v in q.items()} == expected
    case.assert_reconciled()


def test_12_date_in_the_future(case):
    n, _ = _set_app_value(case, "Date Applied", "01/03/2031", children=False)
    case.ingest()
    out = case.validate()
    assert case.all_quarantined() == {"applications": {n: "applied_date_not_future"}}
    v = out.tables["validation"]
    assert v.filter((v["expectation"] == "applied_date_not_future") & (v["suite"] == "applications"))[
        "unexpected_count"].to_list() == [1]
    case.assert_reconciled()


@pytest.mark.slow  # an extra beyond the 20 required cases; `make test-slow`
def test_12b_excel_epoch_date_before_the_window(case):
    n, _ = _set_app_value(case, "Date Applied", "00/01/1900", children=False)  # unparseable
    case.ingest()
    case.validate()
    assert case.all_quarantined() == {"applications": {n: "values_parse"}}
    case.assert_reconciled()


@pytest.mark.slow  # an extra beyond the 20 required cases; `make test-slow`
def test_12c_date_before_the_extract_window(case):
    n, _ = _set_app_value(case, "Date Applied", "01/01/1900", children=False)
    case.ingest()
    case.validate()
    assert case.all_quarantined() == {"applications": {n: "applied_date_in_window"}}
    case.assert_reconciled()


def test_13_orphan_application_and_its_children(case):
    n, ref = _set_app_value(case, "Vacancy Reference", "VAC-999999", children=True)
    kids = children_of_applications(case, {ref})
    case.ingest()
    case.validate()
    q = case.all_quarantined()
    assert q.pop("applications") == {n: "vacancy_found"}
    assert {t: set(v) for t, v in q.items()} == kids
    case.assert_reconciled()


def test_14_offered_but_not_interviewed(case):
    h, rows = case.table("applications")
    k = next(i for i, r in enumerate(rows) if r[col(h, "Offered")] == "Y")
    ref = rows[k][col(h, "Application Ref")]
    kids = children_of_applications(case, {ref})

    def fn(h, rows):
        rows[k][col(h, "Interviewed")] = "N"
        return h, rows

    case.edit("applications", fn)
    case.ingest()
    case.validate()
    q = case.all_quarantined()
    assert q.pop("applications") == {k + 1: "stages_consistent"}
    assert {t: set(v) for t, v in q.items()} == kids
    case.assert_reconciled()


def test_15_cp1252_bytes_without_declared_encoding(case, small_trust):
    path = case.dir / "vacancies.csv"
    data = path.read_bytes()
    dash = "–".encode()
    assert data.count(dash) > 2
    first = data.index(dash)
    path.write_bytes(data[:first] + b"\x96" + data[first + len(dash):])  # one cp1252 en dash
    case.ingest()
    out = case.validate()
    assert case.all_quarantined() == {}
    v = out.tables["validation"]
    enc = v.filter((v["suite"] == "vacancies") & (v["expectation"] == "file_is_utf8")).row(0, named=True)
    assert not enc["success"] and enc["severity"] == "warning" and "vacancies.csv" in enc["reason"]
    # every title decodes as in the clean file: the stray byte as an en dash, the UTF-8 dashes intact
    h, rows = read_rows(small_trust / "vacancies.csv")
    titles = sorted(r[col(h, "Job Title")] for r in rows)
    con = duckdb.connect(str(case.db), read_only=True)
    staged = sorted(x for (x,) in con.execute("SELECT job_title FROM staging.vacancies").fetchall())
    con.close()
    assert staged == titles
    case.assert_reconciled()


def test_16_truncated_last_line(case):
    path = case.dir / "applications.csv"
    data = path.read_bytes().rstrip(b"\r\n")
    last_start = data.rindex(b"\n") + 1
    path.write_bytes(data[: last_start + (len(data) - last_start) // 2])
    n_rows = len(case.table("applications")[1])
    case.ingest()
    out = case.validate()
    assert case.all_quarantined() == {"applications": {n_rows: "row_well_formed"}}
    v = out.tables["validation"]
    row = v.filter((v["suite"] == "applications") & (v["expectation"] == "row_well_formed")).row(0, named=True)
    assert row["unexpected_count"] == 1 and "malformed" in row["reason"] and "fields" in row["reason"]
    assert row["sample_ids"] == f"row {n_rows}"
    case.assert_reconciled()


def test_16b_last_line_cut_inside_its_last_quoted_value(case):
    path = case.dir / "applications.csv"
    data = path.read_bytes().rstrip(b"\r\n")
    assert data.endswith(b'"')  # the last column (Phone) is quoted
    path.write_bytes(data[:-4])  # field count intact, closing quote lost
    n_rows = len(case.table("applications")[1])
    case.ingest()
    out = case.validate()
    assert case.all_quarantined() == {"applications": {n_rows: "row_well_formed"}}
    v = out.tables["validation"]
    row = v.filter((v["suite"] == "applications") & (v["expectation"] == "row_well_formed")).row(0, named=True)
    assert "truncated" in row["reason"]
    case.assert_reconciled()


def test_17_excel_sheet_with_title_rows_above_the_header(case):
    import xlsxwriter

    h, rows = case.table("vacancies")
    (case.dir / "vacancies.csv").unlink()
    wb = xlsxwriter.Workbook(str(case.dir / "vacancies.xlsx"))
    ws = wb.add_worksheet("Report")
    ws.write_row(0, 0, ["Senior vacancies report"])
    ws.write_row(1, 0, ["Run by the recruitment team, all directorates"])
    ws.write_row(3, 0, h)
    for i, r in enumerate(rows):
        ws.write_row(4 + i, 0, r)
    wb.close()
    summary = case.ingest()
    case.validate()
    assert case.all_quarantined() == {}
    assert case.scalar("SELECT count(*) FROM staging.vacancies") == len(rows)
    assert case.scalar("SELECT header_row FROM landing.manifest WHERE file_name = 'vacancies.xlsx'") == 4
    assert summary.staged_rows["vacancies"] == len(rows)
    case.assert_reconciled()


def test_18_unknown_extra_columns_kept_in_raw_and_ignored(case):
    case.edit("applications", lambda h, rows: (h + ["Notes", "Source"], [r + [f"note {i}", "web"] for i, r in enumerate(rows)]))
    case.ingest()
    out = case.validate()
    assert case.all_quarantined() == {}
    assert case.scalar('SELECT count("Notes") FROM raw.applications') == 600
    assert case.scalar("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'staging' "
                       "AND table_name = 'applications' AND column_name IN ('Notes', 'Source')") == 0
    w = out.warnings
    row = w.filter((w["suite"] == "applications") & (w["expectation"] == "no_unmapped_columns")).row(0, named=True)
    assert "Notes" in row["reason"] and "Source" in row["reason"]
    case.assert_reconciled()


def test_19_a_100_kb_text_field_is_kept_with_a_warning(case):
    big = ("The candidate described the service redesign in detail. " * 2000)[:100_000]

    def fn(h, rows):
        rows[0][col(h, "Assessment Text")] = big
        return h, rows

    case.edit("assessments", fn)
    case.ingest()
    out = case.validate()
    assert case.all_quarantined() == {}
    assert case.scalar("SELECT max(length(text)) FROM staging.assessments") >= 99_000
    w = out.warnings
    assert w.filter((w["suite"] == "assessments") & (w["expectation"] == "text_length"))["unexpected_count"].to_list() == [1]
    case.assert_reconciled()


def test_20_formula_like_text_is_stored_as_data(case):
    formula = '=HYPERLINK("http://example.invalid/x","Open")'
    cmd = "+cmd|' /C calc'!A0"

    def fa(h, rows):
        rows[1][col(h, "Assessment Text")] = formula
        return h, rows

    def fv(h, rows):
        rows[1][col(h, "Job Title")] = cmd
        return h, rows

    case.edit("assessments", fa)
    case.edit("vacancies", fv)
    case.ingest()
    out = case.validate()
    assert case.all_quarantined() == {}
    assert case.scalar("SELECT text FROM staging.assessments WHERE _row_number = 2") == formula
    assert case.scalar("SELECT job_title FROM staging.vacancies WHERE _row_number = 2") == cmd
    w = out.warnings
    got = {(r["suite"], r["expectation"]): r["unexpected_count"] for r in w.iter_rows(named=True)}
    assert got[("assessments", "text_not_formula")] == 1 and got[("vacancies", "job_title_not_formula")] == 1
    case.assert_reconciled()


def test_21_unknown_ethnicity_share_above_threshold_is_a_warning(case):
    def fn(h, rows):
        i = col(h, "Ethnic Origin")
        for k in range(0, len(rows), 3):
            rows[k][i] = "Z"
        return h, rows

    case.edit("applications", fn)
    case.ingest()
    out = case.validate()
    assert case.all_quarantined() == {}
    w = out.warnings
    row = w.filter((w["suite"] == "applications") & (w["expectation"] == "unknown_ethnicity_share")).row(0, named=True)
    assert row["unexpected_count"] >= 200 and "threshold 10%" in row["detail"]
    assert "unknown_ethnicity_share" in out.summary
    case.assert_reconciled()


def test_22_appointed_without_offer_via_cli(case):
    h, rows = case.table("applications")
    k = next(i for i, r in enumerate(rows) if r[col(h, "Appointed")] == "Y")
    ref = rows[k][col(h, "Application Ref")]
    kids = children_of_applications(case, {ref})

    def fn(h, rows):
        rows[k][col(h, "Offered")] = "N"
        return h, rows

    case.edit("applications", fn)
    res = run_cli("ingest", "--extracts", str(case.dir), "--db", str(case.db))
    assert res.returncode == 0 and "Traceback" not in res.stderr
    res = run_cli("validate", "--db", str(case.db), "--as-of", AS_OF, "--out", str(case.out), "--run-id", "r-cli")
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert "applications.stages_consistent: 1" in res.stdout
    q = case.all_quarantined()
    assert q.pop("applications") == {k + 1: "stages_consistent"}
    assert {t: set(v) for t, v in q.items()} == kids
    assert (case.out / "r-cli" / "data_docs" / "index.html").exists()
    assert (case.out / "r-cli" / "results" / "validation.parquet").exists()
    case.assert_reconciled()


# ---------------------------------------------------------------- encodings, long texts, formulas, dates, files, references
def _staged_titles(case: Case) -> list[str]:
    return sorted(x for (x,) in duckdb.connect(str(case.db), read_only=True).execute(
        "SELECT job_title FROM staging.vacancies").fetchall())


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_23_utf16_with_a_byte_order_mark_is_read_correctly(case, small_trust, codec):
    import codecs

    bom = codecs.BOM_UTF16_LE if codec == "utf-16-le" else codecs.BOM_UTF16_BE
    path = case.dir / "vacancies.csv"
    path.write_bytes(bom + path.read_text(encoding="utf-8").encode(codec))
    summary = case.ingest()
    h, rows = read_rows(small_trust / "vacancies.csv")
    assert summary.staged_rows["vacancies"] == len(rows) and case.all_quarantined() == {}
    assert _staged_titles(case) == sorted(r[col(h, "Job Title")] for r in rows)  # non-ASCII dashes intact
    assert case.scalar("SELECT encoding FROM landing.manifest WHERE file_name = 'vacancies.csv'") == "utf-16"
    case.assert_reconciled()


def test_23c_utf16_without_a_byte_order_mark_is_one_line_naming_the_encoding(case):
    path = case.dir / "vacancies.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16-le"))
    with pytest.raises(ExtractError) as exc:
        case.ingest()
    msg = str(exc.value)
    assert msg.startswith("vacancies.csv: ") and "UTF-16" in msg and "byte-order mark" in msg
    assert "\n" not in msg and "\x00" not in msg and "ÿþ" not in msg


def _long_text_case(case: Case, length: int) -> int:
    big = ("The candidate described the service redesign in detail. " * (length // 50 + 1))[:length]

    def fn(h, rows):
        rows[4][col(h, "Assessment Text")] = big
        return h, rows

    case.edit("assessments", fn)
    return len(case.table("assessments")[1])


def test_24_a_1_mib_text_is_quarantined_with_its_length_not_a_spacy_error(case):
    n = _long_text_case(case, 1 << 20)
    summary = case.ingest()
    assert case.quarantined("assessments") == {5: "text_length_limit"}
    reason = case.scalar("SELECT reason FROM quarantine.assessments")
    assert reason == "text of 1048576 characters is over the limit of 500000 (EDI_RECRUIT_MAX_TEXT_CHARS)"
    assert summary.staged_rows["assessments"] == n - 1 and summary.quarantined_rows["assessments"] == 1
    case.assert_reconciled()
    out = case.validate()   # the gate reports the row; nothing else is lost
    v = out.tables["validation"]
    row = v.filter((v["suite"] == "assessments") & (v["expectation"] == "text_length_limit")).row(0, named=True)
    assert row["unexpected_count"] == 1 and row["severity"] == "row-level"


def test_24b_the_text_limit_is_configurable(case, monkeypatch):
    _long_text_case(case, 100_000)
    monkeypatch.setenv("EDI_RECRUIT_MAX_TEXT_CHARS", "50000")
    case.ingest()
    assert case.quarantined("assessments") == {5: "text_length_limit"}
    assert "over the limit of 50000" in case.scalar("SELECT reason FROM quarantine.assessments")
    case.assert_reconciled()


def test_25_xlsx_formula_cells_without_saved_values_are_named_by_cell(case):
    import openpyxl

    h, rows = case.table("vacancies")
    (case.dir / "vacancies.csv").unlink()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(h)
    for r in rows:
        ws.append(r)
    band = col(h, "Pay Band")
    ws.cell(row=8, column=band + 1, value="=B7")   # openpyxl saves formulas without their values
    wb.save(case.dir / "vacancies.xlsx")
    with pytest.raises(ExtractError) as exc:
        case.ingest()
    msg = str(exc.value)
    letter = openpyxl.utils.get_column_letter(band + 1)
    assert msg.startswith("vacancies.xlsx: 1 formula cell(s) with no saved value: ")
    assert f"{letter}8 (column 'Pay Band', sheet row 8)" in msg and "\n" not in msg


@pytest.mark.parametrize("value", ["2021-09-0112345", "2021-09", "2021-09-01x", "01/09/2021 junk"])
def test_26_dates_must_match_whole_or_the_row_is_quarantined(case, value):
    k = pick_application(case, children=False)

    def fn(h, rows):
        rows[k][col(h, "Date Applied")] = value
        return h, rows

    case.edit("applications", fn)
    case.ingest()
    assert case.quarantined("applications") == {k + 1: "values_parse"}
    assert "applied_date" in case.scalar("SELECT reason FROM quarantine.applications")
    assert json_value(case, "applications", "Date Applied") == value   # the raw value is kept
    case.assert_reconciled()


def json_value(case: Case, table: str, header: str):
    return case.scalar(f"SELECT raw_values->>'{header}' FROM quarantine.{table}")


def test_26b_whole_dates_with_a_time_of_day_are_still_dates(case):
    k = pick_application(case, children=False)

    def fn(h, rows):
        rows[k][col(h, "Date Applied")] = "2022-03-04 10:30:00"   # as an XLSX cell with a time reads
        return h, rows

    case.edit("applications", fn)
    case.ingest()
    assert case.all_quarantined() == {}
    assert case.scalar("SELECT count(*) FROM staging.applications WHERE applied_date = DATE '2022-03-04' "
                       f"AND _row_number = {k + 1}") == 1
    case.assert_reconciled()


def test_27_two_files_for_one_table_is_one_line_naming_both(case):
    import openpyxl

    h, rows = case.table("vacancies")
    wb = openpyxl.Workbook()
    wb.active.append(h)
    for r in rows:
        wb.active.append(r)
    wb.save(case.dir / "vacancies.xlsx")
    with pytest.raises(ExtractError) as exc:
        case.ingest()
    msg = str(exc.value)
    assert msg.startswith("two files for table vacancies in ") and "vacancies.csv and vacancies.xlsx" in msg
    assert "\n" not in msg
    assert not case.db.exists() or case.scalar("SELECT count(*) FROM landing.manifest") == 0


def test_27b_two_files_via_cli_one_line_no_traceback(case):
    shutil.copy(case.dir / "ceo_letters.csv", case.dir / "ceo_letters_copy.csv")
    proc = run_cli("ingest", "--extracts", str(case.dir), "--db", str(case.db))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    line = proc.stderr.strip()
    assert "\n" not in line and "ceo_letters.csv and ceo_letters_copy.csv" in line


def test_28_embedded_record_references_do_not_reach_staging(case):
    refs = {"assessments": "Assessment Text", "ceo_letters": "Letter Text"}
    planted = "Further to VAC-000141 and application APP-0000123 (candidate CAN-00000077, panel PNL-00012)."

    for table, header in refs.items():
        def fn(h, rows, header=header):
            rows[2][col(h, header)] = planted + " " + rows[2][col(h, header)]
            return h, rows

        case.edit(table, fn)
    case.ingest()
    assert case.all_quarantined() == {}
    for table in refs:
        texts = " ".join(t for (t,) in duckdb.connect(str(case.db), read_only=True).execute(
            f"SELECT text FROM staging.{table}").fetchall() if t)
        for ref in ("VAC-000141", "APP-0000123", "CAN-00000077", "PNL-00012"):
            assert ref not in texts, (table, ref)
        assert "Further to [REFERENCE] and application [REFERENCE] (candidate [REFERENCE], panel [REFERENCE])" in texts
    case.assert_reconciled()
