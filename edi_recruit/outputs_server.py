"""Run outputs over http on 127.0.0.1, so the links in the Prefect UI's artifacts open in the browser.

A browser blocks ``file://`` links from an http page such as the Prefect UI, so the
``evaluation-links`` artifact (tasks/outputs/artifacts.py) links to this server instead.  It is
started beside the Prefect server by ``edi-recruit serve`` and by the persistent local API a CLI
run uses (edi_recruit/server.py), on the next port up (``EDI_RECRUIT_OUTPUTS_PORT`` to choose).

What it serves, and nothing else:

* files under the output roots (``EDI_RECRUIT_OUTPUTS_ROOTS``, ``os.pathsep``-separated; default the
  project folder, which holds ``out/`` and ``data/demo/out/``), addressed by their absolute path;
* only a run's published outputs: ``<run>/report.html``, ``<run>/*.xlsx``, ``<run>/csv/*.csv``,
  ``<run>/parquet/*.parquet`` and ``<run>/data_docs/...`` (never ``results/`` with undisclosed
  figures, never ``gx/``, the warehouse or extracts; no directory listings);
* to a browser that gives the Prefect server's login (HTTP basic auth with the same auth string,
  ``edi-recruit`` and its password): other local users cannot read the outputs through it.

:func:`outputs_env` is what a flow run needs to make links (``EDI_RECRUIT_OUTPUTS_URL`` and the roots).
"""
from __future__ import annotations

import base64
import hmac
import logging
import mimetypes
import os
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

log = logging.getLogger(__name__)

OUTPUTS_URL_ENV = "EDI_RECRUIT_OUTPUTS_URL"
OUTPUTS_ROOTS_ENV = "EDI_RECRUIT_OUTPUTS_ROOTS"
OUTPUTS_PORT_ENV = "EDI_RECRUIT_OUTPUTS_PORT"

# A run's published outputs, as the path below the run folder
SERVED = re.compile(r"^(report\.html|[^/]+\.xlsx|csv/[^/]+\.csv|parquet/[^/]+\.parquet|"
                    r"data_docs/[\w./ -]+\.(?:html|css|png|gif|svg|ico|otf|woff2?|json))$")
RUN_FOLDER = re.compile(r"^[\w-]{1,80}$")


def output_roots(env: dict | None = None) -> list[Path]:
    """The folders whose runs' outputs may be served (default: the project folder)."""
    from tasks.core.paths import PROJECT_ROOT

    env = os.environ if env is None else env
    given = [p for p in (env.get(OUTPUTS_ROOTS_ENV) or "").split(os.pathsep) if p.strip()]
    return [Path(p).resolve() for p in given] or [PROJECT_ROOT.resolve()]


def servable(path: Path, roots: list[Path]) -> bool:
    """Whether ``path`` (absolute, resolved) is a run's published output under one of ``roots``."""
    if not any(path.is_relative_to(r) for r in roots):
        return False
    parts = path.parts
    for i in range(len(parts) - 1, 0, -1):          # find the run folder: its rest must be a published output
        rest = "/".join(parts[i + 1:])
        if RUN_FOLDER.match(parts[i]) and SERVED.match(rest) and not rest.startswith(("results/", "gx/")):
            run = Path(*parts[: i + 1])   # a run folder: the analyses' hand-off, or the exports' two folders
            return (run / "results").is_dir() or ((run / "csv").is_dir() and (run / "parquet").is_dir())
    return False


def link(path: str | Path, env: dict | None = None) -> str | None:
    """The http URL of an output for the artifacts, or None when no outputs server serves it."""
    env = os.environ if env is None else env
    base = env.get(OUTPUTS_URL_ENV)
    if not base:
        return None
    p = Path(path).resolve()
    if not p.exists() or not servable(p, output_roots(env)):
        return None
    return base.rstrip("/") + urllib.parse.quote(p.as_posix())


def _handler(roots: list[Path], auth: str | None):
    expected = "Basic " + base64.b64encode(auth.encode()).decode() if auth else None

    class Handler(BaseHTTPRequestHandler):
        server_version = "edi-recruit-outputs"

        def log_message(self, fmt, *args):  # quiet: the Prefect log is the place for news
            log.debug("outputs server: " + fmt, *args)

        def _send(self, code: int, body: bytes = b"", ctype: str = "text/plain; charset=utf-8", extra=None):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self):
            if expected and not hmac.compare_digest(self.headers.get("Authorization", ""), expected):
                return self._send(401, b"login as for the Prefect UI\n",
                                  extra={"WWW-Authenticate": 'Basic realm="edi-recruit outputs"'})
            raw = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            try:
                path = Path(raw).resolve(strict=True)
            except (OSError, RuntimeError):
                return self._send(404, b"not found\n")
            if not path.is_file() or not servable(path, roots):
                return self._send(404, b"not found\n")
            ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if ctype.startswith("text/"):
                ctype += "; charset=utf-8"
            return self._send(200, path.read_bytes(), ctype)

        do_HEAD = do_GET

    return Handler


class OutputsServer:
    """The outputs server in a background thread of the calling process."""

    def __init__(self, port: int, auth: str | None = None, roots: list[Path] | None = None):
        self.roots = roots or output_roots()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self.roots, auth))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="edi-recruit-outputs", daemon=True)

    def start(self) -> OutputsServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def env(self) -> dict[str, str]:
        return outputs_env(self.url, self.roots)


def outputs_env(url: str, roots: list[Path]) -> dict[str, str]:
    """The environment a flow run needs to link to this server's outputs."""
    return {OUTPUTS_URL_ENV: url, OUTPUTS_ROOTS_ENV: os.pathsep.join(str(r) for r in roots)}


def start_outputs_server(port: int, auth: str | None) -> OutputsServer | None:
    """Start one (``EDI_RECRUIT_OUTPUTS_PORT`` over ``port``); None, with a warning, when the port is taken."""
    try:
        port = int(os.environ.get(OUTPUTS_PORT_ENV) or port)
        return OutputsServer(port, auth).start()
    except (OSError, ValueError) as exc:
        log.warning("the outputs server could not start on port %s (%s): artifact links will show paths only",
                    port, exc)
        return None
