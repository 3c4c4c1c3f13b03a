"""The pseudonymisation key: a changed key stops ingest; ``rekey`` rotates it and keeps every link."""
from __future__ import annotations

import duckdb
import pytest
from extract_helpers import small_extracts

from tasks.ingest.rekey import SAME_KEY, RekeyRefused, pseudonym_columns, rekey
from tasks.ingest.staging import ingest_extracts
from tasks.marts import build_marts
from tasks.privacy.pseudonyms import KEY_ENV, KEY_FILE_ENV, PseudonymKeyChanged, key_fingerprint

OLD, NEW = "old-key-for-tests", "new-key-for-tests"

# joins across tables and the figures they feed: identical under any key
LINK_QUERIES = {
    "applications to vacancies": "SELECT count(*) FROM staging.applications a JOIN staging.vacancies v USING (vacancy_id)",
    "scores to applications": "SELECT count(*) FROM staging.interview_scores s JOIN staging.applications a USING (application_id)",
    "scores to panel": "SELECT count(*) FROM staging.interview_scores s JOIN staging.panel_members p "
                       "ON p.member_id = s.member_id",
    "assessments to applications": "SELECT count(*) FROM staging.assessments x JOIN staging.applications a USING (application_id)",
    "staff to workforce": "SELECT count(DISTINCT a.application_id) FROM staging.applications a "
                          "JOIN staging.workforce w USING (staff_id)",
    "letters to vacancies": "SELECT count(*) FROM staging.ceo_letters l JOIN staging.vacancies v USING (vacancy_id)",
    "vacancies to managers": "SELECT count(*) FROM staging.vacancies v JOIN staging.hiring_managers m "
                             "ON m.manager_id = v.hiring_manager_id",
    "funnel figures": "SELECT list(row(bme, n, offered) ORDER BY bme) FROM (SELECT bme, count(*) n, "
                      "sum(offered::INT) offered FROM marts.application_funnel GROUP BY bme)",
    "applications per vacancy": "SELECT list(n ORDER BY n) FROM (SELECT count(*) n FROM marts.application_funnel "
                                "GROUP BY vacancy_id)",
}


def _links(db) -> dict:
    with duckdb.connect(str(db), read_only=True) as con:
        return {name: con.execute(q).fetchone()[0] for name, q in LINK_QUERIES.items()}


def _ids(db, table: str, column: str) -> list:
    with duckdb.connect(str(db), read_only=True) as con:
        return [r[0] for r in con.execute(
            f"SELECT {column} FROM staging.{table} ORDER BY _sha256, _row_number").fetchall()]


@pytest.fixture(scope="module")
def trust(tmp_path_factory):
    out = small_extracts(tmp_path_factory.mktemp("rekey_trust") / "extracts", seed=5, applications=300)
    return out


@pytest.fixture
def built(trust, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, OLD)
    db = tmp_path / "edi.duckdb"
    ingest_extracts(trust, db)
    build_marts(db)
    return db


def test_the_staging_models_declare_every_identifier_column():
    cols = {(p, c) for p, _, c in pseudonym_columns("applications")}
    assert cols == {("A", "application_id"), ("V", "vacancy_id"), ("C", "candidate_id"), ("S", "staff_id")}
    assert {c for _, _, c in pseudonym_columns("vacancies")} == {"vacancy_id", "hiring_manager_id"}


def test_a_changed_key_stops_ingest_with_one_line(built, trust, monkeypatch):
    before = _ids(built, "applications", "application_id")
    monkeypatch.setenv(KEY_ENV, NEW)
    with pytest.raises(PseudonymKeyChanged) as exc:
        ingest_extracts(trust, built, force=True)
    msg = str(exc.value)
    assert "\n" not in msg and "rekey" in msg and key_fingerprint(NEW) in msg and key_fingerprint(OLD) in msg
    assert NEW not in msg and OLD not in msg  # the keys themselves are never shown
    assert _ids(built, "applications", "application_id") == before  # nothing re-keyed


