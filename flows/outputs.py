"""A completed run's outputs (report, exports, artifacts), made from its published tables and recorded.

The monthly flow makes them through its Prefect tasks (flows/steps.py) and records each in
``results.runs.outputs_json`` (:func:`tasks.publish.registry.record_output`).  When one is
missing (the process was killed after publish, a file was deleted), :func:`regenerate` makes it
again from ``published.*`` with the same functions (tasks/outputs/) and records it: the next run
does so for every completed run of its warehouse (:func:`heal_outputs`), and so does
``edi-recruit outputs RUN --db ...``.  Nothing here touches ``results.*`` or ``published.*``.
"""
from __future__ import annotations

import logging
from pathlib import Path

from tasks.publish import registry

log = logging.getLogger(__name__)


def _data_docs(run_dir: Path) -> str | None:
    index = run_dir / "data_docs" / "index.html"
    return str(index) if index.exists() else None


def regenerate(db: str, run_id: str, kinds: list[str] | None = None) -> dict[str, str]:
    """Make ``kinds`` (default: the ones missing) of completed run ``run_id`` again; kind -> path or keys."""
    from tasks.warehouse.connection import reading

    with reading(db) as con:
        run = registry.get_run(con, run_id)
    if run is None:
        raise ValueError(f"no run {run_id} in {db}")
    if run["status"] != "completed":
        raise ValueError(f"run {run_id} is {run['status']}: only a completed run has published tables")
    todo = kinds if kinds is not None else registry.missing_outputs(run)
    run_dir = Path(run["output_dir"]) if run["output_dir"] else Path(db).parent / "out" / run_id
    made: dict[str, str] = {}
    for kind in (k for k in registry.OUTPUT_KINDS if k in todo):
        made[kind] = _make(kind, db, run, run_dir, made)
        registry.record_output(db, run_id, kind, status="written", path=made[kind] if kind != "artifacts" else None)
    return made


def _make(kind: str, db: str, run: dict, run_dir: Path, made: dict[str, str]) -> str:
    run_id = run["run_id"]
    if kind == "report":
        from tasks.outputs.report.page import render_report

        run_dir.mkdir(parents=True, exist_ok=True)
        return str(render_report(db, run_id, run_dir / "report.html"))
    if kind == "exports":
        from tasks.outputs.export import export_run

        res = export_run(db, run_id, run_dir.parent)
        return str(res.get("xlsx") or res.get("dir"))
    from tasks.outputs import artifacts

    recorded = registry.outputs_of(run)
    built = artifacts.build_run_artifacts(
        run["as_of"], run_id, artifacts.load_published(db, run_id), db=db,
        report=made.get("report") or recorded.get("report", {}).get("path"),
        exports=made.get("exports") or recorded.get("exports", {}).get("path"),
        data_docs=_data_docs(run_dir), code_version=run["code_version"], input_sha256=run["input_sha256"])
    return ",".join(artifacts.emit(built))


def heal_outputs(db: str) -> list[dict]:
    """Regenerate the missing outputs of every completed run of the warehouse; [{run_id, made}]."""
    from tasks.warehouse.connection import reading

    with reading(db) as con:
        broken = registry.runs_missing_outputs(con)
    healed = []
    for item in broken:
        try:
            healed.append({"run_id": item["run_id"], "made": regenerate(db, item["run_id"], item["missing"])})
            log.info("run %s: regenerated %s", item["run_id"], ", ".join(item["missing"]))
        except Exception as exc:  # noqa: BLE001 - one run's outputs must not stop the new run
            log.warning("run %s: could not regenerate %s: %s", item["run_id"], item["missing"], type(exc).__name__)
    return healed
