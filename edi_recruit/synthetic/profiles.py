"""Named sizes of the synthetic trust, and the last month of a generated extract set.

Reads nothing at import.  :data:`DEMO` is the trust ``edi-recruit demo`` makes:
sized like the published study's trust (a large multi-hospital trust,
September 2021 to January 2024) so that the planted letter-to-the-CEO effect
(offer stage, OR about 1.7) is detectable with the default seed; the tests keep
``generate_trust``'s own smaller default so that CI stays fast.
:func:`last_data_month` reads a generated extract set's dates so that the demo
evaluates the last month of its data (no record dated after the run's month,
so no point-in-time warning).  Never changes the generator's defaults.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tasks.core.vocabulary import DEFAULT_PERIOD_END, DEFAULT_PERIOD_START, DEFAULT_PROGRAMME_START


@dataclass(frozen=True)
class TrustProfile:
    """The arguments of :func:`edi_recruit.synthetic.generate_trust` that set a trust's size and period."""

    name: str
    applications: int
    period_start: str = DEFAULT_PERIOD_START
    period_end: str = DEFAULT_PERIOD_END
    programme_start: str = DEFAULT_PROGRAMME_START

    def generator_arguments(self) -> dict:
        return {"applications": self.applications, "period_start": self.period_start,
                "period_end": self.period_end, "programme_start": self.programme_start}


DEMO = TrustProfile("demo", applications=40_000)


# the date format of the generated exports (edi_recruit.synthetic.columns.dates)
EXPORT_DATE_FORMAT = "%d/%m/%Y"


def last_data_month(extracts: str | Path) -> str | None:
    """The latest month (YYYY-MM) of any dated column ("... Date ..." headers) of the CSV extracts in a folder."""
    import polars as pl

    latest = None
    for path in sorted(Path(extracts).glob("*.csv")):
        if path.name.startswith("truth"):
            continue
        header = pl.read_csv(path, n_rows=0, infer_schema=False).columns
        dated = [c for c in header if "date" in c.lower()]
        if not dated:
            continue
        frame = pl.read_csv(path, columns=dated, infer_schema=False)
        for c in dated:
            m = frame[c].str.to_date(EXPORT_DATE_FORMAT, strict=False).max()
            if m is not None and (latest is None or m > latest):
                latest = m
    return f"{latest.year:04d}-{latest.month:02d}" if latest is not None else None
