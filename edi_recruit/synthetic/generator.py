"""Generate one synthetic trust: check the arguments, then run the stages in their fixed order.

Reads the caller's arguments and the effects (``effects``).  Writes the raw
exports (Trac-style recruitment tables and ESR workforce snapshots, headers
from ``mappings/trac.yaml`` and ``mappings/esr.yaml``) and the truth files
(``truth.json``, ``truth_pii.csv``, ``truth_documents.csv``) that the
pipeline never reads, and returns a :class:`GenerationSummary`.  See
docs/synthetic-data.md for the data-generating model of every stage.

This module holds only the order of things, which is what makes the output
byte-for-byte reproducible: plan (stream 0), workforce and internal
applications (stream 1), external allocation (stream 2), then for each chunk
of ``VAC_CHUNK`` vacancies one stream (1000 + chunk) consumed by panels,
applicants, outcomes, application contact details, interview scores,
assessments and letters, in that order; then each chunk's status dates from
its own stream (2000 + chunk), so that adding them left every other value
unchanged.  Each stage's model lives in its own
module (see the package docstring); changing a planted effect never needs
this file.

``load_effects`` is imported here for the callers that import it from this
module (the CLI and several tests); new code imports both functions from
``edi_recruit.synthetic``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from edi_recruit.synthetic.applications import application_refs, draw_applicants, draw_contacts, write_applications
from edi_recruit.synthetic.design import VAC_CHUNK
from edi_recruit.synthetic.draws import STREAM_CHUNK_BASE, STREAM_STATUS_BASE, stream
from edi_recruit.synthetic.effects import PlantedEffects, ScoreParameters, load_effects, resolve_effects
from edi_recruit.synthetic.outcomes import draw_outcomes
from edi_recruit.synthetic.panels import draw_panels, write_panels
from edi_recruit.synthetic.plan import (
    Calendar,
    Chunk,
    TrustPlan,
    TrustSpec,
    draw_plan,
    vacancy_refs,
    write_managers,
    write_vacancies,
)
from edi_recruit.synthetic.scores import write_interview_scores
from edi_recruit.synthetic.sinks import XLSX_MAX_ROWS, TrustWriter
from edi_recruit.synthetic.status_dates import draw_status_dates
from edi_recruit.synthetic.texts import write_assessments, write_letters
from edi_recruit.synthetic.truth import TruthTally, truth_models, write_truth
from edi_recruit.synthetic.workforce import ApplicationCounts, Staff, draw_applications, snapshot_rows, write_workforce
from tasks.core.vocabulary import DEFAULT_PERIOD_END, DEFAULT_PERIOD_START, DEFAULT_PROGRAMME_START

__all__ = ["GenerationSummary", "generate_trust", "load_effects"]


@dataclass
class GenerationSummary:
    out_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    row_counts: dict[str, int] = field(default_factory=dict)
    seed: int = 7


@dataclass(frozen=True, eq=False)
class _Trust:
    """Everything drawn before the chunks, shared by every chunk."""

    spec: TrustSpec
    calendar: Calendar
    effects: PlantedEffects
    plan: TrustPlan
    staff: Staff
    counts: ApplicationCounts


def generate_trust(out_dir, *, seed: int = 7, applications: int = 8000, effects: dict | None = None,
                   fmt: str = "csv", period_start: str = DEFAULT_PERIOD_START,
                   period_end: str = DEFAULT_PERIOD_END, programme_start: str = DEFAULT_PROGRAMME_START,
                   progress: Callable[[int, int], None] | None = None) -> GenerationSummary:
    """Write a synthetic trust (raw exports + truth files) to ``out_dir``; see docs/synthetic-data.md.

    ``progress(done, total)`` is called after the static tables, after each chunk of vacancies and at the end.
    Bad arguments raise a one-line ``ValueError`` before anything is written.
    """
    spec = TrustSpec.checked(seed=seed, applications=applications, fmt=fmt, period_start=period_start,
                             period_end=period_end, programme_start=programme_start)
    eff = PlantedEffects.from_spec(resolve_effects(effects))
    calendar = Calendar.of(spec)
    plan = draw_plan(spec, calendar, eff)
    staff, counts = draw_applications(spec, calendar, eff, plan.vacancies)
    trust = _Trust(spec=spec, calendar=calendar, effects=eff, plan=plan, staff=staff, counts=counts)
    if spec.fmt == "xlsx":
        _check_fits_xlsx(trust)
    out = Path(out_dir)
    writer = TrustWriter(out, spec.fmt)
    tally = TruthTally(calendar)
    nv = len(plan.vacancies)
    n_chunks = (nv + VAC_CHUNK - 1) // VAC_CHUNK
    total = n_chunks + 2
    try:
        write_managers(writer, plan.managers)
        if progress:
            progress(1, total)
        for c in range(n_chunks):
            chunk = Chunk.of(plan.vacancies, index=c, first=c * VAC_CHUNK, stop=min(nv, (c + 1) * VAC_CHUNK))
            _generate_chunk(trust, chunk, writer, tally)
            if progress:
                progress(c + 2, total)
        write_workforce(writer, staff, calendar)
    finally:
        writer.close()
    if progress:
        progress(total, total)
    models = truth_models(eff, tally, calendar)
    write_truth(out, spec=spec, models=models,
                realised=tally.realised(n_vacancies=nv, n_staff=len(staff), counts=counts))
    return GenerationSummary(out_dir=out, files=writer.files(), row_counts=writer.row_counts(), seed=spec.seed)


def _check_fits_xlsx(trust: _Trust) -> None:
    """Refuse xlsx before writing anything when a table's planned rows exceed a sheet."""
    n_apps = trust.counts.n_applications
    est = {"applications": n_apps, "workforce": snapshot_rows(trust.staff, trust.calendar),
           "interview_scores": int(n_apps * 0.3 * 3 * 4.5)}
    big = {t: n for t, n in est.items() if n > XLSX_MAX_ROWS}
    if big:
        t, n = next(iter(big.items()))
        raise ValueError(f"xlsx cannot hold table {t!r} (~{n:,} rows > {XLSX_MAX_ROWS:,}); "
                         f"use --format parquet or csv, or fewer applications")


