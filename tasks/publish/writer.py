"""Publish one run: append results, refresh the latest views, apply disclosure control.

:func:`publish_run` is given an open DuckDB *write* connection by the caller
(the flow or the CLI) and does everything for one run inside ONE transaction:

1. appends each result parquet to ``results.<name>`` with ``run_id`` as the
   first column (table created when missing, later columns added, rows of the
   same run replaced so a re-publish is idempotent; a column whose type changed
   since earlier runs is migrated in the same transaction, e.g. ``n_clusters``
   BIGINT -> VARCHAR when counts became text with ``*``: :func:`migrated_type`);
2. creates or refreshes ``results.latest_<name>``: the rows of the latest
   completed run for each ``as_of`` month in ``results.runs`` (the run
   registry: run_id, flow, as_of, started_at, finished_at, status,
   code_version, input_sha256, params_json);
3. applies the disclosure-control policy (:mod:`tasks.privacy.disclosure`) to produce
   ``published.<name>`` (with run_id): the only tables exported or shown.  Suppression is decided
   once over every count cell of every published table of the run (linked tables,
   :func:`tasks.privacy.disclosure.linked.plan_suppression`), then applied table by table;
4. records the policy version and what it did in ``published.disclosure_log``.

The run's status in the registry is left to the caller:
:func:`tasks.publish.complete.publish_and_complete` calls this inside its own
transaction and marks the run ``completed`` in the same one.  This module never
commits a transaction it did not begin.
"""
from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from tasks.privacy.disclosure import DEFAULT_POLICY_PATH, Policy, load_policy, protect_table
from tasks.privacy.disclosure.linked import plan_suppression
from tasks.privacy.disclosure.relations import published_rows
from tasks.warehouse.sql import Fragment, query, run_sql

log = logging.getLogger(__name__)


_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


RESERVED_NAMES = frozenset({"runs", "disclosure_log"})


_SAFE_TYPE = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _exec(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None, **identifiers: str) -> None:
    """Run a SQL file and finish its result (DuckDB refuses new work while a result is pending)."""
    res = run_sql(con, name, params, **identifiers)
    if res is not None:
        res.fetchall()


# Every SQL file's result as a polars frame: the warehouse's one helper.
fetch_frame = query


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, _, table = qualified.partition(".")
    return bool(fetch_frame(con, "ops/publish/table_exists", {"schema": schema, "table": table})["n"][0])


def _check_name(name: str) -> None:
    if not _NAME.match(name) or name in RESERVED_NAMES or name.startswith("latest_"):
        raise ValueError(f"invalid result table name {name!r}")


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    df = fetch_frame(con, "ops/publish/columns", {"schema": schema, "table": table})
    return dict(zip(df["column_name"].to_list(), df["data_type"].to_list())) if df.height else {}


def _prepare(df: pl.DataFrame) -> pl.DataFrame:
    # all-null columns have no type: store them as text so later runs can fill them
    nulls = [c for c, t in df.schema.items() if t == pl.Null]
    return df.with_columns([pl.col(c).cast(pl.Utf8) for c in nulls]) if nulls else df


_TYPE = re.compile(r"^[A-Z][A-Z0-9_]*(\(\d+(, ?\d+)?\))?$")      # BIGINT, VARCHAR, DECIMAL(18,3); not nested types
_NUMERIC = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                      "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE"})
_TEMPORAL = frozenset({"DATE", "TIMESTAMP"})


def _type_fragment(typ: str) -> Fragment:
    if not _TYPE.match(typ):
        raise ValueError(f"unsafe SQL type {typ!r}")
    return Fragment(typ)


