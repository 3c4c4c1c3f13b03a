"""Backfill: one monthly evaluation per month from ``start`` to ``end``.

* The extracts are ingested once first (landing is by content hash, so this
  is a no-op when nothing changed) to learn the extract set's input_sha256.
* A month whose last completed ``monthly-evaluation`` run has the same
  input_sha256, code_version and parameters is skipped, unless ``force``.
* The months run as nested ``evaluate-YYYY-MM`` flow runs, at most
  ``concurrency`` at a time.  They share the single DuckDB writer
  (tasks.warehouse.locks): analyses run concurrently, writes queue.
* Progress is a keyed progress artifact (``backfill-progress``) plus a
  markdown table of what happened to each month (``backfill-summary``).
* A failed month does not stop the others; the backfill fails at the end,
  naming the failed months.
"""
from __future__ import annotations

import json
import logging

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from edi_recruit import settings as _settings  # noqa: F401
from flows.monthly_evaluation import (
    DEFAULT_DB,
    DEFAULT_EXTRACTS,
    DEFAULT_OUT,
    FLOW_NAME,
    ingest_task,
    monthly_evaluation,
    run_params,
)
from tasks.core.months import add_months, month_str, parse_month
from tasks.core.vocabulary import DEFAULT_PROGRAMME_START
from tasks.publish import registry
from tasks.warehouse.connection import reading
from tasks.warehouse.session import warehouse_session

BACKFILL_FLOW = "backfill"
MAX_CONCURRENCY = 8
KEY_BACKFILL_SUMMARY = "backfill-summary"


def months_between(start: str, end: str) -> list[str]:
    """Inclusive list of months YYYY-MM."""
    a, b = parse_month(start), parse_month(end)
    if b < a:
        raise ValueError(f"end {end} is before start {start}")
    out, m = [], a
    while m <= b:
        out.append(month_str(m))
        m = add_months(m, 1)
    return out


def should_skip(last: dict | None, input_sha256: str, code_version: str, params: dict) -> bool:
    """Skip when the last completed run of the month used the same inputs, code and parameters."""
    if not last:
        return False
    try:
        last_params = json.loads(last.get("params_json") or "{}")
    except ValueError:
        return False
    return (last.get("input_sha256") == input_sha256 and last.get("code_version") == code_version
            and last_params == json.loads(json.dumps(params, sort_keys=True, default=str)))


def _logger():
    try:
        return get_run_logger()
    except Exception:  # noqa: BLE001
        return logging.getLogger(__name__)


