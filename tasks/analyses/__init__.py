"""The analyses the monthly flow fans out to, registered by import.

Each analysis is a plain function ``analyse(ctx: RunContext, ...) -> dict[str, polars.DataFrame]``
that reads the marts (point in time, through :func:`tasks.marts.load_mart`) and
returns result tables by name.  The flow runs them concurrently: they only read
the warehouse.  A package here is named as it is registered.

=========================== ==========================================================
``funnel_counts``           counts by stage, band and group (tasks/analyses/funnel_counts.py)
``funnel_statistics``       odds ratios, WRES indicator 2, four-fifths (docs/methods.md section 1)
``text``                    redacted free text: topics and sentiment (docs/methods.md section 2)
``scores_and_triangulation`` interview scores, representation, programme impact (sections 3-4)
=========================== ==========================================================
"""
from __future__ import annotations

from typing import Callable

import polars as pl

from tasks.analyses import funnel_counts
from tasks.analyses.funnel_statistics import analysis as funnel_statistics
from tasks.analyses.scores_and_triangulation import analysis as scores_and_triangulation
from tasks.analyses.text import analysis as text

Analysis = Callable[..., dict[str, pl.DataFrame]]

ANALYSES: dict[str, Analysis] = {
    "funnel_counts": funnel_counts.analyse,
    "funnel_statistics": funnel_statistics.analyse,
    "text": text.analyse,
    "scores_and_triangulation": scores_and_triangulation.analyse,
}
