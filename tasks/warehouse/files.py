"""Owner-only files and folders for everything that holds personal data.

The warehouse, its WAL, the pseudonymisation key, the landing copies and the
Prefect database are created 0600 in 0700 folders.  :func:`owner_only_umask`
tightens the process umask (group and others lose every bit) before any of them
is created; it is process-wide on purpose, as DuckDB creates the WAL itself.
:func:`private_dir` creates a folder 0700; :func:`write_private_text` writes a
file 0600 from its first byte.  Folders that already exist are left as they are
(a user's own folder is theirs to set).
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

OWNER_ONLY_FILE = stat.S_IRUSR | stat.S_IWUSR                   # 0600
OWNER_ONLY_DIR = stat.S_IRUSR | stat.S_IWUSR | stat.S_IXUSR     # 0700


def owner_only_umask() -> None:
    """Add 0o077 to the process umask: files this process creates are private to their owner."""
    old = os.umask(0o077)
    os.umask(old | 0o077)


def private_dir(path: str | Path) -> Path:
    """Create ``path`` (and missing parents) 0700; an existing folder is left unchanged."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for p in reversed(missing):
        try:
            p.mkdir(mode=OWNER_ONLY_DIR)
        except FileExistsError:
            continue
        os.chmod(p, OWNER_ONLY_DIR)
    return path


def write_private_text(path: str | Path, text: str) -> None:
    """Write ``text`` to a new or existing file that is 0600 from its first byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fh.fileno(), OWNER_ONLY_FILE)
        fh.write(text)


def make_private(path: str | Path) -> None:
    """chmod an existing file 0600 (a warehouse created before this rule)."""
    path = Path(path)
    if path.exists() and stat.S_IMODE(path.stat().st_mode) != OWNER_ONLY_FILE:
        os.chmod(path, OWNER_ONLY_FILE)
