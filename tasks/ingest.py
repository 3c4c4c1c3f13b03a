"""Ingest: landing zone -> raw -> staging -> marts.

* Landing: each extract file is copied once, read-only, to
  ``<db>.landing/<sha256>/<name>`` and recorded in ``landing.manifest``.  The
  same bytes again are a no-op; changed bytes get a new landing entry.
* Raw: ``raw.<table>`` holds every row as received, every column as text,
  with ``_sha256`` and ``_row_number`` lineage.
* Staging: typed, canonical names (through ``mappings/<system>.yaml``),
  codes normalised, identifiers pseudonymised, free text redacted.  Rows that
  cannot be staged go to ``quarantine.<table>`` with their raw values.
* Marts: analysis-ready tables (docs/data-contract.md).

``ingest_extracts`` does land + raw + staging; ``build_marts`` the marts.  The
validation gate (tasks/validation.py) runs between them.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pyarrow as pa
import yaml

from tasks import registry
from tasks.extract_files import ExtractError, iter_files, read_extract, sha256_file, file_format
from tasks.vocabulary import (
    CANONICAL_TABLES, DEFAULT_PROGRAMME_START, MAPPINGS_DIR, REFERENCE_DIR, TABLE_KEYS, TEXT_TABLES,
)
from tasks.run_context import parse_month
from tasks.warehouse import (
    Fragment, aliased_list, column_list, connect, quoted, run_sql, sql_text, table_exists, writing,
)

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]
IGNORED_PREFIXES = ("truth",)  # the generator's answer key is never read
MART_STEPS = ("marts/reference", "marts/vacancy_features", "marts/application_funnel",
              "marts/panel_members", "marts/score_sheets", "marts/text_tables", "marts/workforce")


# --------------------------------------------------------------------------
# Mappings
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class TableMapping:
    table: str
    source_system: str
    file_pattern: str
    columns: dict[str, str]            # export header -> canonical column
    personal_data: dict[str, str]      # export header -> forename/surname/email/phone
    date_format: str
    trues: tuple[str, ...]
    falses: tuple[str, ...]


def load_mappings(paths: list[Path] | None = None) -> dict[str, TableMapping]:
    """table -> mapping, from the given YAML files (default: every mappings/*.yaml)."""
    paths = paths or sorted(MAPPINGS_DIR.glob("*.yaml"))
    out: dict[str, TableMapping] = {}
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise ExtractError(f"mapping file not found: {path}")
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ExtractError(f"{path.name}: not valid YAML ({exc.__class__.__name__})") from None
        for table, spec in (doc.get("tables") or {}).items():
            if table not in CANONICAL_TABLES:
                raise ExtractError(f"{path.name}: unknown table {table!r}; canonical tables: {', '.join(CANONICAL_TABLES)}")
            cols = {str(k): str(v) for k, v in (spec.get("columns") or {}).items()}
            unknown = sorted(set(cols.values()) - set(CANONICAL_TABLES[table]))
            if unknown:
                raise ExtractError(f"{path.name}: {table} maps to unknown columns {', '.join(unknown)}")
            missing = [c for c in CANONICAL_TABLES[table] if c not in cols.values()
                       and not (table == "applications" and c == "staff_id")]
            if missing:
                raise ExtractError(f"{path.name}: {table} has no mapping for {', '.join(missing)}")
            out[table] = TableMapping(
                table=table, source_system=str(doc.get("source_system", path.stem)),
                file_pattern=str(spec.get("file_pattern", f"{table}*")), columns=cols,
                personal_data={str(k): str(v) for k, v in (spec.get("personal_data") or {}).items()},
                date_format=str(doc.get("date_format", "%Y-%m-%d")),
                trues=tuple(str(x) for x in doc.get("boolean_true", ["Y", "Yes", "TRUE", "1"])),
                falses=tuple(str(x) for x in doc.get("boolean_false", ["N", "No", "FALSE", "0"])),
            )
    return out


# --------------------------------------------------------------------------
# Discovery
# --------------------------------------------------------------------------
@dataclass
class ExtractFile:
    table: str
    path: Path
    fmt: str
    source_system: str


def discover(extracts_dir: Path, mappings: dict[str, TableMapping]) -> tuple[list[ExtractFile], list[str]]:
    """Match files to tables by each mapping's file_pattern.  Returns (files, ignored file names)."""
    import fnmatch

    extracts_dir = Path(extracts_dir)
    if not extracts_dir.exists():
        raise ExtractError(f"extracts folder not found: {extracts_dir}")
    if not extracts_dir.is_dir():
        raise ExtractError(f"not a folder: {extracts_dir}")
    files: list[ExtractFile] = []
    ignored: list[str] = []
    for path in iter_files(extracts_dir):
        if path.name.lower().startswith(IGNORED_PREFIXES):
            continue
        stem = path.name.rsplit(".", 1)[0]
        matches = [m for m in mappings.values() if fnmatch.fnmatch(stem.lower(), m.file_pattern.lower())]
        if not matches:
            ignored.append(path.name)
            continue
        if len(matches) > 1:  # most specific pattern wins
            matches.sort(key=lambda m: -len(m.file_pattern))
        m = matches[0]
        try:
            fmt = file_format(path)
        except ExtractError:
            ignored.append(path.name)
            continue
        files.append(ExtractFile(m.table, path, fmt, m.source_system))
    found = {f.table for f in files}
    missing = [t for t in mappings if t not in found]
    if missing:
        raise ExtractError(
            f"no file for table(s) {', '.join(missing)} in {extracts_dir} "
            f"(expected names matching {', '.join(mappings[t].file_pattern for t in missing)})"
        )
    return files, ignored


# --------------------------------------------------------------------------
# Pseudonymisation key
# --------------------------------------------------------------------------
def pseudonym_key(db_path: str | Path) -> str:
    env = os.environ.get("EDI_RECRUIT_PSEUDONYM_KEY")
    if env:
        return env
    key_path = Path(f"{db_path}.key")
    if key_path.exists():
        return key_path.read_text(encoding="utf-8").strip()
    key = secrets.token_hex(32)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.write_text(key, encoding="utf-8")
    os.chmod(key_path, stat.S_IRUSR | stat.S_IWUSR)
    return key


def key_fingerprint(key: str) -> str:
    return hashlib.sha256(("fingerprint|" + key).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------
# Landing and raw
# --------------------------------------------------------------------------
@dataclass
class LandedFile:
    table: str
    file_name: str
    sha256: str
    row_count: int
    new: bool
    notes: list[str] = field(default_factory=list)


def landing_dir(db_path: str | Path) -> Path:
    return Path(f"{db_path}.landing")


def _ensure_raw_table(con, table: str, headers: list[str]) -> None:
    if not table_exists(con, f"raw.{table}"):
        run_sql(con, "raw/create_table", table=table, column_defs=column_list(headers, "VARCHAR"))
        return
    existing = {r[0] for r in run_sql(con, "raw/columns", {"table_name": table}).fetchall()}
    for h in headers:
        if h not in existing:
            run_sql(con, "raw/add_column", table=table, column=Fragment(quoted(h)))


def land_file(con, ef: ExtractFile, mapping: TableMapping, db_path: str | Path) -> LandedFile:
    """Copy a file into the landing zone and its rows into raw.<table>, once per content hash."""
    sha = sha256_file(ef.path)
    row = run_sql(con, "landing/lookup", {"sha256": sha}).fetchone()
    if row is not None:
        return LandedFile(ef.table, ef.path.name, sha, int(row[0]), new=False)
    expected = set(mapping.columns) | set(mapping.personal_data)
    with tempfile.TemporaryDirectory(prefix="edi-ingest-") as tmp:
        res = read_extract(ef.path, Path(tmp) / "rows.parquet", expected)
        dest_dir = landing_dir(db_path) / sha
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest = dest_dir / ef.path.name
        if not dest.exists():
            shutil.copyfile(ef.path, dest)
            os.chmod(dest, stat.S_IRUSR | stat.S_IRGRP)
        con.execute("BEGIN TRANSACTION")
        try:
            _ensure_raw_table(con, ef.table, res.headers)
            run_sql(con, "raw/insert_file", {"sha256": sha, "parquet_path": str(res.parquet_path)}, table=ef.table)
            _set_setting(con, f"headers:{sha}", json.dumps(res.headers))
            run_sql(con, "landing/insert_manifest", {
                "sha256": sha, "file_name": ef.path.name, "source_system": mapping.source_system,
                "table_name": ef.table, "file_format": ef.fmt, "encoding": res.encoding,
                "size_bytes": ef.path.stat().st_size, "row_count": res.row_count,
                "header_row": res.header_row, "landed_path": str(dest), "landed_at": registry.now(),
            })
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    notes = list(res.notes)
    if res.malformed_rows:
        notes.append(f"{res.malformed_rows} malformed row(s) kept for quarantine")
    return LandedFile(ef.table, ef.path.name, sha, res.row_count, new=True, notes=notes)


# --------------------------------------------------------------------------
# Staging
# --------------------------------------------------------------------------
def _create_source_view(con, mapping: TableMapping, view: str, file_headers: dict[str, list[str]]) -> None:
    table = mapping.table
    for file_name, headers in file_headers.items():
        missing = [h for h in mapping.columns if h not in headers]
        if missing:
            present = ", ".join(headers[:12]) + (" …" if len(headers) > 12 else "")
            raise ExtractError(
                f"{file_name}: required column(s) {', '.join(repr(h) for h in missing)} "
                f"(→ {', '.join(mapping.columns[h] for h in missing)}) not found; headers are: {present}"
            )
    pairs = list(mapping.columns.items())
    pairs += [(h, f"pd_{c}") for h, c in mapping.personal_data.items()
              if all(h in hs for hs in file_headers.values())]
    select_list = aliased_list(pairs)
    if table == "applications" and "staff_id" not in mapping.columns.values():
        # an export without ESR numbers: no applicant links to the workforce
        select_list = Fragment(select_list + ", CAST(NULL AS VARCHAR) AS staff_id")
    run_sql(con, "staging/source_view", view=view, table=table, select_list=select_list)


def _personal_data(con, mappings: dict[str, TableMapping]):
    from tasks.redaction import KnownPeople

    forenames, surnames, full, emails = set(), set(), set(), set()
    for table, m in mappings.items():
        fields = set(m.personal_data.values())
        if not fields:
            continue
        view = f"src_{table}"
        cols = {r[0] for r in run_sql(con, "staging/view_columns", view=view).fetchall()}
        have = [f for f in ("forename", "surname", "email") if f"pd_{f}" in cols]
        if not have:
            continue
        rows = run_sql(con, "staging/known_people", view=view,
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


def _redact_table(con, table: str, redactor, progress: Progress | None) -> int:
    rows = con.execute(sql_text("staging/text_source", source=f"src_{table}")).fetchall()
    texts = [r[2] or "" for r in rows]
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
    run_sql(con, "staging/set_redacted_text", table=f"staging.{table}", redacted="redacted_text")
    con.unregister("redacted_text")
    return len(rows)


def quarantine(con, table: str, rows_relation: str) -> None:
    """Move rows (a relation of _sha256, _row_number, expectation, reason) from staging to quarantine."""
    run_sql(con, "staging/quarantine_create", table=table)
    run_sql(con, "staging/quarantine_rows", table=table, rows=rows_relation)


def reconcile(con, tables: list[str] | None = None) -> list[dict]:
    """raw (current set) = staging + quarantine, per table."""
    out = []
    for t in tables or list(CANONICAL_TABLES):
        run_sql(con, "staging/quarantine_create", table=t)
        r = con.execute(sql_text("staging/reconcile", table=t), {"table_name": t}).fetchone()
        rec = {"table_name": r[0], "raw_rows": int(r[1]), "staged_rows": int(r[2]), "quarantined_rows": int(r[3])}
        rec["balanced"] = rec["raw_rows"] == rec["staged_rows"] + rec["quarantined_rows"]
        out.append(rec)
    return out


def extract_set_sha256(landed: list[LandedFile]) -> str:
    lines = sorted(f"{f.table}:{f.sha256}" for f in landed)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _setting(con, name: str) -> str | None:
    r = run_sql(con, "meta/get_setting", {"name": name}).fetchone()
    return r[0] if r else None


def _set_setting(con, name: str, value: str) -> None:
    run_sql(con, "meta/set_setting", {"name": name, "value": value})


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


def _staging_fingerprint(input_sha: str, key: str, mappings: dict[str, TableMapping], redaction_model: str | None) -> str:
    from tasks.vocabulary import SQL_DIR

    h = hashlib.sha256()
    h.update(input_sha.encode())
    h.update(key_fingerprint(key).encode())
    h.update(repr(sorted((t, sorted(m.columns.items()), m.date_format) for t, m in mappings.items())).encode())
    h.update(str(redaction_model).encode())
    for p in sorted((SQL_DIR / "staging").glob("*.sql")):
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
) -> IngestSummary:
    """Land every extract file, load raw, and (re)build staging for this extract set.

    Re-ingesting identical files adds nothing and, unless ``force``, leaves staging as it is.
    """
    extracts_dir = Path(extracts_dir)
    mappings = load_mappings(mapping_paths)
    files, ignored = discover(extracts_dir, mappings)
    key = pseudonym_key(db_path)
    with writing(db_path) as con:
        run_sql(con, "landing/manifest")
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
        fingerprint = _staging_fingerprint(input_sha, key, mappings, redaction_model)
        rebuilt = force or _setting(con, "staging_fingerprint") != fingerprint
        if rebuilt:
            _build_staging(con, mappings, landed, key, redaction_model, progress)
            _set_setting(con, "staging_fingerprint", fingerprint)
            _set_setting(con, "input_sha256", input_sha)
            _set_setting(con, "marts_fingerprint", "")
        summary = IngestSummary(str(extracts_dir), str(db_path), input_sha, landed, ignored, rebuilt)
        summary.reconciliation = reconcile(con, list(mappings))
        for rec in summary.reconciliation:
            summary.staged_rows[rec["table_name"]] = rec["staged_rows"]
            summary.quarantined_rows[rec["table_name"]] = rec["quarantined_rows"]
    return summary


def _build_staging(con, mappings, landed: list[LandedFile], key: str, redaction_model, progress) -> None:
    from tasks.redaction import build_redactor

    con.execute("BEGIN TRANSACTION")
    try:
        run_sql(con, "meta/extract_set_clear")
        for lf in landed:
            run_sql(con, "meta/extract_set_add", {"table_name": lf.table, "sha256": lf.sha256, "file_name": lf.file_name})
        run_sql(con, "staging/macros")
        # headers per file, for the critical column check
        for table, m in mappings.items():
            file_headers = {lf.file_name: _headers_of_file(con, lf.sha256) for lf in landed if lf.table == table}
            _create_source_view(con, m, f"src_{table}", file_headers)
        n_tables = len(mappings)
        for i, (table, m) in enumerate(mappings.items(), 1):
            if progress:
                progress("staging", i - 1, n_tables)
            run_sql(con, f"staging/{table}", {
                "key": key, "date_format": m.date_format, "trues": list(m.trues), "falses": list(m.falses),
            }, source=f"src_{table}")
        redactor = None
        for table in TEXT_TABLES:
            if table in mappings:
                if redactor is None:
                    redactor = build_redactor(_personal_data(con, mappings), model=redaction_model)
                _redact_table(con, table, redactor, progress)
        # the rejection path: unparseable values and malformed rows
        for table in mappings:
            run_sql(con, "staging/quarantine_create", table=table)
            run_sql(con, "staging/quarantine_clear", table=table)
            run_sql(con, "staging/row_rejects", table=table, source=f"src_{table}", rejects=f"rejects_{table}")
            quarantine(con, table, f"rejects_{table}")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    if progress:
        progress("staging", len(mappings), len(mappings))


def _headers_of_file(con, sha: str) -> list[str]:
    value = _setting(con, f"headers:{sha}")
    return json.loads(value) if value else []


def build_marts(db_path: str | Path, programme_start: str = DEFAULT_PROGRAMME_START, force: bool = False) -> bool:
    """(Re)build the marts for the current staging and programme start.  Returns True if rebuilt."""
    start = parse_month(programme_start)
    with writing(db_path) as con:
        fp = hashlib.sha256(f"{_setting(con, 'staging_fingerprint')}|{start}|{_quarantine_count(con)}".encode()).hexdigest()
        if not force and _setting(con, "marts_fingerprint") == fp:
            return False
        con.execute("BEGIN TRANSACTION")
        try:
            run_sql(con, "staging/macros")
            for step in MART_STEPS:
                run_sql(con, step, {
                    "programme_start": start,
                    "ethnic_csv": str(REFERENCE_DIR / "nhs_ethnic_category.csv"),
                    "wres_csv": str(REFERENCE_DIR / "wres_indicator2_national.csv"),
                })
            _set_setting(con, "marts_fingerprint", fp)
            _set_setting(con, "programme_start", str(start))
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    return True


def _quarantine_count(con) -> int:
    total = 0
    for t in CANONICAL_TABLES:
        if table_exists(con, f"quarantine.{t}"):
            total += run_sql(con, "staging/count_rows", table=f"quarantine.{t}").fetchone()[0]
    return total
