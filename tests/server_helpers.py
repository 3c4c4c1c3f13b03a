"""Helpers for the real-server test: create and watch flow runs, read artifacts over the REST API
(not collected: no test_ prefix).  The production module edi_recruit/server.py only starts and stops
the server, work pool, deployments and worker."""
from __future__ import annotations

import socket
import time

from edi_recruit.server import api

MONTHLY_DEPLOYMENT = "monthly-evaluation/monthly-evaluation"


BACKFILL_DEPLOYMENT = "backfill/backfill"


TERMINAL_STATES = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def deployment_id(url: str, name: str) -> str:
    return api("GET", f"{url}/deployments/name/{name}")["id"]


def create_flow_run(url: str, deployment: str, parameters: dict) -> str:
    dep = deployment_id(url, deployment)
    return api("POST", f"{url}/deployments/{dep}/create_flow_run", {"parameters": parameters})["id"]


def flow_run(url: str, run_id: str) -> dict:
    return api("GET", f"{url}/flow_runs/{run_id}")


def wait_flow_run(url: str, run_id: str, timeout: float = 600.0, poll: float = 2.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        fr = flow_run(url, run_id)
        if (fr.get("state") or {}).get("type") in TERMINAL_STATES:
            return fr
        if time.monotonic() >= deadline:
            raise TimeoutError(f"flow run {run_id} still {fr.get('state', {}).get('type')} after {timeout:.0f}s")
        time.sleep(poll)


def artifacts_of(url: str, flow_run_ids: list[str]) -> list[dict]:
    return api("POST", f"{url}/artifacts/filter",
               {"artifacts": {"flow_run_id": {"any_": list(flow_run_ids)}}, "limit": 200})
