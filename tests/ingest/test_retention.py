"""Retention of the raw layer: personal data removed after days or runs, every count kept."""
from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from extract_helpers import small_extracts

from tasks.ingest.quarantine import reconcile
from tasks.ingest.retention import RetentionPolicy, apply_retention, retention_policy
from tasks.ingest.staging import ingest_extracts
from tasks.publish.registry import now
from tasks.warehouse.connection import writing

PERSONAL = {"applications": ("Forename", "Surname", "Email", "Phone"),
            "hiring_managers": ("Manager Forename", "Manager Surname", "Manager Email"),
            "panel_members": ("Panel Member Forename", "Panel Member Surname")}


@pytest.fixture(scope="module")
def trust(tmp_path_factory):
    out = small_extracts(tmp_path_factory.mktemp("retention_trust") / "extracts", seed=9, applications=250)
    # one application with an unparseable date: quarantined at ingest, with its raw values
    path = out / "applications.csv"
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    rows[3][rows[0].index("Date Applied")] = "2021-09-0112345"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    # two assessments quarantined at ingest with their (unredacted) text: an unparseable date, and a
    # text over the length limit (TEXT_LIMIT); each names its applicant
    path = out / "assessments.csv"
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    text, written = rows[0].index("Assessment Text"), rows[0].index("Date Written")
    rows[2][written] = "2021-13-45"
    rows[4][text] = rows[4][text] + " More." * (TEXT_LIMIT // 6 + 1)
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return out


TEXT_LIMIT = 2_000


@pytest.fixture
def db(trust, tmp_path, monkeypatch):
    monkeypatch.setenv("EDI_RECRUIT_MAX_TEXT_CHARS", str(TEXT_LIMIT))
    db = tmp_path / "edi.duckdb"
    ingest_extracts(trust, db)
    return db


def q(db, sql):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def counts(db):
    with writing(db) as con:
        return [(r["table_name"], r["raw_rows"], r["staged_rows"], r["quarantined_rows"], r["balanced"])
                for r in reconcile(con)]


def planted_names(trust: Path) -> list[str]:
    rows = list(csv.DictReader((trust / "applications.csv").open(encoding="utf-8", newline="")))
    return [r["Surname"] for r in rows[:20]] + [r["Email"] for r in rows[:20]]


def test_due_files_lose_their_personal_data_and_keep_every_count(db, trust):
    before = counts(db)
    texts = q(db, "SELECT _sha256, _row_number, text FROM staging.assessments ORDER BY 1, 2")
    assert q(db, "SELECT count(*) FROM quarantine.applications WHERE raw_values->>'Surname' IS NOT NULL") == [(1,)]
    landed = [Path(p) for (p,) in q(db, "SELECT landed_path FROM landing.manifest")]
    assert all(p.exists() for p in landed)

    done = apply_retention(db, RetentionPolicy(days=30), now=now() + dt.timedelta(days=31))

    assert {f.table for f in done} == {t for (t,) in q(db, "SELECT table_name FROM landing.manifest")}
    assert counts(db) == before and all(c[-1] for c in before)      # raw = staged + quarantined, unchanged
    for table, headers in PERSONAL.items():
        for h in headers:
            assert q(db, f'SELECT count("{h}") FROM raw.{table}') == [(0,)], (table, h)
    raw_dump = json.dumps(q(db, "SELECT * FROM raw.applications"), default=str)
    assert not any(name in raw_dump for name in planted_names(trust))
    quarantined = json.loads(q(db, "SELECT raw_values FROM quarantine.applications")[0][0])
    assert "Surname" not in quarantined and "Email" not in quarantined
    assert quarantined["Date Applied"] == "2021-09-0112345"           # the reason for quarantine is kept
    assert not any(p.exists() for p in landed)                        # landing copies removed
    # raw text is now the redacted text, so re-staging gives the same staging
    assert q(db, 'SELECT r._sha256, r._row_number, r."Assessment Text" FROM raw.assessments r '
                 "JOIN staging.assessments s USING (_sha256, _row_number) ORDER BY 1, 2") == texts
    ingest_extracts(trust, db, force=True)
    assert q(db, "SELECT _sha256, _row_number, text FROM staging.assessments ORDER BY 1, 2") == texts
    assert counts(db) == before
    assert apply_retention(db, RetentionPolicy(days=30), now=now() + dt.timedelta(days=31)) == []


def full_names_and_emails(trust: Path) -> set[str]:
    rows = csv.DictReader((trust / "applications.csv").open(encoding="utf-8", newline=""))
    return {s for r in rows for s in (f"{r['Forename']} {r['Surname']}", r["Email"]) if s.strip()}


def unstaged_texts(db) -> list[tuple[int, str, str]]:
    """(row, raw text, quarantine's copy of the text) of the assessments with no staged row."""
    return q(db, 'SELECT r._row_number, r."Assessment Text", q.raw_values->>'"'"'Assessment Text'"'"' FROM raw.assessments r '
                 "JOIN quarantine.assessments q USING (_sha256, _row_number) ORDER BY 1")


def test_quarantined_free_text_is_redacted_or_removed_too(db, trust):
    from tasks.ingest.retention import FILLER

    people = full_names_and_emails(trust)
    before = counts(db)
    reasons = q(db, "SELECT _row_number, expectation FROM quarantine.assessments ORDER BY 1")
    assert [e for _, e in reasons] == ["values_parse", "text_length_limit"]
    quarantined = unstaged_texts(db)
    # the raw layer and quarantine hold the applicants' names in the quarantined rows' text
    assert all(any(p in raw for p in people) and raw == kept for _, raw, kept in quarantined)

    done = apply_retention(db, RetentionPolicy(days=30), now=now() + dt.timedelta(days=31))

    assert {f.table: f.unstaged_texts_redacted for f in done}["assessments"] == 2
    after = unstaged_texts(db)
    assert [n for n, _, _ in after] == [n for n, _, _ in quarantined]
    for _, raw, kept in after:
        assert raw == kept and not any(p in raw for p in people), raw[:200]
    (_, short_old, _), (_, long_old, _) = quarantined
    (_, short_new, _), (_, long_new, _) = after
    assert "[NAME]" in short_new and short_new != short_old                 # redacted, not blanked
    assert len(long_new) == len(long_old) and long_new.startswith(FILLER)   # too long to redact: a filler
    # re-staging quarantines the same rows for the same reasons: every count is kept
    ingest_extracts(trust, db, force=True)
    assert q(db, "SELECT _row_number, expectation FROM quarantine.assessments ORDER BY 1") == reasons
    assert counts(db) == before


def test_nothing_is_due_before_its_time(db):
    assert apply_retention(db, RetentionPolicy(days=30), now=now() + dt.timedelta(days=29)) == []
    assert q(db, 'SELECT count("Surname") FROM raw.applications')[0][0] > 0
    assert apply_retention(db, RetentionPolicy()) == []


def test_after_a_number_of_completed_runs(db):
    policy = RetentionPolicy(runs=2)
    assert apply_retention(db, policy) == []
    with writing(db) as con:
        for i, status in enumerate(("completed", "failed", "completed")):
            con.execute("INSERT INTO results.runs (run_id, flow, as_of, started_at, status, code_version, params_json) "
                        "VALUES (?, 'monthly', '2024-01', ?, ?, 'test', '{}')",
                        [f"run-{i}", now() + dt.timedelta(minutes=i + 1), status])
    done = apply_retention(db, policy)
    assert done and all(f.rows_kept > 0 for f in done)
    assert q(db, 'SELECT count("Surname") FROM raw.applications') == [(0,)]
    assert q(db, "SELECT DISTINCT rule FROM meta.retention") == [("2 completed runs since landing",)]


def test_policy_from_the_environment(monkeypatch):
    monkeypatch.setenv("EDI_RECRUIT_RETENTION_DAYS", "90")
    assert retention_policy() == RetentionPolicy(days=90)
    assert retention_policy(runs=3) == RetentionPolicy(days=90, runs=3)
    monkeypatch.setenv("EDI_RECRUIT_RETENTION_RUNS", "three")
    with pytest.raises(ValueError, match="EDI_RECRUIT_RETENTION_RUNS must be a whole number"):
        retention_policy()


def test_rekey_still_works_after_retention(db, monkeypatch):
    from tasks.ingest.rekey import rekey

    apply_retention(db, RetentionPolicy(days=0), now=now() + dt.timedelta(seconds=5))
    links = q(db, "SELECT count(*) FROM staging.applications a JOIN staging.vacancies v USING (vacancy_id)")
    rekey(db, new_key="another-key")
    assert q(db, "SELECT count(*) FROM staging.applications a JOIN staging.vacancies v USING (vacancy_id)") == links


def test_a_run_applies_the_policy_from_the_environment_after_ingest(trust, tmp_path, monkeypatch):
    from tasks.core.paths import MAPPINGS_DIR
    from tasks.ingest.for_run import ingest_for_run

    db = tmp_path / "run.duckdb"
    maps = sorted(MAPPINGS_DIR.glob("*.yaml"))
    monkeypatch.setenv("EDI_RECRUIT_RETENTION_DAYS", "30")
    ingest_for_run(trust, db, mapping_paths=maps)            # landed just now: nothing due
    assert q(db, 'SELECT count("Surname") FROM raw.applications')[0][0] > 0
    monkeypatch.setenv("EDI_RECRUIT_RETENTION_DAYS", "0")    # everything landed before now is due
    out = ingest_for_run(trust, db, mapping_paths=maps)
    assert q(db, 'SELECT count("Surname") FROM raw.applications') == [(0,)]
    assert sum(out["staged_rows"].values()) > 0 and all(c[-1] for c in counts(db))
