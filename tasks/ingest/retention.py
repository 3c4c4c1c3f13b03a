"""Retention for the raw layer: personal data removed after a number of days or runs, counts kept.

:func:`apply_retention` finds the landed files due (landed more than ``days`` ago,
or followed by at least ``runs`` completed runs) and, for each, in one
transaction:

* nulls its raw rows' personal-data columns (the mapping's ``personal_data``:
  names, e-mails, phones) - the rows stay, so raw = staged + quarantined still
  reconciles and every identifier is kept (``rekey`` still works);
* replaces its raw free text by the staged, redacted text (a later re-staging
  could no longer find the names the removed columns listed);
* redacts the free text of its raw rows that have no staged text - quarantined
  rows (at ingest or by the validation gate), and files no longer in the
  extract set - with the redactor staging uses, built from the whole raw
  layer's personal data before any of it is nulled; a text over the length
  limit (never redacted, :func:`tasks.ingest.staging.resolve_max_text_chars`)
  becomes a filler of the same length, so it is quarantined for the same reason
  if staging is rebuilt;
* drops those columns from the raw values quarantine keeps of its rows, and
  gives quarantine's copy of the free text the redacted text;
* deletes its landing copy, and records the file in ``meta.retention``.

The policy comes from ``EDI_RECRUIT_RETENTION_DAYS`` / ``EDI_RECRUIT_RETENTION_RUNS``
(:func:`retention_policy`) or the ``edi-recruit retention`` options; a run applies it
after ingest (:mod:`tasks.ingest.for_run`).  It never deletes a row, a table or a
manifest entry.  SQL in ``sql/ops/retention/``.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from tasks.ingest.mappings import TableMapping, load_mappings
from tasks.publish import registry
from tasks.warehouse.connection import table_exists, writing
from tasks.warehouse.sql import Fragment, column_list, quoted, run_sql

DAYS_ENV = "EDI_RECRUIT_RETENTION_DAYS"
RUNS_ENV = "EDI_RECRUIT_RETENTION_RUNS"
TEXT_COLUMN = "text"


@dataclass(frozen=True)
class RetentionPolicy:
    days: int | None = None    # personal data older than this many days (by landing time) is removed
    runs: int | None = None    # ... or once this many completed runs have started since it was landed

    @property
    def active(self) -> bool:
        return self.days is not None or self.runs is not None

    def describe(self) -> str:
        parts = ([f"older than {self.days} days"] if self.days is not None else []) + \
                ([f"{self.runs} completed runs since landing"] if self.runs is not None else [])
        return " or ".join(parts) or "none"


def retention_policy(days: int | None = None, runs: int | None = None) -> RetentionPolicy:
    """The policy from the arguments, else from the environment; a value must be a whole number >= 0."""
    def value(given, env):
        raw = given if given is not None else os.environ.get(env, "").strip() or None
        if raw is None:
            return None
        if not str(raw).isdigit():
            raise ValueError(f"{env} must be a whole number (days or runs), got {raw!r}")
        return int(raw)

    return RetentionPolicy(days=value(days, DAYS_ENV), runs=value(runs, RUNS_ENV))


@dataclass(frozen=True)
class RetainedFile:
    table: str
    file_name: str
    columns: tuple[str, ...]
    rows_kept: int
    unstaged_texts_redacted: int = 0   # free texts with no staged row (quarantined, or not in the extract set)


def apply_retention(db_path: str | Path, policy: RetentionPolicy, *, mapping_paths: list[Path] | None = None,
                    now: dt.datetime | None = None, redaction_model: str | None = None) -> list[RetainedFile]:
    """Remove the personal data of every landed file the policy makes due; returns what was done.

    ``redaction_model`` is the spaCy pipeline that redacts unstaged free text (``None``: the
    default blank pipeline with the known-name rules, as staging).
    """
    if not policy.active:
        return []
    mappings = load_mappings(mapping_paths)
    now = now or registry.now()
    cutoff = now - dt.timedelta(days=policy.days) if policy.days is not None else None
    with writing(db_path) as con:
        if not table_exists(con, "landing.manifest"):
            return []
        run_sql(con, "ops/retention/create")
        registry.ensure_registry(con)
        due = run_sql(con, "ops/retention/due_files", {"cutoff": cutoff, "runs": policy.runs}).fetchall()
        done = []
        redactor = _UnstagedTextRedactor(con, mappings, redaction_model, {t for _, t, _, _ in due})
        con.execute("BEGIN TRANSACTION")
        try:
            for sha, table, file_name, landed_path in due:
                mapping = mappings.get(table)
                if mapping is None:
                    continue
                done.append(_retain_file(con, mapping, sha, file_name, policy, now, redactor))
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    for sha, _, _, landed_path in due:   # after the commit: a failure above keeps the copies
        _remove_landing_copy(Path(landed_path))
    return done


def _retain_file(con, mapping: TableMapping, sha: str, file_name: str, policy: RetentionPolicy,
                 now: dt.datetime, redactor: _UnstagedTextRedactor) -> RetainedFile:
    table = mapping.table
    present = {r[0] for r in run_sql(con, "ops/raw/columns", {"table_name": table}).fetchall()}
    columns = tuple(h for h in mapping.personal_data if h in present)
    text_headers = [h for h, c in mapping.columns.items() if c == TEXT_COLUMN and h in present]
    unstaged = redactor.redact_unstaged(sha, table, text_headers[0]) if text_headers else 0
    if columns:
        assignments = Fragment(", ".join(f"{quoted(h)} = NULL" for h in columns))
        run_sql(con, "ops/retention/null_columns", {"sha256": sha}, table=table, assignments=assignments)
        if table_exists(con, f"quarantine.{table}"):
            run_sql(con, "ops/retention/quarantine_values",
                    {"sha256": sha, "patch": json.dumps({h: None for h in columns})}, table=table)
    if text_headers and table_exists(con, f"staging.{table}"):
        run_sql(con, "ops/retention/redacted_text", {"sha256": sha}, table=table,
                text_column=Fragment(quoted(text_headers[0])))
    if text_headers and table_exists(con, f"quarantine.{table}"):
        run_sql(con, "ops/retention/quarantine_text", {"sha256": sha, "header": text_headers[0]}, table=table,
                text_column=Fragment(quoted(text_headers[0])))
    rows = run_sql(con, "ops/retention/rows_of_file", {"sha256": sha}, table=table).fetchone()[0]
    run_sql(con, "ops/retention/record", {
        "sha256": sha, "table_name": table, "columns": json.dumps(list(columns)), "rows_kept": rows,
        "applied_at": now, "rule": policy.describe()})
    return RetainedFile(table, file_name, columns, int(rows), unstaged)


class _UnstagedTextRedactor:
    """Redacts raw free text that has no staged (redacted) row, with the redactor staging uses.

    Its known people are read from the whole raw layer when it is made, before this retention
    nulls any personal data (a file retained earlier has lost its own), and only when a due
    file has free text.
    """

    def __init__(self, con, mappings: dict[str, TableMapping], model: str | None, due_tables: set[str]):
        self._con, self._mappings, self._model, self._redactor = con, mappings, model, None
        has_text = any(TEXT_COLUMN in mappings[t].columns.values() for t in due_tables if t in mappings)
        self._known = self._known_people() if has_text else None

    def redact_unstaged(self, sha: str, table: str, header: str) -> int:
        from tasks.ingest.staging import resolve_max_text_chars

        con, text_column = self._con, Fragment(quoted(header))
        if not table_exists(con, f"staging.{table}"):
            return 0
        rows = run_sql(con, "ops/retention/unstaged_texts", {"sha256": sha}, table=table,
                       text_column=text_column).fetchall()
        if not rows:
            return 0
        limit = resolve_max_text_chars()
        short = [(n, t) for n, t in rows if len(t) <= limit]
        redacted = dict(zip([n for n, _ in short], (r for r, _ in self._get().redact_many([t for _, t in short]))))
        texts = [redacted[n] if n in redacted else _filler(len(t)) for n, t in rows]
        con.register("retention_texts", pa.table({"_row_number": [n for n, _ in rows], "text": texts}))
        try:
            run_sql(con, "ops/retention/set_texts", {"sha256": sha}, table=table, text_column=text_column,
                    texts="retention_texts")
        finally:
            con.unregister("retention_texts")
        return len(rows)

    def _get(self):
        if self._redactor is None:
            from tasks.privacy.redaction import build_redactor

            self._redactor = build_redactor(self._known, model=self._model)
        return self._redactor

    def _known_people(self):
        from tasks.privacy.redaction import KnownPeople

        kp = KnownPeople()
        for table, m in self._mappings.items():
            present = {r[0] for r in run_sql(self._con, "ops/raw/columns", {"table_name": table}).fetchall()}
            fields = {f: h for h, f in m.personal_data.items() if f in ("forename", "surname", "email") and h in present}
            if not fields:
                continue
            names = list(fields)
            for values in run_sql(self._con, "ops/retention/personal_values", table=table,
                                  columns=column_list(fields[f] for f in names)).fetchall():
                rec = {f: (v or "").strip() for f, v in zip(names, values)}
                fn, sn, em = rec.get("forename"), rec.get("surname"), rec.get("email")
                kp.forenames |= {fn} if fn else set()
                kp.surnames |= {sn} if sn else set()
                kp.full_names |= {f"{fn} {sn}"} if fn and sn else set()
                kp.emails |= {em} if em else set()
        return kp


FILLER = "[text removed by retention] "


def _filler(length: int) -> str:
    """A text of ``length`` characters with no personal data (for a text too long to redact)."""
    return (FILLER * (length // len(FILLER) + 1))[:length]


def _remove_landing_copy(path: Path) -> None:
    if path.exists():
        path.unlink()
    try:
        path.parent.rmdir()
    except OSError:
        pass  # not empty or already gone
