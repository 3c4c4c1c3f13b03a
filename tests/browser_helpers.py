"""Headless Chromium for the browser tests (not collected: no test_ prefix), with the network off.

Finds Debian's ``chromium`` (installing it with apt-get as root), drives it over the DevTools protocol
on a pipe (no port is opened), opens a file and screenshots it, and filters the collected events:
requests that would leave the machine and console errors.  DNS is mapped to nothing
(``--host-resolver-rules``), so a stray fetch could not succeed anyway; the filters are what make
the tests fail on one.
"""
from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser")
LOCAL_SCHEMES = ("file:", "data:", "about:", "chrome:", "devtools:")


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_or_skip() -> str:
    """The chromium binary, installed with apt-get when missing and root; skips, saying why, where impossible."""
    path = find_chromium()
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
    path = find_chromium()
    if not path:
        pytest.skip("`apt-get install chromium` ran but no chromium binary is on PATH")
    return path


class Chromium:
    """Headless Chromium driven over --remote-debugging-pipe (fd 3: commands in, fd 4: replies out).

    Its profile and log (``chromium.log``, read by the console check) live in the folder ``d``.
    """

    def __init__(self, binary: str, d: Path):
        to_r, self._w = os.pipe()
        self._r, from_w = os.pipe()

        def fds():
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)

        self.log_path = d / "chromium.log"
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-extensions",
             "--disable-default-apps", "--no-default-browser-check", "--mute-audio",
             f"--user-data-dir={d / 'profile'}", "--host-resolver-rules=MAP * ~NOTFOUND",
             "--enable-logging=stderr", "--v=0", "--remote-debugging-pipe", "about:blank"],
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

    def wait_for(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        for e in self.events:
            if e.get("method") == method:
                return e
        while True:
            m = self._next(deadline)
            self.events.append(m)
            if m.get("method") == method:
                return m

    def drain(self, seconds: float) -> None:
        """Collect events for a while (late console messages, requests)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if not select.select([self._r], [], [], max(0.0, end - time.monotonic()))[0]:
                break
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                break
            self._buf += chunk
            while b"\0" in self._buf:
                raw, self._buf = self._buf.split(b"\0", 1)
                self.events.append(json.loads(raw))

    def open(self, path: Path, png: Path, script: str | None = None, first_screen: Path | None = None,
             settle: float = 0.0) -> dict:
        """Load a file in a new 1280x900 tab, save a full-page screenshot to ``png``, close the tab.

        ``settle``: seconds to keep collecting events after the load and again after the screenshots;
        ``script``: run in the page, its JSON value is returned as "value"; ``first_screen``: where to
        save the viewport (what a reader sees first).  Returns the DOM and the page's DevTools events.
        """
        self.events.clear()
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network", "DOM"):
            self.send(f"{domain}.enable", session=s)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=s)
        self.send("Page.navigate", {"url": path.resolve().as_uri()}, session=s)
        self.wait_for("Page.loadEventFired")
        self.drain(settle)
        value = None
        if script is not None:
            result = self.send("Runtime.evaluate", {"expression": script, "returnByValue": True}, session=s)
            value = json.loads(result["result"]["value"])
        root = self.send("DOM.getDocument", {"depth": -1}, session=s)["root"]["nodeId"]
        dom = self.send("DOM.getOuterHTML", {"nodeId": root}, session=s)["outerHTML"]
        if first_screen is not None:
            shot = self.send("Page.captureScreenshot", {"format": "png"}, session=s)
            first_screen.write_bytes(base64.b64decode(shot["data"]))
        shot = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=s)
        png.write_bytes(base64.b64decode(shot["data"]))
        self.drain(settle)
        self.send("Target.closeTarget", {"targetId": target})
        return {"value": value, "dom": dom, "events": list(self.events)}

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
            try:
                os.close(fd)
            except OSError:
                pass
        self.log.close()


def keep_screenshots(paths: Iterable[Path], fallback: Path | None = None) -> Path | None:
    """Copy screenshots to $EDI_RECRUIT_SCREENSHOT_DIR (else to ``fallback``, if any); return that folder."""
    keep = os.environ.get("EDI_RECRUIT_SCREENSHOT_DIR") or fallback
    if keep is None:
        return None
    keep = Path(keep)
    keep.mkdir(parents=True, exist_ok=True)
    for path in paths:
        shutil.copy(path, keep / path.name)
    return keep


def requests(events: list[dict]) -> list[str]:
    """Every URL the page asked for, local or not."""
    return [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]


def external_requests(events: list[dict]) -> list[str]:
    """The URLs that would leave the machine (any scheme but file:, data:, about:, chrome:, devtools:)."""
    return [u for u in requests(events) if not u.startswith(LOCAL_SCHEMES)]


def failed_requests(events: list[dict]) -> list[tuple[str | None, str | None]]:
    """(url, error) of every request that failed to load."""
    url = {e["params"]["requestId"]: e["params"]["request"]["url"] for e in events
           if e.get("method") == "Network.requestWillBeSent"}
    return [(url.get(e["params"]["requestId"]), e["params"].get("errorText")) for e in events
            if e.get("method") == "Network.loadingFailed"]


def console_errors(events: list[dict]) -> list:
    """Exceptions, console.error/assert calls and error log entries."""
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
