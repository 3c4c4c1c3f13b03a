"""Secrets given by environment: a value, or the path of a file holding it.

Used for the pseudonymisation key (tasks/privacy/pseudonyms.py) and the
warehouse encryption key (tasks/warehouse/encryption.py).  Never logs or
returns anything but the secret itself; error messages name the variable and
the file, never the content.
"""
from __future__ import annotations

import os
from pathlib import Path


def secret_from_environment(*, value_env: str, file_env: str) -> str | None:
    """``$value_env`` if set, else the stripped content of the file ``$file_env`` names, else None.

    Raises FileNotFoundError when ``$file_env`` names no file, ValueError when that file is empty.
    """
    value = os.environ.get(value_env)
    if value:
        return value
    named = os.environ.get(file_env)
    if not named:
        return None
    path = Path(named)
    if not path.is_file():
        raise FileNotFoundError(f"{file_env} names {path}, which is not a file")
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise ValueError(f"{file_env} names {path}, which is empty")
    return secret
