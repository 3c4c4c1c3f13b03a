"""Deterministic by construction: the same extracts give the same published figures in any warehouse.

Two ``edi-recruit run`` commands (the real run path: the CLI, its persistent local
Prefect API, the monthly flow with its concurrent task runner) on the same
extracts, into two fresh warehouses with DIFFERENT pseudonymisation keys (each
makes its own random key: every pseudonymous ID, and any order taken from them,
differs), started at the same time while a CPU-hog process competes for the
cores.  Both flow runs must be recorded COMPLETED by the Prefect API.
Every published table must be equal row for row (run ids and publication
timestamps left out), the CSV exports equal byte for byte once the run id and
the publication timestamp they carry are normalised (the run id string and
date-time values replaced by placeholders: the figures carry dates, never
times), and the Parquet exports equal in schema (with its metadata) and in every
value, with ``run_id`` normalised and the publication timestamp left out (the
files are compressed, so a different run id changes their bytes).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from flow_helpers import small_trust

from tasks.privacy.pseudonyms import KEY_ENV, KEY_FILE_ENV

AS_OF = "2024-01"

APPLICATIONS = 1000

# small topic counts, so that the ~20 CEO letters of a 1,000-application trust get a topic model too
# (a letter's appointee was chosen by pseudonymous ID), and a fit on a seeded sample of documents
PARAMS = {"text_k_range": "3,4", "text_fit_max_docs": "150"}

RUN_ID = "<run>"

TIMESTAMP = re.compile(rb"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d(:?\d\d)?|Z)?")

# columns that are about the run, not the figures
RUN_COLUMNS = ("run_id", "published_at", "created_at")

EXE = [sys.executable, "-m", "edi_recruit.cli"]
HOG = [sys.executable, "-c", "while 1: pass"]


def _env(home: Path) -> dict:
    env = dict(os.environ, EDI_RECRUIT_QUIET="1", PYTHONWARNINGS="ignore", PREFECT_HOME=str(home),
               EDI_RECRUIT_API_IDLE_SECONDS="300")
    # no key in the environment: each fresh warehouse makes its own random key (<db>.key)
    for key in (KEY_ENV, KEY_FILE_ENV, "PREFECT_API_URL", "PREFECT_API_AUTH_STRING", "EDI_RECRUIT_DEBUG",
                "EDI_RECRUIT_TEST_PAUSE_AT", "EDI_RECRUIT_TEST_STEP_FILE", "EDI_RECRUIT_PREFECT_API"):
        env.pop(key, None)
    return env


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> dict:
    from edi_recruit.server import AUTH_FILE, STATE_FILE, api, stop_local_api

    base = tmp_path_factory.mktemp("determinism")
    extracts = small_trust(base / "extracts", applications=APPLICATIONS)
    home = base / "prefect"
    params = [a for k, v in PARAMS.items() for a in ("--param", f"{k}={v}")]
    hog = subprocess.Popen(HOG)
    try:
        # the two runs at the same time, competing with each other and with the CPU hog
        procs = [subprocess.Popen(
            EXE + ["run", "--extracts", str(extracts), "--db", str(base / f"warehouse_{i}" / "edi.duckdb"),
                   "--as-of", AS_OF, "--out", str(base / f"warehouse_{i}" / "out"), "--no-report", *params],
            env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
        outs = [p.communicate(timeout=1800) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], [e[-3000:] for _, e in outs]
        url = json.loads((home / STATE_FILE).read_text())["url"]
        flow_runs = api("POST", f"{url}/flow_runs/filter", {}, auth=(home / AUTH_FILE).read_text().strip())
    finally:
        hog.kill()
        hog.wait()
        stop_local_api(home)
    runs = []
    for i in range(2):
        db = base / f"warehouse_{i}" / "edi.duckdb"
        with duckdb.connect(str(db), read_only=True) as con:
            [(run_id, status, output_dir)] = con.execute("SELECT run_id, status, output_dir FROM results.runs").fetchall()
        runs.append({"db": str(db), "run_id": run_id, "status": status, "output_dir": output_dir,
                     "stdout": outs[i][0]})
    return {"runs": runs, "flow_runs": flow_runs}


def test_both_runs_went_through_the_prefect_api(two_runs):
    states = {fr["id"]: fr["state"]["type"] for fr in two_runs["flow_runs"]}
    for run in two_runs["runs"]:
        assert run["status"] == "completed" and f"Run {run['run_id']} completed" in run["stdout"]
        assert states.get(run["run_id"]) == "COMPLETED", states


def _published(db: str) -> dict[str, pl.DataFrame]:
    with duckdb.connect(db, read_only=True) as con:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'published' ORDER BY 1").fetchall()]
        return {n: pl.from_arrow(con.sql(f'SELECT * FROM published."{n}"').to_arrow_table()) for n in names}


def test_the_warehouses_really_use_different_keys(two_runs):
    ids = []
    for run in two_runs["runs"]:
        with duckdb.connect(run["db"], read_only=True) as con:
            ids.append({r[0] for r in con.execute("SELECT application_id FROM staging.applications").fetchall()})
    assert ids[0] and ids[1] and not ids[0] & ids[1]


def test_every_published_table_is_equal_row_for_row(two_runs):
    first, second = (_published(r["db"]) for r in two_runs["runs"])
    assert set(first) == set(second) and len(first) >= 10
    for name, a in first.items():
        b = second[name]
        drop = [c for c in RUN_COLUMNS if c in a.columns]
        a, b = a.drop(drop), b.drop(drop)
        assert a.height == b.height, name
        assert a.equals(b), f"published.{name} differs between the two warehouses"


def _export_files(run: dict, ext: str) -> dict[str, Path]:
    return {p.name: p for p in sorted((Path(run["output_dir"]) / ext).glob(f"*.{ext}"))}


def test_csv_exports_are_byte_equal_with_the_run_id_normalised(two_runs):
    runs = two_runs["runs"]
    files = [_export_files(r, "csv") for r in runs]
    assert files[0].keys() == files[1].keys() and files[0]
    for name in files[0]:
        a, b = (TIMESTAMP.sub(b"<time>", f[name].read_bytes().replace(r["run_id"].encode(), RUN_ID.encode()))
                for f, r in zip(files, runs))
        assert a == b, f"export {name} differs"


def test_parquet_exports_are_equal_with_the_run_id_normalised(two_runs):
    runs = two_runs["runs"]
    files = [_export_files(r, "parquet") for r in runs]
    assert files[0].keys() == files[1].keys() and files[0]
    for name in files[0]:
        tables = []
        for f, r in zip(files, runs):
            t = pq.read_table(f[name])
            if "run_id" in t.column_names:
                i = t.column_names.index("run_id")
                t = t.set_column(i, "run_id", pc.replace_substring(t.column("run_id"), r["run_id"], RUN_ID))
            tables.append(t)
        assert tables[0].schema.equals(tables[1].schema, check_metadata=True), name
        a, b = (t.drop_columns([c for c in RUN_COLUMNS[1:] if c in t.column_names]) for t in tables)
        assert a.equals(b), f"export {name} differs"
