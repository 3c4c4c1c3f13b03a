"""Applications of one chunk of vacancies: who applied (internal staff and external candidates) and their rows.

Reads the chunk's vacancies, the workforce (internal applicants keep their
staff record's band, ethnicity, sex, age, disability and names) and the
planned external counts and ``apply_pool`` BME shares.  Returns
:class:`Applicants`, ordered by vacancy then applied date.  Writes the
applications rows, drawing the contact details (e-mail, phone) last.
Implements "Internal applicants", "External applicants" and "Raw values" of
docs/synthetic-data.md.  The funnel outcomes are drawn in ``outcomes``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from edi_recruit.synthetic import names as N
from edi_recruit.synthetic.columns import band_labels, dates, join, or_null, ref, sex_index, strings, take, yn
from edi_recruit.synthetic.design import DISABILITY_P, EXT_FEMALE_BY_BAND, UNKNOWN_ETHNICITY_RATE
from edi_recruit.synthetic.draws import pick, pick_age_bands
from edi_recruit.synthetic.people import (
    CODE_ARR,
    CODE_BME,
    CODE_KNOWN,
    FORENAME_ARR,
    FORENAME_ASCII_ARR,
    SURNAME_ARR,
    SURNAME_ASCII_ARR,
    draw_codes,
    draw_names,
    draw_phones,
)
from edi_recruit.synthetic.plan import Calendar, Chunk
from edi_recruit.synthetic.sinks import TrustWriter
from edi_recruit.synthetic.workforce import ApplicationCounts, Staff
from tasks.core.vocabulary import AGE_BANDS, DISABILITY_VALUES, SEXES, WITHDRAWN_STAGES, WORKFORCE_BANDS

if TYPE_CHECKING:
    from edi_recruit.synthetic.outcomes import Outcomes
    from edi_recruit.synthetic.status_dates import StatusDates


@dataclass(frozen=True, eq=False)
class Applicants:
    """One entry per application of the chunk, sorted by (vacancy, applied date, random tie-break)."""

    vacancy: np.ndarray     # chunk-local vacancy index
    internal: np.ndarray    # bool
    staff: np.ndarray       # index into Staff, -1 for external candidates
    candidate: np.ndarray   # candidate number (staff index + 1 for internal candidates)
    female: np.ndarray      # bool
    code: np.ndarray        # index into people.CODE_LIST
    age: np.ndarray         # index into AGE_BANDS
    disability: np.ndarray  # index into DISABILITY_VALUES (0 = Yes)
    forename: np.ndarray
    surname: np.ndarray
    day: np.ndarray         # applied date, datetime64[D]
    current_band: np.ndarray  # index into WORKFORCE_BANDS, -1 for external candidates

    def __len__(self) -> int:
        return len(self.vacancy)

    @property
    def bme(self) -> np.ndarray:
        """1.0 for a WRES BME code, else 0.0 (unknown ethnicity counts as 0 in the DGM)."""
        return CODE_BME[self.code].astype(float)

    @property
    def known(self) -> np.ndarray:
        return CODE_KNOWN[self.code]

    @property
    def disabled(self) -> np.ndarray:
        """1.0 for disability = Yes, 0.0 for No and Not declared."""
        return (self.disability == 0).astype(float)


def draw_applicants(rng, chunk: Chunk, *, staff: Staff, counts: ApplicationCounts, calendar: Calendar) -> Applicants:
    """External candidates' attributes and applied dates, internal applicants' dates, then the order."""
    nv, v0, v1 = len(chunk), chunk.first, chunk.stop
    band, adv, clo = chunk.band, chunk.advert, chunk.close
    lo, hi = np.searchsorted(counts.internal_vacancy, [v0, v1])
    i_vac = counts.internal_vacancy[lo:hi] - v0
    i_staff = counts.internal_staff[lo:hi]
    e_vac = np.repeat(np.arange(nv), counts.external_n[chunk.vacancies])
    ne, ni = len(e_vac), len(i_vac)
    e_cand = len(staff) + counts.external_offset[v0] + np.arange(ne) + 1
    # external attributes
    e_female = rng.random(ne) < EXT_FEMALE_BY_BAND[band[e_vac]]
    e_unknown = rng.random(ne) < UNKNOWN_ETHNICITY_RATE
    e_bme = (rng.random(ne) < chunk.external_bme_p[e_vac]) & ~e_unknown
    e_code = draw_codes(rng, e_bme, e_unknown)
    e_age = pick_age_bands(rng, np.where(band[e_vac] <= 1, 0, np.where(band[e_vac] <= 3, 1, 2)))
    e_dis = pick(rng, DISABILITY_P, ne)
    e_fn, e_sn = draw_names(rng, e_code, e_female)
    e_day = adv[e_vac] + (rng.random(ne) * ((clo - adv).astype(int)[e_vac] + 1)).astype(int)
    # internal applicants apply within their vacancy's advert month (they are in that month's snapshot)
    i_month = chunk.month[i_vac]
    i_month_end = calendar.month_start[i_month] + calendar.month_len[i_month] - 1
    i_last = np.minimum(clo[i_vac], i_month_end)
    i_day = adv[i_vac] + (rng.random(ni) * ((i_last - adv[i_vac]).astype(int) + 1)).astype(int)
    # combine and order by vacancy, applied date
    cols = dict(
        vacancy=np.concatenate([i_vac, e_vac]),
        internal=np.concatenate([np.ones(ni, bool), np.zeros(ne, bool)]),
        staff=np.concatenate([i_staff, np.full(ne, -1)]),
        candidate=np.concatenate([i_staff + 1, e_cand]),
        female=np.concatenate([staff.female[i_staff], e_female]),
        code=np.concatenate([staff.code[i_staff], e_code]),
        age=np.concatenate([staff.age[i_staff], e_age]),
        disability=np.concatenate([staff.disability[i_staff], e_dis]),
        forename=np.concatenate([staff.forename[i_staff], e_fn]),
        surname=np.concatenate([staff.surname[i_staff], e_sn]),
        day=np.concatenate([i_day, e_day]),
        current_band=np.concatenate([staff.band[i_staff], np.full(ne, -1)]),
    )
    o = np.lexsort((rng.random(len(cols["vacancy"])), cols["day"], cols["vacancy"]))
    applicants = Applicants(**{k: a[o] for k, a in cols.items()})
    assert np.array_equal(np.bincount(applicants.vacancy, minlength=nv), counts.total_n[chunk.vacancies])
    return applicants


def application_refs(chunk: Chunk, counts: ApplicationCounts, n: int) -> pa.Array:
    """``APP-`` references of the chunk's applications (7 digits, widened when the trust needs more)."""
    app_no = counts.application_offset[chunk.first] + np.arange(n) + 1
    return ref("APP-", app_no, max(7, len(str(counts.n_applications))))


