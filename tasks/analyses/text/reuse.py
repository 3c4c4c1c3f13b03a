"""Reuse of a whole text analysis whose inputs have not changed since a completed run.

Reads the frames the analysis would analyse (text marts, funnel, score sheets, as loaded for the
run's month and window), its parameters and the source of the code that computes it; returns the
fingerprint of all of them (:func:`inputs_fingerprint`).  A completed run of the same warehouse that
recorded the same fingerprint in the run registry (``results.runs.reuse_json``, ``text.inputs_sha256``)
and whose result files are still in its output folder is reused: its tables are read back from
``<output_dir>/results/<table>.parquet`` (the very files that run published) instead of being
recomputed (:func:`reusable_tables`).  Any change to a text, a stratifier, a score, a parameter or
the code gives another fingerprint and a full analysis.  Never writes anything.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl

from tasks.analyses.text.doc_cache import feature_version

# the code of the text analysis beyond the per-document features (those are in feature_version)
_ANALYSIS_SOURCES = ("tasks/analyses/text", "tasks/stats", "tasks/core/vocabulary.py")


_PACKAGES = ("scikit-learn", "statsmodels", "scipy", "polars", "numpy")


def code_fingerprint() -> str:
    """sha256 of the analysis' source files and of the versions of the libraries that compute it."""
    import importlib.metadata

    root = Path(__file__).resolve().parents[3]
    h = hashlib.sha256()
    for pkg in _PACKAGES:
        h.update(f"{pkg}={importlib.metadata.version(pkg)}\0".encode())
    for rel in _ANALYSIS_SOURCES:
        p = root / rel
        for f in sorted(p.rglob("*.py")) if p.is_dir() else [p]:
            h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def _hash_frame(h, frame: pl.DataFrame | None) -> None:
    """Feed ``frame`` (schema, height, then a 64-bit hash of each row in order) to ``h``.

    Row hashes depend on the values only, never on how they sit in memory: a null's slot in an Arrow
    buffer holds whatever was there (DuckDB leaves it unset), and equal frames can come in other
    chunks, so serialised bytes of equal frames differ from load to load.  polars' row hash is fixed
    for a polars version, which is part of the code fingerprint.
    """
    if frame is None:
        h.update(b"none")
        return
    h.update(repr(list(frame.schema.items())).encode() + f"\0{frame.height}\0".encode())
    if frame.width == 0:
        return
    for part in frame.iter_slices(n_rows=200_000):
        h.update(part.hash_rows(seed=0).to_numpy().tobytes())


def inputs_fingerprint(frames: dict[str, pl.DataFrame | None], params: dict) -> str:
    """sha256 of the analysis' input frames (in their order), parameters, code and feature version."""
    h = hashlib.sha256()
    h.update(code_fingerprint().encode())
    h.update(feature_version(model=params.get("text_spacy_model"),
                             reredact=bool(params.get("text_reredact", True))).encode())
    h.update(json.dumps(params, sort_keys=True, default=str).encode())
    for name in sorted(frames):
        h.update(name.encode() + b"\0")
        _hash_frame(h, frames[name])
    return h.hexdigest()


def reusable_tables(db_path: str | Path, inputs_sha256: str) -> tuple[str, dict[str, pl.DataFrame]] | None:
    """(run id, tables) of the latest completed run with these inputs whose result files all exist, else None."""
    from tasks.warehouse.connection import reading, table_exists
    from tasks.warehouse.sql import query

    with reading(db_path) as con:
        if not table_exists(con, "results.runs"):
            return None
        runs = query(con, "ops/registry/reusable_runs", {"analysis": "text", "inputs_sha256": inputs_sha256})
    for run in runs.iter_rows(named=True):
        rec = json.loads(run["reuse_json"] or "{}").get("text", {})
        folder = Path(run["output_dir"] or "") / "results"
        paths = {name: folder / f"{name}.parquet" for name in rec.get("tables", [])}
        if paths and all(p.is_file() for p in paths.values()):
            return run["run_id"], {name: pl.read_parquet(p) for name, p in paths.items()}
    return None
