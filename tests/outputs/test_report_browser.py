"""Render the report in headless Chromium (Debian's ``chromium``) over the DevTools protocol.

Checks: every section is present in the rendered DOM; the first screen holds a
verdict row per funnel stage and per programme rule, each with its before/after
figures, CI, verdict word and (appointment) the national figure of the same WRES
year; screenshots of the whole page and of the first screen (1280x900) are saved
as test artifacts (``$EDI_RECRUIT_SCREENSHOT_DIR`` or a pytest tmp folder
``artifacts*``); there are no console errors or exceptions, and no network request
leaves the file (any request whose scheme is not file:, data:, about:, chrome: or
devtools: fails the test; DNS is also mapped to nothing so a stray fetch could not
succeed anyway).  A negative control shows both checks catch a bad page.

The browser plumbing is in tests/browser_helpers.py.  Chromium is installed with
apt-get when missing (as root); the test skips, saying why, only where that is
impossible.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_helpers import (
    Chromium,
    chromium_or_skip,
    console_errors,
    external_requests,
    failed_requests,
    keep_screenshots,
    requests,
)
from fake_warehouse import build_fake_warehouse
from report_helpers import complete_results

from tasks.core.display import FIRST_SCREEN_STAGES
from tasks.core.vocabulary import TERM_DIVERSE_PANEL, TERM_LETTER_TO_CEO
from tasks.outputs.report.page import SECTION_IDS, render_report
from tasks.outputs.report.verdicts import VERDICTS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def chromium() -> str:
    return chromium_or_skip()


def render_in_chromium(chromium: str, html_path: Path, d: Path) -> dict:
    """Load a file in headless Chromium; return its DOM, screenshot paths, DevTools events and log."""
    browser = Chromium(chromium, d)
    try:
        out = browser.open(html_path, d / "report.png", first_screen=d / "first_screen.png", settle=1.0)
    finally:
        browser.close()
    return {"dom": out["dom"], "png": d / "report.png", "first_png": d / "first_screen.png", "events": out["events"],
            "log": browser.log_path.read_text(errors="replace"), "html": html_path.read_text(encoding="utf-8")}


@pytest.fixture(scope="module")
def rendered(chromium, tmp_path_factory):
    d = tmp_path_factory.mktemp("browser")
    build_fake_warehouse(d / "w.duckdb", d / "res", tables=complete_results())
    html_path = render_report(d / "w.duckdb", out_path=d / "report.html")
    out = render_in_chromium(chromium, html_path, d)
    out["artifacts"] = keep_screenshots([out["png"], out["first_png"]], tmp_path_factory.mktemp("artifacts"))
    return out


def test_the_checks_can_fail(chromium, tmp_path):
    """Negative control: a page that fetches a remote image and throws is caught by both checks."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><img src="https://example.invalid/x.png">'
                    "<script>console.error('boom'); throw new Error('bad');</script></body></html>", encoding="utf-8")
    out = render_in_chromium(chromium, page, tmp_path)
    assert any("example.invalid" in u for u in external_requests(out["events"]))
    assert console_errors(out["events"])


def test_every_section_is_in_the_rendered_dom(rendered):
    ids = re.findall(r'<section id="([^"]+)"', rendered["dom"])
    assert ids == list(SECTION_IDS)
    assert rendered["dom"].count("<svg") >= 6  # the charts were parsed as SVG


def test_screenshot_is_saved(rendered):
    data = rendered["png"].read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert 1200 <= width <= 1280 and height > 3000  # the whole page, not just the viewport
    assert len(data) > 50_000


def test_no_console_errors(rendered):
    assert console_errors(rendered["events"]) == []
    assert "CONSOLE" not in rendered["log"] or "error" not in rendered["log"].split("CONSOLE", 1)[1][:200].lower()


def test_no_network_requests(rendered):
    assert requests(rendered["events"]), "the DevTools network domain saw no request at all (not even the file itself)"
    assert external_requests(rendered["events"]) == []
    assert failed_requests(rendered["events"]) == []
    # and the file names no external resource for a browser to try
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", rendered["html"], re.IGNORECASE)


def test_first_screen_screenshot_is_saved_as_an_artifact(rendered):
    data = (rendered["artifacts"] / "first_screen.png").read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 900)
    assert (rendered["artifacts"] / "report.png").exists()


def _rows(dom: str, attr: str) -> dict[str, str]:
    return {m.group(1): m.group(0) for m in re.finditer(rf'<tr [^>]*{attr}="([^"]+)"[^>]*>.*?</tr>', dom, re.DOTALL)}


def test_the_rendered_first_screen_has_a_verdict_row_per_stage_and_rule(rendered):
    dom = rendered["dom"]
    first = dom[dom.index('id="first-screen"'):dom.index('id="section-funnel"')]
    stages, rules = _rows(first, "data-stage"), _rows(first, "data-rule")
    assert list(stages) == list(FIRST_SCREEN_STAGES)
    assert list(rules) == [TERM_LETTER_TO_CEO, TERM_DIVERSE_PANEL]
    for key, row in {**stages, **rules}.items():
        verdict = re.search(r'data-verdict="([^"]+)"', row).group(1)
        assert verdict in VERDICTS, key
        assert f"{verdict}" in re.sub(r"<[^>]+>", "", row) or key in rules, key  # the word is shown, not only coded
    for key in ("applying", "shortlisting", "offer", "appointment", TERM_LETTER_TO_CEO):
        row = {**stages, **rules}[key]
        assert len(re.findall(r"95% CI \d+\.\d\d to \d+\.\d\d", row)) == 3, key  # before, after, change
    assert re.search(r"England 1\.59", stages["appointment"])  # national row of WRES year 2022/23
    assert "1.80" not in stages["appointment"]  # never the regional 2024 row
    assert 'data-verdict="better"' in rules[TERM_LETTER_TO_CEO] and "OR ≈ 1.7" in rules[TERM_LETTER_TO_CEO]
