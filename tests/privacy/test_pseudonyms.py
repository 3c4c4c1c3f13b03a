"""The pseudonymisation key: created once, private to its owner."""
from __future__ import annotations

from tasks.privacy.pseudonyms import pseudonym_key


def test_pseudonym_key_file_is_created_once(tmp_path, monkeypatch):
    monkeypatch.delenv("EDI_RECRUIT_PSEUDONYM_KEY", raising=False)
    db = tmp_path / "w.duckdb"
    k1 = pseudonym_key(db)
    k2 = pseudonym_key(db)
    assert k1 == k2 and len(k1) == 64
    assert (tmp_path / "w.duckdb.key").stat().st_mode & 0o077 == 0
