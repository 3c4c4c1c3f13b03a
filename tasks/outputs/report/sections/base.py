"""What every report section reads: :class:`Ctx` (one run's published tables) and the few-events flag."""
from __future__ import annotations

import polars as pl


class Ctx:
    """The published tables of one run, its registry row and policy, as the sections read them."""

    def __init__(self, tables: dict[str, pl.DataFrame], run: dict, policy: dict):
        self.t = tables
        self.run = run
        self.policy = policy

    def get(self, name: str) -> pl.DataFrame | None:
        df = self.t.get(name)
        return df if df is not None and df.height > 0 else None


def flag_text(v) -> str:
    """The note shown for an estimate that disclosure control flagged for few events ("" when not flagged)."""
    return "flagged: few events" if v and "small_n_events" in str(v) else ""

