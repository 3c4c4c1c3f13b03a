"""The trust's pseudonymisation key: identifiers are replaced by a keyed hash at staging.

:func:`pseudonym_key` returns the key, read at call time from, in order:
``EDI_RECRUIT_PSEUDONYM_KEY``; the file named by ``EDI_RECRUIT_PSEUDONYM_KEY_FILE``;
else ``<db>.key`` beside the warehouse, created once with owner-only permissions
(0600, in a 0700 folder when the folder is new).  The hashing itself is SQL
(``sql/models/staging/macros.sql``).  The warehouse keeps only
:func:`key_fingerprint` of the key (``meta.settings``), so that ingest stops with
:class:`PseudonymKeyChanged` when the key differs from the one the warehouse was
built with (:func:`check_key_fingerprint`); ``edi-recruit rekey``
(:mod:`tasks.ingest.rekey`) changes it deliberately.  The key is never logged or
written anywhere else.
"""
from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from tasks.core.secrets import secret_from_environment
from tasks.warehouse.files import private_dir, write_private_text

KEY_ENV = "EDI_RECRUIT_PSEUDONYM_KEY"
KEY_FILE_ENV = "EDI_RECRUIT_PSEUDONYM_KEY_FILE"
FINGERPRINT_SETTING = "pseudonym_key_fingerprint"

KEY_CHANGED = (
    "the pseudonymisation key differs from the one this warehouse was built with "
    "(key fingerprint {current}, warehouse {stored}): set {env} (or {file_env}) back to the old key, "
    "or rotate deliberately with `edi-recruit rekey --db {db}`"
)


class PseudonymKeyChanged(ValueError):
    """The key in use is not the warehouse's key: pseudonyms would not link to earlier ingests."""


# --------------------------------------------------------------------------
# Pseudonymisation key
# --------------------------------------------------------------------------
def pseudonym_key(db_path: str | Path) -> str:
    given = secret_from_environment(value_env=KEY_ENV, file_env=KEY_FILE_ENV)
    if given:
        return given
    key_path = Path(f"{db_path}.key")
    if key_path.exists():
        return key_path.read_text(encoding="utf-8").strip()
    key = secrets.token_hex(32)
    private_dir(key_path.parent)
    write_private_text(key_path, key)
    return key


def key_fingerprint(key: str) -> str:
    return hashlib.sha256(("fingerprint|" + key).encode()).hexdigest()[:16]


def check_key_fingerprint(stored: str | None, key: str, db_path: str | Path) -> None:
    """Raise :class:`PseudonymKeyChanged` (one line) when ``stored`` is set and is not ``key``'s fingerprint."""
    current = key_fingerprint(key)
    if stored and stored != current:
        raise PseudonymKeyChanged(KEY_CHANGED.format(
            current=current, stored=stored, env=KEY_ENV, file_env=KEY_FILE_ENV, db=db_path))
