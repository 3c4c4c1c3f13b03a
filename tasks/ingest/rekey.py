"""Rotating the pseudonymisation key deliberately (``edi-recruit rekey``), in one transaction.

:func:`rekey` recomputes every pseudonymous identifier of ``staging.*`` from the
raw identifier it was made from (raw keeps the originals), under the new key, so
every link (application -> vacancy, panel member -> score, staff -> workforce)
is kept; it then rebuilds the marts from the re-keyed staging, when they were
built, re-keys the identifiers that results and published tables hold (the text
analysis's ``results.text_documents``) through the same old -> new map, and records
the new key's fingerprint - all in one transaction, so a failure leaves the
warehouse on the old key.  The pseudonymous columns are read
from the staging models themselves (``edi_pseudo(prefix, column, $key) AS
name`` in ``sql/models/staging/<table>.sql``).  Quarantine keeps raw values, so it
does not change.

It refuses, with one line, when the warehouse has nothing staged, when the new
key is the current one, when a staged row's raw row is no longer there, or when a
result holds an identifier the current staging does not (a run on older extracts).  It
never reads the old key and never writes either key anywhere.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tasks.core.paths import SQL_DIR
from tasks.ingest.mappings import load_mappings
from tasks.privacy.pseudonyms import FINGERPRINT_SETTING, key_fingerprint
from tasks.warehouse.connection import table_exists, writing
from tasks.warehouse.meta import get_setting, set_setting
from tasks.warehouse.sql import Fragment, quoted, run_sql

_PSEUDO = re.compile(r"edi_pseudo\('(\w+)',\s*(\w+),\s*\$key\)\s+AS\s+(\w+)")

NOTHING_TO_REKEY = "nothing to re-key: {db} has no staged data yet (run `edi-recruit ingest` first)"
SAME_KEY = "the new key is already this warehouse's key (fingerprint {fp}): set the new key first"
RESULTS_UNLINKED = ("cannot re-key {table}.{column}: {n} identifier(s) there (e.g. from runs on older extracts) "
                    "are not in the current staging, so their new pseudonyms are unknown; nothing was changed")
RAW_GONE = ("cannot re-key staging.{table}: {n} staged row(s) no longer have their raw row, so their "
            "identifiers cannot be recomputed; re-ingest the extracts instead")


class RekeyRefused(ValueError):
    """The key cannot be rotated safely; the warehouse is unchanged."""


@dataclass(frozen=True)
class RekeyResult:
    old_fingerprint: str
    new_fingerprint: str
    columns: dict[str, int]      # "table.column" -> rows re-keyed
    marts_rebuilt: bool


def pseudonym_columns(table: str) -> list[tuple[str, str, str]]:
    """(prefix, source column, staged column) of every pseudonymised column of ``staging.<table>``."""
    text = (SQL_DIR / "models" / "staging" / f"{table}.sql").read_text(encoding="utf-8")
    return _PSEUDO.findall(text)


def rekey(db_path: str | Path, *, new_key: str, mapping_paths: list[Path] | None = None) -> RekeyResult:
    """Re-key staging (and rebuild the marts) under ``new_key`` in one transaction."""
    from tasks.ingest.staging import _create_source_view, _headers_of_file

    mappings = load_mappings(mapping_paths)
    new_fp = key_fingerprint(new_key)
    with writing(db_path) as con:
        old_fp = get_setting(con, FINGERPRINT_SETTING) if table_exists(con, "meta.settings") else None
        if not old_fp:
            raise RekeyRefused(NOTHING_TO_REKEY.format(db=db_path))
        if old_fp == new_fp:
            raise RekeyRefused(SAME_KEY.format(fp=new_fp))
        extract_set = run_sql(con, "ops/meta/extract_set").fetchall()
        counts: dict[str, int] = {}
        id_map: dict[str, str] = {}
        con.execute("BEGIN TRANSACTION")
        try:
            run_sql(con, "models/staging/macros")
            for table, mapping in mappings.items():
                if not table_exists(con, f"staging.{table}"):
                    continue
                source = f"src_{table}"
                headers = {name: _headers_of_file(con, sha) for t, sha, name in extract_set if t == table}
                _create_source_view(con, mapping, source, headers)
                gone = run_sql(con, "ops/rekey/unlinked_rows", table=table, source=source).fetchone()[0]
                if gone:
                    raise RekeyRefused(RAW_GONE.format(table=table, n=gone))
                for prefix, source_column, column in pseudonym_columns(table):
                    idents = {"table": table, "source": source, "column": Fragment(quoted(column)),
                              "source_column": Fragment(quoted(source_column))}
                    params = {"prefix": prefix, "key": new_key}
                    id_map.update(run_sql(con, "ops/rekey/id_map", params, **idents).fetchall())
                    n = run_sql(con, "ops/rekey/staged_column", params, **idents).fetchone()[0]
                    counts[f"{table}.{column}"] = int(n)
            counts.update(_rekey_results(con, id_map))
            marts_rebuilt = _rebuild_marts(con)
            set_setting(con, FINGERPRINT_SETTING, new_fp)
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    return RekeyResult(old_fp, new_fp, counts, marts_rebuilt)


def _rekey_results(con, id_map: dict[str, str]) -> dict[str, int]:
    """Re-key the identifiers results and published tables hold (e.g. results.text_documents), through
    the old -> new map of staging; a composite ID (``A-…:P-…``) is re-keyed part by part."""
    import pyarrow as pa

    from tasks.core.vocabulary import ID_COLUMNS

    counts = {}
    columns = run_sql(con, "ops/rekey/result_id_columns", {"names": [*ID_COLUMNS, "document_id"]}).fetchall()
    for schema, table, column in columns:
        qualified, col = f"{schema}.{table}", Fragment(quoted(column))
        values = [r[0] for r in run_sql(con, "ops/rekey/distinct_values", table=qualified, column=col).fetchall()]
        unknown = [v for v in values if not all(part in id_map for part in str(v).split(":"))]
        if unknown:
            raise RekeyRefused(RESULTS_UNLINKED.format(table=qualified, column=column, n=len(unknown)))
        new = [":".join(id_map[part] for part in str(v).split(":")) for v in values]
        con.register("rekey_map", pa.table({"old_id": pa.array(values, pa.string()), "new_id": pa.array(new, pa.string())}))
        try:
            n = run_sql(con, "ops/rekey/result_column", table=qualified, column=col, map="rekey_map").fetchone()[0]
        finally:
            con.unregister("rekey_map")
        counts[f"{qualified}.{column}"] = int(n)
    return counts


def _rebuild_marts(con) -> bool:
    """Rebuild the marts (they copy identifiers from staging) when they were built; same steps as build_marts."""
    from tasks.core.months import parse_month
    from tasks.core.paths import REFERENCE_DIR
    from tasks.marts import MART_STEPS

    start = get_setting(con, "programme_start")
    if not start or not table_exists(con, "marts.application_funnel"):
        return False
    for step in MART_STEPS:
        run_sql(con, step, {
            "programme_start": parse_month(start[:7]),
            "ethnic_csv": str(REFERENCE_DIR / "nhs_ethnic_category.csv"),
            "wres_csv": str(REFERENCE_DIR / "wres_indicator2_national.csv"),
        })
    return True
