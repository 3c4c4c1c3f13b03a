"""One process works on a warehouse at a time; inside it, one DuckDB instance.

A flow run (or a backfill, with its nested month runs) holds a *warehouse
session* for its whole duration:

* across processes, an exclusive ``flock`` on ``<db>.session.lock``: a second
  run in another process (another worker, the CLI) waits up to ``timeout``
  seconds and then fails with a clear message.  The session lock is taken
  before the file is opened, so it can never deadlock against the per-write
  lock (tasks.warehouse.locks) that a process takes while it already has the file open;
* inside the process, an *anchor* connection keeps one DuckDB instance alive
  while tasks open and close their own connections from several threads
  (DuckDB can otherwise race between destroying an instance and attaching the
  file again: "Unique file handle conflict").

Sessions nest and are shared between threads of a process (reference counted).
"""
from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Iterator

from tasks.warehouse.locks import release_file_lock

_guard = threading.Lock()
_sessions: dict[str, dict] = {}
_create_locks: dict[str, threading.Lock] = {}


class WarehouseSessionTimeout(RuntimeError):
    """Another process has been working on the warehouse for longer than we wait."""


def _key(db: str | Path) -> str:
    return str(Path(db).resolve())


def _acquire_session_lock(path: Path, timeout: float, what: str):
    from tasks.warehouse.locks import FileLockBusy, acquire_file_lock

    try:
        return acquire_file_lock(path, timeout)
    except FileLockBusy as busy:
        raise WarehouseSessionTimeout(
            f"the warehouse {what} is in use by {busy.holder}; waited {timeout:.0f}s. "
            "Wait for that run to finish (see `edi-recruit runs`), then try again."
        ) from None


@contextlib.contextmanager
def warehouse_session(db: str | Path, timeout: float = 3600.0) -> Iterator[None]:
    """Hold the warehouse for this process (see module docstring)."""
    from tasks.warehouse.connection import connect

    key = _key(db)
    with _guard:
        create_lock = _create_locks.setdefault(key, threading.Lock())
    with create_lock:  # one thread per process opens the session; the others join it
        with _guard:
            entry = _sessions.get(key)
            if entry is not None:
                entry["refs"] += 1
        if entry is None:
            # first user in this process: serialise with other processes, then anchor
            fh = _acquire_session_lock(Path(f"{key}.session.lock"), timeout, str(db))
            try:
                Path(key).parent.mkdir(parents=True, exist_ok=True)
                anchor = connect(key, read_only=False, wait_seconds=timeout)
            except BaseException:
                release_file_lock(fh)
                raise
            with _guard:
                _sessions[key] = {"refs": 1, "fh": fh, "anchor": anchor}
    try:
        yield
    finally:
        with create_lock:
            with _guard:
                entry = _sessions[key]
                entry["refs"] -= 1
                last = entry["refs"] == 0
                if last:
                    del _sessions[key]
            if last:
                try:
                    entry["anchor"].close()
                finally:
                    release_file_lock(entry["fh"])
