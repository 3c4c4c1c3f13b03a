"""One process works on a warehouse at a time; inside it, one DuckDB instance.

A flow run (or a backfill, with its nested month runs) holds a *warehouse
session* for its whole duration:

* across processes, an exclusive ``flock`` on ``<db>.session.lock``: a second
  run in another process (another worker, the CLI) waits up to ``timeout``
  seconds and then fails with a clear message.  The session lock is taken
  before the file is opened, so it can never deadlock against the per-write
  lock (tasks.locks) that a process takes while it already has the file open;
* inside the process, an *anchor* connection keeps one DuckDB instance alive
  while tasks open and close their own connections from several threads
  (DuckDB can otherwise race between destroying an instance and attaching the
  file again: "Unique file handle conflict").

Sessions nest and are shared between threads of a process (reference counted).
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from pathlib import Path
from typing import Iterator

_guard = threading.Lock()
_sessions: dict[str, dict] = {}
_create_locks: dict[str, threading.Lock] = {}


class WarehouseSessionTimeout(RuntimeError):
    """Another process has been working on the warehouse for longer than we wait."""


def _key(db: str | Path) -> str:
    return str(Path(db).resolve())


def _acquire_flock(path: Path, timeout: float, what: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+")
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                fh.seek(0)
                holder = fh.read().strip() or "another process"
                fh.close()
                raise WarehouseSessionTimeout(
                    f"the warehouse {what} is in use by {holder}; waited {timeout:.0f}s. "
                    "Wait for that run to finish (see `edi-recruit runs`), then try again."
                ) from None
            time.sleep(0.25)
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid {os.getpid()}")
    fh.flush()
    return fh


@contextlib.contextmanager
def warehouse_session(db: str | Path, timeout: float = 3600.0) -> Iterator[None]:
    """Hold the warehouse for this process (see module docstring)."""
    from tasks.warehouse import connect

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
            fh = _acquire_flock(Path(f"{key}.session.lock"), timeout, str(db))
            try:
                Path(key).parent.mkdir(parents=True, exist_ok=True)
                anchor = connect(key, read_only=False, wait_seconds=timeout)
            except BaseException:
                fh.close()
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
                    with contextlib.suppress(OSError):
                        fcntl.flock(entry["fh"].fileno(), fcntl.LOCK_UN)
                    entry["fh"].close()
