"""Landing and raw: each extract file is copied once, read-only, to
``<db>.landing/<sha256>/<name>`` (0400 in 0700 folders: it holds personal data) and recorded in ``landing.manifest``; its rows
go to ``raw.<table>``, every column as text, with ``_sha256`` and
``_row_number`` lineage.  The same bytes again are a no-op.

:func:`land_file` returns a :class:`LandedFile`; :func:`extract_set_sha256`
identifies a set of landed files.  SQL in ``sql/ops/landing/`` and
``sql/ops/raw/``.  A landed file is never modified and raw rows are never
deleted or typed (typing is staging's).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tasks.ingest.mappings import ExtractFile, TableMapping
from tasks.ingest.readers import read_extract, sha256_file
from tasks.publish import registry
from tasks.warehouse.connection import table_exists
from tasks.warehouse.files import private_dir
from tasks.warehouse.meta import set_setting
from tasks.warehouse.sql import Fragment, column_list, quoted, run_sql


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
        run_sql(con, "ops/raw/create_table", table=table, column_defs=column_list(headers, "VARCHAR"))
        return
    existing = {r[0] for r in run_sql(con, "ops/raw/columns", {"table_name": table}).fetchall()}
    for h in headers:
        if h not in existing:
            run_sql(con, "ops/raw/add_column", table=table, column=Fragment(quoted(h)))


def land_file(con, ef: ExtractFile, mapping: TableMapping, db_path: str | Path) -> LandedFile:
    """Copy a file into the landing zone and its rows into raw.<table>, once per content hash."""
    sha = sha256_file(ef.path)
    row = run_sql(con, "ops/landing/lookup", {"sha256": sha}).fetchone()
    if row is not None:
        return LandedFile(ef.table, ef.path.name, sha, int(row[0]), new=False)
    expected = set(mapping.columns) | set(mapping.personal_data)
    with tempfile.TemporaryDirectory(prefix="edi-ingest-") as tmp:
        res = read_extract(ef.path, Path(tmp) / "rows.parquet", expected)
        dest_dir = private_dir(landing_dir(db_path) / sha)
        dest = dest_dir / ef.path.name
        if not dest.exists():
            shutil.copyfile(ef.path, dest)
            os.chmod(dest, stat.S_IRUSR)  # read-only, owner only: it holds personal data
        con.execute("BEGIN TRANSACTION")
        try:
            _ensure_raw_table(con, ef.table, res.headers)
            run_sql(con, "ops/raw/insert_file", {"sha256": sha, "parquet_path": str(res.parquet_path)}, table=ef.table)
            set_setting(con, f"headers:{sha}", json.dumps(res.headers))
            run_sql(con, "ops/landing/insert_manifest", {
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


def extract_set_sha256(landed: list[LandedFile]) -> str:
    lines = sorted(f"{f.table}:{f.sha256}" for f in landed)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def remove_landing_copies(db_path: str | Path) -> int:
    """Delete every landing copy (the policy with an encrypted warehouse: plain copies would defeat it).

    The manifest keeps each file's hash, size and row count; a file already landed is
    recognised by its hash without its copy.  Returns the number of copies removed."""
    removed = 0
    root = landing_dir(db_path)
    if not root.exists():
        return 0
    for path in sorted(root.glob("*/*")):
        if path.is_file():
            path.unlink()
            removed += 1
        with contextlib.suppress(OSError):
            path.parent.rmdir()
    return removed
