"""The monthly evaluation flow: orchestration only, the logic is in tasks/.

    register run -> ingest -> validation gate -> marts -> concurrent analyses
    -> publish (ONE DuckDB transaction: every result table appended, the
       published copies made, and the run set ``completed`` inside it)
    -> report, exports and artifacts (from published tables only).

Tasks pass paths, table names and run ids, never connections or large
frames.  Only one task writes DuckDB at a time (tasks.warehouse.locks.writer_lock,
across threads and processes).  On any failure the run is marked ``failed``
with its reason; since ``completed`` is only ever set inside the publish
transaction, a failed run has no rows in ``results.*`` / ``published.*``
unless it failed after publishing (report or exports), in which case its
status is ``failed`` and ``results.latest_*`` keeps showing the previous
completed run for that month.
"""
from __future__ import annotations

import inspect
import json
import logging
import os
import threading
import uuid
from datetime import date, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.task_runners import ThreadPoolTaskRunner

from edi_recruit import settings as _settings  # noqa: F401  (telemetry off before Prefect)
from tasks import analyses
from tasks.core.months import add_months, month_str, parse_month
from tasks.core.run_context import RunContext
from tasks.core.vocabulary import DEFAULT_PROGRAMME_START
from tasks.ingest.staging import ingest_extracts
from tasks.marts import build_marts
from tasks.publish import registry
from tasks.warehouse.connection import writing
from tasks.warehouse.session import warehouse_session

FLOW_NAME = "monthly-evaluation"
DEFAULT_DB = "data/edi_recruit.duckdb"
DEFAULT_EXTRACTS = "data/extracts"
DEFAULT_OUT = "out"
SCHEDULE_TIMEZONE = "Europe/London"
FAIL_IN_PUBLISH_ENV = "EDI_RECRUIT_FAIL_IN_PUBLISH"   # test hook: fail inside the publish transaction
MAX_ANALYSIS_THREADS = 4
_VALIDATION_LOCK = threading.Lock()


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


class InjectedFailure(RuntimeError):
    """Raised inside the publish transaction when EDI_RECRUIT_FAIL_IN_PUBLISH=1 (tests only)."""


def previous_month(today: date | datetime | None = None) -> str:
    """The month before ``today`` (default: now in Europe/London)."""
    if today is None:
        from zoneinfo import ZoneInfo

        today = datetime.now(ZoneInfo(SCHEDULE_TIMEZONE)).date()
    return month_str(add_months(date(today.year, today.month, 1), -1))


def _scheduled_previous_month() -> str:
    """Previous month relative to the run's scheduled time (so a late cron run still evaluates the right month)."""
    try:
        from zoneinfo import ZoneInfo

        when = flow_run.scheduled_start_time
        if when is not None:
            return previous_month(when.astimezone(ZoneInfo(SCHEDULE_TIMEZONE)))
    except Exception:  # noqa: BLE001 - outside a run
        pass
    return previous_month()


def run_params(as_of: str, programme_start: str, window: str, mapping: list[str] | None,
               redaction_model: str | None, policy: str | None) -> dict:
    """The parameters recorded in results.runs (and compared by backfill's skip rule)."""
    return {"as_of": as_of, "programme_start": programme_start, "window": window,
            "mapping": sorted(str(m) for m in mapping) if mapping else None,
            "redaction_model": redaction_model, "policy": str(policy) if policy else None}


def _logger():
    try:
        return get_run_logger()
    except Exception:  # noqa: BLE001 - called outside a run
        return logging.getLogger(__name__)


def _io_retry(task_, task_run, state) -> bool:
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


# ---------------------------------------------------------------- tasks
@task(name="register-run", retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE)
def register_run_task(db: str, run_id: str, as_of: str, params: dict, out_dir: str) -> str:
    Path(db).parent.mkdir(parents=True, exist_ok=True)
    with writing(db) as con:
        registry.start_run(con, run_id=run_id, flow=FLOW_NAME, as_of=as_of, params=params,
                           output_dir=str(Path(out_dir) / run_id))
    return run_id


@task(name="ingest", retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=_io_retry, cache_policy=NO_CACHE)
def ingest_task(extracts: str, db: str, run_id: str | None, mapping: list[str] | None,
                redaction_model: str | None) -> dict:
    log = _logger()
    if not Path(extracts).is_dir():
        raise FileNotFoundError(f"extracts folder not found: {extracts}")
    summary = ingest_extracts(extracts, db, mapping_paths=[Path(m) for m in mapping] if mapping else None,
                              redaction_model=redaction_model)
    unbalanced = [r for r in summary.reconciliation if not r["balanced"]]
    if unbalanced:
        raise RuntimeError("reconciliation failed: " + "; ".join(
            f"{r['table_name']}: raw {r['raw_rows']} != staged {r['staged_rows']} + quarantined {r['quarantined_rows']}"
            for r in unbalanced))
    if run_id:
        with writing(db) as con:
            registry.set_input(con, run_id, summary.input_sha256)
    log.info("ingested %d files (%d new); extract set %s; staging %s",
             len(summary.files), summary.new_files, summary.input_sha256[:12],
             "rebuilt" if summary.rebuilt else "unchanged")
    for name in summary.ignored_files:
        log.warning("ignored file with no table mapping: %s", name)
    return {"input_sha256": summary.input_sha256, "staged_rows": summary.staged_rows,
            "quarantined_rows": summary.quarantined_rows}


