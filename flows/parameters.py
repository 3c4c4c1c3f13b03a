"""The flows' parameters: names, defaults and documentation, defined once.

The monthly and backfill flows take these parameters (their signatures use the
defaults below, and :func:`documented` writes their docstrings, which Prefect
shows in the UI); ``prefect.yaml``'s header comment lists the same ones (a test
checks it names every parameter).  The values are resolved into one
:class:`tasks.core.config.RunConfig` by :func:`tasks.core.config.resolve_config`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from tasks.core.config import (
    ANALYSIS_PARAMS,
    DEFAULT_DB,
    DEFAULT_EXTRACTS,
    DEFAULT_OUT,
    DEFAULT_WINDOW,
    RunConfig,
    resolve_config,
)
from tasks.core.run_context import WINDOWS
from tasks.core.vocabulary import DEFAULT_PROGRAMME_START

DEFAULT_CONCURRENCY = 2
MAX_CONCURRENCY = 8


@dataclass(frozen=True)
class FlowParameter:
    name: str
    default: Any
    doc: str


AS_OF = FlowParameter("as_of", None, "month to evaluate, YYYY-MM; empty = the month before the run's scheduled "
                                     "time (Europe/London)")
START = FlowParameter("start", None, "first month, YYYY-MM (required)")
END = FlowParameter("end", None, "last month, YYYY-MM, inclusive (required)")
COMMON = (
    FlowParameter("extracts", DEFAULT_EXTRACTS, "folder of extract files (Trac / ESR exports)"),
    FlowParameter("db", DEFAULT_DB, "DuckDB warehouse file"),
    FlowParameter("out_dir", DEFAULT_OUT, "folder for run outputs: <out_dir>/<run_id>/ report, exports, Data Docs"),
    FlowParameter("programme_start", DEFAULT_PROGRAMME_START, "first month of the programme, YYYY-MM"),
    FlowParameter("window", DEFAULT_WINDOW, " | ".join(WINDOWS)),
    FlowParameter("mapping", None, "column-mapping YAML files (default: every mappings/*.yaml)"),
    FlowParameter("redaction_model", None, "installed spaCy pipeline whose PERSON entities are also redacted"),
    FlowParameter("policy", None, "disclosure-control policy YAML (default: config/disclosure_policy.yaml)"),
    FlowParameter("params", None, "analysis parameters, e.g. {\"its_frequency\": \"quarter\"}; keys: "
                                  + ", ".join(ANALYSIS_PARAMS)),
    FlowParameter("report", True, "render the HTML report"),
    FlowParameter("exports", True, "write the CSV, Parquet and XLSX exports"),
)
FORCE = FlowParameter("force", False, "re-run months whose inputs, code and parameters are unchanged")
CONCURRENCY = FlowParameter("concurrency", DEFAULT_CONCURRENCY,
                            f"months evaluated at once, 1..{MAX_CONCURRENCY} (DuckDB writes still queue)")

MONTHLY_PARAMETERS = (AS_OF, *COMMON)
BACKFILL_PARAMETERS = (START, END, *COMMON, FORCE, CONCURRENCY)
ALL_PARAMETERS = (AS_OF, START, END, *COMMON, FORCE, CONCURRENCY)
DEFAULTS = {p.name: p.default for p in ALL_PARAMETERS}
RUN_ONLY = frozenset({"start", "end", "force", "concurrency"})   # how a backfill runs, not what a run computes


def resolve(**values: Any) -> RunConfig:
    """The run configuration of a flow's parameter values (the backfill-only ones are left out)."""
    return resolve_config(**{k: v for k, v in values.items() if k not in RUN_ONLY})


def docstring(summary: str, parameters: tuple[FlowParameter, ...]) -> str:
    """A Google-style docstring (Prefect reads its ``Args`` into the parameter descriptions)."""
    args = "\n".join(f"    {p.name}: {p.doc}" + (f" [default {p.default!r}]" if p.default is not None else "")
                     for p in parameters)
    return f"{summary}\n\nArgs:\n{args}\n"


def documented(summary: str, parameters: tuple[FlowParameter, ...]) -> Callable:
    """Decorator (under ``@flow``): give a flow function the docstring built from ``parameters``."""
    def apply(fn: Callable) -> Callable:
        fn.__doc__ = docstring(summary, parameters)
        return fn
    return apply
