"""Ingest: from the trust's extract files to typed, pseudonymised staging tables.

The package owns every step before validation, and the quarantine both ingest
and the validation gate use:

================= ==============================================================
``readers``       extract files (CSV in any common encoding, XLSX, Parquet) read as text
``mappings``      ``mappings/*.yaml``: export headers -> canonical columns; files -> tables
``landing``       landing zone (``<db>.landing/<sha256>/``) and ``raw.<table>``, once per content hash
``staging``       :func:`~tasks.ingest.staging.ingest_extracts`: ``staging.<table>`` for the extract set
``quarantine``    rows that cannot be staged or fail a row-level rule; raw = staged + quarantined
================= ==============================================================

Data flow: extracts -> landing -> ``raw`` -> ``staging`` (+ ``quarantine``)
(SQL in ``sql/models/staging/``, ``sql/ops/landing/``, ``sql/ops/raw/``,
``sql/ops/staging/``, ``sql/ops/quarantine/``).  Ingest never validates
(:mod:`tasks.validation`) and never builds the marts (:mod:`tasks.marts`);
the contract of its tables is docs/data-contract.md.
"""
