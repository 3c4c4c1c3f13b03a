"""Render the report in headless Chromium (Debian's ``chromium``) over the DevTools protocol.

Checks: every section is present in the rendered DOM; the first screen holds a
verdict row per funnel stage and per programme rule, each with its before/after
figures, CI, verdict word and (appointment) the national figure of the same WRES
year; screenshots of the whole page and of the first screen (1280x900) are saved
as test artifacts (``$EDI_RECRUIT_SCREENSHOT_DIR`` or a pytest tmp folder
``artifacts*``); there are no console errors or exceptions, and no network request
leaves the file (any request whose scheme is not file:, data: or about: fails the
test; DNS is also mapped to nothing so a stray fetch could not succeed anyway).

Chromium is installed with apt-get when missing (as root); the test skips,
saying why, only where that is impossible.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from fake_warehouse import build_fake_warehouse
from report_helpers import complete_results

from tasks.core.vocabulary import FIRST_SCREEN_STAGES, TERM_DIVERSE_PANEL, TERM_LETTER_TO_CEO
from tasks.outputs.report.page import SECTION_IDS, render_report
from tasks.outputs.report.verdicts import VERDICTS

pytestmark = pytest.mark.browser

CHROMIUM_NAMES = ("chromium", "chromium-browser")
LOCAL_SCHEMES = ("file:", "data:", "about:", "chrome:", "devtools:")


def _find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    path = _find_chromium()
    if path:
        return path
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("chromium is not installed and this user is not root, so `apt-get install chromium` is impossible")
    if not shutil.which("apt-get"):
        pytest.skip("chromium is not installed and there is no apt-get to install it")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        subprocess.run(["apt-get", "update"], check=True, capture_output=True, timeout=600, env=env)
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "chromium"], check=True,
                       capture_output=True, timeout=1200, env=env)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        out = getattr(exc, "stderr", b"") or b""
        pytest.skip(f"chromium is missing and `apt-get install chromium` failed: {out.decode(errors='replace')[-300:]}")
    path = _find_chromium()
    if not path:
        pytest.skip("`apt-get install chromium` ran but no chromium binary is on PATH")
    return path


class Pipe:
    """Chrome DevTools Protocol over --remote-debugging-pipe (fd 3: commands in, fd 4: replies out)."""

    def __init__(self, binary: str, user_data_dir: Path, log_path: Path):
        to_chrome_r, self._w = os.pipe()
        self._r, from_chrome_w = os.pipe()

        def child_fds():
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self.log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-extensions",
             "--disable-default-apps", "--no-default-browser-check", "--mute-audio",
             f"--user-data-dir={user_data_dir}", '--host-resolver-rules=MAP * ~NOTFOUND',
             "--enable-logging=stderr", "--v=0", "--remote-debugging-pipe", "about:blank"],
            preexec_fn=child_fds, close_fds=False, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            if time.monotonic() > deadline:
                raise TimeoutError("no reply from chromium")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError(f"chromium exited (code {self.proc.poll()})")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 60) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self._id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_for(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        for e in self.events:
            if e.get("method") == method:
                return e
        while True:
            m = self._read_message(deadline)
            self.events.append(m)
            if m.get("method") == method:
                return m

    def drain(self, seconds: float) -> None:
        """Collect events for a while (late console messages, requests)."""
        import select

        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([self._r], [], [], max(0.0, end - time.monotonic()))
            if not ready:
                break
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                break
            self._buf += chunk
            while b"\0" in self._buf:
                raw, self._buf = self._buf.split(b"\0", 1)
                self.events.append(json.loads(raw))

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except Exception:  # noqa: BLE001
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log.close()


def render_in_chromium(chromium: str, html_path: Path, d: Path) -> dict:
    """Load a file in headless Chromium; return its DOM, screenshot path, DevTools events and log."""
    cdp = Pipe(chromium, d / "profile", d / "chromium.log")
    try:
        target = cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network", "DOM"):
            cdp.send(f"{domain}.enable", session=session)
        cdp.send("Emulation.setDeviceMetricsOverride",
                 {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=session)
        cdp.send("Page.navigate", {"url": html_path.resolve().as_uri()}, session=session)
        cdp.wait_for("Page.loadEventFired", timeout=60)
        cdp.drain(1.0)
        root = cdp.send("DOM.getDocument", {"depth": -1}, session=session)["root"]["nodeId"]
        dom = cdp.send("DOM.getOuterHTML", {"nodeId": root}, session=session)["outerHTML"]
        first = cdp.send("Page.captureScreenshot", {"format": "png"}, session=session)  # what a reader sees first
        (d / "first_screen.png").write_bytes(base64.b64decode(first["data"]))
        shot = cdp.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=session)
        png = d / "report.png"
        png.write_bytes(base64.b64decode(shot["data"]))
        cdp.drain(0.5)
        events = list(cdp.events)
    finally:
        cdp.close()
    return {"dom": dom, "png": png, "first_png": d / "first_screen.png", "events": events,
            "log": (d / "chromium.log").read_text(errors="replace"), "html": html_path.read_text(encoding="utf-8")}


def external_requests(events: list[dict]) -> list[str]:
    urls = [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]
    return [u for u in urls if not u.startswith(LOCAL_SCHEMES)]


def console_errors(events: list[dict]) -> list:
    errors = []
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.exceptionThrown":
            errors.append(p.get("exceptionDetails", {}).get("text"))
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append(p.get("args"))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            errors.append(p["entry"].get("text"))
    return errors


@pytest.fixture(scope="module")
def rendered(chromium, tmp_path_factory):
    d = tmp_path_factory.mktemp("browser")
    build_fake_warehouse(d / "w.duckdb", d / "res", tables=complete_results())
    html_path = render_report(d / "w.duckdb", out_path=d / "report.html")
    out = render_in_chromium(chromium, html_path, d)
    keep = Path(os.environ.get("EDI_RECRUIT_SCREENSHOT_DIR") or tmp_path_factory.mktemp("artifacts"))
    keep.mkdir(parents=True, exist_ok=True)
    for name in ("png", "first_png"):
        shutil.copy(out[name], keep / out[name].name)
    out["artifacts"] = keep
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
    urls = [e["params"]["request"]["url"] for e in rendered["events"] if e.get("method") == "Network.requestWillBeSent"]
    assert urls, "the DevTools network domain saw no request at all (not even the file itself)"
    assert external_requests(rendered["events"]) == []
    failed = [e["params"] for e in rendered["events"] if e.get("method") == "Network.loadingFailed"]
    assert failed == []
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
