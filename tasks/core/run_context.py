"""What every analysis task receives: where the warehouse is, which run, which month.

An analysis is a plain function ``analyse(ctx: RunContext) -> dict[str, polars.DataFrame]``.
It reads the marts through :mod:`tasks.warehouse` (read-only, point-in-time
filtered by ``ctx.as_of``) and returns result tables by name, without the
``run_id`` column: publishing adds it and writes all tables in one transaction.

The flow builds the context from the run's configuration
(:meth:`tasks.core.config.RunConfig.run_context`); ``params`` holds the
analysis parameters that were set (:data:`tasks.core.config.ANALYSIS_PARAMS`,
checked and typed there), and an analysis reads them with :meth:`RunContext.param`
and its own default.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from tasks.core.months import add_months, month_end, parse_month
from tasks.core.vocabulary import DEFAULT_PROGRAMME_START

WINDOWS = ("all_to_date", "programme_to_date", "last_12_months")


@dataclass(frozen=True)
class RunContext:
    db_path: str
    run_id: str
    as_of: str
    out_dir: str
    programme_start: str = DEFAULT_PROGRAMME_START
    window: str = "all_to_date"
    params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        parse_month(self.as_of)
        parse_month(self.programme_start)
        if self.window not in WINDOWS:
            raise ValueError(f"window must be one of {', '.join(WINDOWS)}; got {self.window!r}")

    @property
    def as_of_end(self) -> date:
        """Last day of the as_of month: records dated after it are invisible to this run."""
        return month_end(parse_month(self.as_of))

    @property
    def programme_start_date(self) -> date:
        return parse_month(self.programme_start)

    @property
    def window_start(self) -> date | None:
        """First day of the analysis window, or None for everything to date."""
        if self.window == "programme_to_date":
            return self.programme_start_date
        if self.window == "last_12_months":
            return add_months(parse_month(self.as_of), -11)
        return None

    @property
    def run_dir(self) -> Path:
        return Path(self.out_dir) / self.run_id

    def param(self, name: str, default=None):
        """An analysis parameter, or ``default`` (the analysis' own) when the run did not set it."""
        return self.params.get(name, default)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, default=str)

    @classmethod
    def from_json(cls, text: str) -> "RunContext":
        return cls(**json.loads(text))