def _generate_chunk(trust: _Trust, chunk: Chunk, writer: TrustWriter, tally: TruthTally) -> None:
    """One chunk of vacancies, every draw from the chunk's own stream in the documented order."""
    rng = stream(trust.spec.seed, STREAM_CHUNK_BASE + chunk.index)
    plan, eff = trust.plan, trust.effects
    panels = draw_panels(rng, chunk, plan.panel_pool, member_sd=ScoreParameters.from_effects(eff).member_sd)
    applicants = draw_applicants(rng, chunk, staff=trust.staff, counts=trust.counts, calendar=trust.calendar)
    outcomes = draw_outcomes(rng, chunk, applicants, eff)
    tally.add(chunk, applicants, outcomes)
    vref = vacancy_refs(plan.vacancies, chunk.vacancies)
    aref = application_refs(chunk, trust.counts, len(applicants))
    write_vacancies(writer, plan.vacancies, chunk, refs=vref, letter_received=outcomes.letter_received)
    write_panels(writer, panels, plan.panel_pool, vref)
    contacts = draw_contacts(rng, applicants)
    write_interview_scores(rng, writer, panels=panels, applicants=applicants, outcomes=outcomes, effects=eff,
                           application_refs=aref)
    assessments = write_assessments(rng, writer, chunk=chunk, panels=panels, pool=plan.panel_pool,
                                    applicants=applicants, outcomes=outcomes, staff_numbers=trust.staff.number,
                                    effects=eff, application_refs=aref)
    letters = write_letters(rng, writer, chunk=chunk, job_titles=plan.vacancies.title, panels=panels,
                            pool=plan.panel_pool, applicants=applicants, outcomes=outcomes, vacancy_refs=vref)
    writer.write_truth_rows(assessments.pii + letters.pii, assessments.documents + letters.documents)
    status = draw_status_dates(stream(trust.spec.seed, STREAM_STATUS_BASE + chunk.index), chunk, applicants,
                               outcomes, interview_day=assessments.written_day)
    write_applications(writer, applicants, outcomes, contacts=contacts, status=status, staff=trust.staff,
                       application_refs=aref, vacancy_refs=vref)
