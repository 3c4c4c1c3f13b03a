"""The Prefect tasks of the national flow: names and retries, never rules.

``evaluate-trust`` runs on a Dask worker: one trust's monthly evaluation
(flows/monthly_evaluation.py, called as a subflow) against the trust's own
extracts, warehouse, output folder and pseudonymisation key, then reads that
run's published figures (tasks/national/collect.py).  It never raises for a
trust's own failure: it returns ``status = failed`` with the one-line reason,
so one trust cannot stop the others.

One trust at a time per worker process (:data:`_TRUST_LOCK`): the trust's key
is chosen through the process environment for the length of its run, and a
trust's evaluation already uses the process's threads (analyses, DuckDB).
"""
from __future__ import annotations

import os
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from edi_recruit import settings as _settings  # noqa: F401  (telemetry off before Prefect)
from tasks.privacy.pseudonyms import KEY_ENV, KEY_FILE_ENV

_TRUST_LOCK = threading.Lock()


def peak_rss_mb() -> float:
    """Peak resident memory of this (worker) process so far, in MB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reason_of(exc: BaseException) -> str:
    """``Type: first line of the message`` (at most 300 characters): the national run's one-line reason."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}"[:300]


@contextmanager
def trust_key(key_file: str | None):
    """The trust's own pseudonymisation key for the length of its run: its ``key_file`` when the manifest
    gives one, else its warehouse's ``<db>.key`` (a process-wide key from the environment is set aside,
    so two trusts never share one)."""
    saved = {k: os.environ.get(k) for k in (KEY_ENV, KEY_FILE_ENV)}
    try:
        os.environ.pop(KEY_ENV, None)
        if key_file:
            os.environ[KEY_FILE_ENV] = key_file
        else:
            os.environ.pop(KEY_FILE_ENV, None)
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _check_inputs(entry: dict) -> None:
    extracts = Path(entry["extracts"])
    if not extracts.is_dir():
        raise FileNotFoundError(f"extracts folder not found: {extracts}")
    if entry.get("key_file") and not Path(entry["key_file"]).is_file():
        raise FileNotFoundError(f"key file not found: {entry['key_file']}")


def evaluate_trust(entry: dict, as_of: str, trust_report: bool = False, params: dict | None = None) -> dict:
    """One trust's monthly evaluation as a subflow, then its published figures; a failure is returned, not raised.

    A plain function (the task below calls it): the task's function is pickled by value to the Dask
    workers, and this module's lock must stay behind in each worker's own copy of the module.
    """
    from flows.monthly_evaluation import monthly_evaluation
    from tasks.national.collect import trust_figures

    code = entry["trust_code"]
    base = {"trust_code": code, "region": entry["region"], "worker": f"{socket.gethostname()}:{os.getpid()}"}
    t0 = time.perf_counter()
    with _TRUST_LOCK:
        try:
            _check_inputs(entry)
            Path(entry["db"]).parent.mkdir(parents=True, exist_ok=True)
            with trust_key(entry.get("key_file")):
                result = monthly_evaluation.with_options(flow_run_name=f"evaluate-{code}-{as_of}")(
                    as_of=as_of, extracts=entry["extracts"], db=entry["db"], out_dir=entry["out_dir"],
                    params=params, report=trust_report, exports=trust_report)
            figures = trust_figures(entry["db"], result["run_id"], trust_code=code, region=entry["region"])
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            return {**base, "status": "failed", "run_id": None, "reason": reason_of(exc),
                    "seconds": time.perf_counter() - t0, "figures": None}
    return {**base, "status": "completed", "run_id": result["run_id"], "reason": None,
            "seconds": time.perf_counter() - t0, "figures": figures, "peak_rss_mb": peak_rss_mb()}


@task(name="evaluate-trust", task_run_name="evaluate-{entry[trust_code]}", cache_policy=NO_CACHE)
def evaluate_trust_task(entry: dict, as_of: str, trust_report: bool = False, params: dict | None = None) -> dict:
    """One trust on a Dask worker (:func:`evaluate_trust`)."""
    return evaluate_trust(entry, as_of, trust_report, params)


@task(name="national-register", retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def register_task(national_db: str, run_id: str, as_of: str, manifest: str, dask_address: str | None,
                  trusts: int) -> None:
    from tasks.national.store import register_national_run

    register_national_run(national_db, run_id=run_id, as_of=as_of, manifest=manifest, dask_address=dask_address,
                          trusts=trusts)


@task(name="national-pool-and-publish", cache_policy=NO_CACHE)
def pool_and_publish_task(national_db: str, run_id: str, as_of: str, outcomes: list[dict],
                          adopts: dict[str, dict]) -> dict:
    """The national tables from the completed trusts, written with the run's completion in one transaction."""
    from tasks.national.pooled import national_tables
    from tasks.national.store import complete_national_run

    figures = {o["trust_code"]: o["figures"] for o in outcomes if o["status"] == "completed"}
    tables = national_tables(outcomes, figures, adopts, as_of=as_of)
    done = sum(o["status"] == "completed" for o in outcomes)
    complete_national_run(national_db, run_id=run_id, tables=tables, completed=done, failed=len(outcomes) - done)
    return {name: df.height for name, df in tables.items()}


@task(name="national-fail", retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def fail_task(national_db: str, run_id: str, reason: str) -> None:
    from tasks.national.store import fail_national_run

    fail_national_run(national_db, run_id=run_id, reason=reason)


@task(name="national-outputs", cache_policy=NO_CACHE)
def outputs_task(national_db: str, run_id: str, out_dir: str) -> dict:
    """The national report (HTML) and workbook (XLSX) of the run, from the national tables."""
    from tasks.outputs.national_report import write_national_outputs

    return write_national_outputs(national_db, run_id, out_dir)
