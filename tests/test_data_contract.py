"""docs/data-contract.md, the vocabulary, the mappings and the SQL agree."""
from __future__ import annotations

import re

import yaml

from tasks.core.paths import MAPPINGS_DIR, PROJECT_ROOT, SQL_DIR
from tasks.core.vocabulary import CANONICAL_TABLES, ETHNIC_CATEGORIES, census_group, main_ethnic_code, wres_group

DOC = (PROJECT_ROOT / "docs" / "data-contract.md").read_text(encoding="utf-8")


def _section(table: str) -> str:
    m = re.search(rf"^### `{table}`.*?(?=^### |^## )", DOC, re.S | re.M)
    assert m, f"docs/data-contract.md has no section for {table}"
    return m.group(0)


def test_every_canonical_column_is_documented_with_its_type():
    for table, cols in CANONICAL_TABLES.items():
        sec = _section(table)
        for col, typ in cols.items():
            row = re.search(rf"^\| {col} \| (\w+) \|", sec, re.M)
            assert row, f"{table}.{col} is not documented"
            assert row.group(1) == typ, f"{table}.{col}: doc says {row.group(1)}, code says {typ}"


def test_documented_headers_are_the_mapping_headers():
    trac = yaml.safe_load((MAPPINGS_DIR / "trac.yaml").read_text())
    esr = yaml.safe_load((MAPPINGS_DIR / "esr.yaml").read_text())
    for doc in (trac, esr):
        for table, spec in doc["tables"].items():
            sec = _section(table)
            for header, col in spec["columns"].items():
                row = re.search(rf"^\| {col} \|.*\|\s*([^|]+?)\s*\|\s*$", sec, re.M)
                assert row and row.group(1).startswith(header), f"{table}.{col}: header {header!r} not in the doc"


def test_staging_sql_produces_every_canonical_column():
    for table, cols in CANONICAL_TABLES.items():
        sql = (SQL_DIR / "models" / "staging" / f"{table}.sql").read_text()
        for col in cols:
            assert re.search(rf"\bAS {col}\b", sql), f"sql/models/staging/{table}.sql does not produce {col}"


def _doc_mart_columns(mart: str) -> list[str]:
    m = re.search(rf"^### `marts\.{mart}`[^\n]*\n(.*?)(?=^### |^## )", DOC, re.S | re.M)
    assert m, f"marts.{mart} is not documented"
    text = m.group(1).split("Stage flags")[0]
    text = re.sub(r"manager_\* fields", "", text)
    return re.findall(r"\b([a-z][a-z0-9_]*[a-z0-9])\b(?=[,.\s])", text.replace("and the vacancy's features:", ","))


def test_documented_mart_columns_are_the_built_columns(warehouse):
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        for mart in ("application_funnel", "vacancy_features", "panel_members", "score_sheets", "workforce"):
            built = {r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema='marts' AND table_name=?",
                [mart]).fetchall()}
            documented = {w for w in _doc_mart_columns(mart) if w not in {"one", "row", "per", "and", "the", "s"}}
            assert documented <= built, f"marts.{mart}: documented but not built: {sorted(documented - built)}"
            undocumented = {c for c in built - documented if not c.startswith(("manager_", "_"))}  # _lineage: see docs
            assert not undocumented, f"marts.{mart}: built but not documented: {sorted(undocumented)}"


def test_ethnic_grouping_follows_the_reference():
    assert wres_group("A") == "White" and wres_group("C") == "White"
    for code in "DEFGHJKLMNPRS":
        assert wres_group(code) == "BME", code
    assert wres_group("Z") == "Unknown" and wres_group("99") == "Unknown"
    assert main_ethnic_code("CA") == "C" and wres_group("CA") == "White"
    assert main_ethnic_code("LH") == "L" and census_group("LH") == "Asian"
    assert main_ethnic_code("I") is None and main_ethnic_code("ZZ") is None
    assert len(ETHNIC_CATEGORIES) == 18
