"""Backfill: one monthly evaluation per month from ``start`` to ``end``; the order of the steps only.

* The parameters are resolved once into a :class:`tasks.core.config.RunConfig`.
* The extracts are ingested once first (landing is by content hash, so this
  is a no-op when nothing changed) to learn the extract set's input_sha256.
* A month whose last completed ``monthly-evaluation`` run has the same
  input_sha256, code_version and recorded parameters (``RunConfig.run_params``)
  is skipped, unless ``force`` (tasks.publish.registry.should_skip).
* The months run as nested ``evaluate-YYYY-MM`` flow runs, at most
  ``concurrency`` at a time, with the same configuration.  They share the
  single DuckDB writer (tasks.warehouse.locks): analyses run concurrently,
  writes queue.
* Progress is a keyed progress artifact (``backfill-progress``) plus a
  markdown table of what happened to each month (``backfill-summary``).
* A failed month does not stop the others; the backfill fails at the end,
  naming the failed months.
"""
from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from flows import parameters, steps
from flows.parameters import BACKFILL_PARAMETERS, DEFAULTS, MAX_CONCURRENCY, documented
from tasks.core.config import RunConfig
from tasks.core.months import months_between
from tasks.warehouse import connection
from tasks.warehouse.session import warehouse_session

BACKFILL_FLOW = "backfill"
KEY_BACKFILL_SUMMARY = "backfill-summary"


def _progress(total: int):
    from tasks.outputs.artifacts import KEY_BACKFILL_PROGRESS, ProgressArtifact

    return ProgressArtifact(KEY_BACKFILL_PROGRESS, f"backfill of {total} month(s)")


@flow(name=BACKFILL_FLOW, flow_run_name="backfill-{start}-to-{end}", log_prints=False,
      task_runner=ThreadPoolTaskRunner(max_workers=MAX_CONCURRENCY))
@documented("Evaluate every month from start to end (YYYY-MM, inclusive).", BACKFILL_PARAMETERS)
def backfill(
    start: str,
    end: str,
    extracts: str = DEFAULTS["extracts"],
    db: str = DEFAULTS["db"],
    out_dir: str = DEFAULTS["out_dir"],
    programme_start: str = DEFAULTS["programme_start"],
    window: str = DEFAULTS["window"],
    mapping: list[str] | None = None,
    redaction_model: str | None = None,
    policy: str | None = None,
    params: dict[str, Any] | None = None,
    force: bool = False,
    concurrency: int = DEFAULTS["concurrency"],
    report: bool = True,
    exports: bool = True,
) -> dict:
    months = months_between(start, end)
    concurrency = max(1, min(int(concurrency), MAX_CONCURRENCY))
    config = parameters.resolve(extracts=extracts, db=db, out_dir=out_dir, programme_start=programme_start,
                                window=window, mapping=mapping, redaction_model=redaction_model, policy=policy,
                                params=params, report=report, exports=exports)
    connection.configure(config.duckdb_settings())
    with warehouse_session(config.db):
        return _backfill(config, months, force=force, concurrency=concurrency)


def _run_months(config: RunConfig, todo: list[str], plan: dict[str, dict], concurrency: int, progress) -> None:
    """Evaluate ``todo`` as nested flow runs, at most ``concurrency`` at once; record each outcome in ``plan``."""
    log, total = steps.logger(), len(plan)
    done = total - len(todo)
    kwargs = config.flow_parameters()
    pending, running = list(todo), {}
    while pending or running:
        while pending and len(running) < concurrency:
            m = pending.pop(0)
            running[steps.evaluate_month_task.submit(m, kwargs)] = m
        fut = next(iter(as_completed(list(running))))
        m = running.pop(fut)
        try:
            plan[m] = {"action": "ran", "run_id": fut.result()["run_id"], "note": ""}
        except Exception as exc:  # noqa: BLE001 - record and carry on with the other months
            msg = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            plan[m] = {"action": "failed", "run_id": None, "note": f"{type(exc).__name__}: {msg}"}
            log.error("month %s failed: %s", m, plan[m]["note"])
        done += 1
        progress(done / total, f"{done}/{total} months; last {m}: {plan[m]['action']}")


def _summary_artifact(rows: list[dict], months: list[str]) -> None:
    try:
        from prefect.artifacts import create_markdown_artifact

        from tasks.outputs.artifacts import backfill_markdown

        create_markdown_artifact(markdown=backfill_markdown(rows), key=KEY_BACKFILL_SUMMARY,
                                 description=f"backfill {months[0]}..{months[-1]}")
    except Exception as exc:  # noqa: BLE001 - display only
        steps.logger().warning("backfill summary artifact not created: %s", type(exc).__name__)


def _backfill(config: RunConfig, months: list[str], *, force: bool, concurrency: int) -> dict:
    mapping = [str(p) for p in config.mapping_paths]
    ingested = steps.ingest_task(config.extracts, config.db, None, mapping, config.redaction_model)
    params = {m: config.for_month(m).run_params() for m in months}
    plan = steps.plan_task(config.db, months, ingested["input_sha256"], params, force)
    todo = [m for m in months if plan[m]["action"] == "run"]
    steps.logger().info("backfill %s..%s: %d month(s) to run, %d unchanged and skipped (concurrency %d)",
                        months[0], months[-1], len(todo), len(months) - len(todo), concurrency)
    progress = _progress(len(months))
    skipped = len(months) - len(todo)
    progress(skipped / len(months), f"{skipped}/{len(months)} months ({skipped} skipped)")
    _run_months(config, todo, plan, concurrency, progress)
    rows = [{"as_of": m, **plan[m]} for m in months]
    _summary_artifact(rows, months)
    failed = [r["as_of"] for r in rows if r["action"] == "failed"]
    result = {"start": months[0], "end": months[-1], "input_sha256": ingested["input_sha256"], "months": rows,
              "ran": sum(r["action"] == "ran" for r in rows),
              "skipped": sum(r["action"] == "skipped" for r in rows), "failed": failed}
    if failed:
        raise RuntimeError(f"backfill: {len(failed)} month(s) failed: {', '.join(failed)}")
    return result
