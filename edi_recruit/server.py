"""A local Prefect server with the project's deployments and a worker, and the API the CLI runs against.

Used by ``edi-recruit serve``, by ``edi-recruit run`` / ``demo`` / ``backfill``
(:func:`cli_api`) and by the end-to-end test.  Everything runs on 127.0.0.1;
the server keeps its state in SQLite under ``PREFECT_HOME``.  Telemetry and
analytics are off (edi_recruit.settings).

Authentication.  Every server started here requires Prefect's server auth
string (``PREFECT_SERVER_API_AUTH_STRING``): :func:`auth_string` generates it
once and keeps it 0600 in ``<home>/api-auth`` (or takes
``PREFECT_SERVER_API_AUTH_STRING`` from the environment); clients (the CLI,
deploy, the worker and the flow runs it starts) send it as
``PREFECT_API_AUTH_STRING``.  ``/api/health`` stays open (health probes).

Start-up.  A CLI run does not start Prefect's temporary server (a race under
load: "Timed out while attempting to connect to ephemeral Prefect API
server", concurrent migrations of one SQLite file).  :func:`cli_api` uses, in
order: ``PREFECT_API_URL`` when set (it must answer); the server recorded in
``<home>/edi-recruit-api.json`` (an ``edi-recruit serve`` or an earlier CLI
run) when healthy; else it starts one persistent local server under a file
lock (so concurrent CLIs share one, and its database is migrated once), waits
for ``/health`` with no fixed window (``EDI_RECRUIT_API_STARTUP_SECONDS``,
default 600, failing early if the process exits), and records it.  That
server stops itself after ``EDI_RECRUIT_API_IDLE_SECONDS`` (default 1800)
without a CLI using it (:func:`supervise`).  ``EDI_RECRUIT_PREFECT_API=ephemeral``
restores Prefect's own temporary server.
"""
from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from edi_recruit.settings import PRIVACY_ENV
from tasks.core.paths import PROJECT_ROOT

WORK_POOL = "edi-recruit"
AUTH_FILE = "api-auth"
STATE_FILE = "edi-recruit-api.json"
LOCK_FILE = "edi-recruit-api.lock"
LEASE_FILE = "edi-recruit-api.lease"
AUTH_USER = "edi-recruit"
STARTUP_SECONDS_ENV, DEFAULT_STARTUP_SECONDS = "EDI_RECRUIT_API_STARTUP_SECONDS", 600.0
IDLE_SECONDS_ENV, DEFAULT_IDLE_SECONDS = "EDI_RECRUIT_API_IDLE_SECONDS", 1800.0
MIN_IDLE_SECONDS = 90.0
API_MODE_ENV = "EDI_RECRUIT_PREFECT_API"
_AUTH_BY_API: dict[str, str] = {}


class ApiUnavailable(RuntimeError):
    """No Prefect API to run against (PREFECT_API_URL does not answer, or the local server would not start)."""     # api url -> auth string, for api() calls to servers started here


def default_home() -> Path:
    """PREFECT_HOME, else data/prefect (``edi-recruit serve``'s default), as an absolute path."""
    return Path(os.environ.get("PREFECT_HOME") or "data/prefect").resolve()


def auth_string(home: str | Path) -> str:
    """The server auth string: PREFECT_SERVER_API_AUTH_STRING if set, else ``<home>/api-auth`` (made 0600 once)."""
    from tasks.warehouse.files import private_dir, write_private_text

    given = os.environ.get("PREFECT_SERVER_API_AUTH_STRING")
    if given:
        return given
    path = private_dir(home) / AUTH_FILE
    if not path.exists():
        write_private_text(path, f"{AUTH_USER}:{secrets.token_urlsafe(32)}\n")
    return path.read_text(encoding="utf-8").strip()


def auth_header(auth: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(auth.encode("utf-8")).decode("ascii")}


def prefect_command() -> list[str]:
    """The Prefect CLI of this interpreter: its console script, or ``python -m prefect`` where the
    environment has no script (e.g. a wheel installed with its dependencies provided another way)."""
    exe = Path(sys.executable).parent / "prefect"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "prefect"]


def api_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/api"


