"""The trust's pseudonymisation key: identifiers are replaced by a keyed hash at staging.

:func:`pseudonym_key` returns the key: ``EDI_RECRUIT_PSEUDONYM_KEY`` when set (read
at call time), else ``<db>.key`` beside the warehouse, created once with owner-only
permissions.  The hashing itself is SQL (``sql/models/staging/macros.sql``);
:func:`key_fingerprint` lets staging notice a changed key without storing it.
The key is never logged or written anywhere else.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import stat
from pathlib import Path


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
