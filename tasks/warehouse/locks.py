"""One writer at a time per DuckDB file, across threads and processes.

DuckDB allows one writing process per file.  Within this project every
write (ingest, validation quarantine, marts, publish) takes this lock, so two
runs never write the same file at once: the second waits up to ``timeout``
seconds, then fails with a clear message.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from pathlib import Path
from typing import Iterator

_thread_locks: dict[str, threading.RLock] = {}


_guard = threading.Lock()


class WriterLockTimeout(RuntimeError):
    pass


def _thread_lock(key: str) -> threading.RLock:
    with _guard:
        return _thread_locks.setdefault(key, threading.RLock())


class FileLockBusy(RuntimeError):
    """The file lock stayed held by someone else for the whole wait; ``holder`` says who."""

    def __init__(self, holder: str):
        super().__init__(holder)
        self.holder = holder


def acquire_file_lock(path: str | Path, timeout: float, holder: str = ""):
    """Take an exclusive ``flock`` on ``path``, waiting up to ``timeout`` seconds.

    Returns the open file (release with :func:`release_file_lock`); the file records
    who holds it, which a waiter reports in :class:`FileLockBusy`.
    """
    from tasks.warehouse.files import private_dir

    path = Path(path)
    private_dir(path.parent)  # the warehouse's folder: 0700 when it is new
    fh = open(path, "a+")
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                fh.seek(0)
                other = fh.read().strip() or "another process"
                fh.close()
                raise FileLockBusy(other) from None
            time.sleep(0.25)
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid {os.getpid()} {holder}".strip())
    fh.flush()
    return fh


def release_file_lock(fh) -> None:
    with contextlib.suppress(OSError):
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    fh.close()


@contextlib.contextmanager
def writer_lock(db_path: str | Path, timeout: float = 1800.0, holder: str = "") -> Iterator[None]:
    key = str(Path(db_path).resolve())
    tl = _thread_lock(key)
    deadline = time.monotonic() + timeout
    if not tl.acquire(timeout=max(timeout, 0.001)):
        raise WriterLockTimeout(f"timed out after {timeout:.0f}s waiting to write {db_path}: another task is writing")
    try:
        try:
            fh = acquire_file_lock(f"{key}.lock", max(deadline - time.monotonic(), 0.0), holder)
        except FileLockBusy as busy:
            raise WriterLockTimeout(
                f"timed out after {timeout:.0f}s waiting to write {db_path}: held by {busy.holder}"
            ) from None
        try:
            yield
        finally:
            release_file_lock(fh)
    finally:
        tl.release()