def prefect_env(home: str | Path, port: int, extra: dict | None = None, auth: str | None = None) -> dict:
    env = dict(os.environ)
    env.update(PRIVACY_ENV)
    if auth:
        env.update({"PREFECT_SERVER_API_AUTH_STRING": auth, "PREFECT_API_AUTH_STRING": auth})
    env.update({
        "PREFECT_HOME": str(Path(home).resolve()),
        "PREFECT_API_URL": api_url(port),
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_UI_API_URL": api_url(port),
        "PWD": str(PROJECT_ROOT),   # prefect.yaml's pull step: the project folder
    })
    env.update(extra or {})
    return env


# ---------------------------------------------------------------- REST helpers (stdlib only)
def _auth_for(url: str) -> str | None:
    for base, auth in _AUTH_BY_API.items():
        if url.startswith(base):
            return auth
    return os.environ.get("PREFECT_API_AUTH_STRING")


def api(method: str, url: str, body: dict | None = None, timeout: float = 30.0, attempts: int = 5,
        auth: str | None = None):
    """One REST call (with the auth string of a server started here, else ``auth`` or PREFECT_API_AUTH_STRING);
    a busy server (503, a dropped connection) is retried with backoff."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    auth = auth or _auth_for(url)
    if auth:
        headers.update(auth_header(auth))
    for attempt in range(attempts):
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            if exc.code not in (502, 503, 504) or attempt == attempts - 1:
                raise
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if attempt == attempts - 1:
                raise
        time.sleep(min(2 ** attempt, 10))


def wait_healthy(url: str, timeout: float = 120.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the Prefect server exited with code {proc.returncode}")
        try:
            api("GET", f"{url}/health", timeout=5, attempts=1)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            time.sleep(0.5)
    raise TimeoutError(f"Prefect server at {url} not healthy after {timeout:.0f}s")


def is_healthy(url: str) -> bool:
    try:
        api("GET", f"{url}/health", timeout=3, attempts=1)
        return True
    except Exception:  # noqa: BLE001
        return False


def ensure_work_pool(url: str, name: str = WORK_POOL) -> None:
    try:
        api("GET", f"{url}/work_pools/{name}", attempts=1)
        return
    except urllib.error.HTTPError as exc:
        if exc.code != 404:
            raise
    from prefect.workers.process import ProcessWorker

    template = ProcessWorker.get_default_base_job_template()
    api("POST", f"{url}/work_pools/", {"name": name, "type": "process", "base_job_template": template,
                                       "description": "edi-recruit flow runs as local subprocesses"})


# ---------------------------------------------------------------- processes
def _popen(args: list[str], env: dict, log_path: Path | None, cwd: Path = PROJECT_ROOT) -> subprocess.Popen:
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    # umask 0o077: the server's SQLite database (prefect.db) and logs are owner-only whoever starts it
    return subprocess.Popen(args, cwd=str(cwd), env=env, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True, umask=0o077)


def start_server(home: str | Path, port: int, log_path: Path | None = None,
                 auth: str | None = None) -> subprocess.Popen:
    from tasks.warehouse.files import private_dir

    private_dir(home)
    return _popen([*prefect_command(), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                  prefect_env(home, port, auth=auth), log_path)


def deploy(home: str | Path, port: int, log_path: Path | None = None, timeout: float = 300,
           auth: str | None = None) -> None:
    """Register every deployment in prefect.yaml (``prefect --no-prompt deploy --all``)."""
    out = subprocess.run([*prefect_command(), "--no-prompt", "deploy", "--all"], cwd=str(PROJECT_ROOT),
                         env=prefect_env(home, port, auth=auth), capture_output=True, text=True, timeout=timeout)
    if log_path:
        with open(log_path, "a") as fh:
            fh.write(out.stdout + out.stderr)
    if out.returncode != 0:
        tail = (out.stderr or out.stdout).strip().splitlines()[-5:]
        raise RuntimeError("prefect deploy failed: " + " | ".join(tail))


def start_worker(home: str | Path, port: int, pool: str = WORK_POOL, log_path: Path | None = None,
                 extra_env: dict | None = None, auth: str | None = None) -> subprocess.Popen:
    return _popen([*prefect_command(), "worker", "start", "--pool", pool, "--type", "process"],
                  prefect_env(home, port, extra_env, auth=auth), log_path)


def stop(proc: subprocess.Popen | None, timeout: float = 20.0) -> None:
    """Stop a process we started (its whole process group), politely then firmly."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=timeout)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


