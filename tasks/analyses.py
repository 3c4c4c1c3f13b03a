"""The analyses the monthly flow fans out to.

Each entry names a module exposing ``analyse(ctx: RunContext) -> dict[str, polars.DataFrame]``.
The flow runs them concurrently (they only read the warehouse).
"""
from __future__ import annotations

import importlib
from typing import Callable

ANALYSES: dict[str, str] = {
    "funnel_counts": "tasks.funnel_counts",
    "funnel_statistics": "tasks.funnel",
    "text": "tasks.text_analysis",
    "scores_and_triangulation": "tasks.scores_analysis",
}


def available() -> dict[str, str]:
    """The analyses whose modules import (all of them in a complete install)."""
    out = {}
    for name, module in ANALYSES.items():
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        out[name] = module
    return out


def get(name: str) -> Callable:
    return importlib.import_module(ANALYSES[name]).analyse
