"""Funnel outcomes of one chunk: withdrawals, shortlisting, the offer choice, declines, appointments, letters.

Reads the chunk's applicants and vacancy flags and the planted ``shortlist``
(logit) and ``offer`` (conditional logit) terms.  Returns :class:`Outcomes`.
Implements the "shortlist" and "offer" stages of docs/synthetic-data.md:
3% withdraw at application, shortlisting is an independent logit draw, 10%
of the shortlisted withdraw, 3% of the interviewed withdraw, the offer goes
to the top ``posts`` of U = x'b + Gumbel noise among the rest, 8% of offers
are declined, and a filled vacancy's required CEO letter arrives with
probability 0.9.  It never writes a file.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edi_recruit.synthetic.applications import Applicants
from edi_recruit.synthetic.design import (
    LETTER_COMPLIANCE,
    OFFER_DECLINE,
    WITHDRAW_APPLICATION,
    WITHDRAW_INTERVIEW,
    WITHDRAW_SHORTLIST,
)
from edi_recruit.synthetic.draws import sigmoid
from edi_recruit.synthetic.effects import PlantedEffects
from edi_recruit.synthetic.plan import Chunk
from tasks.core.vocabulary import (
    STAGE_OFFER,
    STAGE_SHORTLIST,
    TERM_BME,
    TERM_BME_X_LETTER,
    TERM_BME_X_PANEL,
    TERM_BME_X_POST,
    TERM_DISABILITY,
    TERM_DIVERSE_PANEL,
    TERM_FEMALE,
    TERM_INTERCEPT,
    TERM_INTERNAL,
    TERM_MANAGER_BME,
    TERM_POST_PROGRAMME,
    WITHDRAWN_STAGES,
)


@dataclass(frozen=True, eq=False)
class Outcomes:
    """Per application (``withdrawn_stage`` indexes WITHDRAWN_STAGES, -1 = none) and per vacancy."""

    shortlisted: np.ndarray
    interviewed: np.ndarray
    eligible: np.ndarray        # interviewed and not withdrawn at interview: the offer's choice set
    gumbel: np.ndarray          # offer noise g (also drives the interview score, standardised)
    utility: np.ndarray         # x'b of the offer stage (without the noise)
    offered: np.ndarray
    declined: np.ndarray
    appointed: np.ndarray
    withdrawn_stage: np.ndarray
    n_appointed: np.ndarray     # per vacancy
    filled: np.ndarray          # per vacancy
    letter_received: np.ndarray  # per vacancy

    @property
    def still_applying(self) -> np.ndarray:
        """Not withdrawn at the application stage (the shortlist stage's rows)."""
        return self.withdrawn_stage != WITHDRAWN_STAGES.index("application")


def draw_outcomes(rng, chunk: Chunk, applicants: Applicants, effects: PlantedEffects) -> Outcomes:
    """Shortlist, then offer, then declines and letters, in this order from the chunk's stream."""
    nv, n = len(chunk), len(applicants)
    vac, internal, female = applicants.vacancy, applicants.internal, applicants.female
    bme_i, disab_i = applicants.bme, applicants.disabled
    postv, letterv, divv = chunk.post[vac].astype(float), chunk.letter[vac].astype(float), chunk.diverse[vac].astype(float)
    # ---- shortlist
    w_app = rng.random(n) < WITHDRAW_APPLICATION
    b = effects.terms[STAGE_SHORTLIST]
    eta = (b[TERM_INTERCEPT] + b[TERM_BME] * bme_i + b[TERM_FEMALE] * female + b[TERM_INTERNAL] * internal
           + b[TERM_DISABILITY] * disab_i + b[TERM_DIVERSE_PANEL] * divv + b[TERM_POST_PROGRAMME] * postv
           + b[TERM_BME_X_PANEL] * bme_i * divv + b[TERM_BME_X_POST] * bme_i * postv
           + b[TERM_MANAGER_BME] * chunk.manager_bme[vac])
    shortlisted = ~w_app & (rng.random(n) < sigmoid(eta))
    w_sl = shortlisted & (rng.random(n) < WITHDRAW_SHORTLIST)
    interviewed = shortlisted & ~w_sl
    # ---- offer: conditional logit via Gumbel-max among interviewed, not withdrawn at interview
    b = effects.terms[STAGE_OFFER]
    xb = (b[TERM_BME] * bme_i + b[TERM_FEMALE] * female + b[TERM_INTERNAL] * internal
          + b[TERM_DISABILITY] * disab_i + b[TERM_BME_X_LETTER] * bme_i * letterv
          + b[TERM_BME_X_PANEL] * bme_i * divv + b[TERM_BME_X_POST] * bme_i * postv)
    g = rng.gumbel(0.0, 1.0, n)
    w_int = interviewed & (rng.random(n) < WITHDRAW_INTERVIEW)
    eligible = interviewed & ~w_int
    util = np.where(eligible, xb + g, -np.inf)
    o2 = np.lexsort((-util, vac))
    grp_start = np.concatenate([[0], np.cumsum(np.bincount(vac, minlength=nv))])[:-1]
    rank = np.empty(n, np.int64)
    rank[o2] = np.arange(n) - grp_start[vac[o2]]
    offered = eligible & (rank < chunk.posts[vac])
    declined = offered & (rng.random(n) < OFFER_DECLINE)
    appointed = offered & ~declined
    n_appointed = np.bincount(vac, appointed, nv)
    filled = n_appointed > 0
    received = chunk.letter & filled & (rng.random(nv) < LETTER_COMPLIANCE)
    wstage = np.full(n, -1)
    wstage[w_app] = WITHDRAWN_STAGES.index("application")
    wstage[w_sl] = WITHDRAWN_STAGES.index("shortlist")
    wstage[w_int] = WITHDRAWN_STAGES.index("interview")
    return Outcomes(shortlisted=shortlisted, interviewed=interviewed, eligible=eligible, gumbel=g, utility=xb,
                    offered=offered, declined=declined, appointed=appointed, withdrawn_stage=wstage,
                    n_appointed=n_appointed, filled=filled, letter_received=received)
