"""Helpers that read a generated trust's extract files (not collected: no test_ prefix)."""
from __future__ import annotations

from pathlib import Path

from tasks.privacy.redaction import KnownPeople


def small_extracts(out: Path, *, seed: int, applications: int) -> Path:
    """A small generated trust's extract files in ``out``, without its answer key (truth*.json)."""
    from edi_recruit.synthetic.generator import generate_trust

    generate_trust(out, seed=seed, applications=applications)
    for p in out.glob("truth*"):
        p.unlink()
    return out


def known_people_from_extracts(extracts) -> KnownPeople:
    """The export's personal_data columns, as ingest reads them (mappings/trac.yaml headers)."""
    import polars as pl

    kp = KnownPeople()
    for table, fn, sn, em in (
        ("applications", "Forename", "Surname", "Email"),
        ("panel_members", "Panel Member Forename", "Panel Member Surname", None),
        ("hiring_managers", "Manager Forename", "Manager Surname", "Manager Email"),
    ):
        df = pl.read_csv(extracts / f"{table}.csv", infer_schema=False)
        kp.forenames |= set(df[fn].drop_nulls())
        kp.surnames |= set(df[sn].drop_nulls())
        kp.full_names |= {f"{a} {b}" for a, b in zip(df[fn], df[sn]) if a and b}
        if em:
            kp.emails |= set(df[em].drop_nulls())
    return kp
