"""Status-change dates of one chunk's applications: when each funnel outcome was decided.

Reads the chunk's vacancies (closing dates), the applicants (applied dates),
the outcomes and each interviewed application's interview day (the date its
assessment was written, from ``texts``).  Returns :class:`StatusDates`, one
``datetime64[D]`` array per status, ``NaT`` where the status never happened.
Implements "Status-change dates" of docs/synthetic-data.md:

* withdrawn at application: a day from the applied date to the closing date;
* shortlisted: from the closing date to the day before the interview (or, for
  a candidate who withdrew before it, 0-7 days after the closing date);
* withdrawn at shortlist: 1-10 days after shortlisting;
* interviewed: the interview day; withdrawn at interview: 1-7 days after it;
* offered: 1-7 days after the vacancy's last interview;
* declined: 2-14 days after the offer; appointed: 3-21 days after the offer.

The outcomes are drawn first (``outcomes``), so dates never change a flag.
Every draw comes from the chunk's own status stream (``draws.STREAM_STATUS_BASE``
+ chunk), each of length n in a fixed order, so adding these columns left every
other value of every file unchanged.  It never writes a file.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edi_recruit.synthetic.applications import Applicants
from edi_recruit.synthetic.outcomes import Outcomes
from edi_recruit.synthetic.plan import Chunk
from tasks.core.vocabulary import WITHDRAWN_STAGES

NAT = np.datetime64("NaT", "D")


@dataclass(frozen=True, eq=False)
class StatusDates:
    """Per application, the day each status was reached (``NaT`` = never)."""

    shortlisted: np.ndarray
    interviewed: np.ndarray
    offered: np.ndarray
    declined: np.ndarray
    appointed: np.ndarray
    withdrawn: np.ndarray


def draw_status_dates(rng, chunk: Chunk, applicants: Applicants, outcomes: Outcomes, *,
                      interview_day: np.ndarray) -> StatusDates:
    """The six status dates; ``interview_day`` is ``NaT`` for applications that were not interviewed."""
    n, nv = len(applicants), len(chunk)
    vac, close = applicants.vacancy, chunk.close[applicants.vacancy]
    u_withdraw_app, u_short = rng.random(n), rng.random(n)
    early_short = rng.integers(0, 8, n)
    gap_withdraw_sl, gap_withdraw_int = rng.integers(1, 11, n), rng.integers(1, 8, n)
    gap_offer, gap_decline, gap_appoint = rng.integers(1, 8, n), rng.integers(2, 15, n), rng.integers(3, 22, n)

    interviewed = np.where(outcomes.interviewed, interview_day, NAT)
    to_interview = (interviewed - close).astype("timedelta64[D]").astype(np.int64)
    short_day = np.where(outcomes.interviewed, close + (u_short * np.maximum(to_interview, 1)).astype(np.int64),
                         close + early_short)
    shortlisted = np.where(outcomes.shortlisted, short_day, NAT)

    last_interview = np.full(nv, np.iinfo(np.int64).min)
    days = interviewed.astype(np.int64)
    np.maximum.at(last_interview, vac[outcomes.interviewed], days[outcomes.interviewed])
    offer_day = last_interview[vac].astype("datetime64[D]") + gap_offer
    offered = np.where(outcomes.offered, offer_day, NAT)
    declined = np.where(outcomes.declined, offer_day + gap_decline, NAT)
    appointed = np.where(outcomes.appointed, offer_day + gap_appoint, NAT)

    stage = outcomes.withdrawn_stage
    to_close = (close - applicants.day).astype(np.int64)
    withdrawn = np.full(n, NAT)
    at = stage == WITHDRAWN_STAGES.index("application")
    withdrawn[at] = (applicants.day + (u_withdraw_app * (to_close + 1)).astype(np.int64))[at]
    at = stage == WITHDRAWN_STAGES.index("shortlist")
    withdrawn[at] = (shortlisted + gap_withdraw_sl)[at]
    at = stage == WITHDRAWN_STAGES.index("interview")
    withdrawn[at] = (interviewed + gap_withdraw_int)[at]
    return StatusDates(shortlisted=shortlisted, interviewed=interviewed, offered=offered, declined=declined,
                       appointed=appointed, withdrawn=withdrawn)
