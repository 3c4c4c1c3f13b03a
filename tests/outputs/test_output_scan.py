"""Scan every output of a generated trust: published tables, exports, artifact text and the report.

Asserts that no count from 1 to 7 is shown anywhere a count is shown, and that
no planted name, e-mail, phone, staff or NHS number (truth_pii.csv) appears.

Uses the session fixtures (generated trust, seed 7, ingested warehouse): the
warehouse file is copied, every available analysis is run on the copy, the
run is published, and the report, exports and artifacts are built from it.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from python_calamine import CalamineWorkbook

from tasks import analyses
from tasks.core.run_context import RunContext
from tasks.outputs.export import export_run
from tasks.outputs.report.page import render_report
from tasks.privacy.disclosure import load_policy
from tasks.publish import registry
from tasks.publish.results_store import write_tables
from tasks.publish.writer import publish_run
from tasks.warehouse.connection import connect

POLICY = load_policy()
RUN_ID = "scan-run"


@pytest.fixture(scope="module")
def outputs(warehouse, generated_trust, tmp_path_factory):
    d = tmp_path_factory.mktemp("scan")
    db = d / "w.duckdb"
    shutil.copy(warehouse, db)
    key = Path(str(warehouse) + ".key")
    if key.exists():
        shutil.copy(key, str(db) + ".key")
    ctx = RunContext(db_path=str(db), run_id=RUN_ID, as_of="2024-01", out_dir=str(d / "runs"))
    paths: dict[str, str] = {}
    for name in analyses.ANALYSES:
        paths.update(write_tables(ctx, analyses.ANALYSES[name](ctx)))
    con = connect(db)
    try:
        registry.start_run(con, run_id=RUN_ID, flow="test", as_of="2024-01", params={}, version="scan")
        con.execute("BEGIN TRANSACTION")
        publish_run(con, RUN_ID, paths, POLICY, own_transaction=False)
        registry.finish_run(con, RUN_ID, "completed")
        con.execute("COMMIT")
    finally:
        con.close()
    report = render_report(db, RUN_ID, d / "report.html")
    exports = export_run(db, RUN_ID, d / "exports")
    from tasks.outputs.artifacts import build_run_artifacts, load_published

    tables = load_published(str(db), RUN_ID)
    arts = build_run_artifacts("2024-01", RUN_ID, tables, db=str(db), report=str(report), exports=exports["dir"])
    art_text = "\n".join((a.markdown or "") + "\n" + repr(a.table or "") for a in arts)
    from tasks.outputs.published import load_run

    _, _, published, _ = load_run(db, RUN_ID)
    return {"published": published, "report": report.read_text(encoding="utf-8"), "exports": exports,
            "artifacts": art_text, "result_names": sorted(paths), "truth_dir": generated_trust}


def _count_columns(name: str, df: pl.DataFrame) -> list[str]:
    # the published frame has counts as text: recover the roles from the policy spec
    spec = POLICY.table_spec(name)
    named = set(spec.get("counts", []))
    return [c for c in df.columns if c in named]


def _bad_count(v) -> bool:
    if v is None or v == "*" or v == "":
        return False
    x = float(v)
    return 1 <= x <= 7 or x % 5 != 0


def test_the_run_published_the_landed_analyses(outputs):
    assert "funnel_counts" in outputs["published"]
    assert len(outputs["published"]) >= 4
    for name in outputs["result_names"]:
        if name not in POLICY.restricted_tables:
            assert name in outputs["published"], name


def test_no_small_count_in_published_tables_and_exports(outputs):
    for name, df in outputs["published"].items():
        if name == "disclosure_log":
            continue  # metadata about the publication (rows and cells), not counts of people
        for col in _count_columns(name, df):
            bad = [v for v in df[col].to_list() if _bad_count(v)]
            assert bad == [], (name, col, bad[:5])
        # any integer column left unnamed by the policy would also have been treated as a count
        for c, t in df.schema.items():
            if t.is_integer() and c not in POLICY.passthrough and c not in POLICY.table_spec(name).get("passthrough_int", []):
                assert not any(_bad_count(v) for v in df[c].to_list()), (name, c)
        csv = pl.read_csv(outputs["exports"]["csv"][name], infer_schema=False)
        for col in _count_columns(name, df):
            assert not any(_bad_count(v) for v in csv[col].to_list()), (name, col)
    wb = CalamineWorkbook.from_path(outputs["exports"]["xlsx"])
    from tasks.outputs.export import sheet_names

    names = sheet_names(sorted(outputs["published"]))
    for name, df in outputs["published"].items():
        rows = wb.get_sheet_by_name(names[name]).to_python()
        for col in _count_columns(name, df):
            j = rows[0].index(col)
            assert not any(_bad_count(r[j]) for r in rows[1:] if j < len(r)), (name, col)


def test_no_small_count_in_the_report_tables(outputs):
    counts = {c for n in POLICY.raw.get("tables", {}) for c in POLICY.table_spec(n).get("counts", [])}
    for table in re.findall(r"<table>(.*?)</table>", outputs["report"], re.S):
        header = re.findall(r"<th>(.*?)</th>", table)
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
            for col, v in zip(header, cells):
                if col in counts and v not in ("*", "–"):
                    assert not _bad_count(v), (col, v)


def _pii(outputs) -> pl.DataFrame:
    return pl.read_csv(Path(outputs["truth_dir"]) / "truth_pii.csv", infer_schema=False)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _first_occurrence(text: str, values: set[str]) -> str | None:
    """The first of ``values`` that occurs in ``text`` as a run of whole words (any case, any separators).

    A value that starts with a digit does not match after a decimal point (the digits of a staff
    number inside a float such as 0.70734129 are not a disclosure).  One pass over the text's words
    with the values indexed by their first word: thousands of values over megabytes of text in about
    a second, where one regex alternation of them took over a minute.
    """
    by_first: dict[str, list[tuple[list[str], str]]] = {}
    for v in values:
        w = _words(v)
        if w:
            by_first.setdefault(w[0], []).append((w, v))
    lower = text.lower()
    spans = [(m.group(), m.start()) for m in re.finditer(r"\w+", lower)]
    words = [w for w, _ in spans]
    for i, (word, start) in enumerate(spans):
        for w, v in by_first.get(word, ()):
            if words[i:i + len(w)] == w and not (word[0].isdigit() and start and lower[start - 1] == "."):
                return v
    return None


def test_first_occurrence_matches_whole_words_only():
    text = "Jane Smith's p-value 0.000112292283; call 07700 900123 or JANE.DOE@NHS.NET. Smithson"
    assert _first_occurrence(text, {"Jane Smith"}) == "Jane Smith"
    assert _first_occurrence(text, {"jane.doe@nhs.net"}) == "jane.doe@nhs.net"
    assert _first_occurrence(text, {"07700 900123"}) == "07700 900123"
    assert _first_occurrence(text, {"112292283", "Smiths", "Jane Doer", "0770 0900123"}) is None
    assert _first_occurrence("an odds ratio of 0.70734129", {"70734129"}) is None
    assert _first_occurrence("staff 70734129.", {"70734129"}) == "70734129"
    assert _first_occurrence(text, {"Smithson"}) == "Smithson"
    assert _first_occurrence(text, {"Jane Doe"}) == "Jane Doe"  # the name inside the e-mail address


def _template_words(tmp: Path) -> set[str]:
    """Words of the report's own template and labels (rendered from fake results) and of the vocabulary."""
    from fake_warehouse import build_fake_warehouse

    from tasks.core import vocabulary as V

    build_fake_warehouse(tmp / "w.duckdb", tmp / "res")
    text = render_report(tmp / "w.duckdb", out_path=tmp / "r.html").read_text(encoding="utf-8")
    text += " ".join(V.CENSUS_GROUPS + V.WRES_GROUPS + V.THEMES + V.DIRECTORATES + V.STAFF_GROUPS)
    return {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'-]+", text)}


def test_no_planted_personal_data_anywhere(outputs, tmp_path):
    pii = _pii(outputs)
    assert pii.height, "the generator planted no personal data to look for"
    texts = {"report": outputs["report"], "artifacts": outputs["artifacts"]}
    for name, df in outputs["published"].items():
        texts[f"published.{name}"] = df.write_csv()
        texts[f"csv/{name}"] = Path(outputs["exports"]["csv"][name]).read_text(encoding="utf-8-sig")
    wb = CalamineWorkbook.from_path(outputs["exports"]["xlsx"])
    texts["xlsx"] = "\n".join(repr(wb.get_sheet_by_name(s).to_python()) for s in wb.sheet_names)
    # full names, e-mails, phones, staff and NHS numbers: anywhere, any case, as whole words (a staff
    # number's digits inside a long float such as a p-value 0.000112292283... are not a disclosure)
    whole = {v for t, v in zip(pii["pii_type"], pii["value"]) if v and (t != "name" or " " in v)}
    # single first names or surnames: as whole words, unless the word is part of the
    # report's own template or labels (e.g. the surname "White" vs the WRES group)
    template = _template_words(tmp_path)
    single = {v for t, v in zip(pii["pii_type"], pii["value"])
              if t == "name" and v and " " not in v and v.lower() not in template}
    assert len(single) > 50
    for where, text in texts.items():
        found = _first_occurrence(text, whole | single)
        assert found is None, f"planted personal data {found!r} found in {where}"
    email = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
    for where, text in texts.items():
        assert not email.search(text), (where, email.search(text).group(0))
