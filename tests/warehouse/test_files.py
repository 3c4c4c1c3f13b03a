"""Files that hold personal data are created 0600 (landing copies 0400) in 0700 folders."""
from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from extract_helpers import small_extracts

from tasks.core.paths import PROJECT_ROOT
from tasks.core.vocabulary import CANONICAL_TABLES
from tasks.warehouse.files import private_dir, write_private_text

CLI = PROJECT_ROOT / ".venv" / "bin" / "edi-recruit"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def trust(tmp_path_factory):
    out = small_extracts(tmp_path_factory.mktemp("modes_trust") / "extracts", seed=3, applications=200)
    return out


def _personal_files(db: Path) -> list[Path]:
    landing = Path(f"{db}.landing")
    return [db, Path(f"{db}.key"), *(p for p in landing.rglob("*") if p.is_file())]


def test_cli_ingest_under_a_permissive_umask_creates_owner_only_files(trust, tmp_path):
    db = tmp_path / "new" / "deeper" / "edi.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDI_RECRUIT_PSEUDONYM_KEY")}
    proc = subprocess.run([str(CLI), "ingest", "--extracts", str(trust), "--db", str(db)], env=env,
                          capture_output=True, text=True, timeout=300, preexec_fn=lambda: os.umask(0o022))
    assert proc.returncode == 0, proc.stderr
    assert mode(db) == 0o600 and mode(Path(f"{db}.key")) == 0o600
    landed = [p for p in Path(f"{db}.landing").rglob("*") if p.is_file()]
    assert len(landed) == len(CANONICAL_TABLES) and {mode(p) for p in landed} == {0o400}
    for folder in (db.parent, db.parent.parent, Path(f"{db}.landing"), *{p.parent for p in landed}):
        assert mode(folder) == 0o700, folder
    assert all(mode(p) & 0o077 == 0 for p in _personal_files(db))


def test_library_connections_create_the_warehouse_and_wal_owner_only(tmp_path):
    from tasks.warehouse.connection import writing

    old = os.umask(0o022)
    try:
        db = tmp_path / "lib" / "edi.duckdb"
        with writing(db) as con:
            con.execute("CREATE TABLE raw.people AS SELECT 'Ann Example' AS name")
            con.execute("BEGIN TRANSACTION")
            con.execute("INSERT INTO raw.people VALUES ('Bob Example')")
            con.execute("COMMIT")
            wal = Path(f"{db}.wal")
            assert wal.exists() and mode(wal) == 0o600
        assert mode(db) == 0o600 and mode(db.parent) == 0o700
    finally:
        os.umask(old)


def test_an_older_world_readable_warehouse_is_made_private_when_opened(tmp_path):
    import duckdb

    from tasks.warehouse.connection import writing

    db = tmp_path / "old.duckdb"
    duckdb.connect(str(db)).close()
    os.chmod(db, 0o644)
    with writing(db):
        pass
    assert mode(db) == 0o600


def test_private_dir_and_text(tmp_path):
    target = private_dir(tmp_path / "a" / "b")
    assert mode(tmp_path / "a") == 0o700 and mode(target) == 0o700
    f = target / "secret"
    f.write_text("x")
    os.chmod(f, 0o644)
    write_private_text(f, "key")
    assert mode(f) == 0o600 and f.read_text() == "key"


def test_everything_the_cli_creates_is_owner_only(tmp_path):
    """The CLI's umask covers every file it creates, e.g. the Prefect home and database that `run` and
    `serve` start (their server inherits it); checked here on a command that writes a folder of files."""
    out = tmp_path / "made" / "extracts"
    proc = subprocess.run([str(CLI), "generate", "--out", str(out), "--applications", "100", "--seed", "2"],
                          capture_output=True, text=True, timeout=300, preexec_fn=lambda: os.umask(0o022))
    assert proc.returncode == 0, proc.stderr
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files and {mode(p) for p in files} == {0o600}
    assert mode(out) == 0o700 and mode(out.parent) == 0o700