@dataclass
class LocalPrefect:
    home: Path
    port: int
    server: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None
    auth: str | None = None
    outputs: object | None = None   # the outputs server (edi_recruit/outputs_server.py): artifact links over http

    @property
    def url(self) -> str:
        return api_url(self.port)

    @property
    def ui(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, log_dir: Path | None = None, worker_env: dict | None = None, with_worker: bool = True,
              reuse: bool = False) -> LocalPrefect:
        logs = Path(log_dir) if log_dir else None
        if logs:
            logs.mkdir(parents=True, exist_ok=True)
        self.auth = auth_string(self.home)
        _AUTH_BY_API[self.url] = self.auth
        if not (reuse and is_healthy(self.url)):
            self.server = start_server(self.home, self.port, logs / "server.log" if logs else None, auth=self.auth)
            # no fixed short window: a loaded machine starts the server slowly (EDI_RECRUIT_API_STARTUP_SECONDS)
            wait_healthy(self.url, timeout=_seconds(STARTUP_SECONDS_ENV, DEFAULT_STARTUP_SECONDS), proc=self.server)
        api("GET", f"{self.url}/admin/version", attempts=3)  # the auth string is accepted
        from edi_recruit.outputs_server import start_outputs_server

        self.outputs = start_outputs_server(self.port + 1, self.auth)
        links = self.outputs.env() if self.outputs else {}
        worker_env = {**(worker_env or {}), **links}
        _write_state(self.home, {"url": self.url, "pid": self.server.pid if self.server else None, "by": "serve",
                                 **({"outputs": links} if links else {})})
        ensure_work_pool(self.url)
        deploy(self.home, self.port, logs / "deploy.log" if logs else None, auth=self.auth)
        if with_worker:
            self.worker = start_worker(self.home, self.port, log_path=logs / "worker.log" if logs else None,
                                       extra_env=worker_env, auth=self.auth)
        return self

    def stop(self) -> None:
        stop(self.worker)
        if self.outputs is not None:
            self.outputs.stop()
        stop(self.server)
        if self.server is not None:
            _clear_state(self.home, self.url)



# ---------------------------------------------------------------- the API a CLI run uses (no temporary server)
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seconds(env: str, default: float) -> float:
    try:
        return float(os.environ.get(env, default))
    except ValueError:
        return default


