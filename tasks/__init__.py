"""The pipeline's logic, one package per stage, as plain functions (no Prefect here).

    core/        vocabulary, months, paths, run context, configuration
    warehouse/   SQL files, connections, the single writer, locks, settings
    ingest/      readers, mappings, landing, raw, staging, quarantine and reconciliation
    validation/  the Great Expectations gate
    marts.py     building the marts and point-in-time reads of them
    stats/       estimators with no recruitment knowledge
    privacy/     pseudonyms, redaction, disclosure control
    analyses/    one package per registered analysis
    publish/     results store, publish-and-complete, run registry, run diff
    outputs/     the one reader of published.*, report, exports, artifacts

The Prefect flows in flows/ call these functions through thin task wrappers
(flows/steps.py).  docs/architecture.md draws the stages and the schemas each
writes.
"""