@task(name="plan-backfill", retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def plan_task(db: str, months: list[str], input_sha256: str, params_by_month: dict[str, dict],
              force: bool) -> dict[str, dict]:
    """month -> {"action": "run"|"skip", "run_id": last completed run (when skipped)}."""
    version = registry.code_version()
    plan: dict[str, dict] = {}
    with reading(db) as con:  # ingest has created results.runs
        for m in months:
            last = registry.last_completed(con, m, FLOW_NAME)
            if not force and should_skip(last, input_sha256, version, params_by_month[m]):
                plan[m] = {"action": "skipped", "run_id": last["run_id"],
                           "note": "unchanged inputs, code and parameters"}
            else:
                plan[m] = {"action": "run", "run_id": None, "note": "forced" if force and last else ""}
    return plan


@task(name="evaluate-month", task_run_name="evaluate-month-{as_of}", retries=0, cache_policy=NO_CACHE)
def evaluate_month_task(as_of: str, kwargs: dict) -> dict:
    """One month as a nested monthly-evaluation flow run (named evaluate-YYYY-MM in the UI)."""
    return monthly_evaluation(as_of=as_of, **kwargs)


def _progress(total: int):
    from tasks.outputs.artifacts import KEY_BACKFILL_PROGRESS, ProgressArtifact

    return ProgressArtifact(KEY_BACKFILL_PROGRESS, f"backfill of {total} month(s)")


@flow(name=BACKFILL_FLOW, flow_run_name="backfill-{start}-to-{end}", log_prints=False,
      task_runner=ThreadPoolTaskRunner(max_workers=MAX_CONCURRENCY))
def backfill(
    start: str,
    end: str,
    extracts: str = DEFAULT_EXTRACTS,
    db: str = DEFAULT_DB,
    out_dir: str = DEFAULT_OUT,
    programme_start: str = DEFAULT_PROGRAMME_START,
    window: str = "all_to_date",
    mapping: list[str] | None = None,
    redaction_model: str | None = None,
    policy: str | None = None,
    force: bool = False,
    concurrency: int = 2,
    report: bool = True,
    exports: bool = True,
) -> dict:
    """Evaluate every month from ``start`` to ``end`` (YYYY-MM, inclusive).

    ``force`` re-runs months whose inputs, code and parameters are unchanged;
    ``concurrency`` (1..8) bounds how many months run at once.  The other
    parameters are those of monthly-evaluation.
    """
    log = _logger()
    months = months_between(start, end)
    concurrency = max(1, min(int(concurrency), MAX_CONCURRENCY))
    with warehouse_session(db):
        return _backfill(months, extracts, db, out_dir, programme_start, window, mapping, redaction_model,
                         policy, force, concurrency, report, exports, log)


def _backfill(months, extracts, db, out_dir, programme_start, window, mapping, redaction_model, policy,
              force, concurrency, report, exports, log) -> dict:
    ingested = ingest_task(extracts, db, None, mapping, redaction_model)
    params = {m: run_params(m, programme_start, window, mapping, redaction_model, policy) for m in months}
    plan = plan_task(db, months, ingested["input_sha256"], params, force)
    todo = [m for m in months if plan[m]["action"] == "run"]
    log.info("backfill %s..%s: %d month(s) to run, %d unchanged and skipped (concurrency %d)",
             months[0], months[-1], len(todo), len(months) - len(todo), concurrency)
    progress = _progress(len(months))
    done = len(months) - len(todo)
    progress(done / len(months), f"{done}/{len(months)} months ({done} skipped)")
    kwargs = {"extracts": extracts, "db": db, "out_dir": out_dir, "programme_start": programme_start,
              "window": window, "mapping": mapping, "redaction_model": redaction_model, "policy": policy,
              "report": report, "exports": exports}
    pending = list(todo)
    running: dict = {}
    while pending or running:
        while pending and len(running) < concurrency:
            m = pending.pop(0)
            running[evaluate_month_task.submit(m, kwargs)] = m
        fut = next(iter(as_completed(list(running))))
        m = running.pop(fut)
        try:
            res = fut.result()
            plan[m] = {"action": "ran", "run_id": res["run_id"], "note": ""}
        except Exception as exc:  # noqa: BLE001 - record and carry on with the other months
            msg = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            plan[m] = {"action": "failed", "run_id": None, "note": f"{type(exc).__name__}: {msg}"}
            log.error("month %s failed: %s", m, plan[m]["note"])
        done += 1
        progress(done / len(months), f"{done}/{len(months)} months; last {m}: {plan[m]['action']}")
    rows = [{"as_of": m, **plan[m]} for m in months]
    try:
        from prefect.artifacts import create_markdown_artifact

        from tasks.outputs.artifacts import backfill_markdown

        create_markdown_artifact(markdown=backfill_markdown(rows), key=KEY_BACKFILL_SUMMARY,
                                 description=f"backfill {months[0]}..{months[-1]}")
    except Exception as exc:  # noqa: BLE001 - display only
        log.warning("backfill summary artifact not created: %s", type(exc).__name__)
    failed = [r["as_of"] for r in rows if r["action"] == "failed"]
    result = {"start": months[0], "end": months[-1], "input_sha256": ingested["input_sha256"], "months": rows,
              "ran": sum(r["action"] == "ran" for r in rows),
              "skipped": sum(r["action"] == "skipped" for r in rows), "failed": failed}
    if failed:
        raise RuntimeError(f"backfill: {len(failed)} month(s) failed: {', '.join(failed)}")
    return result