def migrated_type(con: duckdb.DuckDBPyConnection, existing: str, incoming: str) -> str | None:
    """The type a stored column must take so rows of ``existing`` and ``incoming`` type both fit; None when
    the stored type already takes the incoming values (DuckDB casts them on insert).

    Numbers widen to DuckDB's common numeric type (INTEGER + DOUBLE -> DOUBLE), DATE to TIMESTAMP;
    any other change (a count now published as text, '*') makes the column VARCHAR, keeping every value.
    Nested types (STRUCT, LIST) are left as they are."""
    if existing == incoming or not _TYPE.match(existing) or not _TYPE.match(incoming):
        return None
    sup = fetch_frame(con, "ops/publish/supertype", existing=_type_fragment(existing),
                      incoming=_type_fragment(incoming))["supertype"][0]
    if sup == existing:
        return None
    base = existing.split("(")[0]
    if (base in _NUMERIC and sup in _NUMERIC) or (base in _TEMPORAL and sup in _TEMPORAL):
        return sup
    return None if existing == "VARCHAR" else "VARCHAR"


def _write_frame(con: duckdb.DuckDBPyConnection, schema: str, table: str, df: pl.DataFrame, run_id: str,
                 migrations: list[str] | None = None) -> int:
    """Create-if-missing, evolve columns (add new ones, migrate a column whose type changed since earlier
    runs: :func:`migrated_type`), replace this run's rows, insert.  Migrations are appended to ``migrations``."""
    frame = f"_publish_{schema}_{table}"
    qualified = f"{schema}.{table}"
    con.register(frame, _prepare(df).to_arrow())
    try:
        _exec(con, "ops/publish/create_table", table=qualified, frame=frame)
        existing = _columns(con, schema, table)
        desc = fetch_frame(con, "ops/publish/describe_frame", frame=frame)
        incoming = dict(zip(desc["column_name"].to_list(), desc["column_type"].to_list()))
        for col, typ in incoming.items():
            if col not in existing:
                typ = typ if _SAFE_TYPE.match(typ) else "VARCHAR"
                _exec(con, "ops/publish/add_column", table=qualified, column=col, type=typ)
                continue
            target = migrated_type(con, existing[col], typ)
            if target is not None:
                _exec(con, "ops/publish/alter_column_type", table=qualified, column=col, type=_type_fragment(target))
                note = f"{qualified}.{col}: {existing[col]} -> {target}"
                log.warning("publish: column type changed since earlier runs: %s (earlier rows cast)", note)
                if migrations is not None:
                    migrations.append(note)
        _exec(con, "ops/publish/delete_run", {"run_id": run_id}, table=qualified)
        _exec(con, "ops/publish/insert", table=qualified, frame=frame)
    finally:
        con.unregister(frame)
    return df.height


def _as_policy(policy: Policy | str | Path | None) -> Policy:
    if isinstance(policy, Policy):
        return policy
    return load_policy(policy or DEFAULT_POLICY_PATH)


def _store_table(con: duckdb.DuckDBPyConnection, name: str, path: str, run_id: str, pol: Policy, summary: dict,
                 *, have_registry: bool) -> pl.DataFrame | None:
    """Append one result table and refresh its latest view; the rows as stored (None for a restricted
    table, which is stored but never published).  Fills ``summary`` in place."""
    df = pl.read_parquet(path)
    if "run_id" in df.columns:
        df = df.drop("run_id")
    df = df.select(pl.lit(run_id, dtype=pl.Utf8).alias("run_id"), pl.all())
    n_results = _write_frame(con, "results", name, df, run_id, summary["migrated"])
    if have_registry:
        _exec(con, "ops/publish/latest_view", view=f"results.latest_{name}", table=f"results.{name}")
        summary["views"].append(f"results.latest_{name}")
    if name in pol.restricted_tables:
        summary["tables"][name] = {"results_rows": n_results, "published_rows": 0, "restricted": True}
        return None
    summary["tables"][name] = {"results_rows": n_results}
    # disclosure control on what was stored (the stored types are the truth)
    return fetch_frame(con, "queries/run_rows", {"run_id": run_id}, table=f"results.{name}")


