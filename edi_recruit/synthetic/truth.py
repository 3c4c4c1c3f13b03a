"""Truth of a generated trust: what was planted and what was realised, written to truth.json.

Reads every chunk's applicants and outcomes as they are drawn (through
:class:`TruthTally`) and the merged effects.  Writes truth.json: every
stage's model, terms (the values actually used), notes and parameters; the
computed ``programme_impact`` terms and expected monthly BME share of
appointments; and the ``realised`` counts and rates.  Implements
"programme_impact" and "truth.json" of docs/synthetic-data.md.  The pipeline
never reads this file; it draws no random number.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from edi_recruit.synthetic.applications import Applicants
from edi_recruit.synthetic.effects import STAGE_MODELS, STAGE_TERMS, PlantedEffects
from edi_recruit.synthetic.outcomes import Outcomes
from edi_recruit.synthetic.plan import Calendar, Chunk, TrustSpec
from edi_recruit.synthetic.workforce import ApplicationCounts
from tasks.core.vocabulary import (
    REFERENCE_BAND,
    SENIOR_BANDS,
    STAGE_APPLY_POOL,
    STAGE_APPLY_WORKFORCE,
    STAGE_PROGRAMME_IMPACT,
    TERM_LEVEL_CHANGE,
    TERM_SLOPE_CHANGE,
    WORKFORCE_REFERENCE_BAND,
)

_COUNTERS = ("apps", "known", "bme", "shortlisted", "eligible_sl", "interviewed", "offered", "declined", "appointed",
             "filled", "internal")


class TruthTally:
    """Running totals over the chunks: realised counts, BME shares by band, and the monthly appointee shares."""

    def __init__(self, calendar: Calendar):
        self.month_num = np.zeros(calendar.n_months)
        self.month_den = np.zeros(calendar.n_months)
        self.acc = {k: 0.0 for k in _COUNTERS}
        self.acc_band = np.zeros((len(SENIOR_BANDS), 2))
        self.int_per_vac: list[np.ndarray] = []

    def add(self, chunk: Chunk, applicants: Applicants, outcomes: Outcomes) -> None:
        nv = len(chunk)
        vac, bme_i, known = applicants.vacancy, applicants.bme, applicants.known
        # programme impact: expected BME share of appointees (softmax over the choice set)
        ex = np.where(outcomes.eligible, np.exp(outcomes.utility), 0.0)
        den = np.bincount(vac, ex, nv)
        pk = np.bincount(vac, ex * known, nv) / np.where(den > 0, den, 1)
        pb = np.bincount(vac, ex * (bme_i > 0), nv) / np.where(den > 0, den, 1)
        np.add.at(self.month_num, chunk.month, outcomes.n_appointed * pb)
        np.add.at(self.month_den, chunk.month, outcomes.n_appointed * pk)
        a = self.acc
        a["apps"] += len(applicants)
        a["known"] += known.sum()
        a["bme"] += (bme_i > 0).sum()
        a["shortlisted"] += outcomes.shortlisted.sum()
        a["eligible_sl"] += outcomes.still_applying.sum()
        a["interviewed"] += outcomes.interviewed.sum()
        a["offered"] += outcomes.offered.sum()
        a["declined"] += outcomes.declined.sum()
        a["appointed"] += outcomes.appointed.sum()
        a["filled"] += outcomes.filled.sum()
        a["internal"] += applicants.internal.sum()
        band = chunk.band
        np.add.at(self.acc_band, (band[vac], 0), known)
        np.add.at(self.acc_band, (band[vac], 1), bme_i > 0)
        self.int_per_vac.append(np.bincount(vac, outcomes.interviewed, nv))

    def programme_impact(self, calendar: Calendar) -> tuple[dict[str, float], np.ndarray]:
        """OLS of the monthly expected BME share on (1, t, post, (t - t0) post): level and slope change."""
        T, t0 = calendar.n_months, calendar.programme_month
        ok = self.month_den > 0
        y = np.where(ok, self.month_num / np.where(ok, self.month_den, 1), np.nan)
        t = np.arange(T, dtype=float)
        postm = (t >= t0).astype(float)
        X = np.column_stack([np.ones(T), t, postm, (t - t0) * postm])[ok]
        coef = np.linalg.lstsq(X, y[ok], rcond=None)[0] if ok.sum() >= 4 else np.full(4, np.nan)
        return {TERM_LEVEL_CHANGE: float(coef[2]), TERM_SLOPE_CHANGE: float(coef[3])}, y

    def realised(self, *, n_vacancies: int, n_staff: int, counts: ApplicationCounts) -> dict:
        a = self.acc
        ipv = np.concatenate(self.int_per_vac) if self.int_per_vac else np.zeros(0)
        return {
            "vacancies": n_vacancies, "applications": int(a["apps"]), "staff": n_staff,
            "internal_share": a["internal"] / max(1, a["apps"]),
            "bme_share_known": a["bme"] / max(1, a["known"]),
            "bme_share_known_by_band": {b: float(self.acc_band[i, 1] / max(1, self.acc_band[i, 0]))
                                        for i, b in enumerate(SENIOR_BANDS)},
            "shortlist_rate": a["shortlisted"] / max(1, a["eligible_sl"]),
            "median_interviewed_per_vacancy": float(np.median(ipv)) if len(ipv) else 0.0,
            "offers": int(a["offered"]), "declined": int(a["declined"]), "appointed": int(a["appointed"]),
            "filled_vacancies": int(a["filled"]),
            "apply_workforce_rows": counts.apply_workforce_rows,
            "apply_workforce_unplaceable": counts.apply_workforce_unplaceable,
        }


def truth_models(effects: PlantedEffects, tally: TruthTally, calendar: Calendar) -> dict:
    """The ``models`` block of truth.json: planted terms, parameters, notes, and the computed programme impact."""
    impact, y = tally.programme_impact(calendar)
    models = {}
    for stage in STAGE_TERMS:
        spec = effects.spec["models"][stage]
        entry = {"model": STAGE_MODELS[stage], "terms": dict(effects.terms[stage]), "notes": spec.get("notes", "")}
        if spec.get("parameters"):
            entry["parameters"] = effects.parameters(stage)
        models[stage] = entry
    models[STAGE_PROGRAMME_IMPACT]["terms"] = impact
    models[STAGE_PROGRAMME_IMPACT]["expected_monthly_bme_share"] = {
        str(m)[:7]: (None if not np.isfinite(v) else round(float(v), 6)) for m, v in zip(calendar.month_start, y)}
    models[STAGE_APPLY_WORKFORCE]["reference_band"] = WORKFORCE_REFERENCE_BAND
    models[STAGE_APPLY_POOL]["reference_band"] = REFERENCE_BAND
    return models


def write_truth(out: Path, *, spec: TrustSpec, models: dict, realised: dict) -> None:
    truth = {"seed": spec.seed, "programme_start": spec.programme_start, "period_start": spec.period_start,
             "period_end": spec.period_end, "applications_requested": spec.applications, "format": spec.fmt,
             "models": models, "realised": {k: (float(v) if isinstance(v, (np.floating, float)) else v)
                                            for k, v in realised.items()}}
    with (out / "truth.json").open("w", encoding="utf-8") as fh:
        json.dump(truth, fh, indent=2, sort_keys=False, default=float)
        fh.write("\n")