@dataclass(frozen=True, eq=False)
class Contacts:
    """Each application's e-mail address and phone number (personal data of the export)."""

    email: pa.Array
    phone: pa.Array


def draw_contacts(rng, applicants: Applicants) -> Contacts:
    """Draws each candidate's e-mail suffix and domain, then the phone numbers, in this order."""
    a = applicants
    n = len(a)
    suffix = pc.if_else(pa.array(rng.random(n) < 0.4), pa.array(rng.integers(1, 100, n)).cast(pa.string()),
                        pa.scalar(""))
    dom_ext = take(strings(N.EMAIL_DOMAINS_EXTERNAL), pick(rng, [.3, .2, .15, .1, .1, .1, .05], n))
    dom = pc.if_else(pa.array(a.internal), pa.scalar("nhs.net"), dom_ext)
    email = join(take(FORENAME_ASCII_ARR, a.forename), pa.scalar("."), take(SURNAME_ASCII_ARR, a.surname), suffix,
                 pa.scalar("@"), dom)
    return Contacts(email=email, phone=draw_phones(rng, n))


def write_applications(writer: TrustWriter, applicants: Applicants, outcomes: Outcomes, *, contacts: Contacts,
                       status: StatusDates, staff: Staff, application_refs: pa.Array,
                       vacancy_refs: pa.Array) -> None:
    """The applications rows (draws nothing)."""
    a = applicants
    cur = or_null(a.current_band >= 0, take(band_labels(WORKFORCE_BANDS), np.maximum(a.current_band, 0)))
    staff_no = or_null(a.internal, pa.array(staff.number[np.maximum(a.staff, 0)]).cast(pa.string()))
    wst = or_null(outcomes.withdrawn_stage >= 0, take(strings(WITHDRAWN_STAGES), np.maximum(outcomes.withdrawn_stage, 0)))
    writer.write("applications", {
        "application_id": application_refs, "vacancy_id": take(vacancy_refs, a.vacancy),
        "candidate_id": ref("CAN-", a.candidate, 8), "staff_id": staff_no, "applied_date": dates(a.day),
        "ethnic_category": take(CODE_ARR, a.code), "sex": take(strings(SEXES), sex_index(a.female)),
        "age_band": take(strings(AGE_BANDS), a.age), "disability": take(strings(DISABILITY_VALUES), a.disability),
        "internal": yn(a.internal), "current_band": cur, "shortlisted": yn(outcomes.shortlisted),
        "interviewed": yn(outcomes.interviewed), "offered": yn(outcomes.offered),
        "offer_declined": yn(outcomes.declined), "appointed": yn(outcomes.appointed), "withdrawn_stage": wst,
        "shortlisted_date": dates(status.shortlisted), "interviewed_date": dates(status.interviewed),
        "offered_date": dates(status.offered), "declined_date": dates(status.declined),
        "appointed_date": dates(status.appointed), "withdrawn_date": dates(status.withdrawn),
        "forename": take(FORENAME_ARR, a.forename), "surname": take(SURNAME_ARR, a.surname),
        "email": contacts.email, "phone": contacts.phone,
    })
