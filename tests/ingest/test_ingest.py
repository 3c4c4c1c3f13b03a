"""Ingest: landing by content hash, raw as text, typed staging, marts, reconciliation."""
from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import polars as pl
import pytest

from edi_recruit.synthetic.generator import generate_trust, load_effects
from tasks.core.vocabulary import CANONICAL_TABLES, ID_COLUMNS
from tasks.ingest.mappings import load_mappings
from tasks.ingest.readers import ExtractError
from tasks.ingest.staging import ingest_extracts
from tasks.marts import build_marts
from tasks.privacy.pseudonyms import pseudonym_key

FORMATS = ["csv", "csv-bom", "csv-cp1252", "xlsx", "parquet"]


def _con(db):
    return duckdb.connect(str(db), read_only=True)


def _csv_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def test_row_counts_reconcile_with_generated_files(generated_trust, warehouse):
    with _con(warehouse) as con:
        for table in CANONICAL_TABLES:
            expected = _csv_rows(generated_trust / f"{table}.csv")
            raw = con.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0]
            staged = con.execute(f"SELECT count(*) FROM staging.{table}").fetchone()[0]
            quarantined = con.execute(f"SELECT count(*) FROM quarantine.{table}").fetchone()[0]
            assert raw == expected, table
            assert raw == staged + quarantined, table
            assert quarantined == 0, f"a clean generated trust quarantined rows of {table}"
        n_manifest = con.execute("SELECT count(*) FROM landing.manifest").fetchone()[0]
        assert n_manifest == len(CANONICAL_TABLES)
        # the answer key is never landed
        names = {r[0] for r in con.execute("SELECT file_name FROM landing.manifest").fetchall()}
        assert not any(n.startswith("truth") for n in names)


def test_staging_is_typed_and_pseudonymised(generated_trust, warehouse):
    with _con(warehouse) as con:
        types = dict(con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema='staging' AND table_name='applications'").fetchall())
        for col, typ in CANONICAL_TABLES["applications"].items():
            assert types[col] == typ, col
        ids = con.execute("SELECT application_id, vacancy_id, candidate_id FROM staging.applications LIMIT 50").fetchall()
        for a, v, c in ids:
            assert a.startswith("A-") and len(a) == 14
            assert v.startswith("V-") and c.startswith("C-")
        raw_refs = {r[0] for r in con.execute('SELECT "Application Ref" FROM raw.applications').fetchall()}
        staged = {r[0] for r in con.execute("SELECT application_id FROM staging.applications").fetchall()}
        assert not (raw_refs & staged)
        # bands normalised, codes kept as received (extended local codes too)
        bands = {r[0] for r in con.execute("SELECT DISTINCT band FROM staging.vacancies").fetchall()}
        assert bands <= {"8a", "8b", "8c", "8d", "9", "VSM"}
        codes = {r[0] for r in con.execute("SELECT DISTINCT ethnic_category FROM staging.applications").fetchall()}
        assert any(len(c) == 2 and c != "99" for c in codes if c), "extended local codes should survive staging"
        # internal applicants link to the workforce through the same pseudonym
        linked = con.execute(
            "SELECT count(*) FROM staging.applications a WHERE a.internal AND EXISTS "
            "(SELECT 1 FROM staging.workforce w WHERE w.staff_id = a.staff_id)").fetchone()[0]
        internal = con.execute("SELECT count(*) FROM staging.applications WHERE internal").fetchone()[0]
        assert internal > 0 and linked == internal
        # assessment authors are panel members of the same vacancy
        orphans = con.execute(
            "SELECT count(*) FROM staging.assessments s JOIN staging.applications a USING (application_id) "
            "WHERE NOT EXISTS (SELECT 1 FROM staging.panel_members p WHERE p.vacancy_id = a.vacancy_id "
            "AND p.member_id = s.author_id)").fetchone()[0]
        assert orphans == 0


def test_personal_data_never_leaves_raw(generated_trust, warehouse):
    pii = pl.read_csv(generated_trust / "truth_pii.csv")
    names = pii.filter(pl.col("pii_type").is_in(["name", "email", "phone"]))["value"].unique().to_list()
    with _con(warehouse) as con:
        for schema in ("staging", "marts"):
            tables = [r[0] for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema]).fetchall()]
            for t in tables:
                cols = [r[0] for r in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema=? AND table_name=? "
                    "AND data_type='VARCHAR'", [schema, t]).fetchall()]
                assert not any(c in ("forename", "surname", "email", "phone") for c in cols), (schema, t)
        texts = [r[0] for r in con.execute("SELECT text FROM marts.assessment_texts").fetchall()]
        texts += [r[0] for r in con.execute("SELECT text FROM marts.ceo_letter_texts").fetchall()]
    blob = "\n".join(texts)
    leaked = [v for v in names if len(v) > 3 and v in blob]
    assert len(leaked) <= 0.01 * len(names), leaked[:5]
    assert not any("@" in v and v in blob for v in names)


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