def _publish_table(con: duckdb.DuckDBPyConnection, name: str, stored: pl.DataFrame, run_id: str, pol: Policy,
                   summary: dict, *, forced: dict[str, set[int]], now: datetime) -> dict:
    """Publish the protected copy of one stored result table (``forced``: its cells suppressed by the
    decision over all linked tables); its disclosure-log row.  Fills ``summary`` in place."""
    n_results = summary["tables"][name]["results_rows"]
    protected, rep = protect_table(name, stored, pol, forced=forced)
    n_pub = _write_frame(con, "published", name, protected, run_id, summary["migrated"])
    summary["tables"][name] = {
        "results_rows": n_results, "published_rows": n_pub,
        "primary_suppressed": rep.primary, "secondary_suppressed": rep.secondary,
        "rates_withheld": rep.rates_withheld, "derived_withheld": rep.derived_withheld,
        "estimates_flagged": rep.estimates_flagged,
    }
    log.info("published %s: %d rows (%d primary, %d secondary suppressed)", name, n_pub, rep.primary, rep.secondary)
    return {
        "run_id": run_id, "table_name": name, "policy_version": pol.version,
        "policy_sha256": pol.sha256, "policy_summary": pol.summary(),
        "rows_published": n_pub, "count_cells": rep.count_cells,
        "primary_suppressed": rep.primary, "secondary_suppressed": rep.secondary,
        "rates_withheld": rep.rates_withheld, "derived_withheld": rep.derived_withheld,
        "estimates_flagged": rep.estimates_flagged, "published_at": now,
    }


def publish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    result_paths: dict[str, str],
    policy: Policy | str | Path | None = None,
    *,
    own_transaction: bool = True,
) -> dict:
    """Append, view and disclosure-control every result table of a run in one transaction.

    ``result_paths`` maps a result name (``funnel_counts``) to a parquet file
    holding that table without ``run_id`` (a ``run_id`` column, if present, is
    replaced).  Returns counts per table.  On any error the transaction is
    rolled back and the error re-raised: a run is published entirely or not at all.
    With ``own_transaction=False`` the caller has already begun a transaction
    (e.g. to mark the run completed in the same one): it is used, and its
    commit or rollback is left to the caller.  (DuckDB aborts an open
    transaction on a nested BEGIN, so this cannot be detected safely.)
    """
    pol = _as_policy(policy)
    for name in result_paths:
        _check_name(name)
    own_txn = own_transaction
    if own_txn:
        con.begin()
    summary: dict = {"run_id": run_id, "policy_version": pol.version, "tables": {}, "views": [], "migrated": []}
    try:
        _exec(con, "ops/publish/schemas")
        _exec(con, "ops/publish/disclosure_log")
        have_registry = table_exists(con, "results.runs")
        now = datetime.now(UTC).replace(tzinfo=None)
        stored: dict[str, pl.DataFrame] = {}
        for name, path in sorted(result_paths.items()):
            frame = _store_table(con, name, path, run_id, pol, summary, have_registry=have_registry)
            if frame is not None:
                stored[name] = frame
        # one suppression decision over every count cell of every published table (linked tables)
        plan = plan_suppression({n: published_rows(n, f, pol) for n, f in stored.items()}, pol)
        summary["linked"] = {"primary": plan.primary, "secondary": plan.secondary, "relations": plan.relations,
                             "seconds": round(plan.seconds, 3)}
        log_rows = [_publish_table(con, name, stored[name], run_id, pol, summary, forced=plan.forced(name), now=now)
                    for name in sorted(stored)]
        if not have_registry and result_paths:
            log.warning("results.runs does not exist: results.latest_* views not created")
        if log_rows:
            _write_frame(con, "published", "disclosure_log", pl.DataFrame(log_rows), run_id)
        if own_txn:
            con.commit()
    except BaseException:
        if own_txn:
            con.rollback()
        raise
    summary["restricted"] = sorted(n for n, t in summary["tables"].items() if t.get("restricted"))
    summary["results_rows"] = sum(t["results_rows"] for t in summary["tables"].values())
    summary["published_rows"] = sum(t["published_rows"] for t in summary["tables"].values())
    return summary
