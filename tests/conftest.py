"""Shared fixtures: a generated synthetic trust and a warehouse built from it.

Session-scoped so that the suite generates and ingests the default trust
once per worker.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("EDI_RECRUIT_PSEUDONYM_KEY", "test-key-not-secret")
os.environ.setdefault("EDI_RECRUIT_QUIET", "1")
from edi_recruit import settings as _settings  # noqa: E402,F401  (telemetry off)

AS_OF = "2024-01"


@pytest.fixture(scope="session")
def generated_trust(tmp_path_factory) -> Path:
    """A default synthetic trust (seed 7, ~8,000 applications) as CSV, with truth.json."""
    from edi_recruit.synthetic.generator import generate_trust, load_effects

    out = tmp_path_factory.mktemp("trust") / "extracts"
    generate_trust(out, seed=7, effects=load_effects(None))
    return out


@pytest.fixture(scope="session")
def truth(generated_trust) -> dict:
    return json.loads((generated_trust / "truth.json").read_text())


@pytest.fixture(scope="session")
def warehouse(generated_trust, tmp_path_factory) -> Path:
    """A DuckDB warehouse with staging and marts of the default trust."""
    from tasks.ingest.staging import ingest_extracts
    from tasks.marts import build_marts

    db = tmp_path_factory.mktemp("warehouse") / "edi.duckdb"
    ingest_extracts(generated_trust, db)
    build_marts(db)
    return db


@pytest.fixture(scope="session")
def warehouse_ctx(warehouse, tmp_path_factory):
    """A RunContext over the default trust's warehouse, as of 2024-01."""
    from tasks.core.run_context import RunContext

    out = tmp_path_factory.mktemp("runs")
    return RunContext(db_path=str(warehouse), run_id="test-run", as_of=AS_OF, out_dir=str(out))
