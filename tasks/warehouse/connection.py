"""DuckDB connections: read-only reads for analyses, one writer at a time.

Readers and the single writer share one DuckDB instance per process; writers
hold :func:`tasks.warehouse.locks.writer_lock`.  Extensions are never
downloaded at run time.  DuckDB's memory limit and threads come from the run's
configuration (:func:`configure`, called by the flows with
:meth:`tasks.core.config.RunConfig.duckdb_settings`); before that, from
:func:`tasks.core.config.duckdb_settings` (environment variables read when a
connection opens, never at import time).

The warehouse and its WAL hold personal data (the raw layer): a connection
first makes the process umask owner-only and creates a missing warehouse folder
0700 (:mod:`tasks.warehouse.files`), so both are created 0600; an older
warehouse file is set 0600 when it is opened for writing.  With a warehouse key
set, the file is an encrypted DuckDB database (:mod:`tasks.warehouse.encryption`).
"""
from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Iterator

import duckdb

from tasks.core.config import duckdb_settings
from tasks.core.vocabulary import SCHEMAS
from tasks.warehouse.encryption import open_encrypted, warehouse_key
from tasks.warehouse.files import make_private, owner_only_umask, private_dir
from tasks.warehouse.sql import sql_text

DUCKDB_SETTINGS = {
    # never download extensions at run time
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "false",
}


class WarehouseBusy(RuntimeError):
    """Another process holds the DuckDB file for writing."""


_resources: dict[str, str] | None = None   # set by configure(); None: resolve from the environment


def configure(resources: dict[str, str] | None) -> None:
    """Use these DuckDB resource settings (``memory_limit``, ``threads``) for every later connection
    in this process; ``None`` goes back to resolving them from the environment at connect time.
    DuckDB keeps one instance per file and process, so call this before a run opens the warehouse."""
    global _resources
    _resources = dict(resources) if resources is not None else None


def _config() -> dict:
    cfg = dict(DUCKDB_SETTINGS)
    cfg.update(_resources if _resources is not None else duckdb_settings())
    return cfg


def connect(db_path: str | Path, read_only: bool = False, wait_seconds: float = 0.0,
            create_schemas: bool | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse.  A write connection creates the schemas.

    When another process holds the file, retry for ``wait_seconds`` and then
    raise :class:`WarehouseBusy` with a clear message.
    """
    db_path = str(db_path)
    if read_only and not Path(db_path).exists():
        raise FileNotFoundError(f"no warehouse at {db_path}: run `edi-recruit ingest` or `edi-recruit run` first")
    owner_only_umask()
    if not read_only:
        private_dir(Path(db_path).parent)
        make_private(db_path)
        make_private(f"{db_path}.wal")
    key = warehouse_key()
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            if key is not None:
                con = open_encrypted(db_path, config=_config(), key=key)
            else:
                con = duckdb.connect(db_path, read_only=read_only, config=_config())
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"the warehouse {db_path} is in use by another process; wait for it to finish"
                ) from exc
            time.sleep(0.5)
    if create_schemas if create_schemas is not None else not read_only:
        for schema in SCHEMAS:
            con.execute(sql_text("ops/meta/create_schema", schema=schema))
    return con


@contextlib.contextmanager
def reading(db_path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection for reading.

    It is opened with the same configuration as writers so that, inside one
    process, readers and the single writer share one DuckDB instance (DuckDB
    refuses a read-only and a read-write instance of one file in a process).
    Readers never write; writers hold tasks.warehouse.locks.writer_lock.
    """
    if not Path(str(db_path)).exists():
        raise FileNotFoundError(f"no warehouse at {db_path}: run `edi-recruit ingest` or `edi-recruit run` first")
    con = connect(db_path, read_only=False, wait_seconds=60, create_schemas=False)
    try:
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def writing(db_path: str | Path, wait_seconds: float = 1800) -> Iterator[duckdb.DuckDBPyConnection]:
    """The single writer: holds the writer lock for the file while connected."""
    from tasks.warehouse.locks import writer_lock

    with writer_lock(db_path, timeout=wait_seconds):
        con = connect(db_path, read_only=False, wait_seconds=wait_seconds)
        try:
            yield con
        finally:
            con.close()


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, _, table = qualified.partition(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )
