"""Generated trusts drawn in process (no files, no ingest, no NLP): interview scores and assessment tone.

Test-only helper of test_generated_nulls.py.  ``score_and_tone_frames`` runs
the project's generator (edi_recruit/synthetic) in the order of
``generator._generate_chunk`` up to the assessments: the plan, the workforce,
then per chunk of vacancies the chunk's stream consumed by panels,
applicants, outcomes, contact details, interview scores and assessments, in
that order, with a writer that keeps the rows in memory.  So the scores and
the assessments' planted sentence tone are the draws ``generate_trust``
writes for the same seed (the assessments' *text* is built too, but never
scored).  What is skipped: letters, status dates, files, the ingest and the
sentiment scoring of the text.

Returns, per trust, the candidate frame of the interview-score models
(``interview_scores.prepare`` on the score rows normalised by score_sheet_oracle.py, as
marts.score_sheets would, with the funnel features)
and one row per assessment with ``sentiment`` = the share of its sentences
that the generator drew positive (the planted tone, measured without error)
and the covariates of ``tasks.analyses.text.tables.bme_effects``.
"""
from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
from score_sheet_oracle import normalise_score_rows

from edi_recruit.synthetic.applications import application_refs, draw_applicants, draw_contacts
from edi_recruit.synthetic.design import VAC_CHUNK
from edi_recruit.synthetic.draws import STREAM_CHUNK_BASE, stream
from edi_recruit.synthetic.effects import PlantedEffects, ScoreParameters, resolve_effects
from edi_recruit.synthetic.outcomes import draw_outcomes
from edi_recruit.synthetic.panels import draw_panels
from edi_recruit.synthetic.plan import Calendar, Chunk, TrustSpec, draw_plan, vacancy_refs
from edi_recruit.synthetic.scores import write_interview_scores
from edi_recruit.synthetic.texts import write_assessments
from edi_recruit.synthetic.workforce import draw_applications
from tasks.analyses.scores_and_triangulation import interview_scores as isc
from tasks.core.vocabulary import DEFAULT_PERIOD_END, DEFAULT_PERIOD_START, DEFAULT_PROGRAMME_START, SENIOR_BANDS


class MemoryWriter:
    """Stands in for ``sinks.TrustWriter``: keeps each table's columns (canonical names) in memory."""

    def __init__(self) -> None:
        self.tables: dict[str, list[pl.DataFrame]] = {}

    def write(self, table: str, canon: dict[str, pa.Array]) -> None:
        self.tables.setdefault(table, []).append(pl.DataFrame({k: pl.from_arrow(v) for k, v in canon.items()}))

    def write_truth_rows(self, pii_rows: list[tuple], document_rows: list[tuple]) -> None:
        pass

    def frame(self, table: str) -> pl.DataFrame:
        return pl.concat(self.tables[table])


def score_and_tone_frames(seed: int, applications: int, effects: dict | None = None
                          ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(candidates for the score models, assessments with planted tone) of one generated trust."""
    spec = TrustSpec.checked(seed=seed, applications=applications, fmt="csv", period_start=DEFAULT_PERIOD_START,
                             period_end=DEFAULT_PERIOD_END, programme_start=DEFAULT_PROGRAMME_START)
    eff = PlantedEffects.from_spec(resolve_effects(effects))
    calendar = Calendar.of(spec)
    plan = draw_plan(spec, calendar, eff)
    staff, counts = draw_applications(spec, calendar, eff, plan.vacancies)
    mem = MemoryWriter()
    funnel, docs = [], []
    nv = len(plan.vacancies)
    for c in range((nv + VAC_CHUNK - 1) // VAC_CHUNK):
        chunk = Chunk.of(plan.vacancies, index=c, first=c * VAC_CHUNK, stop=min(nv, (c + 1) * VAC_CHUNK))
        rng = stream(spec.seed, STREAM_CHUNK_BASE + chunk.index)
        panels = draw_panels(rng, chunk, plan.panel_pool, member_sd=ScoreParameters.from_effects(eff).member_sd)
        a = draw_applicants(rng, chunk, staff=staff, counts=counts, calendar=calendar)
        o = draw_outcomes(rng, chunk, a, eff)
        vref = vacancy_refs(plan.vacancies, chunk.vacancies)
        aref = application_refs(chunk, counts, len(a))
        draw_contacts(rng, a)  # consumes the chunk's stream exactly as the generator does
        write_interview_scores(rng, mem, panels=panels, applicants=a, outcomes=o, effects=eff, application_refs=aref)
        text_rows = write_assessments(rng, mem, chunk=chunk, panels=panels, pool=plan.panel_pool, applicants=a,
                                      outcomes=o, staff_numbers=staff.number, effects=eff, application_refs=aref)
        docs += text_rows.documents
        funnel.append(pl.DataFrame({
            "application_id": pl.from_arrow(aref), "vacancy_id": pl.from_arrow(vref.take(pa.array(a.vacancy))),
            "band": np.array(SENIOR_BANDS)[chunk.band[a.vacancy]],
            "bme": pl.Series(np.where(a.known, a.bme, np.nan)).fill_nan(None).cast(pl.Int64),
            "wres_group": np.where(~a.known, "Unknown", np.where(a.bme > 0, "BME", "White")),
            "female": a.female.astype(np.int64), "internal": a.internal.astype(np.int64),
            "offered": o.offered.astype(np.int64),
        }))
    funnel = pl.concat(funnel)
    rows = mem.frame("interview_scores").join(funnel.select("application_id", "vacancy_id"), on="application_id")
    _, cands = isc.prepare(normalise_score_rows(rows), funnel)
    tone = pl.DataFrame(docs, schema=["source", "application_id", "theme", "n_sentences", "n_positive"],
                        orient="row")
    tone = tone.with_columns((pl.col("n_positive") / pl.col("n_sentences")).alias("sentiment")).join(
        funnel, on="application_id", how="left", maintain_order="left").join(
        cands.select("application_id", pl.col("score").alias("normalised_score")), on="application_id",
        how="left", maintain_order="left")
    return cands, tone
