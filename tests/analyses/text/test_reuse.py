"""A text analysis whose inputs, parameters and code are unchanged since a completed run is reused,
and the registry says so (tasks/analyses/text/reuse.py); any change recomputes."""
from __future__ import annotations

import json

import pytest
from extract_helpers import small_extracts

from tasks.core.run_context import RunContext
from tasks.publish import registry
from tasks.publish.results_store import write_tables
from tasks.warehouse.connection import reading, writing

PARAMS = {"text_k_range": [3, 4], "text_fit_max_docs": 300}


@pytest.fixture(scope="module")
def small_warehouse(tmp_path_factory):
    from tasks.ingest.staging import ingest_extracts
    from tasks.marts import build_marts

    base = tmp_path_factory.mktemp("text_reuse")
    extracts = small_extracts(base / "extracts", seed=21, applications=1200)
    db = base / "w" / "edi.duckdb"
    ingest_extracts(extracts, db)
    build_marts(db)
    return db, base


def _run(db, base, run_id: str, params: dict, as_of: str = "2024-01") -> tuple[dict, dict]:
    """A registered run of the text analysis that publishes its files and completes: (tables, reuse record)."""
    from tasks.analyses.text.analysis import analyse

    ctx = RunContext(db_path=str(db), run_id=run_id, as_of=as_of, out_dir=str(base / "out"), params=params)
    registry.register_run(db, run_id=run_id, flow="monthly-evaluation", as_of=as_of, params=params,
                          out_dir=base / "out")
    tables = analyse(ctx)
    write_tables(ctx, tables)
    with writing(db) as con:
        registry.finish_run(con, run_id, "completed")
    with reading(db) as con:
        rec = json.loads(registry.get_run(con, run_id)["reuse_json"])["text"]
    return tables, rec


def test_unchanged_inputs_reuse_the_last_completed_run(small_warehouse):
    db, base = small_warehouse
    first, rec1 = _run(db, base, "r1", PARAMS)
    assert "reused_run" not in rec1 and rec1["computed"] > 100 and rec1["from_cache"] == 0
    assert first["text_documents"].height > 100 and rec1["tables"] == list(first)

    again, rec2 = _run(db, base, "r2", PARAMS)
    assert rec2["reused_run"] == "r1" and rec2["inputs_sha256"] == rec1["inputs_sha256"]
    for name in first:
        assert again[name].equals(first[name]), name

    # another parameter: recomputed in full, but every text's features come from the content cache
    other, rec3 = _run(db, base, "r3", {**PARAMS, "text_seed": 5})
    assert "reused_run" not in rec3 and rec3["inputs_sha256"] != rec1["inputs_sha256"]
    assert rec3["computed"] == 0 and rec3["from_cache"] == rec1["computed"]
    assert other["text_documents"]["text"].equals(first["text_documents"]["text"])

    # an earlier month sees fewer documents: other inputs, no reuse
    _, rec4 = _run(db, base, "r4", PARAMS, as_of="2023-06")
    assert "reused_run" not in rec4 and rec4["computed"] == 0

    # a completed run whose result files are gone is not reused
    from tasks.analyses.text.reuse import reusable_tables

    assert reusable_tables(db, rec1["inputs_sha256"])[0] == "r2"
    for run_id in ("r1", "r2"):
        (base / "out" / run_id / "results" / "topics.parquet").unlink()
    assert reusable_tables(db, rec1["inputs_sha256"]) is None


def test_fingerprint_depends_on_values_not_memory_layout():
    import polars as pl

    from tasks.analyses.text.reuse import inputs_fingerprint

    long = [f"an assessment text longer than twelve bytes, number {i}" for i in range(40)]
    a = pl.DataFrame({"text": long, "n": list(range(40))})
    b = pl.DataFrame({"text": list(reversed(long)), "n": list(reversed(range(40)))}).reverse()  # other string buffers
    assert a.equals(b)
    assert inputs_fingerprint({"t": a}, {}) == inputs_fingerprint({"t": b}, {})
    # the same rows in other chunks (DuckDB hands Arrow batches over as its threads finish them)
    chunked = pl.concat([a[:7], a[7:23], a[23:]], rechunk=False)
    assert chunked.n_chunks() == 3 and chunked.equals(a)
    assert inputs_fingerprint({"t": chunked}, {}) == inputs_fingerprint({"t": a}, {})
    # a null's slot holds whatever was in memory (DuckDB leaves it unset): equal frames, other bytes
    import numpy as np
    import pyarrow as pa

    validity = pa.py_buffer(np.packbits([1, 0, 1, 1], bitorder="little").tobytes())

    def with_null(under: int) -> pl.DataFrame:
        data = pa.py_buffer(np.array([3, under, 5, 7], dtype=np.int32).tobytes())
        return pl.from_arrow(pa.table({"x": pa.Array.from_buffers(pa.int32(), 4, [validity, data])}))

    assert with_null(0).equals(with_null(123456))
    assert inputs_fingerprint({"t": with_null(0)}, {}) == inputs_fingerprint({"t": with_null(123456)}, {})
    # a column that may hold nulls but holds none, with and without its validity bitmap
    masked = pl.concat([a.with_columns(pl.lit(None, pl.Int64).alias("n"))[:0], a], rechunk=False)
    assert inputs_fingerprint({"t": masked}, {}) == inputs_fingerprint({"t": a}, {})
    assert inputs_fingerprint({"t": a}, {}) != inputs_fingerprint({"t": a.with_columns(pl.col("n") + 1)}, {})
    assert inputs_fingerprint({"t": a}, {}) != inputs_fingerprint({"t": a}, {"text_seed": 1})