@task(name="validation-gate", retries=1, retry_delay_seconds=10, retry_condition_fn=_io_retry,
      cache_policy=NO_CACHE)
def validation_task(db: str, run_id: str, as_of: str, out_dir: str) -> dict:
    """Great Expectations gate (tasks.validation): raises ValidationCritical on a critical failure;
    row-level failures are quarantined.  Returns its result parquet paths (published with the
    run's other results) and the Data Docs path."""
    from tasks.validation.gate import validate

    with _VALIDATION_LOCK:  # Great Expectations contexts are not thread-safe (concurrent backfill months)
        outcome = validate(db, run_id, as_of=as_of, out_dir=out_dir)
    if outcome.summary:
        _logger().info("validation: %s", outcome.summary.splitlines()[0])
    return {"result_paths": dict(outcome.result_paths), "data_docs": outcome.data_docs_path}


@task(name="build-marts", retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=_io_retry,
      cache_policy=NO_CACHE)
def marts_task(db: str, programme_start: str) -> bool:
    return build_marts(db, programme_start)


@task(name="analyse", retries=0, task_run_name="analyse-{name}", cache_policy=NO_CACHE)
def analysis_task(name: str, ctx_json: str) -> dict[str, str]:
    """Run one analysis (read-only) and write its result tables as parquet; returns name -> path."""
    from tasks.outputs.artifacts import KEY_NLP_PROGRESS, ProgressArtifact
    from tasks.publish.results_store import write_tables

    ctx = RunContext.from_json(ctx_json)
    fn = analyses.ANALYSES[name]
    kwargs = {}
    if "progress" in inspect.signature(fn).parameters:
        kwargs["progress"] = ProgressArtifact(KEY_NLP_PROGRESS if name == "text" else f"{name.replace('_', '-')}-progress",
                                              f"{name} analysis, {ctx.as_of}")
    tables = fn(ctx, **kwargs)
    if kwargs.get("progress"):
        kwargs["progress"](1.0, "done")
    return write_tables(ctx, tables)


@task(name="publish", retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=_io_retry,
      cache_policy=NO_CACHE)
def publish_task(db: str, run_id: str, result_paths: dict[str, str], policy: str | None = None) -> dict:
    """ONE transaction: append every result table, refresh views and published copies, mark the run completed."""
    from tasks.publish.writer import publish_run

    with writing(db) as con:
        con.begin()
        try:
            summary = publish_run(con, run_id, result_paths, policy=policy, own_transaction=False)
            registry.finish_run(con, run_id, "completed")
            if os.environ.get(FAIL_IN_PUBLISH_ENV) == "1":
                raise InjectedFailure(f"failure injected inside the publish transaction ({FAIL_IN_PUBLISH_ENV}=1)")
            con.commit()
        except BaseException:
            con.rollback()
            raise
    _logger().info("published %d tables (%d result rows, %d published rows) for run %s",
                   len(summary["tables"]), summary["results_rows"], summary["published_rows"], run_id)
    return {"tables": sorted(summary["tables"]), "results_rows": summary["results_rows"],
            "published_rows": summary["published_rows"], "policy_version": summary["policy_version"]}


@task(name="report", retries=1, retry_delay_seconds=10, retry_condition_fn=_io_retry, cache_policy=NO_CACHE)
def report_task(db: str, run_id: str, run_dir: str) -> str | None:
    from tasks.outputs.report.page import render_report

    out = Path(run_dir) / "report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    res = render_report(db, run_id, out)
    return str(res or out)


@task(name="exports", retries=1, retry_delay_seconds=10, retry_condition_fn=_io_retry, cache_policy=NO_CACHE)
def export_task(db: str, run_id: str, out_dir: str) -> str | None:
    """CSV, Parquet and one XLSX of the run's published tables under <out_dir>/<run_id>/; returns the XLSX path."""
    from tasks.outputs.export import export_run

    res = export_run(db, run_id, out_dir)
    return str(res.get("xlsx") or res.get("dir"))


