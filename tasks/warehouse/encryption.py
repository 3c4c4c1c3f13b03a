"""Encryption at rest: the warehouse as an encrypted DuckDB database (opt-in).

When ``EDI_RECRUIT_WAREHOUSE_KEY`` (the key itself) or ``EDI_RECRUIT_WAREHOUSE_KEY_FILE``
(a file holding it) is set, :func:`tasks.warehouse.connection.connect` opens the
warehouse through :func:`open_encrypted`: one in-memory DuckDB instance per file and
process ATTACHes it with ``ENCRYPTION_KEY`` (AES-GCM, DuckDB's own format, the WAL
included) and every connection is a cursor on it with ``USE wh``; the instance is
closed (and checkpointed) when its last connection closes, so the file is released
as an unencrypted one would be.

DuckDB writes encrypted files with OpenSSL from its ``httpfs`` extension.  Nothing is
ever downloaded: ``httpfs`` is loaded only when already installed.  Without it,
DuckDB's built-in crypto library is refused unless
``EDI_RECRUIT_WAREHOUSE_BUILTIN_CRYPTO=1`` accepts it (DuckDB calls such files "not
securely encrypted"; docs/runbook.md, "Keys and data at rest").  A wrong key, or an
unencrypted warehouse opened with a key, is one clear line.  Keys are never logged.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import duckdb

from tasks.core.secrets import secret_from_environment

KEY_ENV = "EDI_RECRUIT_WAREHOUSE_KEY"
KEY_FILE_ENV = "EDI_RECRUIT_WAREHOUSE_KEY_FILE"
BUILTIN_CRYPTO_ENV = "EDI_RECRUIT_WAREHOUSE_BUILTIN_CRYPTO"
CATALOG = "wh"

NO_OPENSSL = ("the warehouse is to be encrypted ({key_env} is set) but DuckDB's httpfs extension (OpenSSL) "
              "is not installed and nothing is downloaded at run time: install it once "
              "(`INSTALL httpfs` in DuckDB, or copy the extension file), or set {builtin}=1 to accept "
              "DuckDB's built-in crypto")
CANNOT_OPEN = ("cannot open the encrypted warehouse {db}: {why} (check {key_env} / {key_file_env}; "
               "an unencrypted warehouse cannot be opened with a key)")


class EncryptionError(RuntimeError):
    """The encrypted warehouse cannot be opened or written (one line, never the key)."""


def warehouse_key() -> str | None:
    """The encryption key from the environment, or None when the warehouse is not encrypted."""
    return secret_from_environment(value_env=KEY_ENV, file_env=KEY_FILE_ENV)


def encrypted() -> bool:
    return warehouse_key() is not None


_guard = threading.Lock()
_hubs: dict[str, dict] = {}   # resolved path -> {"hub": connection, "refs": open cursors}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _load_crypto(hub: duckdb.DuckDBPyConnection) -> None:
    try:
        hub.execute("LOAD httpfs")   # only if installed: autoinstall is off
        return
    except duckdb.Error:
        pass
    if os.environ.get(BUILTIN_CRYPTO_ENV) != "1":
        raise EncryptionError(NO_OPENSSL.format(key_env=KEY_ENV, builtin=BUILTIN_CRYPTO_ENV))
    hub.execute("SET force_mbedtls_unsafe = 'true'")


class EncryptedConnection:
    """A cursor on the process's instance of an encrypted warehouse; closing the last one closes the instance."""

    def __init__(self, key: str, cursor: duckdb.DuckDBPyConnection):
        self._key, self._cursor, self._closed = key, cursor, False

    def __getattr__(self, name):
        return getattr(self._cursor, name)

    def execute(self, *args, **kwargs):
        self._cursor.execute(*args, **kwargs)
        return self

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._cursor.close()
        with _guard:
            entry = _hubs[self._key]
            entry["refs"] -= 1
            if entry["refs"] == 0:
                del _hubs[self._key]
                entry["hub"].close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_encrypted(db_path: str | Path, *, config: dict, key: str) -> EncryptedConnection:
    """A connection to the encrypted warehouse (raises duckdb.IOException when another process holds it).

    The file is attached for writing by the first connection of the process, as the
    unencrypted warehouse is (readers and the single writer share one instance)."""
    resolved = str(Path(db_path).resolve())
    with _guard:
        entry = _hubs.get(resolved)
        if entry is None:
            hub = duckdb.connect(":memory:", config=config)
            try:
                _load_crypto(hub)
                hub.execute(f"ATTACH {_literal(resolved)} AS {CATALOG} (ENCRYPTION_KEY {_literal(key)})")
            except duckdb.IOException as exc:
                hub.close()
                if "lock" in str(exc).lower():
                    raise
                raise EncryptionError(CANNOT_OPEN.format(db=db_path, why=_why(exc), key_env=KEY_ENV,
                                                         key_file_env=KEY_FILE_ENV)) from None
            except duckdb.Error as exc:
                hub.close()
                raise EncryptionError(CANNOT_OPEN.format(db=db_path, why=_why(exc), key_env=KEY_ENV,
                                                         key_file_env=KEY_FILE_ENV)) from None
            entry = _hubs[resolved] = {"hub": hub, "refs": 0}
        cursor = entry["hub"].cursor()
        entry["refs"] += 1
    cursor.execute(f"USE {CATALOG}")
    return EncryptedConnection(resolved, cursor)


def _why(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0].replace(os.environ.get(KEY_ENV) or "\0", "***")[:200]
