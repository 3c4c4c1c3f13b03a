"""The monthly evaluation flow: orchestration only, the logic is in tasks/.

ingest -> validation gate -> marts -> concurrent analyses -> publish (one
transaction; the run becomes ``completed`` inside it) -> report, exports and
artifacts.  Tasks pass paths, table names and run ids, never connections or
large frames.  Only one task writes DuckDB at a time (tasks.locks).
"""
from __future__ import annotations

import json
import logging
import uuid
from datetime import date
from pathlib import Path

from edi_recruit import settings as _settings  # noqa: F401
from prefect import flow, get_run_logger, task
from prefect.runtime import flow_run

from tasks import analyses, registry
from tasks.ingest import build_marts, ingest_extracts
from tasks.run_context import RunContext, add_months, month_str, parse_month
from tasks.vocabulary import DEFAULT_PROGRAMME_START
from tasks.warehouse import writing

FLOW_NAME = "monthly-evaluation"
DEFAULT_DB = "data/edi_recruit.duckdb"
DEFAULT_EXTRACTS = "data/extracts"
DEFAULT_OUT = "out"


def previous_month(today: date | None = None) -> str:
    today = today or date.today()
    return month_str(add_months(date(today.year, today.month, 1), -1))


def _logger():
    try:
        return get_run_logger()
    except Exception:  # noqa: BLE001 - called outside a run
        return logging.getLogger(__name__)


# ---------------------------------------------------------------- tasks
@task(name="register-run", retries=2, retry_delay_seconds=[2, 10])
def register_run_task(db: str, run_id: str, as_of: str, params: dict, out_dir: str) -> str:
    with writing(db) as con:
        registry.start_run(con, run_id=run_id, flow=FLOW_NAME, as_of=as_of, params=params,
                           output_dir=str(Path(out_dir) / run_id))
    return run_id


@task(name="ingest", retries=2, retry_delay_seconds=[5, 30])
def ingest_task(extracts: str, db: str, run_id: str, mapping: list[str] | None,
                redaction_model: str | None) -> dict:
    log = _logger()
    summary = ingest_extracts(extracts, db, mapping_paths=[Path(m) for m in mapping] if mapping else None,
                              redaction_model=redaction_model)
    unbalanced = [r for r in summary.reconciliation if not r["balanced"]]
    if unbalanced:
        raise RuntimeError("reconciliation failed: " + "; ".join(
            f"{r['table_name']}: raw {r['raw_rows']} != staged {r['staged_rows']} + quarantined {r['quarantined_rows']}"
            for r in unbalanced))
    with writing(db) as con:
        registry.set_input(con, run_id, summary.input_sha256)
    log.info("ingested %d files (%d new); extract set %s; staging %s",
             len(summary.files), summary.new_files, summary.input_sha256[:12],
             "rebuilt" if summary.rebuilt else "unchanged")
    for name in summary.ignored_files:
        log.warning("ignored file with no table mapping: %s", name)
    return {"input_sha256": summary.input_sha256, "staged_rows": summary.staged_rows,
            "quarantined_rows": summary.quarantined_rows}


@task(name="build-marts", retries=1, retry_delay_seconds=5)
def marts_task(db: str, programme_start: str) -> bool:
    return build_marts(db, programme_start)


@task(name="analyse", retries=0, task_run_name="analyse-{name}")
def analysis_task(name: str, ctx_json: str) -> dict[str, str]:
    from tasks.results_store import write_tables

    ctx = RunContext.from_json(ctx_json)
    tables = analyses.get(name)(ctx)
    return write_tables(ctx, tables)


@task(name="mark-failed", retries=2, retry_delay_seconds=[2, 10])
def mark_failed_task(db: str, run_id: str, reason: str) -> None:
    with writing(db) as con:
        registry.finish_run(con, run_id, "failed", reason)


@task(name="mark-completed")
def mark_completed_task(db: str, run_id: str) -> None:
    with writing(db) as con:
        con.execute("BEGIN TRANSACTION")
        registry.finish_run(con, run_id, "completed")
        con.execute("COMMIT")


# ---------------------------------------------------------------- flow
def _run_name() -> str:
    params = flow_run.parameters or {}
    return f"evaluate-{params.get('as_of') or previous_month()}"


@flow(name=FLOW_NAME, flow_run_name=_run_name, log_prints=False)
def monthly_evaluation(
    as_of: str | None = None,
    extracts: str = DEFAULT_EXTRACTS,
    db: str = DEFAULT_DB,
    out_dir: str = DEFAULT_OUT,
    programme_start: str = DEFAULT_PROGRAMME_START,
    window: str = "all_to_date",
    mapping: list[str] | None = None,
    redaction_model: str | None = None,
) -> dict:
    """Evaluate the programme as of a month (default: the previous month)."""
    as_of = as_of or previous_month()
    month_str(parse_month(as_of))
    run_id = str(flow_run.id or uuid.uuid4())
    params = {"as_of": as_of, "programme_start": programme_start, "window": window,
              "mapping": mapping, "redaction_model": redaction_model}
    log = _logger()
    register_run_task(db, run_id, as_of, params, out_dir)
    try:
        ingest_task(extracts, db, run_id, mapping, redaction_model)
        marts_task(db, programme_start)
        ctx = RunContext(db_path=str(db), run_id=run_id, as_of=as_of, out_dir=str(out_dir),
                         programme_start=programme_start, window=window, params={})
        futures = {name: analysis_task.submit(name, ctx.to_json()) for name in analyses.available()}
        result_paths: dict[str, str] = {}
        for name, fut in futures.items():
            result_paths.update(fut.result())
        mark_completed_task(db, run_id)
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
        log.error("run %s failed: %s", run_id, reason)
        mark_failed_task(db, run_id, reason)
        raise
    log.info("run %s completed for %s; results in %s", run_id, as_of, db)
    return {"run_id": run_id, "as_of": as_of, "db": str(db),
            "output_dir": str(Path(out_dir) / run_id), "result_tables": sorted(result_paths)}


if __name__ == "__main__":  # pragma: no cover
    import sys

    print(json.dumps(monthly_evaluation(*sys.argv[1:2]), indent=2))
