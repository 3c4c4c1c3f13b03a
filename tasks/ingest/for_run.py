"""Ingest for one evaluation run: land and stage the extracts, insist they reconcile, record the extract set.

:func:`ingest_for_run` reads the extracts folder and the run's mapping files,
calls :func:`tasks.ingest.staging.ingest_extracts`, and raises
:class:`ReconciliationFailed` unless every table's raw rows equal its staged
plus quarantined rows (:func:`require_balanced`).  With a ``run_id`` it records
the extract set's ``input_sha256`` and whether the export dates its status
changes (``status_dates``) in ``results.runs``.  It returns a small
JSON-able summary.  It never validates, builds marts or analyses.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from tasks.ingest.retention import apply_retention, retention_policy
from tasks.ingest.staging import ingest_extracts

log = logging.getLogger(__name__)

RECONCILIATION_FAILED = "reconciliation failed: "


class ReconciliationFailed(RuntimeError):
    """Raw rows do not equal staged + quarantined rows for some table (a bug: keep the warehouse)."""


def require_balanced(reconciliation: Sequence[dict]) -> None:
    """Raise :class:`ReconciliationFailed` naming every table whose rows do not reconcile."""
    unbalanced = [r for r in reconciliation if not r["balanced"]]
    if unbalanced:
        raise ReconciliationFailed(RECONCILIATION_FAILED + "; ".join(
            f"{r['table_name']}: raw {r['raw_rows']} != staged {r['staged_rows']} + quarantined {r['quarantined_rows']}"
            for r in unbalanced))


def ingest_for_run(extracts: str | Path, db: str | Path, *, mapping_paths: Sequence[Path],
                   redaction_model: str | None = None, run_id: str | None = None) -> dict:
    """Ingest ``extracts`` into ``db`` for a run; returns input_sha256, staged_rows and quarantined_rows."""
    if not Path(extracts).is_dir():
        raise FileNotFoundError(f"extracts folder not found: {extracts}")
    summary = ingest_extracts(extracts, db, mapping_paths=list(mapping_paths), redaction_model=redaction_model)
    require_balanced(summary.reconciliation)
    policy = retention_policy()
    if policy.active:
        for done in apply_retention(db, policy, mapping_paths=list(mapping_paths), redaction_model=redaction_model):
            log.info("retention (%s): personal data removed from %s (%d rows kept)",
                     policy.describe(), done.file_name, done.rows_kept)
    if run_id:
        from tasks.marts import status_dates_coverage
        from tasks.publish import registry

        registry.record_input(db, run_id, summary.input_sha256)
        registry.record_status_dates(db, run_id, status_dates_coverage(db))
    log.info("ingested %d files (%d new); extract set %s; staging %s", len(summary.files), summary.new_files,
             summary.input_sha256[:12], "rebuilt" if summary.rebuilt else "unchanged")
    for name in summary.ignored_files:
        log.warning("ignored file with no table mapping: %s", name)
    return {"input_sha256": summary.input_sha256, "staged_rows": summary.staged_rows,
            "quarantined_rows": summary.quarantined_rows}
