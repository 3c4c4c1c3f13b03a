"""Every Prefect task of the flows: names, retries, retry conditions and cache policy, never rules.

Each task is one call of a plain function in tasks/ (testable without
Prefect); the flows in this package call the tasks in order.  Tasks pass
paths, table names and run ids, never connections or large frames.  Only one
task writes DuckDB at a time (tasks.warehouse.locks.writer_lock, across threads
and processes).
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from edi_recruit import settings as _settings  # noqa: F401  (telemetry off before Prefect)
from tasks.core.run_context import RunContext
from tasks.ingest.for_run import ingest_for_run
from tasks.marts import build_marts
from tasks.publish import registry
from tasks.publish.complete import publish_and_complete
from tasks.publish.results_store import run_analysis

FLOW_NAME = "monthly-evaluation"
_VALIDATION_LOCK = threading.Lock()   # Great Expectations contexts are not thread-safe (concurrent backfill months)


def _single_threaded_blas() -> None:
    """Reproducible figures: the analyses run concurrently in threads, and a multithreaded BLAS then
    splits reductions differently from run to run (last-bit differences that can flip an iterative
    fit's convergence).  One BLAS thread per analysis keeps two runs on the same inputs identical."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
    except Exception:  # noqa: BLE001 - threadpoolctl missing: figures may differ in the last bit
        logging.getLogger(__name__).warning("could not limit BLAS threads; runs may differ in the last bit")


_single_threaded_blas()


def logger():
    """Prefect's run logger inside a run, the module logger outside one."""
    try:
        return get_run_logger()
    except Exception:  # noqa: BLE001 - called outside a run
        return logging.getLogger(__name__)


def io_retry(task_, task_run, state) -> bool:
    """Retry only transient I/O trouble (a busy warehouse, a file system hiccup), not logic errors."""
    import duckdb

    from tasks.warehouse.connection import WarehouseBusy
    from tasks.warehouse.locks import WriterLockTimeout

    try:
        state.result()
    except (WarehouseBusy, WriterLockTimeout, duckdb.IOException):
        return True
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError):
        return False
    except OSError:
        return True
    except BaseException:  # noqa: BLE001
        return False
    return False


@task(name="register-run", retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE)
def register_run_task(db: str, run_id: str, as_of: str, params: dict, out_dir: str,
                      outputs: tuple[str, ...] = ()) -> str:
    """Mark abandoned runs, then record this run as running (owner, planned outputs) in results.runs."""
    return registry.register_run(db, run_id=run_id, flow=FLOW_NAME, as_of=as_of, params=params, out_dir=out_dir,
                                 outputs=tuple(outputs))


@task(name="heartbeat", task_run_name="heartbeat-{step}", retries=3, retry_delay_seconds=[2, 10, 30],
      cache_policy=NO_CACHE)
def heartbeat_task(db: str, run_id: str, step: str) -> None:
    """Record that the run is alive and at ``step``."""
    registry.heartbeat(db, run_id, step)


@task(name="heal-outputs", retries=0, cache_policy=NO_CACHE)
def heal_outputs_task(db: str) -> list[dict]:
    """Regenerate missing outputs of earlier completed runs (flows/outputs.py)."""
    from flows.outputs import heal_outputs

    healed = heal_outputs(db)
    for item in healed:
        logger().info("run %s: regenerated %s", item["run_id"], ", ".join(item["made"]))
    return healed


@task(name="record-output", task_run_name="record-output-{kind}", retries=3, retry_delay_seconds=[2, 10, 30],
      cache_policy=NO_CACHE)
def record_output_task(db: str, run_id: str, kind: str, status: str, path: str | None, reason: str | None) -> None:
    """Record one output of the run (written with its path, or failed with the reason)."""
    registry.record_output(db, run_id, kind, status=status, path=path, reason=reason)


@task(name="ingest", retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=io_retry, cache_policy=NO_CACHE)
def ingest_task(extracts: str, db: str, run_id: str | None, mapping: list[str],
                redaction_model: str | None) -> dict:
    """Land, stage and reconcile the extracts (tasks.ingest.for_run)."""
    return ingest_for_run(extracts, db, mapping_paths=[Path(m) for m in mapping],
                          redaction_model=redaction_model, run_id=run_id)


@task(name="validation-gate", retries=1, retry_delay_seconds=10, retry_condition_fn=io_retry,
      cache_policy=NO_CACHE)
