"""Publish a run and mark it ``completed``, in ONE DuckDB transaction.

:func:`publish_and_complete` takes the warehouse path, the run id and the
result parquet paths the analyses and the validation gate wrote, and, holding
the single writer (:func:`tasks.warehouse.connection.writing`), inside one
transaction:

1. appends every result table to ``results.*``, refreshes the
   ``results.latest_*`` views and writes the disclosure-controlled
   ``published.*`` copies (:func:`tasks.publish.writer.publish_run`);
2. sets the run ``completed`` in ``results.runs`` (:mod:`tasks.publish.registry`);
3. calls ``before_commit(con)`` if given (a last check, or a fault injected by a test);
4. commits.

On any failure it rolls back and re-raises: the run then has no rows in
``results.*`` or ``published.*`` and is not ``completed`` (the caller marks it
``failed``).  This is the only place a run becomes ``completed``.  It never
runs an analysis and never writes outside the warehouse.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import duckdb

from tasks.privacy.disclosure import Policy
from tasks.publish import registry
from tasks.publish.writer import publish_run
from tasks.warehouse.connection import writing

BeforeCommit = Callable[[duckdb.DuckDBPyConnection], None]


def publish_and_complete(
    db: str | Path,
    run_id: str,
    result_paths: dict[str, str],
    *,
    policy: Policy | str | Path | None = None,
    before_commit: BeforeCommit | None = None,
) -> dict:
    """Publish every result table of ``run_id`` and mark it completed, all or nothing.

    Parameters
    ----------
    db : the DuckDB warehouse file (``results.runs`` must hold the run).
    run_id : the run being published.
    result_paths : result name -> parquet file without ``run_id`` (see :func:`tasks.publish.writer.publish_run`).
    policy : disclosure-control policy (object or YAML path; default: the project's policy).
    before_commit : called with the open connection after the run is marked completed and
        before the commit; an exception from it rolls everything back.

    Returns
    -------
    dict with ``tables`` (sorted names), ``results_rows``, ``published_rows`` and ``policy_version``.
    """
    with writing(db) as con:
        con.begin()
        try:
            summary = publish_run(con, run_id, result_paths, policy=policy, own_transaction=False)
            registry.finish_run(con, run_id, "completed")
            if before_commit is not None:
                before_commit(con)
            con.commit()
        except BaseException:
            con.rollback()
            raise
    return {"tables": sorted(summary["tables"]), "results_rows": summary["results_rows"],
            "published_rows": summary["published_rows"], "policy_version": summary["policy_version"]}
