"""The validation gate between staging and the marts (docs/data-quality.md).

================= ==============================================================
``rules``         the declarative rules: suites from ``expectations/<table>.json``,
                  severities, run parameters, escalation of systemic failures
``gx``            Great Expectations plumbing: the run's context, Data Docs, and the
                  validation frames pulled from DuckDB (``sql/checks/<table>.sql``)
``checks``        one checked expectation (:class:`~tasks.validation.checks.Check`)
                  from GX results, ingest rejects, file headers and reconciliation
``summary``       the ``validation`` and ``quarantine_summary`` tables, the outcome,
                  the one-line messages
``gate``          :func:`~tasks.validation.gate.validate`: one transaction over every
                  staged table; quarantines row-level failures, stops on critical
================= ==============================================================

The gate reads staging and raw, moves rows to quarantine through
:mod:`tasks.ingest.quarantine`, and never builds the marts or publishes.
"""