@task(name="artifacts", retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def artifacts_task(db: str, run_id: str, as_of: str, report: str | None, exports: str | None,
                   data_docs: str | None, input_sha256: str | None) -> list[str]:
    from tasks.outputs import artifacts

    tables = artifacts.load_published(db, run_id)
    built = artifacts.build_run_artifacts(as_of, run_id, tables, db=db, report=report, exports=exports,
                                          data_docs=data_docs, code_version=registry.code_version(),
                                          input_sha256=input_sha256)
    return artifacts.emit(built)


@task(name="mark-failed", retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE)
def mark_failed_task(db: str, run_id: str, reason: str) -> None:
    with writing(db) as con:
        registry.finish_run(con, run_id, "failed", reason)


# ---------------------------------------------------------------- flow
def _run_name() -> str:
    params = flow_run.parameters or {}
    return f"evaluate-{params.get('as_of') or _scheduled_previous_month()}"


def _reason(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {msg}"[:500]


@flow(name=FLOW_NAME, flow_run_name=_run_name, log_prints=False,
      task_runner=ThreadPoolTaskRunner(max_workers=MAX_ANALYSIS_THREADS))
def monthly_evaluation(
    as_of: str | None = None,
    extracts: str = DEFAULT_EXTRACTS,
    db: str = DEFAULT_DB,
    out_dir: str = DEFAULT_OUT,
    programme_start: str = DEFAULT_PROGRAMME_START,
    window: str = "all_to_date",
    mapping: list[str] | None = None,
    redaction_model: str | None = None,
    policy: str | None = None,
    report: bool = True,
    exports: bool = True,
) -> dict:
    """Evaluate the programme as of a month.

    Parameters: ``as_of`` month YYYY-MM (default: the month before the run's
    scheduled time, Europe/London); ``extracts`` folder of extract files;
    ``db`` DuckDB warehouse file; ``out_dir`` folder for run outputs
    (``<out_dir>/<run_id>/``); ``programme_start`` YYYY-MM; ``window``
    all_to_date | programme_to_date | last_12_months; ``mapping`` column-mapping
    YAML files (default: mappings/*.yaml); ``redaction_model`` an installed
    spaCy pipeline for extra PERSON redaction; ``policy`` a disclosure-control
    policy YAML (default: config's); ``report``/``exports`` whether to render them.
    """
    as_of = as_of or _scheduled_previous_month()
    as_of = month_str(parse_month(as_of))
    month_str(parse_month(programme_start))
    run_id = str(flow_run.id or uuid.uuid4())
    params = run_params(as_of, programme_start, window, mapping, redaction_model, policy)
    log = _logger()
    with warehouse_session(db):
        return _evaluate(as_of, extracts, db, out_dir, programme_start, window, mapping,
                         redaction_model, policy, report, exports, run_id, params, log)


def _evaluate(as_of, extracts, db, out_dir, programme_start, window, mapping, redaction_model, policy,
              report, exports, run_id, params, log) -> dict:
    register_run_task(db, run_id, as_of, params, out_dir)
    ctx = RunContext(db_path=str(db), run_id=run_id, as_of=as_of, out_dir=str(out_dir),
                     programme_start=programme_start, window=window, params={})
    result = {"run_id": run_id, "as_of": as_of, "db": str(db), "output_dir": str(ctx.run_dir),
              "result_tables": []}
    try:
        ingested = ingest_task(extracts, db, run_id, mapping, redaction_model)
        validation = validation_task(db, run_id, as_of, str(out_dir))
        result["data_docs"] = validation["data_docs"]
        marts_task(db, programme_start)
        names = list(analyses.ANALYSES)
        futures = {name: analysis_task.submit(name, ctx.to_json()) for name in names}
        result_paths: dict[str, str] = dict(validation["result_paths"])
        errors = []
        for name, fut in futures.items():
            try:
                result_paths.update(fut.result())
            except Exception as exc:  # noqa: BLE001 - wait for every analysis, then fail with all reasons
                errors.append(f"{name}: {_reason(exc)}")
        if errors:
            raise RuntimeError("analysis failed: " + "; ".join(errors))
        published = publish_task(db, run_id, result_paths, policy)
        result["result_tables"] = published["tables"]
    except BaseException as exc:
        reason = _reason(exc)
        docs = getattr(exc, "data_docs_path", None)
        if docs:
            result["data_docs"] = docs
        log.error("run %s for %s failed: %s", run_id, as_of, reason)
        mark_failed_task(db, run_id, reason)
        raise
    # after publish: the run is completed; a failure here marks it failed again
    try:
        if report:
            result["report"] = report_task(db, run_id, str(ctx.run_dir))
        if exports:
            result["exports"] = export_task(db, run_id, str(out_dir))
        result["artifacts"] = artifacts_task(db, run_id, as_of, result.get("report"), result.get("exports"),
                                             result.get("data_docs"), ingested["input_sha256"])
    except BaseException as exc:
        reason = "after publish: " + _reason(exc)
        log.error("run %s for %s failed: %s", run_id, as_of, reason)
        mark_failed_task(db, run_id, reason)
        raise
    result = {k: v for k, v in result.items() if v is not None}
    log.info("run %s completed for %s; results in %s", run_id, as_of, db)
    return result


if __name__ == "__main__":  # pragma: no cover
    import sys

    print(json.dumps(monthly_evaluation(*sys.argv[1:2]), indent=2))
