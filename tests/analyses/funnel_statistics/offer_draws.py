"""The generator's funnel draws in process, without writing files: a large offer-stage sample for CI.

Test-only helper of test_letter_power.py.  ``generated_funnel`` runs the
project's generator (edi_recruit/synthetic) exactly as ``generate_trust``
does up to the funnel outcomes: the plan (stream 0), the workforce and
internal applications (streams 1, 2), then for each chunk of vacancies the
chunk's stream consumed by panels, applicants and outcomes, in that order.
These are the first draws of each chunk's stream, so the arrays are the
ones ``generate_trust`` writes (``test_letter_power`` checks that on a
small trust against the written extract).  What it skips is everything after
them (contact details, interview scores, free text, status dates, the
writers) and the ingest: that is what makes 400,000 applications cost a few
seconds instead of minutes.  The frame it returns has the columns the offer
stage's estimator reads from ``marts.application_funnel``, computed as the
marts compute them (diverse_panel from the seated panel, ethnicity unknown
as null, Not declared disability as null).
"""
from __future__ import annotations

import numpy as np
import polars as pl

from edi_recruit.synthetic.applications import draw_applicants
from edi_recruit.synthetic.design import VAC_CHUNK
from edi_recruit.synthetic.draws import STREAM_CHUNK_BASE, stream
from edi_recruit.synthetic.effects import PlantedEffects, ScoreParameters, resolve_effects
from edi_recruit.synthetic.outcomes import draw_outcomes
from edi_recruit.synthetic.panels import draw_panels
from edi_recruit.synthetic.plan import Calendar, Chunk, TrustSpec, draw_plan
from edi_recruit.synthetic.workforce import draw_applications
from tasks.core.vocabulary import (
    AGE_BANDS,
    DEFAULT_PERIOD_END,
    DEFAULT_PERIOD_START,
    DEFAULT_PROGRAMME_START,
    WITHDRAWN_STAGES,
)


def generated_funnel(seed: int, applications: int, effects: dict | None = None) -> pl.DataFrame:
    """One row per application of a generated trust, with the offer stage's columns (see module docstring)."""
    spec = TrustSpec.checked(seed=seed, applications=applications, fmt="csv", period_start=DEFAULT_PERIOD_START,
                             period_end=DEFAULT_PERIOD_END, programme_start=DEFAULT_PROGRAMME_START)
    eff = PlantedEffects.from_spec(resolve_effects(effects))
    calendar = Calendar.of(spec)
    plan = draw_plan(spec, calendar, eff)
    staff, counts = draw_applications(spec, calendar, eff, plan.vacancies)
    member_sd = ScoreParameters.from_effects(eff).member_sd
    nv = len(plan.vacancies)
    parts = []
    for c in range((nv + VAC_CHUNK - 1) // VAC_CHUNK):
        chunk = Chunk.of(plan.vacancies, index=c, first=c * VAC_CHUNK, stop=min(nv, (c + 1) * VAC_CHUNK))
        rng = stream(spec.seed, STREAM_CHUNK_BASE + chunk.index)
        panels = draw_panels(rng, chunk, plan.panel_pool, member_sd=member_sd)
        a = draw_applicants(rng, chunk, staff=staff, counts=counts, calendar=calendar)
        o = draw_outcomes(rng, chunk, a, eff)
        seat_female = plan.panel_pool.people.female[panels.person]
        diverse = ((np.bincount(panels.vacancy, seat_female, len(chunk)) > 0)
                   & (np.bincount(panels.vacancy, panels.member_bme, len(chunk)) > 0))
        v = a.vacancy
        wd = np.array(list(WITHDRAWN_STAGES) + [None], dtype=object)[o.withdrawn_stage]
        parts.append(pl.DataFrame({
            "vacancy_id": (chunk.first + v).astype(np.int64),
            "bme": pl.Series(np.where(a.known, a.bme, np.nan)).fill_nan(None).cast(pl.Int64),
            "female": a.female.astype(np.int64),
            "internal": a.internal.astype(np.int64),
            "disability": pl.Series(np.where(a.disability == 2, np.nan, a.disabled)).fill_nan(None).cast(pl.Int64),
            "age_band": np.array(AGE_BANDS)[a.age],
            "letter_to_ceo": chunk.letter[v].astype(np.int64),
            "diverse_panel": diverse[v].astype(np.int64),
            "post_programme": chunk.post[v].astype(np.int64),
            "shortlisted": o.shortlisted.astype(np.int64),
            "interviewed": o.interviewed.astype(np.int64),
            "offered": o.offered.astype(np.int64),
            "withdrawn_stage": pl.Series(wd.tolist(), dtype=pl.String),
        }))
    return pl.concat(parts)
