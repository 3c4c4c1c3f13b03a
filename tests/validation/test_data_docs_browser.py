"""Data Docs offline in a real browser: headless Chromium (DevTools protocol over a pipe), DNS mapped to nothing.

A small validation with one failing expectation is run through GX and its Data Docs built as a run
builds them (tasks/validation/gx.py).  The index page and the validation page are opened from disk:
no request may leave the machine, the index's table must be there (GX builds it with a CDN script),
Bootstrap-like styles must apply (computed colours), and a screenshot of each page is saved as a test
artifact (under the test's tmp folder, and in EDI_RECRUIT_SCREENSHOT_DIR when set).  The browser plumbing
is in tests/browser_helpers.py.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from browser_helpers import Chromium, external_requests, failed_requests, find_chromium, keep_screenshots, requests

pytestmark = pytest.mark.browser

PROBE = """JSON.stringify({
  rows: document.querySelectorAll('#Validation-Results table tbody tr').length,
  suites: document.querySelectorAll('#Expectation-Suites table tbody tr').length,
  alert: (document.querySelector('.alert-secondary') ? getComputedStyle(document.querySelector('.alert-secondary'))
          .backgroundColor : null),
  failedIcon: (document.querySelector('.text-danger') ? getComputedStyle(document.querySelector('.text-danger')).color
               : null),
  hiddenTab: (document.querySelector('#Expectation-Suites') ?
              getComputedStyle(document.querySelector('#Expectation-Suites')).display : null),
  tableHead: (document.querySelector('thead th') ? getComputedStyle(document.querySelector('thead th')).backgroundColor
              : null),
  collapsed: (document.querySelector('.collapse') ? getComputedStyle(document.querySelector('.collapse')).display
              : null),
  text: document.body.innerText.slice(0, 3000)
})"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    binary = find_chromium()
    if not binary:
        pytest.skip("chromium is not installed (tests/outputs/test_report_browser.py installs it as root)")
    import pandas as pd

    from tasks.validation.gx import SUMMARY_RESULT_FORMAT, GXContext

    d = tmp_path_factory.mktemp("data_docs_browser")
    gxr = GXContext.for_run(d / "run")
    configs = [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "band"}},
               {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "band", "value_set": ["8a", "8b"]}}]
    gxr.run("vacancies", configs, pd.DataFrame({"band": ["8a", "8b", "7", None]}), SUMMARY_RESULT_FORMAT)
    index = Path(gxr.build_docs())
    validation = next((d / "run" / "data_docs" / "validations").rglob("*.html"))
    browser = Chromium(binary, d)
    try:
        out = {"index": browser.open(index, d / "data_docs_index.png", PROBE),
               "validation": browser.open(validation, d / "data_docs_validation.png", PROBE)}
    finally:
        browser.close()
    for name in ("index", "validation"):
        out[name]["png"] = d / f"data_docs_{name}.png"
    keep_screenshots(page["png"] for page in out.values())
    return out


def test_no_request_leaves_the_machine(pages):
    for name, page in pages.items():
        assert requests(page["events"]), f"{name}: the DevTools network domain saw no request at all"
        assert external_requests(page["events"]) == [], name
        failed = failed_requests(page["events"])
        assert failed == [], (name, failed)


def test_the_index_shows_its_table_styled(pages):
    v = pages["index"]["value"]
    assert v["rows"] == 1 and v["suites"] == 1            # the validation and the suite, without the CDN script
    assert v["alert"] == "rgb(226, 227, 229)"             # the local stylesheet applied
    assert v["hiddenTab"] == "none"                       # the second tab is hidden until chosen
    assert v["failedIcon"] == "rgb(176, 42, 55)" and v["tableHead"] == "rgb(241, 243, 245)"
    assert "vacancies" in v["text"] and "Validation Results" in v["text"]


def test_the_validation_page_shows_the_failure_styled(pages):
    v = pages["validation"]["value"]
    assert "Failed" in v["text"] and "band" in v["text"] and "Show more info" in v["text"]
    assert v["alert"] == "rgb(226, 227, 229)" and v["collapsed"] == "none"


def test_screenshots_are_saved(pages):
    for name, page in pages.items():
        data = page["png"].read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), name
        width = int.from_bytes(data[16:20], "big")
        assert width == 1280 and len(data) > 20_000, (name, len(data))
