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


def get(name: str) -> Callable:
    return importlib.import_module(ANALYSES[name]).analyse
