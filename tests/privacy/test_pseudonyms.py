"""The pseudonymisation key: created once, private to its owner."""
from __future__ import annotations

import pytest

from tasks.privacy.pseudonyms import pseudonym_key


def test_pseudonym_key_file_is_created_once(tmp_path, monkeypatch):
    monkeypatch.delenv("EDI_RECRUIT_PSEUDONYM_KEY", raising=False)
    db = tmp_path / "w.duckdb"
    k1 = pseudonym_key(db)
    k2 = pseudonym_key(db)
    assert k1 == k2 and len(k1) == 64
    assert (tmp_path / "w.duckdb.key").stat().st_mode & 0o077 == 0


def test_the_key_can_come_from_a_key_file(tmp_path, monkeypatch):
    from tasks.privacy.pseudonyms import KEY_ENV, KEY_FILE_ENV

    monkeypatch.delenv(KEY_ENV, raising=False)
    key_file = tmp_path / "trust.key"
    key_file.write_text("from-a-file\n")
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    assert pseudonym_key(tmp_path / "w.duckdb") == "from-a-file"
    assert not (tmp_path / "w.duckdb.key").exists()
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "missing.key"))
    with pytest.raises(FileNotFoundError, match="missing.key"):
        pseudonym_key(tmp_path / "w.duckdb")


def test_a_different_fingerprint_is_one_line_naming_rekey(tmp_path):
    from tasks.privacy.pseudonyms import PseudonymKeyChanged, check_key_fingerprint, key_fingerprint

    check_key_fingerprint(None, "k1", "w.duckdb")                  # a new warehouse: any key
    check_key_fingerprint(key_fingerprint("k1"), "k1", "w.duckdb")  # the same key
    with pytest.raises(PseudonymKeyChanged) as exc:
        check_key_fingerprint(key_fingerprint("k1"), "k2", "w.duckdb")
    assert "\n" not in str(exc.value) and "edi-recruit rekey --db w.duckdb" in str(exc.value)
