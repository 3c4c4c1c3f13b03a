"""The monthly evaluation flow: the order of the steps and the failure marking, nothing else.

    register run -> ingest -> validation gate -> marts -> concurrent analyses
    -> publish (ONE DuckDB transaction: every result table appended, the
       published copies made, and the run set ``completed`` inside it:
       tasks.publish.complete.publish_and_complete)
    -> report, exports and artifacts (from published tables only).

The parameters are resolved once into a :class:`tasks.core.config.RunConfig`
(flows/parameters.py documents them); the steps are the Prefect tasks of
flows/steps.py.  On any failure before or inside publish the run is marked
``failed`` with its reason, and has no rows in ``results.*`` / ``published.*``
(``completed`` is only ever set inside the publish transaction).

After publish the run stays ``completed`` (its figures are published, whole):
each output is recorded in ``results.runs.outputs_json`` as ``written`` or
``failed``; a failed or missing output (an error, or the process killed) is
regenerated from the published tables by the next run or by
``edi-recruit outputs RUN`` (flows/outputs.py), and the flow run itself fails
so the error is seen.

Crash recovery: registering the run marks the warehouse's abandoned runs
(owner process gone: tasks.publish.registry); each step records a heartbeat;
after registering, missing outputs of earlier completed runs are regenerated.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from prefect import flow
from prefect.runtime import flow_run
from prefect.task_runners import ThreadPoolTaskRunner

from flows import parameters, steps
from flows.checkpoints import checkpoint
from flows.parameters import DEFAULTS, MONTHLY_PARAMETERS, documented
from tasks import analyses
from tasks.core.config import RunConfig
from tasks.core.months import SCHEDULE_TIMEZONE, previous_month
from tasks.warehouse import connection
from tasks.warehouse.session import warehouse_session

FLOW_NAME = steps.FLOW_NAME
MAX_ANALYSIS_THREADS = 4


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


def _run_name() -> str:
    params = flow_run.parameters or {}
    return f"evaluate-{params.get('as_of') or _scheduled_previous_month()}"


def _reason(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {msg}"[:500]


@flow(name=FLOW_NAME, flow_run_name=_run_name, log_prints=False,
      task_runner=ThreadPoolTaskRunner(max_workers=MAX_ANALYSIS_THREADS))
@documented("Evaluate the programme as of a month.", MONTHLY_PARAMETERS)
def monthly_evaluation(
    as_of: str | None = None,
    extracts: str = DEFAULTS["extracts"],
    db: str = DEFAULTS["db"],
    out_dir: str = DEFAULTS["out_dir"],
    programme_start: str = DEFAULTS["programme_start"],
    window: str = DEFAULTS["window"],
    mapping: list[str] | None = None,
    redaction_model: str | None = None,
    policy: str | None = None,
    params: dict[str, Any] | None = None,
    report: bool = True,
    exports: bool = True,
) -> dict:
    config = parameters.resolve(
        as_of=as_of or _scheduled_previous_month(), extracts=extracts, db=db, out_dir=out_dir,
        programme_start=programme_start, window=window, mapping=mapping, redaction_model=redaction_model,
        policy=policy, params=params, report=report, exports=exports)
    run_id = str(flow_run.id or uuid.uuid4())
    connection.configure(config.duckdb_settings())
    with warehouse_session(config.db):
        return _evaluate(config, run_id)


def _analyse(config: RunConfig, run_id: str, validation_paths: dict[str, str]) -> dict[str, str]:
    """Every registered analysis concurrently; fails with every analysis' reason once all have finished."""
    ctx_json = config.run_context(run_id).to_json()
    futures = {name: steps.analysis_task.submit(name, ctx_json) for name in analyses.ANALYSES}
    result_paths: dict[str, str] = dict(validation_paths)
    errors = []
    for name, fut in futures.items():
        try:
            result_paths.update(fut.result())
        except Exception as exc:  # noqa: BLE001 - wait for every analysis, then fail with all reasons
            errors.append(f"{name}: {_reason(exc)}")
    if errors:
        raise RuntimeError("analysis failed: " + "; ".join(errors))
    return result_paths


def _planned_outputs(config: RunConfig) -> tuple[str, ...]:
    return tuple(k for k, on in (("report", config.report), ("exports", config.exports), ("artifacts", True)) if on)


def _step(db: str, run_id: str, name: str) -> None:
    """A heartbeat at the start of each step (and the test-only checkpoint of flows/checkpoints.py)."""
    steps.heartbeat_task(db, run_id, name)
    checkpoint(name)


def _evaluate(config: RunConfig, run_id: str) -> dict:
    log = steps.logger()
    db, as_of, mapping = config.db, config.as_of, [str(p) for p in config.mapping_paths]
    steps.register_run_task(db, run_id, as_of, config.run_params(), config.out_dir, _planned_outputs(config))
    steps.heal_outputs_task(db)
    result = {"run_id": run_id, "as_of": as_of, "db": db, "output_dir": str(config.run_context(run_id).run_dir),
              "result_tables": []}
    try:
        _step(db, run_id, "ingest")
        ingested = steps.ingest_task(config.extracts, db, run_id, mapping, config.redaction_model)
        _step(db, run_id, "validation")
        validation = steps.validation_task(db, run_id, as_of, config.out_dir, mapping)
        result["data_docs"] = validation["data_docs"]
        _step(db, run_id, "marts")
        steps.marts_task(db, config.programme_start)
        _step(db, run_id, "analyses")
        result_paths = _analyse(config, run_id, validation["result_paths"])
        steps.heartbeat_task(db, run_id, "publish")
        result["result_tables"] = steps.publish_task(db, run_id, result_paths, config.policy)["tables"]
    except BaseException as exc:
        reason = _reason(exc)
        if getattr(exc, "data_docs_path", None):
            result["data_docs"] = exc.data_docs_path
        log.error("run %s for %s failed: %s", run_id, as_of, reason)
        steps.mark_failed_task(db, run_id, reason)
        raise
    _outputs(config, run_id, result, ingested["input_sha256"])
    result = {k: v for k, v in result.items() if v is not None}
    log.info("run %s completed for %s; results in %s", run_id, as_of, db)
    return result


def _outputs(config: RunConfig, run_id: str, result: dict, input_sha256: str) -> None:
    """After publish: each output made and recorded; a failure is recorded against that output (the run
    stays completed, its figures are published) and re-raised so the flow run fails visibly."""
    db = config.db
    for kind in _planned_outputs(config):
        checkpoint(kind)
        try:
            if kind == "report":
                result["report"] = made = steps.report_task(db, run_id, result["output_dir"])
            elif kind == "exports":
                result["exports"] = made = steps.export_task(db, run_id, config.out_dir)
            else:
                result["artifacts"] = steps.artifacts_task(db, run_id, config.as_of, result.get("report"),
                                                           result.get("exports"), result.get("data_docs"),
                                                           input_sha256)
                made = None
        except BaseException as exc:
            reason = _reason(exc)
            steps.logger().error("run %s: %s failed after publish: %s (the next run or `edi-recruit outputs %s` "
                                 "makes it again)", run_id, kind, reason, run_id)
            steps.record_output_task(db, run_id, kind, "failed", None, reason)
            raise
        steps.record_output_task(db, run_id, kind, "written", made, None)


if __name__ == "__main__":  # pragma: no cover
    import sys

    print(json.dumps(monthly_evaluation(*sys.argv[1:2]), indent=2))
