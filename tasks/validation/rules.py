"""The validation rules: what is checked, how severe a failure is, and what it does.

Reads ``expectations/<table>.json`` (one suite per staged table: each expectation
carries ``meta.name``, ``meta.severity``, ``meta.reason`` and ``meta.action``) and
resolves its placeholders against :mod:`tasks.core.vocabulary` and the run's
parameters.  Besides the suites, the gate applies a few rules written here:

* the rows ingest could not stage (:data:`INGEST_EXPECTATIONS`) are row-level
  failures like any other;
* a row-level failure of more than ``systemic_share`` of a table's rows (and at
  least ``systemic_min_rows`` rows) is escalated to critical (:func:`is_systemic`);
* the unknown-ethnicity share and the row-count drift take their bounds from the
  run (:func:`suite_params`).

docs/data-quality.md lists every expectation with its severity.  This module
returns plain data (expectation configs, parameters); it never touches the
warehouse or Great Expectations.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from tasks.core import vocabulary as V
from tasks.core.paths import EXPECTATIONS_DIR
from tasks.core.vocabulary import CANONICAL_TABLES

SEVERITIES: tuple[str, ...] = ("critical", "row-level", "warning")


# what a failure of each severity does (the ``action_taken`` of a failed check)
ACTION_OF_SEVERITY = {"critical": "stopped the run", "warning": "reported"}


# dependency order: a parent is validated (and its bad rows quarantined) before its children
VALIDATION_ORDER: tuple[str, ...] = (
    "hiring_managers", "vacancies", "panel_members", "applications",
    "interview_scores", "assessments", "ceo_letters", "workforce",
)


INGEST_EXPECTATIONS = {
    "row_well_formed": "malformed line (wrong number of fields, e.g. a truncated last line)",
    "values_parse": "a value could not be parsed as its type (date, number, Y/N)",
    "text_length_limit": "a free text is longer than the limit (EDI_RECRUIT_MAX_TEXT_CHARS)",
}


INGEST_ACTION = ("Correct the rows in the source system and re-export; "
                 "they wait in quarantine with their raw values.")


# a leading =, +, - or @ makes a spreadsheet treat text as a formula
FORMULA_PATTERN = r"^\s*[=+@]|^\s*-[A-Za-z0-9_.+*/-]*[(|!]"


DEFAULT_WINDOW_START = "2000-01"


# expectations on an aggregate of a 0/1 helper column: observed_value is a share
AGGREGATE_TYPES = ("expect_column_mean_to_be_between",)


# pandas dtypes a DuckDB type can arrive as (see tasks.validation.gx.to_pandas)
PANDAS_TYPES = {
    "VARCHAR": ["str", "string", "object", "StringDtype"],
    "DATE": ["datetime64[us]", "datetime64[ns]", "datetime64[ms]", "datetime64[s]", "date32[day][pyarrow]"],
    "BOOLEAN": ["bool", "boolean", "BooleanDtype", "bool[pyarrow]"],
    "DOUBLE": ["float64", "Float64", "float32", "double[pyarrow]"],
    "INTEGER": ["int32", "Int32", "int64", "Int64", "float64", "int32[pyarrow]", "int64[pyarrow]"],
}


class ValidationCritical(Exception):
    """A critical validation failure: the run stops before analysis.  ``str()`` is one line."""

    def __init__(self, message: str, results: pl.DataFrame | None = None, data_docs_path: str | None = None):
        super().__init__(message.replace("\n", " "))
        self.results = results
        self.data_docs_path = data_docs_path


# --------------------------------------------------------------------------
# Suites: expectations/<table>.json with placeholders resolved
# --------------------------------------------------------------------------
def suite_path(table: str) -> Path:
    return EXPECTATIONS_DIR / f"{table}.json"


def load_suite_file(table: str) -> dict:
    path = suite_path(table)
    if not path.exists():
        raise ValidationCritical(f"no expectation suite for {table}: {path} is missing")
    return json.loads(path.read_text(encoding="utf-8"))


def frame_columns(table: str) -> list[str]:
    """Canonical columns present in the validation frame (free text stays in DuckDB)."""
    return [c for c in CANONICAL_TABLES[table] if not (table in V.TEXT_TABLES and c == "text")]


class _Unresolved(Exception):
    pass


def _resolve(value: Any, table: str, params: dict) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (k, v), = value.items()
        if k == "$vocabulary":
            out = getattr(V, v)
            return list(out) if isinstance(out, (tuple, list)) else out
        if k == "$param":
            if params.get(v) is None:
                raise _Unresolved(v)
            return params[v]
        if k == "$columns":
            return frame_columns(v)
        if k == "$pandas_types":
            return list(PANDAS_TYPES[v])
    if isinstance(value, dict):
        return {k: _resolve(v, table, params) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, table, params) for v in value]
    return value


def resolve_suite(doc: dict, params: dict) -> tuple[list[dict], list[str]]:
    """Expectation configs with placeholders filled; and names skipped for lack of a parameter."""
    table = doc["name"]
    out, skipped = [], []
    for exp in doc["expectations"]:
        try:
            kwargs = _resolve(exp["kwargs"], table, params)
        except _Unresolved:
            skipped.append(exp["meta"]["name"])
            continue
        out.append({"type": exp["type"], "kwargs": kwargs, "meta": dict(exp["meta"])})
    return out, skipped


# --------------------------------------------------------------------------
# Run parameters of the suites, and the escalation rule
# --------------------------------------------------------------------------
def suite_params(*, previous_row_count: int | None, unknown_ethnicity_threshold: float,
                 drift_threshold: float) -> dict:
    """The ``$param`` values of one table's suite.

    ``previous_row_count`` is the table's staged row count in the previous validated
    run (None on a first run: the drift check is skipped).
    """
    prev = previous_row_count
    return {
        "unknown_ethnicity_threshold": unknown_ethnicity_threshold,
        # "at most threshold unknown" == "at least 1 - threshold known" (GX `mostly`)
        "known_ethnicity_min_share": 1.0 - unknown_ethnicity_threshold,
        "row_count_min": int(prev * (1 - drift_threshold)) if prev is not None else None,
        "row_count_max": int(prev * (1 + drift_threshold) + 0.999) if prev is not None else None,
        "previous_row_count": prev,
    }


def frame_params(*, window_start: date, as_of_end: date) -> dict:
    """The bound parameters of ``sql/checks/<table>.sql`` (date window, unknown codes, formula pattern)."""
    return {"window_start": window_start, "as_of_end": as_of_end, "unknown_codes": list(V.UNKNOWN_CODES),
            "formula_pattern": FORMULA_PATTERN}


def is_systemic(*, unexpected: int, rows: int, systemic_share: float, systemic_min_rows: int) -> bool:
    """A row-level failure of so many rows that the mapping or the export is wrong, not the rows."""
    share = unexpected / rows if rows else 0.0
    return rows >= systemic_min_rows and share > systemic_share


def systemic_note(systemic_share: float) -> str:
    """The text appended to the reason of an escalated row-level failure."""
    return f" (systemic: more than {systemic_share:.0%} of rows; check the mapping and the export)"