def _read_state(home: Path) -> dict | None:
    try:
        return json.loads((Path(home) / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_state(home: Path, state: dict) -> None:
    from tasks.warehouse.files import write_private_text

    write_private_text(Path(home) / STATE_FILE, json.dumps(state))


def _clear_state(home: Path, url: str) -> None:
    state = _read_state(home)
    if state and state.get("url") == url:
        (Path(home) / STATE_FILE).unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock on ``path`` across processes (released if the holder dies)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _touch_lease(home: Path) -> None:
    lease = Path(home) / LEASE_FILE
    lease.touch(mode=0o600)
    os.utime(lease)


def ensure_local_api(home: str | Path) -> tuple[str, str]:
    """The persistent local API under ``home``: reused when healthy, else started once (under a lock).

    Returns (api url, auth string).  Concurrent callers wait on the lock and then share the one
    server, whose SQLite database is therefore migrated by one process only.
    """
    from tasks.warehouse.files import private_dir

    home = private_dir(Path(home).resolve())
    auth = auth_string(home)
    with _locked(home / LOCK_FILE):
        _touch_lease(home)
        state = _read_state(home)
        if state and is_healthy(state["url"]):
            return state["url"], auth
        (home / "logs").mkdir(mode=0o700, exist_ok=True)
        for attempt in range(3):           # a port taken between choosing and binding: choose again
            port, outputs_port = free_port(), free_port()
            proc = _popen([sys.executable, "-m", "edi_recruit.server", "supervise", "--home", str(home),
                           "--port", str(port), "--outputs-port", str(outputs_port)],
                          prefect_env(home, port, auth=auth), home / "logs" / "api.log")
            try:
                wait_healthy(api_url(port), timeout=_seconds(STARTUP_SECONDS_ENV, DEFAULT_STARTUP_SECONDS), proc=proc)
            except RuntimeError:
                if attempt == 2:
                    raise ApiUnavailable(f"the local Prefect API would not start; see {home / 'logs' / 'api.log'}")
                continue
            from edi_recruit.outputs_server import output_roots, outputs_env

            _write_state(home, {"url": api_url(port), "pid": proc.pid, "by": "cli",
                                "outputs": outputs_env(f"http://127.0.0.1:{outputs_port}", output_roots())})
            return api_url(port), auth
    raise AssertionError("unreachable")


@contextlib.contextmanager
def cli_api(home: str | Path | None = None):
    """Run the enclosed Prefect flow against a reachable API (module docstring); yields its url or None."""
    import threading

    if os.environ.get(API_MODE_ENV, "local") == "ephemeral":
        yield None
        return
    home = Path(home).resolve() if home else default_home()
    url = os.environ.get("PREFECT_API_URL")
    if url:
        if not is_healthy(url):
            raise ApiUnavailable(f"PREFECT_API_URL={url} does not answer: start that server, or unset PREFECT_API_URL")
        state = _read_state(home)
        auth = os.environ.get("PREFECT_API_AUTH_STRING") or (
            auth_string(home) if state and state.get("url") == url else None)
    else:
        url, auth = ensure_local_api(home)
    stop = threading.Event()

    def keep_lease():
        while not stop.wait(30):
            _touch_lease(home)

    threading.Thread(target=keep_lease, name="edi-recruit-api-lease", daemon=True).start()
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    updates = {PREFECT_API_URL: url, **({PREFECT_API_AUTH_STRING: auth} if auth else {})}
    state = _read_state(home) or {}
    # the run's artifacts link to the outputs server beside that API (edi_recruit/outputs_server.py), with
    # the folders that server serves; unless this process was given an outputs server of its own
    from edi_recruit.outputs_server import OUTPUTS_URL_ENV

    links = dict(state.get("outputs") or {}) if state.get("url") == url and OUTPUTS_URL_ENV not in os.environ else {}
    saved = {k: os.environ.get(k) for k in links}
    os.environ.update(links)
    try:
        with temporary_settings(updates=updates):
            yield url
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        stop.set()
        if not os.environ.get("PREFECT_API_URL"):
            _touch_lease(home)


def stop_local_api(home: str | Path, timeout: float = 30.0) -> bool:
    """Stop the persistent local API of ``home`` if a CLI started it; True if one was stopped."""
    home = Path(home).resolve()
    state = _read_state(home)
    if not state or state.get("by") != "cli" or not state.get("pid"):
        return False
    try:
        os.killpg(int(state["pid"]), signal.SIGTERM)
    except ProcessLookupError:
        (home / STATE_FILE).unlink(missing_ok=True)
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and is_healthy(state["url"]):
        time.sleep(0.5)
    (home / STATE_FILE).unlink(missing_ok=True)
    return True


def supervise(home: Path, port: int, outputs_port: int | None = None) -> int:
    """Run ``prefect server start`` until it has been idle (no CLI lease) for EDI_RECRUIT_API_IDLE_SECONDS,
    with the outputs server (artifact links) on ``outputs_port``."""
    # a CLI refreshes its lease every 30 s: a shorter idle limit would stop the API under a running flow
    idle = max(_seconds(IDLE_SECONDS_ENV, DEFAULT_IDLE_SECONDS), MIN_IDLE_SECONDS)
    server = subprocess.Popen([*prefect_command(), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              cwd=str(PROJECT_ROOT), env=dict(os.environ), start_new_session=True, umask=0o077)
    stopping = {"now": False}

    def _term(signum, frame):
        stopping["now"] = True

    signal.signal(signal.SIGTERM, _term)
    signal.signal(signal.SIGINT, _term)
    from edi_recruit.outputs_server import start_outputs_server

    outputs = start_outputs_server(outputs_port, auth_string(home)) if outputs_port else None
    lease = Path(home) / LEASE_FILE
    while not stopping["now"] and server.poll() is None:
        try:
            quiet = time.time() - lease.stat().st_mtime
        except OSError:
            quiet = idle + 1
        if quiet > idle:
            break
        time.sleep(2)
    if outputs is not None:
        outputs.stop()
    stop(server)
    _clear_state(Path(home), api_url(port))
    return server.returncode or 0


if __name__ == "__main__":  # pragma: no cover - started by ensure_local_api
    import argparse

    parser = argparse.ArgumentParser(prog="python -m edi_recruit.server")
    parser.add_argument("command", choices=["supervise"])
    parser.add_argument("--home", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--outputs-port", type=int, default=None)
    ns = parser.parse_args()
    sys.exit(supervise(Path(ns.home), ns.port, ns.outputs_port))
