"""Data Docs offline in a real browser: headless Chromium (DevTools protocol over a pipe), DNS mapped to nothing.

A small validation with one failing expectation is run through GX and its Data Docs built as a run
builds them (tasks/validation/gx.py).  The index page and the validation page are opened from disk:
no request may leave the machine, the index's table must be there (GX builds it with a CDN script),
Bootstrap-like styles must apply (computed colours), and a screenshot of each page is saved as a test
artifact (under the test's tmp folder, and in EDI_RECRUIT_SCREENSHOT_DIR when set).
"""
from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

LOCAL_SCHEMES = ("file:", "data:", "about:", "chrome:", "devtools:")


class Chromium:
    """Headless Chromium driven over --remote-debugging-pipe (fd 3: commands in, fd 4: replies out)."""

    def __init__(self, binary: str, d: Path):
        to_r, self._w = os.pipe()
        self._r, from_w = os.pipe()

        def fds():
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)

        self.log = (d / "chromium.log").open("wb")
        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-extensions",
             "--disable-default-apps", "--no-default-browser-check", f"--user-data-dir={d / 'profile'}",
             "--host-resolver-rules=MAP * ~NOTFOUND", "--remote-debugging-pipe", "about:blank"],
            preexec_fn=fds,  # noqa: PLW1509 - puts the pipe on fds 3 and 4
            close_fds=False, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        os.close(to_r)
        os.close(from_w)
        self._buf, self._id, self.events = b"", 0, []

    def _next(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([self._r], [], [], wait)[0]:
                raise TimeoutError("no reply from chromium")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError(f"chromium exited (code {self.proc.poll()})")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 60):
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}} | ({"sessionId": session} if session else {})
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            m = self._next(deadline)
            if m.get("id") == self._id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_for(self, method: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._next(deadline))

    def open(self, path: Path, png: Path, script: str) -> dict:
        """Load a file, run ``script`` in it (its JSON value is returned), save a full-page screenshot."""
        self.events.clear()
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Network"):
            self.send(f"{domain}.enable", session=s)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=s)
        self.send("Page.navigate", {"url": path.resolve().as_uri()}, session=s)
        self.wait_for("Page.loadEventFired")
        value = self.send("Runtime.evaluate", {"expression": script, "returnByValue": True}, session=s)
        shot = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=s)
        png.write_bytes(base64.b64decode(shot["data"]))
        self.send("Target.closeTarget", {"targetId": target})
        return {"value": json.loads(value["result"]["value"]), "events": list(self.events)}

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except Exception:  # noqa: BLE001, S110 - closing a browser that already went
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for fd in (self._r, self._w):
            os.close(fd)
        self.log.close()


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


def _requests(events: list[dict]) -> list[str]:
    return [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
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
    keep = os.environ.get("EDI_RECRUIT_SCREENSHOT_DIR")
    for name in ("index", "validation"):
        out[name]["png"] = d / f"data_docs_{name}.png"
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(out[name]["png"], Path(keep) / out[name]["png"].name)
    return out


def test_no_request_leaves_the_machine(pages):
    for name, page in pages.items():
        urls = _requests(page["events"])
        assert urls, f"{name}: the DevTools network domain saw no request at all"
        assert [u for u in urls if not u.startswith(LOCAL_SCHEMES)] == [], name
        url = {e["params"]["requestId"]: e["params"]["request"]["url"] for e in page["events"]
               if e.get("method") == "Network.requestWillBeSent"}
        failed = [(url.get(e["params"]["requestId"]), e["params"].get("errorText")) for e in page["events"]
                  if e.get("method") == "Network.loadingFailed"]
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
