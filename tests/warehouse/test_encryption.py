"""Encryption at rest: with a warehouse key, no planted name or e-mail is in the file's bytes, and
ingest, validation and the marts work end to end (offline: no extension is downloaded)."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from extract_helpers import small_extracts

from tasks.warehouse.encryption import BUILTIN_CRYPTO_ENV, KEY_ENV, KEY_FILE_ENV, EncryptionError

AS_OF = "2024-01"


@pytest.fixture(scope="module")
def trust(tmp_path_factory):
    out = small_extracts(tmp_path_factory.mktemp("encrypted_trust") / "extracts", seed=4, applications=250)
    return out


def planted(trust: Path) -> list[bytes]:
    rows = list(csv.DictReader((trust / "applications.csv").open(encoding="utf-8", newline="")))
    values = [r["Email"] for r in rows] + [f'{r["Forename"]} {r["Surname"]}' for r in rows]
    values += [r["Surname"] for r in rows if len(r["Surname"]) >= 7]
    return [v.encode() for v in values if v]


def file_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (db, Path(f"{db}.wal")) if p.exists())


def test_plain_warehouse_holds_the_names_so_the_check_can_fail(trust, tmp_path):
    from tasks.ingest.staging import ingest_extracts

    db = tmp_path / "plain.duckdb"
    ingest_extracts(trust, db)
    data = file_bytes(db)
    assert sum(v in data for v in planted(trust)) > 100


def test_encrypted_warehouse_runs_end_to_end_and_holds_no_personal_data(trust, tmp_path, monkeypatch):
    from tasks.ingest.staging import ingest_extracts
    from tasks.marts import build_marts
    from tasks.validation.gate import validate

    key_file = tmp_path / "warehouse.key"
    key_file.write_text("a-long-warehouse-key-for-tests\n")
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    monkeypatch.setenv(BUILTIN_CRYPTO_ENV, "1")   # no httpfs here, and nothing is downloaded
    db = tmp_path / "enc.duckdb"
    summary = ingest_extracts(trust, db)
    assert all(r["balanced"] for r in summary.reconciliation)
    outcome = validate(str(db), "run-enc", as_of=AS_OF, out_dir=str(tmp_path / "out"), data_docs=False)
    assert outcome is not None
    assert build_marts(db)
    from tasks.warehouse.connection import reading

    with reading(db) as con:
        n = con.execute("SELECT count(*) FROM marts.application_funnel").fetchone()[0]
        assert n > 200
        assert con.execute("SELECT count(*) FROM raw.applications WHERE \"Email\" IS NOT NULL").fetchone()[0] > 200
    data = file_bytes(db)
    assert len(data) > 100_000
    assert [v for v in planted(trust) if v in data] == []
    # landing copies are removed once staged (plain copies would defeat the encryption)
    assert not [p for p in Path(f"{db}.landing").rglob("*") if p.is_file()]
    # without the key, or with another, the file does not open: one clear line
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "missing.key"))
    with pytest.raises(FileNotFoundError):
        ingest_extracts(trust, db)
    monkeypatch.delenv(KEY_FILE_ENV)
    monkeypatch.setenv(KEY_ENV, "the-wrong-key")
    with pytest.raises(EncryptionError) as exc:
        with reading(db):
            pass
    assert "the-wrong-key" not in str(exc.value) and "\n" not in str(exc.value)


def test_without_openssl_the_builtin_crypto_must_be_accepted_explicitly(tmp_path, monkeypatch):
    from tasks.warehouse.connection import writing

    monkeypatch.setenv(KEY_ENV, "k")
    monkeypatch.delenv(BUILTIN_CRYPTO_ENV, raising=False)
    try:
        with writing(tmp_path / "x.duckdb") as con:
            con.execute("SELECT 1")
    except EncryptionError as exc:
        assert "httpfs" in str(exc) and BUILTIN_CRYPTO_ENV in str(exc)
    else:
        import duckdb

        loaded = duckdb.connect().execute(
            "SELECT installed FROM duckdb_extensions() WHERE extension_name = 'httpfs'").fetchone()
        assert loaded and loaded[0], "an encrypted write succeeded without OpenSSL or explicit consent"
