"""A local Prefect server with the project's deployments and a worker.

Used by ``edi-recruit serve`` and by the end-to-end test.  Everything runs on
127.0.0.1; the server keeps its state in SQLite under ``PREFECT_HOME``.
Telemetry and analytics are off (edi_recruit.settings).
"""
from __future__ import annotations

import json
import os
import signal
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


def prefect_bin() -> str:
    exe = Path(sys.executable).parent / "prefect"
    return str(exe) if exe.exists() else "prefect"


def api_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/api"


def prefect_env(home: str | Path, port: int, extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update(PRIVACY_ENV)
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
def api(method: str, url: str, body: dict | None = None, timeout: float = 30.0, attempts: int = 5):
    """One REST call; a busy server (503, a dropped connection) is retried with backoff."""
    data = json.dumps(body).encode() if body is not None else None
    for attempt in range(attempts):
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
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
    return subprocess.Popen(args, cwd=str(cwd), env=env, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)


def start_server(home: str | Path, port: int, log_path: Path | None = None) -> subprocess.Popen:
    Path(home).mkdir(parents=True, exist_ok=True)
    return _popen([prefect_bin(), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                  prefect_env(home, port), log_path)


def deploy(home: str | Path, port: int, log_path: Path | None = None, timeout: float = 300) -> None:
    """Register every deployment in prefect.yaml (``prefect --no-prompt deploy --all``)."""
    out = subprocess.run([prefect_bin(), "--no-prompt", "deploy", "--all"], cwd=str(PROJECT_ROOT),
                         env=prefect_env(home, port), capture_output=True, text=True, timeout=timeout)
    if log_path:
        with open(log_path, "a") as fh:
            fh.write(out.stdout + out.stderr)
    if out.returncode != 0:
        tail = (out.stderr or out.stdout).strip().splitlines()[-5:]
        raise RuntimeError("prefect deploy failed: " + " | ".join(tail))


def start_worker(home: str | Path, port: int, pool: str = WORK_POOL, log_path: Path | None = None,
                 extra_env: dict | None = None) -> subprocess.Popen:
    return _popen([prefect_bin(), "worker", "start", "--pool", pool, "--type", "process"],
                  prefect_env(home, port, extra_env), log_path)


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

    @property
    def url(self) -> str:
        return api_url(self.port)

    @property
    def ui(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, log_dir: Path | None = None, worker_env: dict | None = None, with_worker: bool = True,
              reuse: bool = False) -> "LocalPrefect":
        logs = Path(log_dir) if log_dir else None
        if logs:
            logs.mkdir(parents=True, exist_ok=True)
        if not (reuse and is_healthy(self.url)):
            self.server = start_server(self.home, self.port, logs / "server.log" if logs else None)
            wait_healthy(self.url, proc=self.server)
        ensure_work_pool(self.url)
        deploy(self.home, self.port, logs / "deploy.log" if logs else None)
        if with_worker:
            self.worker = start_worker(self.home, self.port, log_path=logs / "worker.log" if logs else None,
                                       extra_env=worker_env)
        return self

    def stop(self) -> None:
        stop(self.worker)
        stop(self.server)
