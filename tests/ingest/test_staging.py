"""Staging: reconciled row counts, types, pseudonymised identifiers, personal data kept out."""
from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import polars as pl

from tasks.core.vocabulary import CANONICAL_TABLES, ID_COLUMNS


def _csv_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def _con(db):
    return duckdb.connect(str(db), read_only=True)


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


def test_id_columns_are_pseudonymised_everywhere(warehouse):
    with _con(warehouse) as con:
        for table, cols in CANONICAL_TABLES.items():
            for col in cols:
                if col in ID_COLUMNS:
                    bad = con.execute(
                        f"SELECT count(*) FROM staging.{table} WHERE {col} IS NOT NULL "
                        f"AND NOT regexp_full_match({col}, '[VACSP]-[0-9a-f]{{12}}')").fetchone()[0]
                    assert bad == 0, (table, col)
