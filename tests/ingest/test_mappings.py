"""Mappings and discovery: clear errors for a bad mapping, a missing folder or table."""
from __future__ import annotations

import pytest

from tasks.core.vocabulary import CANONICAL_TABLES
from tasks.ingest.mappings import load_mappings
from tasks.ingest.readers import ExtractError
from tasks.ingest.staging import ingest_extracts


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
