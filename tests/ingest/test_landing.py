"""Landing: the same bytes again are a no-op; a changed file lands again, read-only."""
from __future__ import annotations

from pathlib import Path

import duckdb

from edi_recruit.synthetic.generator import generate_trust, load_effects
from tasks.core.vocabulary import CANONICAL_TABLES
from tasks.ingest.staging import ingest_extracts


def _con(db):
    return duckdb.connect(str(db), read_only=True)


def test_reingest_is_noop_and_changed_file_lands_again(tmp_path):
    src = tmp_path / "x"
    generate_trust(src, seed=11, applications=400, effects=load_effects(None))
    db = tmp_path / "w.duckdb"
    first = ingest_extracts(src, db)
    assert first.new_files == len(CANONICAL_TABLES) and first.rebuilt
    with _con(db) as con:
        raw_before = con.execute("SELECT count(*) FROM raw.applications").fetchone()[0]
    again = ingest_extracts(src, db)
    assert again.new_files == 0 and not again.rebuilt
    assert again.input_sha256 == first.input_sha256
    with _con(db) as con:
        assert con.execute("SELECT count(*) FROM landing.manifest").fetchone()[0] == len(CANONICAL_TABLES)
        assert con.execute("SELECT count(*) FROM raw.applications").fetchone()[0] == raw_before
    # change one file: a new landing entry, a new extract set, staging rebuilt from the new file only
    path = src / "hiring_managers.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-1]), encoding="utf-8")
    changed = ingest_extracts(src, db)
    assert changed.new_files == 1 and changed.rebuilt and changed.input_sha256 != first.input_sha256
    with _con(db) as con:
        assert con.execute("SELECT count(*) FROM landing.manifest").fetchone()[0] == len(CANONICAL_TABLES) + 1
        assert con.execute("SELECT count(*) FROM staging.hiring_managers").fetchone()[0] == len(lines) - 2
        # landed files are read-only copies, never modified
        for (p,) in con.execute("SELECT landed_path FROM landing.manifest").fetchall():
            assert Path(p).exists() and not (Path(p).stat().st_mode & 0o222)
