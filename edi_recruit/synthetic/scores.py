"""Interview scores of one chunk: every panel member scores every criterion of every interviewed candidate.

Reads the chunk's panels, applicants and outcomes (the offer's Gumbel noise),
and the planted ``interview_score`` terms and parameters.  Writes the
interview_scores rows.  Implements the "interview_score" stage of
docs/synthetic-data.md: p_i = intercept + bme + female + internal + u_v +
kappa * z_i, each score round(p_i * max + s_j + match + noise), clipped to
the vacancy's scale (1-5 or 0-10), with 3-6 criteria per vacancy and a
share of member sheets missing.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from edi_recruit.synthetic.applications import Applicants
from edi_recruit.synthetic.columns import strings, take
from edi_recruit.synthetic.design import CRITERIA, GUMBEL_MEAN, GUMBEL_SD
from edi_recruit.synthetic.draws import segment_positions
from edi_recruit.synthetic.effects import PlantedEffects, ScoreParameters
from edi_recruit.synthetic.outcomes import Outcomes
from edi_recruit.synthetic.panels import Panels
from edi_recruit.synthetic.sinks import TrustWriter
from tasks.core.vocabulary import (
    STAGE_INTERVIEW_SCORE,
    TERM_BME,
    TERM_ETHNICITY_MATCH,
    TERM_FEMALE,
    TERM_INTERCEPT,
    TERM_INTERNAL,
)


def write_interview_scores(rng, writer: TrustWriter, *, panels: Panels, applicants: Applicants, outcomes: Outcomes,
                           effects: PlantedEffects, application_refs: pa.Array) -> None:
    """Draw the vacancy effects, scales, criteria, missing sheets and noise, then write the scores."""
    nv = len(panels.size)
    prm = ScoreParameters.from_effects(effects)
    vac, bme_i = applicants.vacancy, applicants.bme
    interviewed = np.flatnonzero(outcomes.interviewed)
    bi = effects.terms[STAGE_INTERVIEW_SCORE]
    re_v = rng.normal(0, prm.vacancy_sd, nv)
    g_std = (outcomes.gumbel - GUMBEL_MEAN) / GUMBEL_SD
    p_i = (bi[TERM_INTERCEPT] + bi[TERM_BME] * bme_i + bi[TERM_FEMALE] * applicants.female
           + bi[TERM_INTERNAL] * applicants.internal + re_v[vac] + prm.kappa * g_std)
    scale10 = rng.random(nv) < 0.4
    smax = np.where(scale10, 10, 5)
    smin = np.where(scale10, 0, 1)
    ncrit = rng.integers(3, 7, nv)
    crit_perm = np.argsort(rng.random((nv, len(CRITERIA))), axis=1)
    nmem = panels.size[vac[interviewed]]
    sh_app = np.repeat(interviewed, nmem)
    sh_mem = panels.offset[vac[sh_app]] + segment_positions(nmem)
    keep = rng.random(len(sh_app)) >= prm.missing_sheet_rate
    sh_app, sh_mem = sh_app[keep], sh_mem[keep]
    nc = ncrit[vac[sh_app]]
    r_app = np.repeat(sh_app, nc)
    r_mem = np.repeat(sh_mem, nc)
    r_crit = crit_perm[vac[r_app], segment_positions(nc)]
    cand_known = applicants.known[r_app]
    match = cand_known & (panels.member_bme[r_mem] == (bme_i[r_app] > 0))
    p = p_i[r_app] + panels.severity[r_mem] + bi[TERM_ETHNICITY_MATCH] * match
    vr = vac[r_app]
    raw = p * smax[vr] + rng.normal(0, 1, len(r_app)) * prm.noise_sd * smax[vr]
    score = np.clip(np.rint(raw), smin[vr], smax[vr]).astype(np.int64)
    writer.write("interview_scores", {
        "application_id": take(application_refs, r_app), "member_id": take(panels.member_refs(), r_mem),
        "criterion": take(strings(CRITERIA), r_crit), "score": pa.array(score),
        "max_score": pa.array(smax[vr].astype(np.int64)),
    })
