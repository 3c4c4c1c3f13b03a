"""Staging: typed, canonical tables built from raw for the current extract set.

:func:`ingest_extracts` lands every extract file (:mod:`tasks.ingest.landing`),
then (re)builds ``staging.<table>`` when the extract set, the pseudonymisation
key, the mappings, the redaction model or the staging SQL changed (a
fingerprint kept in ``meta.settings``):

* columns renamed through the run's mappings (``mappings/<system>.yaml``,
  :mod:`tasks.ingest.mappings`) and typed by ``sql/models/staging/<table>.sql``;
* identifiers pseudonymised with the trust's key (:mod:`tasks.privacy.pseudonyms`); a key
  whose fingerprint differs from the warehouse's stops ingest before anything is landed;
* free text redacted (:mod:`tasks.privacy.redaction`), with the names and emails
  of the extracts' personal-data columns as known people;
* rows that cannot be staged (malformed lines, unparseable values) moved to
  quarantine (:mod:`tasks.ingest.quarantine`), and raw = staged + quarantined
  reconciled.

With an encrypted warehouse (:mod:`tasks.warehouse.encryption`) the landing copies
are removed once staged.  It returns an :class:`IngestSummary`.  Personal-data columns are read only for
redaction and are never staged.  Staging never validates (the gate,
:mod:`tasks.validation.gate`, runs next) and never builds the marts
(:mod:`tasks.marts`).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pyarrow as pa

from tasks.core.paths import SQL_DIR
from tasks.core.vocabulary import OPTIONAL_COLUMNS, TEXT_TABLES
from tasks.ingest.landing import LandedFile, extract_set_sha256, land_file, remove_landing_copies
from tasks.ingest.mappings import TableMapping, discover, load_mappings
from tasks.ingest.quarantine import clear_quarantine, quarantine, reconcile
from tasks.ingest.readers import ExtractError
from tasks.privacy.pseudonyms import FINGERPRINT_SETTING, check_key_fingerprint, key_fingerprint, pseudonym_key
from tasks.publish import registry
from tasks.warehouse.connection import writing
from tasks.warehouse.encryption import encrypted
from tasks.warehouse.meta import get_setting, set_setting
from tasks.warehouse.sql import Fragment, aliased_list, column_list, run_sql, sql_text

log = logging.getLogger(__name__)


Progress = Callable[[str, int, int], None]


# --------------------------------------------------------------------------
# Staging
# --------------------------------------------------------------------------
def _create_source_view(con, mapping: TableMapping, view: str, file_headers: dict[str, list[str]]) -> None:
    table = mapping.table
    optional = OPTIONAL_COLUMNS.get(table, ())
    for file_name, headers in file_headers.items():
        missing = [h for h, c in mapping.columns.items() if h not in headers and c not in optional]
        if missing:
            present = ", ".join(headers[:12]) + (" …" if len(headers) > 12 else "")
            raise ExtractError(
                f"{file_name}: required column(s) {', '.join(repr(h) for h in missing)} "
                f"(→ {', '.join(mapping.columns[h] for h in missing)}) not found; headers are: {present}"
            )
    pairs = [(h, c) for h, c in mapping.columns.items()
             if c not in optional or all(h in hs for hs in file_headers.values())]
    # optional columns (status dates) absent from the mapping or from a file are NULL for every file
    absent = [c for c in optional if c not in dict(pairs).values()]
    pairs += [(h, f"pd_{c}") for h, c in mapping.personal_data.items()
              if all(h in hs for hs in file_headers.values())]
    select_list = aliased_list(pairs)
    if table == "applications" and "staff_id" not in mapping.columns.values():
        # an export without ESR numbers: no applicant links to the workforce
        select_list = Fragment(select_list + ", CAST(NULL AS VARCHAR) AS staff_id")
    if absent:
        select_list = Fragment(select_list + "".join(f", CAST(NULL AS VARCHAR) AS {c}" for c in absent))
    run_sql(con, "models/staging/source_view", view=view, table=table, select_list=select_list)


def _personal_data(con, mappings: dict[str, TableMapping]):
    from tasks.privacy.redaction import KnownPeople

    forenames, surnames, full, emails = set(), set(), set(), set()
    for table, m in mappings.items():
        fields = set(m.personal_data.values())
        if not fields:
            continue
        view = f"src_{table}"
        cols = {r[0] for r in run_sql(con, "queries/view_columns", view=view).fetchall()}
        have = [f for f in ("forename", "surname", "email") if f"pd_{f}" in cols]
        if not have:
            continue
        rows = run_sql(con, "queries/known_people", view=view,
                       columns=column_list([f"pd_{f}" for f in have])).fetchall()
        for r in rows:
            rec = dict(zip(have, r))
            fn, sn, em = rec.get("forename"), rec.get("surname"), rec.get("email")
            if fn:
                forenames.add(fn.strip())
            if sn:
                surnames.add(sn.strip())
            if fn and sn:
                full.add(f"{fn.strip()} {sn.strip()}")
            if em:
                emails.add(em.strip())
    return KnownPeople(forenames=forenames, surnames=surnames, full_names=full, emails=emails)


def _redact_table(con, table: str, redactor, progress: Progress | None, max_text_chars: int) -> int:
    rows = con.execute(sql_text("queries/text_source", source=f"src_{table}")).fetchall()
    # a text over the limit is quarantined (long_text_rejects), never redacted
    texts = [r[2] if r[2] and len(r[2]) <= max_text_chars else "" for r in rows]
    out_text, out_n = [], []
    batch = 2000
    for i in range(0, len(texts), batch):
        for red, counts in redactor.redact_many(texts[i:i + batch]):
            out_text.append(red)
            out_n.append(int(sum(counts.values())))
        if progress:
            progress(f"redacting {table}", min(i + batch, len(texts)), len(texts))
    red_tbl = pa.table({
        "_sha256": [r[0] for r in rows], "_row_number": [r[1] for r in rows],
        "text": out_text, "n_redactions": out_n,
    })
    con.register("redacted_text", red_tbl)
    run_sql(con, "ops/staging/set_redacted_text", table=f"staging.{table}", redacted="redacted_text")
    con.unregister("redacted_text")
    return len(rows)


@dataclass
class IngestSummary:
    extracts_dir: str
    db_path: str
    input_sha256: str
    files: list[LandedFile]
    ignored_files: list[str]
    rebuilt: bool
    staged_rows: dict[str, int] = field(default_factory=dict)
    quarantined_rows: dict[str, int] = field(default_factory=dict)
    reconciliation: list[dict] = field(default_factory=list)

    @property
    def new_files(self) -> int:
        return sum(1 for f in self.files if f.new)


MAX_TEXT_CHARS_ENV = "EDI_RECRUIT_MAX_TEXT_CHARS"
DEFAULT_MAX_TEXT_CHARS = 500_000   # below spaCy's 1,000,000-character maximum


def resolve_max_text_chars(value: int | None = None) -> int:
    """The longest free text staged: ``value``, else ``EDI_RECRUIT_MAX_TEXT_CHARS``, else 500,000 characters."""
    if value is None:
        raw = os.environ.get(MAX_TEXT_CHARS_ENV, "").replace("_", "").strip()
        if raw and not raw.isdigit():
            raise ValueError(f"{MAX_TEXT_CHARS_ENV} must be a whole number of characters, got {raw!r}")
        value = int(raw) if raw else DEFAULT_MAX_TEXT_CHARS
    if value <= 0:
        raise ValueError(f"the text length limit must be positive, got {value}")
    return value


# the SQL folders whose statements shape staging: a change to any file rebuilds it
STAGING_SQL_DIRS = ("models/staging", "ops/staging", "ops/quarantine")


def _staging_fingerprint(input_sha: str, mappings: dict[str, TableMapping], redaction_model: str | None,
                         text_limit: int) -> str:
    """What staging was built from: extract set, mappings, redaction model, text limit and the staging SQL.

    The key is not part of it: a different key stops ingest (``check_key_fingerprint``),
    and ``edi-recruit rekey`` re-keys staging in place."""
    h = hashlib.sha256()
    h.update(input_sha.encode())
    h.update(repr(sorted((t, sorted(m.columns.items()), m.date_format) for t, m in mappings.items())).encode())
    h.update(str(redaction_model).encode())
    h.update(str(text_limit).encode())
    sql_files = [p for folder in STAGING_SQL_DIRS for p in (SQL_DIR / folder).glob("*.sql")]
    for p in sorted(sql_files):
        h.update(p.read_bytes())
    return h.hexdigest()


def ingest_extracts(
    extracts_dir: str | Path,
    db_path: str | Path,
    *,
    mapping_paths: list[Path] | None = None,
    redaction_model: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
    max_text_chars: int | None = None,
) -> IngestSummary:
    """Land every extract file, load raw, and (re)build staging for this extract set.

    Re-ingesting identical files adds nothing and, unless ``force``, leaves staging as it is.
    Free texts longer than ``max_text_chars`` (:func:`resolve_max_text_chars`) are quarantined.
    """
    text_limit = resolve_max_text_chars(max_text_chars)
    extracts_dir = Path(extracts_dir)
    mappings = load_mappings(mapping_paths)
    files, ignored = discover(extracts_dir, mappings)
    key = pseudonym_key(db_path)
    with writing(db_path) as con:
        run_sql(con, "ops/landing/manifest")
        check_key_fingerprint(get_setting(con, FINGERPRINT_SETTING), key, db_path)
        registry.ensure_registry(con)
        landed: list[LandedFile] = []
        for i, ef in enumerate(files, 1):
            if progress:
                progress("landing files", i - 1, len(files))
            lf = land_file(con, ef, mappings[ef.table], db_path)
            landed.append(lf)
            log.info("landed %s (%s rows, %s)", lf.file_name, lf.row_count, "new" if lf.new else "already landed")
        if progress:
            progress("landing files", len(files), len(files))
        input_sha = extract_set_sha256(landed)
        fingerprint = _staging_fingerprint(input_sha, mappings, redaction_model, text_limit)
        rebuilt = force or get_setting(con, "staging_fingerprint") != fingerprint
        if rebuilt:
            _build_staging(con, mappings, landed, key, redaction_model, progress, text_limit)
            set_setting(con, "staging_fingerprint", fingerprint)
            set_setting(con, "input_sha256", input_sha)
            set_setting(con, "marts_fingerprint", "")
        set_setting(con, FINGERPRINT_SETTING, key_fingerprint(key))
        summary = IngestSummary(str(extracts_dir), str(db_path), input_sha, landed, ignored, rebuilt)
        summary.reconciliation = reconcile(con, list(mappings))
        for rec in summary.reconciliation:
            summary.staged_rows[rec["table_name"]] = rec["staged_rows"]
            summary.quarantined_rows[rec["table_name"]] = rec["quarantined_rows"]
    if encrypted():   # plain landing copies would defeat an encrypted warehouse: removed once staged
        remove_landing_copies(db_path)
    return summary


def _build_staging(con, mappings, landed: list[LandedFile], key: str, redaction_model, progress,
                   text_limit: int) -> None:
    from tasks.privacy.redaction import build_redactor

    con.execute("BEGIN TRANSACTION")
    try:
        run_sql(con, "ops/meta/extract_set_clear")
        for lf in landed:
            run_sql(con, "ops/meta/extract_set_add",
                    {"table_name": lf.table, "sha256": lf.sha256, "file_name": lf.file_name})
        run_sql(con, "models/staging/macros")
        # headers per file, for the critical column check
        for table, m in mappings.items():
            file_headers = {lf.file_name: _headers_of_file(con, lf.sha256) for lf in landed if lf.table == table}
            _create_source_view(con, m, f"src_{table}", file_headers)
        n_tables = len(mappings)
        for i, (table, m) in enumerate(mappings.items(), 1):
            if progress:
                progress("staging", i - 1, n_tables)
            run_sql(con, f"models/staging/{table}", {
                "key": key, "date_format": m.date_format, "trues": list(m.trues), "falses": list(m.falses),
            }, source=f"src_{table}")
        redactor = None
        for table in TEXT_TABLES:
            if table in mappings:
                if redactor is None:
                    redactor = build_redactor(_personal_data(con, mappings), model=redaction_model)
                _redact_table(con, table, redactor, progress, text_limit)
        # the rejection path: unparseable values and malformed rows
        for table in mappings:
            clear_quarantine(con, table)
            run_sql(con, "ops/staging/row_rejects", table=table, source=f"src_{table}", rejects=f"rejects_{table}")
            if table in TEXT_TABLES:
                run_sql(con, "ops/staging/long_text_rejects", {"limit": text_limit},
                        table=table, source=f"src_{table}", rejects=f"rejects_{table}")
            quarantine(con, table, f"rejects_{table}")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    if progress:
        progress("staging", len(mappings), len(mappings))


def _headers_of_file(con, sha: str) -> list[str]:
    value = get_setting(con, f"headers:{sha}")
    return json.loads(value) if value else []
