"""The national evaluation flow: every trust of a manifest on a Dask cluster, then the pooled analysis.

    read manifest -> register the national run (national.runs: running)
    -> subflow "national-trusts" on a Dask cluster (prefect-dask DaskTaskRunner):
       one "evaluate-trust" task per trust, each running the trust's monthly
       evaluation (flows/monthly_evaluation.py) as a subflow against the trust's
       own extracts, warehouse, pseudonymisation key and disclosure control,
       and reading back only the trust's PUBLISHED figures
    -> pooled analysis and national tables, written with the run's completion in
       one transaction (tasks/national/pooled.py, tasks/national/store.py)
    -> national report and workbook (tasks/outputs/national_report.py).

The cluster: ``dask_address`` (e.g. ``tcp://scheduler:8786``) uses an existing
Dask cluster (every worker must see the manifest's paths: shared storage,
docs/runbook.md); without it a ``LocalCluster`` sized to the machine
(:func:`local_cluster_kwargs`) is started for the run and closed after it.

Isolation: a trust that fails (a malformed extract, a critical validation
failure, a missing folder) is listed in ``national.trust_runs`` with its
one-line reason; the other trusts complete and are pooled.  The national run
fails only when no trust completes (or the national step itself fails).
"""
from __future__ import annotations

import json
import os
import uuid
from typing import Any

from prefect import flow
from prefect.runtime import flow_run

from flows import national_steps as steps
from tasks.national.manifest import read_manifest

FLOW_NAME = "national-evaluation"
DEFAULT_NATIONAL_DB = "data/national/national.duckdb"
DEFAULT_NATIONAL_OUT = "data/national/out"
GB = 1024 ** 3
MEMORY_PER_WORKER_GB = 2.0


class NoTrustCompleted(RuntimeError):
    """Every trust of the national run failed: nothing to pool."""


def local_cluster_kwargs(n_workers: int | None = None) -> dict:
    """A LocalCluster sized to the machine: one single-threaded worker process per core, at most one per
    ``MEMORY_PER_WORKER_GB`` of memory (a trust's evaluation is a process of its own, with its own DuckDB)."""
    import psutil

    cores = os.cpu_count() or 1
    by_memory = max(1, int(psutil.virtual_memory().total / GB // MEMORY_PER_WORKER_GB))
    workers = n_workers or max(1, min(cores, by_memory))
    return {"n_workers": workers, "threads_per_worker": 1, "processes": True, "dashboard_address": ":0"}


def dask_runner(dask_address: str | None = None, n_workers: int | None = None):
    """The DaskTaskRunner of the trusts' subflow: an existing cluster at ``dask_address``, else a LocalCluster."""
    from prefect_dask import DaskTaskRunner

    if dask_address:
        return DaskTaskRunner(address=dask_address)
    return DaskTaskRunner(cluster_kwargs=local_cluster_kwargs(n_workers))


@flow(name="national-trusts", log_prints=False)
def evaluate_trusts(entries: list[dict], as_of: str, trust_report: bool = False,
                    params: dict | None = None) -> list[dict]:
    """Every trust's evaluation on the cluster; each outcome is ``completed`` or ``failed`` with its reason."""
    futures = [steps.evaluate_trust_task.submit(e, as_of, trust_report, params) for e in entries]
    outcomes = []
    for entry, fut in zip(entries, futures):
        try:
            outcomes.append(fut.result())
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            outcomes.append({"trust_code": entry["trust_code"], "region": entry["region"], "status": "failed",
                             "run_id": None, "reason": steps.reason_of(exc), "seconds": None, "worker": None,
                             "figures": None})
    return outcomes


def _run_name() -> str:
    params = flow_run.parameters or {}
    return f"national-{params.get('as_of') or 'manifest-month'}"


@flow(name=FLOW_NAME, flow_run_name=_run_name, log_prints=False)
def national_evaluation(
    manifest: str,
    as_of: str | None = None,
    national_db: str = DEFAULT_NATIONAL_DB,
    out_dir: str = DEFAULT_NATIONAL_OUT,
    dask_address: str | None = None,
    n_workers: int | None = None,
    trust_report: bool = False,
    params: dict[str, Any] | None = None,
    outputs: bool = True,
) -> dict:
    """Evaluate every trust of a manifest on a Dask cluster and pool the results.

    Args:
        manifest: YAML or CSV manifest of trusts (tasks/national/manifest.py)
        as_of: month to evaluate, YYYY-MM (default: the manifest's as_of)
        national_db: the national DuckDB warehouse (national.* tables)
        out_dir: folder for the national report and workbook: <out_dir>/<run_id>/
        dask_address: an existing Dask scheduler, e.g. tcp://host:8786 (default: a LocalCluster)
        n_workers: LocalCluster worker processes (default: sized to the machine)
        trust_report: also write each trust's own report and exports
        params: analysis parameters passed to every trust's evaluation
        outputs: write the national report and workbook
    """
    m = read_manifest(manifest, as_of=as_of)
    if not m.as_of:
        raise ValueError("no month: give as_of or put as_of in the manifest")
    log = steps_logger()
    run_id = str(flow_run.id or uuid.uuid4())
    entries = [t.as_dict() for t in m.trusts]
    steps.register_task(national_db, run_id, m.as_of, m.path, dask_address, len(entries))
    try:
        runner = dask_runner(dask_address, n_workers)
        outcomes = evaluate_trusts.with_options(task_runner=runner)(entries, m.as_of, trust_report, params)
        failed = [o for o in outcomes if o["status"] != "completed"]
        for o in failed:
            log.error("trust %s failed: %s", o["trust_code"], o["reason"])
        if len(failed) == len(outcomes):
            raise NoTrustCompleted(f"every trust failed ({len(failed)}); first: {failed[0]['reason']}")
        adopts = {t.trust_code: t.adopts for t in m.trusts}
        rows = steps.pool_and_publish_task(national_db, run_id, m.as_of, outcomes, adopts)
    except BaseException as exc:
        steps.fail_task(national_db, run_id, steps.reason_of(exc))
        raise
    result = {"run_id": run_id, "as_of": m.as_of, "national_db": national_db,
              "trusts": [{k: o.get(k) for k in ("trust_code", "region", "status", "run_id", "reason", "seconds",
                                                "worker", "peak_rss_mb")} for o in outcomes],
              "table_rows": rows}
    if outputs:
        result["outputs"] = steps.outputs_task(national_db, run_id, out_dir)
    log.info("national run %s for %s: %d trust(s) completed, %d failed", run_id, m.as_of,
             len(outcomes) - len(failed), len(failed))
    return result


def steps_logger():
    from flows.steps import logger

    return logger()


if __name__ == "__main__":  # pragma: no cover
    import sys

    print(json.dumps(national_evaluation(sys.argv[1]), indent=2, default=str))
