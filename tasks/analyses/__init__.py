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

# each analysis's function is imported by its own name: binding a subpackage's ``analysis`` module to the
# subpackage's name here would hide the subpackage (``tasks.analyses.text`` would be the module)
from tasks.analyses.funnel_counts import analyse as _funnel_counts
from tasks.analyses.funnel_statistics.analysis import analyse as _funnel_statistics
from tasks.analyses.scores_and_triangulation.analysis import analyse as _scores_and_triangulation
from tasks.analyses.text.analysis import analyse as _text

Analysis = Callable[..., dict[str, pl.DataFrame]]

ANALYSES: dict[str, Analysis] = {
    "funnel_counts": _funnel_counts,
    "funnel_statistics": _funnel_statistics,
    "text": _text,
    "scores_and_triangulation": _scores_and_triangulation,
}