def validation_task(db: str, run_id: str, as_of: str, out_dir: str, mapping: list[str]) -> dict:
    """The validation gate (tasks.validation.gate.validate) against the run's own mappings."""
    from tasks.validation.gate import validate

    with _VALIDATION_LOCK:
        outcome = validate(db, run_id, as_of=as_of, out_dir=out_dir, mapping_paths=[Path(m) for m in mapping])
    if outcome.summary:
        logger().info("validation: %s", outcome.summary.splitlines()[0])
    return {"result_paths": dict(outcome.result_paths), "data_docs": outcome.data_docs_path}


@task(name="build-marts", retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=io_retry,
      cache_policy=NO_CACHE)
def marts_task(db: str, programme_start: str) -> bool:
    """Build the marts (tasks.marts)."""
    return build_marts(db, programme_start)


@task(name="analyse", retries=0, task_run_name="analyse-{name}", cache_policy=NO_CACHE)
def analysis_task(name: str, ctx_json: str) -> dict[str, str]:
    """Run one registered analysis and hand its tables to publish (tasks.publish.results_store)."""
    return run_analysis(name, RunContext.from_json(ctx_json))


@task(name="publish", retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=io_retry,
      cache_policy=NO_CACHE)
def publish_task(db: str, run_id: str, result_paths: dict[str, str], policy: str | None = None) -> dict:
    """ONE transaction: publish every result table and mark the run completed (tasks.publish.complete)."""
    from flows.checkpoints import checkpoint

    summary = publish_and_complete(db, run_id, result_paths, policy=policy,
                                   before_commit=lambda con: checkpoint("publish"))
    logger().info("published %d tables (%d result rows, %d published rows) for run %s",
                  len(summary["tables"]), summary["results_rows"], summary["published_rows"], run_id)
    return summary


@task(name="report", retries=1, retry_delay_seconds=10, retry_condition_fn=io_retry, cache_policy=NO_CACHE)
def report_task(db: str, run_id: str, run_dir: str) -> str | None:
    """The run's HTML report, <run_dir>/report.html."""
    from tasks.outputs.report.page import render_report

    out = Path(run_dir) / "report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    return str(render_report(db, run_id, out) or out)


@task(name="exports", retries=1, retry_delay_seconds=10, retry_condition_fn=io_retry, cache_policy=NO_CACHE)
def export_task(db: str, run_id: str, out_dir: str) -> str | None:
    """CSV, Parquet and one XLSX of the run's published tables under <out_dir>/<run_id>/; returns the XLSX path."""
    from tasks.outputs.export import export_run

    res = export_run(db, run_id, out_dir)
    return str(res.get("xlsx") or res.get("dir"))


@task(name="artifacts", retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def artifacts_task(db: str, run_id: str, as_of: str, report: str | None, exports: str | None,
                   data_docs: str | None, input_sha256: str | None) -> list[str]:
    """The run's keyed Prefect artifacts, from its published tables (tasks.outputs.artifacts)."""
    from tasks.outputs import artifacts

    tables = artifacts.load_published(db, run_id)
    built = artifacts.build_run_artifacts(as_of, run_id, tables, db=db, report=report, exports=exports,
                                          data_docs=data_docs, code_version=registry.code_version(),
                                          input_sha256=input_sha256)
    return artifacts.emit(built)


@task(name="mark-failed", retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE)
def mark_failed_task(db: str, run_id: str, reason: str) -> None:
    """Mark the run failed with its reason."""
    registry.mark_failed(db, run_id, reason)


# ---------------------------------------------------------------- backfill
@task(name="plan-backfill", retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def plan_task(db: str, months: list[str], input_sha256: str, params_by_month: dict[str, dict],
              force: bool) -> dict[str, dict]:
    """month -> what to do with it (tasks.publish.registry.plan_months)."""
    return registry.plan_months(db, months, flow=FLOW_NAME, input_sha256=input_sha256,
                                params_by_month=params_by_month, force=force)


@task(name="evaluate-month", task_run_name="evaluate-month-{as_of}", retries=0, cache_policy=NO_CACHE)
def evaluate_month_task(as_of: str, kwargs: dict) -> dict:
    """One month as a nested monthly-evaluation flow run (named evaluate-YYYY-MM in the UI)."""
    from flows.monthly_evaluation import monthly_evaluation

    return monthly_evaluation(as_of=as_of, **kwargs)