def test_an_unset_key_stops_ingest_too(built, trust, monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    with pytest.raises(PseudonymKeyChanged):
        ingest_extracts(trust, built)   # falls back to a new <db>.key: a different key


def test_rekey_keeps_every_link_and_equals_a_fresh_ingest_under_the_new_key(built, trust, tmp_path, monkeypatch):
    links_before = _links(built)
    old_ids = _ids(built, "applications", "application_id")
    result = rekey(built, new_key=NEW)
    assert result.old_fingerprint == key_fingerprint(OLD) and result.new_fingerprint == key_fingerprint(NEW)
    assert result.marts_rebuilt
    assert result.columns["applications.application_id"] == len(old_ids)
    new_ids = _ids(built, "applications", "application_id")
    assert not set(old_ids) & set(new_ids)          # every pseudonym changed
    assert _links(built) == links_before            # same joins, same figures
    # exactly what a fresh warehouse gets under the new key, in every identifier column
    monkeypatch.setenv(KEY_ENV, NEW)
    fresh = tmp_path / "fresh" / "edi.duckdb"
    ingest_extracts(trust, fresh)
    for table in ("applications", "vacancies", "interview_scores", "panel_members", "workforce"):
        for _, _, column in pseudonym_columns(table):
            assert _ids(built, table, column) == _ids(fresh, table, column), f"{table}.{column}"
    # and ingest under the new key goes on (staging not rebuilt: same extracts)
    assert ingest_extracts(trust, built).rebuilt is False
    monkeypatch.setenv(KEY_ENV, OLD)
    with pytest.raises(PseudonymKeyChanged):
        ingest_extracts(trust, built)


def test_rekey_refuses_the_same_key_and_an_empty_warehouse(built, tmp_path):
    with pytest.raises(RekeyRefused) as exc:
        rekey(built, new_key=OLD)
    assert str(exc.value) == SAME_KEY.format(fp=key_fingerprint(OLD))
    with pytest.raises(RekeyRefused, match="nothing to re-key"):
        rekey(tmp_path / "empty.duckdb", new_key=NEW)


def test_rekey_is_one_transaction(built, monkeypatch):
    """A failure part-way (here: rebuilding the marts) leaves every identifier on the old key."""
    import tasks.ingest.rekey as mod

    before = _ids(built, "applications", "application_id")

    def boom(con):
        raise RuntimeError("disk full")

    monkeypatch.setattr(mod, "_rebuild_marts", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        rekey(built, new_key=NEW)
    assert _ids(built, "applications", "application_id") == before
    with duckdb.connect(str(built), read_only=True) as con:
        fp = con.execute("SELECT value FROM meta.settings WHERE name = 'pseudonym_key_fingerprint'").fetchone()[0]
    assert fp == key_fingerprint(OLD)


def _plant_text_documents(db, extra: list | None = None) -> int:
    """A results.text_documents as the text analysis writes it: pseudonymous IDs and a composite document_id."""
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS results")
        con.execute("""CREATE TABLE results.text_documents AS
            SELECT 'run-1' AS run_id, x.application_id || ':' || x.author_id AS document_id,
                   x.application_id, a.vacancy_id, x.author_id, 0.5 AS sentiment
            FROM staging.assessments x JOIN staging.applications a USING (application_id)""")
        for row in extra or []:
            con.execute("INSERT INTO results.text_documents VALUES (?, ?, ?, ?, ?, 0.1)", row)
        return con.execute("SELECT count(*) FROM results.text_documents").fetchone()[0]


DOC_LINKS = ("SELECT count(*) FROM results.text_documents d JOIN staging.assessments x "
             "ON x.application_id = d.application_id AND x.author_id = d.author_id "
             "AND d.document_id = x.application_id || ':' || x.author_id "
             "JOIN staging.vacancies v ON v.vacancy_id = d.vacancy_id")


def test_rekey_carries_the_identifiers_results_hold(built):
    n = _plant_text_documents(built)
    with duckdb.connect(str(built), read_only=True) as con:
        assert con.execute(DOC_LINKS).fetchone()[0] == n > 0
    result = rekey(built, new_key=NEW)
    assert result.columns["results.text_documents.document_id"] == n
    with duckdb.connect(str(built), read_only=True) as con:
        assert con.execute(DOC_LINKS).fetchone()[0] == n          # every document still links, under the new key


def test_rekey_refuses_results_it_cannot_carry_and_changes_nothing(built):
    _plant_text_documents(built, extra=[("run-0", "A-000000000000:P-000000000000", "A-000000000000",
                                         "V-000000000000", "P-000000000000")])
    before = _ids(built, "applications", "application_id")
    with pytest.raises(RekeyRefused, match=r"cannot re-key results.text_documents.application_id: 1 identifier"):
        rekey(built, new_key=NEW)
    assert _ids(built, "applications", "application_id") == before