@pytest.fixture(scope="module")
def staged_by_format(tmp_path_factory):
    out = {}
    for fmt in FORMATS:
        base = tmp_path_factory.mktemp(f"fmt-{fmt}")
        generate_trust(base / "x", seed=5, applications=500, effects=load_effects(None), fmt=fmt)
        db = base / "w.duckdb"
        ingest_extracts(base / "x", db)
        build_marts(db)
        tables = {}
        with _con(db) as con:
            for t in CANONICAL_TABLES:
                cols = ", ".join(CANONICAL_TABLES[t])
                tables[t] = pl.from_arrow(con.sql(f"SELECT {cols} FROM staging.{t} ORDER BY ALL").to_arrow_table())
            tables["marts.application_funnel"] = pl.from_arrow(con.sql(
                "SELECT * FROM marts.application_funnel ORDER BY application_id").to_arrow_table())
        out[fmt] = tables
    return out


@pytest.mark.parametrize("fmt", FORMATS[1:])
def test_every_format_gives_identical_staged_tables(staged_by_format, fmt):
    base = staged_by_format["csv"]
    other = staged_by_format[fmt]
    for table, df in base.items():
        assert df.height > 0, table
        assert other[table].equals(df), f"{table} differs between csv and {fmt}"


def test_cp1252_text_is_decoded(staged_by_format):
    texts = staged_by_format["csv-cp1252"]["assessments"]["text"].to_list()
    assert any("£" in t for t in texts)
    assert not any("\ufffd" in t or "Â£" in t for t in texts)


def test_missing_table_and_folder_give_clear_errors(tmp_path):
    with pytest.raises(ExtractError, match="extracts folder not found"):
        ingest_extracts(tmp_path / "nope", tmp_path / "w.duckdb")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ExtractError, match=r"no file for table\(s\) .*vacancies"):
        ingest_extracts(tmp_path / "empty", tmp_path / "w.duckdb")


def test_mapping_validation(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("source_system: x\ntables:\n  vacancies:\n    columns:\n      A: not_a_column\n")
    with pytest.raises(ExtractError, match="unknown columns not_a_column"):
        load_mappings([bad])
    maps = load_mappings()
    assert set(maps) == set(CANONICAL_TABLES)


def test_pseudonym_key_file_is_created_once(tmp_path, monkeypatch):
    monkeypatch.delenv("EDI_RECRUIT_PSEUDONYM_KEY", raising=False)
    db = tmp_path / "w.duckdb"
    k1 = pseudonym_key(db)
    k2 = pseudonym_key(db)
    assert k1 == k2 and len(k1) == 64
    assert (tmp_path / "w.duckdb.key").stat().st_mode & 0o077 == 0


def test_id_columns_are_pseudonymised_everywhere(warehouse):
    with _con(warehouse) as con:
        for table, cols in CANONICAL_TABLES.items():
            for col in cols:
                if col in ID_COLUMNS:
                    bad = con.execute(
                        f"SELECT count(*) FROM staging.{table} WHERE {col} IS NOT NULL "
                        f"AND NOT regexp_full_match({col}, '[VACSP]-[0-9a-f]{{12}}')").fetchone()[0]
                    assert bad == 0, (table, col)
