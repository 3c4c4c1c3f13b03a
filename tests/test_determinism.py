"""Deterministic by construction: the same extracts give the same published figures in any warehouse.

Two runs of the monthly flow's steps on the same extracts, into two fresh warehouses
with DIFFERENT pseudonymisation keys (each makes its own random key: every
pseudonymous ID, and any order taken from them, differs), at the same time in
two threads while a CPU-hog process competes for the cores.
Every published table must be equal row for row (run ids and publication
timestamps left out), the CSV exports equal byte for byte once the run id and
the publication timestamp they carry are normalised (the run id string and
date-time values replaced by placeholders: the figures carry dates, never
times), and the Parquet exports equal in schema (with its metadata) and in every
value, with ``run_id`` normalised and the publication timestamp left out.
"""
from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
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
PARAMS = {"text_k_range": "3,4", "text_fit_max_docs": 150}

RUN_ID = "<run>"

TIMESTAMP = re.compile(rb"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d(:?\d\d)?|Z)?")

# columns that are about the run, not the figures
RUN_COLUMNS = ("run_id", "published_at", "created_at")

HOG = "import time\nend = time.time() + 600\nwhile time.time() < end:\n    pass\n"


class _PlainSteps:
    """flows.steps with every Prefect task replaced by its plain function, so the flow's own body
    (flows/monthly_evaluation.py: the order of the steps) runs without a Prefect API server, whose
    start-up takes minutes on a loaded CI machine.  ``submit`` runs a step in a thread pool, as the
    flow's ThreadPoolTaskRunner does for the concurrent analyses.  Artifacts (Prefect UI objects,
    not figures) are not made."""

    def __init__(self, steps, pool: ThreadPoolExecutor):
        self._steps, self._pool = steps, pool

    def __getattr__(self, name: str):
        attr = getattr(self._steps, name)
        if name == "artifacts_task":
            return lambda *a, **k: None
        if not hasattr(attr, "fn"):
            return attr
        plain = attr.fn
        plain_step = lambda *a, **k: plain(*a, **k)  # noqa: E731
        plain_step.submit = lambda *a, **k: self._pool.submit(plain, *a, **k)
        return plain_step


class _NoProgress:
    """Stands in for the Prefect progress artifact (a UI display, not a figure)."""

    def __init__(self, *_args, **_kwargs):
        pass

    def __call__(self, *_args, **_kwargs) -> None:
        return None


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> list[dict]:
    import flows.monthly_evaluation as flow_module
    from flows import steps
    from tasks.outputs import artifacts

    base = tmp_path_factory.mktemp("determinism")
    extracts = small_trust(base / "extracts", applications=APPLICATIONS)
    hog = subprocess.Popen([sys.executable, "-c", HOG])
    mp = pytest.MonkeyPatch()
    try:
        # no key in the environment: each fresh warehouse makes its own random key (<db>.key)
        mp.delenv(KEY_ENV, raising=False)
        mp.delenv(KEY_FILE_ENV, raising=False)
        mp.setattr(artifacts, "ProgressArtifact", _NoProgress)
        with ThreadPoolExecutor(max_workers=2 * flow_module.MAX_ANALYSIS_THREADS) as pool, \
                ThreadPoolExecutor(max_workers=2) as runner:
            mp.setattr(flow_module, "steps", _PlainSteps(steps, pool))
            # the two runs at the same time, competing with each other and with the CPU hog
            futures = [runner.submit(
                flow_module.monthly_evaluation.fn, as_of=AS_OF, extracts=str(extracts),
                db=str(base / f"warehouse_{i}" / "edi.duckdb"), out_dir=str(base / f"warehouse_{i}" / "out"),
                params=PARAMS, report=False) for i in range(2)]
            runs = [f.result() for f in futures]
    finally:
        mp.undo()
        hog.kill()
        hog.wait()
    return runs


def _published(db: str) -> dict[str, pl.DataFrame]:
    with duckdb.connect(db, read_only=True) as con:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'published' ORDER BY 1").fetchall()]
        return {n: pl.from_arrow(con.sql(f'SELECT * FROM published."{n}"').to_arrow_table()) for n in names}


def test_the_warehouses_really_use_different_keys(two_runs):
    ids = []
    for run in two_runs:
        with duckdb.connect(run["db"], read_only=True) as con:
            ids.append({r[0] for r in con.execute("SELECT application_id FROM staging.applications").fetchall()})
    assert ids[0] and ids[1] and not ids[0] & ids[1]


def test_every_published_table_is_equal_row_for_row(two_runs):
    first, second = (_published(r["db"]) for r in two_runs)
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
    files = [_export_files(r, "csv") for r in two_runs]
    assert files[0].keys() == files[1].keys() and files[0]
    for name in files[0]:
        a, b = (TIMESTAMP.sub(b"<time>", f[name].read_bytes().replace(r["run_id"].encode(), RUN_ID.encode()))
                for f, r in zip(files, two_runs))
        assert a == b, f"export {name} differs"


def test_parquet_exports_are_equal_with_the_run_id_normalised(two_runs):
    files = [_export_files(r, "parquet") for r in two_runs]
    assert files[0].keys() == files[1].keys() and files[0]
    for name in files[0]:
        tables = []
        for f, r in zip(files, two_runs):
            t = pq.read_table(f[name])
            if "run_id" in t.column_names:
                i = t.column_names.index("run_id")
                t = t.set_column(i, "run_id", pc.replace_substring(t.column("run_id"), r["run_id"], RUN_ID))
            tables.append(t)
        assert tables[0].schema.equals(tables[1].schema, check_metadata=True), name
        a, b = (t.drop_columns([c for c in RUN_COLUMNS[1:] if c in t.column_names]) for t in tables)
        assert a.equals(b), f"export {name} differs"
