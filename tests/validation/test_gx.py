"""GX plumbing: Arrow -> pandas dtypes, GX index lists, the per-process context, offline Data Docs."""
from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pyarrow as pa

from tasks.validation.gx import index_ids, to_pandas


def test_to_pandas_keeps_nullable_types_only_where_there_are_nulls():
    df = to_pandas(pa.table({
        "s": pa.array(["a", None]), "b": pa.array([True, False]), "bn": pa.array([True, None]),
        "i": pa.array([1, 2], pa.int32()), "i_null": pa.array([1, None], pa.int64()),
    }))
    assert str(df["b"].dtype) == "bool" and str(df["i"].dtype) == "int32"
    assert str(df["bn"].dtype) == "boolean" and str(df["i_null"].dtype) == "Int64"
    assert df["s"].dtype.storage == "pyarrow"


def test_index_ids_read_plain_and_dict_entries():
    assert index_ids([3, {"_row_id": 5}, {"_row_id": None}, None]) == [3, 5]
    assert index_ids(None) == []


# ---------------------------------------------------------------- the context and Data Docs (GX itself, small frames)
def _validate_once(run_dir, values=(1, None, 3)):
    import pandas as pd

    from tasks.validation.gx import SUMMARY_RESULT_FORMAT, GXContext

    gxr = GXContext.for_run(run_dir)
    configs = [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}},
               {"type": "expect_column_values_to_be_between", "kwargs": {"column": "a", "min_value": 0}}]
    results = gxr.run("applications", configs, pd.DataFrame({"a": list(values)}), SUMMARY_RESULT_FORMAT)
    return gxr, results, gxr.build_docs()


def test_the_context_is_built_once_per_process_and_each_run_starts_empty(tmp_path):
    from tasks.validation.gx import GXContext

    first, res1, _docs1 = _validate_once(tmp_path / "run-1")
    built = GXContext.built
    second, res2, docs2 = _validate_once(tmp_path / "run-2", values=(1, 2, 3))
    assert second is first and GXContext.built == built          # reused, not rebuilt
    assert [r.success for r in res1] == [False, True] and [r.success for r in res2] == [True, True]
    # run 2's Data Docs and records hold run 2 only, and run 1's stay where they were
    pages = list((tmp_path / "run-2" / "data_docs" / "validations").rglob("*.html"))
    assert len(pages) == 1 and len(list((tmp_path / "run-1" / "data_docs" / "validations").rglob("*.html"))) == 1
    assert docs2 == str(tmp_path / "run-2" / "data_docs" / "index.html")
    assert (tmp_path / "run-2" / "gx" / "expectations" / "applications.json").exists()
    stored = json.loads((tmp_path / "run-2" / "gx" / "validations" / "applications.json").read_text())
    assert stored["success"] is True and json.loads(
        (tmp_path / "run-1" / "gx" / "validations" / "applications.json").read_text())["success"] is False


def test_a_run_while_another_thread_holds_the_context_gets_its_own(tmp_path):
    from tasks.validation.gx import GXContext

    held = GXContext.for_run(tmp_path / "held")             # not released: its run is still going
    try:
        box = {}
        t = threading.Thread(target=lambda: box.update(ctx=GXContext.for_run(tmp_path / "other")))
        t.start()
        t.join(120)
        assert box["ctx"] is not held and box["ctx"].docs_dir == tmp_path / "other" / "data_docs"
    finally:
        held.release()
    assert GXContext.for_run(tmp_path / "again") is held     # handed back: the next run reuses it
    held.release()


def test_data_docs_reference_nothing_on_the_network(tmp_path):
    from tasks.validation.docs_offline import MARKER, network_references

    _gxr, _res, index = _validate_once(tmp_path / "run")
    pages = sorted((tmp_path / "run" / "data_docs").rglob("*.html"))
    assert len(pages) >= 3   # index, the suite, the validation
    for page in pages + sorted((tmp_path / "run" / "data_docs").rglob("*.css")):
        text = page.read_text(encoding="utf-8")
        if page.suffix == ".css":
            assert network_references(text) == [], page
            continue
        assert MARKER in text and network_references(text) == [], page
        assert not re.search(r"""(?:src|href)\s*=\s*["']\s*(?:https?:)?//""", text, re.IGNORECASE), page
        assert "jquery" not in text.lower() and "$(" not in text
    # the index's table is real HTML (it was built by a CDN script), rows linking to the validation page
    index_html = Path(index).read_text(encoding="utf-8")
    links = re.findall(r'<tr class="clickable-row" data-href="([^"]+)"', index_html)
    assert sorted(link.split("/")[0] for link in links) == ["expectations", "validations"]   # one row per tab
    assert all((tmp_path / "run" / "data_docs" / link).exists() for link in links)
    # links into static/ are right on every page (GX gets the favicon wrong on deeper pages)
    for page in pages:
        for ref in re.findall(r'(?:src|href)="([^"#]*static/[^"]+)"', page.read_text(encoding="utf-8")):
            assert (page.parent / ref).resolve().exists(), (page, ref)
    # the logo is the site's own copy
    assert 'src="static/images/logo-long.png"' in index_html and \
        (tmp_path / "run" / "data_docs" / "static" / "images" / "logo-long.png").exists()


def test_network_references_finds_what_a_page_would_load():
    from tasks.validation.docs_offline import network_references, offline_page

    page = ('<html><head><link rel="stylesheet" href="https://cdn.example/b.css"><script src="http://x.example/j.js">'
            '</script><style>.a{background:url("https://s3.example/logo.png")}</style></head><body>'
            '<a href="https://greatexpectations.io">GX</a><img src="https://s3.example/logo-long.png?d=1">'
            '<a href="http://127.0.0.1:4200/runs">local</a></body></html>')
    assert len(network_references(page)) == 5
    out = offline_page(page)
    assert network_references(out) == [] and "<span>GX</span>" in out and "127.0.0.1:4200" in out


def test_a_context_left_held_by_a_finished_thread_is_taken_over(tmp_path):
    from tasks.validation.gx import GXContext

    shared = GXContext.for_run(tmp_path / "first")
    shared.release()
    t = threading.Thread(target=lambda: GXContext.for_run(tmp_path / "crashed"))   # never released
    t.start()
    t.join(120)
    assert GXContext.for_run(tmp_path / "next") is shared
    shared.release()
