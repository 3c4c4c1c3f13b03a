"""The ESR workforce, its staff's applications to senior vacancies, and the external applicant counts.

Reads the plan's vacancies and the planted ``apply_workforce`` terms.  Returns
:class:`Staff` (one entry per person ever employed, with first and last month
present) and :class:`ApplicationCounts` (which staff applied to which
vacancy, and how many external applicants each vacancy gets).  Writes the
monthly workforce snapshots (:func:`write_workforce`).  Implements
"Workforce (ESR)", "Internal applicants", "External applicants" and the
``apply_workforce`` stage of docs/synthetic-data.md.  Draws come from
streams 1 (staff, internal applications) and 2 (external allocation).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from edi_recruit.synthetic.columns import band_labels, sex_index, strings, take
from edi_recruit.synthetic.design import (
    DISABILITY_P,
    ELIGIBLE_WEIGHTS,
    INTERNAL_SHARE,
    MEAN_APPS_BY_BAND,
    MONTHLY_LEAVE_RATE,
    STAFF_BAND_SHARE,
    STAFF_BME_BY_BAND,
    STAFF_FEMALE_BY_BAND,
    STAFF_PER_APPLICATION,
    STAFF_UNKNOWN_ETHNICITY_RATE,
    WF_BLOCK,
)
from edi_recruit.synthetic.draws import (
    STREAM_EXTERNAL_ALLOCATION,
    STREAM_WORKFORCE,
    offsets,
    pick,
    pick_age_bands,
    pick_rows,
    sigmoid,
    stream,
)
from edi_recruit.synthetic.effects import PlantedEffects
from edi_recruit.synthetic.people import CODE_ARR, CODE_BME, draw_codes, draw_names
from edi_recruit.synthetic.plan import Calendar, TrustSpec, Vacancies
from edi_recruit.synthetic.sinks import TrustWriter
from tasks.core.vocabulary import (
    DIRECTORATES,
    SENIOR_BANDS,
    SEXES,
    STAGE_APPLY_WORKFORCE,
    TERM_BME,
    TERM_BME_X_POST,
    TERM_FEMALE,
    TERM_INTERCEPT,
    TERM_POST_PROGRAMME,
    WORKFORCE_BANDS,
    WORKFORCE_REFERENCE_BAND,
    band_term,
)


@dataclass(frozen=True, eq=False)
class Staff:
    """Everyone ever on the workforce; a person is present in months ``start`` .. ``end`` (inclusive)."""

    start: np.ndarray      # int32 month index
    end: np.ndarray        # int32 month index
    band: np.ndarray       # int8 index into WORKFORCE_BANDS (constant: no promotions)
    code: np.ndarray       # int16 index into people.CODE_LIST
    female: np.ndarray     # bool
    age: np.ndarray        # int8 index into AGE_BANDS
    disability: np.ndarray  # int8 index into DISABILITY_VALUES
    directorate: np.ndarray  # int8 index into DIRECTORATES
    forename: np.ndarray   # int32 index into people.FORENAMES
    surname: np.ndarray    # int32 index into people.SURNAMES
    number: np.ndarray     # int32 8-digit ESR staff number

    def __len__(self) -> int:
        return len(self.start)

    def present(self, month: int) -> np.ndarray:
        return (self.start <= month) & (self.end >= month)


@dataclass(frozen=True, eq=False)
class ApplicationCounts:
    """Who applies where: internal (vacancy, staff) pairs sorted by vacancy, and applicants per vacancy."""

    internal_vacancy: np.ndarray
    internal_staff: np.ndarray
    external_n: np.ndarray         # external applicants per vacancy
    total_n: np.ndarray            # internal + external applicants per vacancy
    application_offset: np.ndarray  # first application number of each vacancy (total appended)
    external_offset: np.ndarray    # first external candidate of each vacancy (total appended)
    apply_workforce_rows: int
    apply_workforce_unplaceable: int

    @property
    def n_applications(self) -> int:
        return int(self.application_offset[-1])


def draw_staff(spec: TrustSpec, calendar: Calendar, rng: np.random.Generator) -> Staff:
    """Starters plus Poisson joiners, each with band, ethnicity, sex, age, disability and names."""
    T = calendar.n_months
    n0 = max(50, int(round(spec.applications * STAFF_PER_APPLICATION)))
    end0 = np.minimum(rng.geometric(MONTHLY_LEAVE_RATE, n0) - 1, T - 1)  # last month present
    joins = rng.poisson(n0 * MONTHLY_LEAVE_RATE, T - 1)
    j_start = np.repeat(np.arange(1, T), joins)
    j_end = np.minimum(j_start + rng.geometric(MONTHLY_LEAVE_RATE, len(j_start)) - 1, T - 1)
    start = np.concatenate([np.zeros(n0, np.int64), j_start])
    end = np.concatenate([end0, j_end])
    ns = len(start)
    band = pick(rng, STAFF_BAND_SHARE, ns)
    bme = rng.random(ns) < STAFF_BME_BY_BAND[band]
    unknown = rng.random(ns) < STAFF_UNKNOWN_ETHNICITY_RATE
    code = draw_codes(rng, bme & ~unknown, unknown)
    female = rng.random(ns) < STAFF_FEMALE_BY_BAND[band]
    age = pick_age_bands(rng, np.where(band <= 2, 0, np.where(band <= 4, 1, 2)))
    disab = pick(rng, DISABILITY_P, ns)
    direc = rng.integers(0, len(DIRECTORATES), ns)
    fn, sn = draw_names(rng, code, female)
    # 8-digit unique staff numbers via an affine bijection of 0..89,999,999
    staff_no = (np.arange(ns, dtype=np.int64) * 37_124_483 + 7_654_321 + spec.seed * 1_000_003) % 90_000_000 + 10_000_000
    return Staff(start=start.astype(np.int32), end=end.astype(np.int32), band=band.astype(np.int8),
                 code=code.astype(np.int16), female=female, age=age.astype(np.int8),
                 disability=disab.astype(np.int8), directorate=direc.astype(np.int8), forename=fn.astype(np.int32),
                 surname=sn.astype(np.int32), number=staff_no.astype(np.int32))


def draw_applications(spec: TrustSpec, calendar: Calendar, effects: PlantedEffects,
                      vacancies: Vacancies) -> tuple[Staff, ApplicationCounts]:
    """The staff (stream 1), their applications (stream 1, continued) and the external counts (stream 2)."""
    rng = stream(spec.seed, STREAM_WORKFORCE)
    staff = draw_staff(spec, calendar, rng)
    int_staff, int_vac, wf_rows, leak = _internal_applications(rng, spec, calendar, effects, staff, vacancies)
    st = np.concatenate(int_staff)
    vc = np.concatenate(int_vac)
    ns, nv = len(staff), len(vacancies)
    key = np.unique(vc.astype(np.int64) * ns + st)          # drop duplicate (staff, vacancy) pairs
    i_vac, i_staff = key // ns, key % ns                    # sorted by vacancy
    v_int_n = np.bincount(i_vac, minlength=nv)
    # external applicants: the rest of the requested total, allocated by band and vacancy popularity
    rng2 = stream(spec.seed, STREAM_EXTERNAL_ALLOCATION)
    n_ext = max(0, spec.applications - len(key))
    w = MEAN_APPS_BY_BAND[vacancies.band] * rng2.gamma(4.0, 0.25, nv)
    v_ext_n = rng2.multinomial(n_ext, w / w.sum())
    v_n = v_int_n + v_ext_n
    counts = ApplicationCounts(internal_vacancy=i_vac, internal_staff=i_staff, external_n=v_ext_n, total_n=v_n,
                               application_offset=offsets(v_n), external_offset=offsets(v_ext_n),
                               apply_workforce_rows=wf_rows, apply_workforce_unplaceable=leak)
    return staff, counts


def _internal_applications(rng, spec: TrustSpec, calendar: Calendar, effects: PlantedEffects, staff: Staff,
                           vacancies: Vacancies):
    """apply_workforce logit per staff x period present, then 1 + Poisson(lambda) vacancies per applicant.

    Returns (staff index blocks, vacancy index blocks, staff x period rows, unplaceable applicants).
    """
    T, t0, nv = calendar.n_months, calendar.programme_month, len(vacancies)
    start, end, band, code, female = staff.start, staff.end, staff.band, staff.code, staff.female
    b = effects.terms[STAGE_APPLY_WORKFORCE]
    band_eff = np.array([0.0 if x == WORKFORCE_REFERENCE_BAND else b[band_term(x)] for x in WORKFORCE_BANDS])
    s_bme = CODE_BME[code].astype(float)
    periods = ((0, t0 - 1, 0), (t0, T - 1, 1))
    vac_month_band = np.zeros((len(SENIOR_BANDS), T + 1), np.int64)
    np.add.at(vac_month_band, (vacancies.band, vacancies.month + 1), 1)
    cum = np.cumsum(vac_month_band, axis=1)                 # cum[b, m] = #vac band b with month < m
    order_bm = np.lexsort((np.arange(nv), vacancies.month, vacancies.band))
    band_base = np.concatenate([[0], np.cumsum(cum[:, -1])[:-1]])
    int_staff, int_vac, leak, wf_rows = [], [], 0, 0
    for p0, p1, post in periods:
        present = (start <= p1) & (end >= p0)
        idx = np.flatnonzero(present)
        wf_rows += len(idx)
        eta = (b[TERM_INTERCEPT] + b[TERM_BME] * s_bme[idx] + b[TERM_FEMALE] * female[idx]
               + band_eff[band[idx]] + (b[TERM_POST_PROGRAMME] + b[TERM_BME_X_POST] * s_bme[idx]) * post)
        applied = rng.random(len(idx)) < sigmoid(eta)
        who = idx[applied]
        n_vac_p = int(((vacancies.month >= p0) & (vacancies.month <= p1)).sum())
        target = INTERNAL_SHARE * spec.applications * n_vac_p / nv
        lam = max(0.0, target / max(1, len(who)) - 1.0)
        k = 1 + rng.poisson(lam, len(who))
        rep_all = np.repeat(who, k)
        grp_all = np.repeat(np.arange(len(who)), k)
        placed = np.zeros(len(who), bool)
        for r0 in range(0, len(rep_all), WF_BLOCK):      # bounded memory: fixed-size blocks
            rep = rep_all[r0:r0 + WF_BLOCK]
            w0 = np.maximum(start[rep], p0)
            w1 = np.minimum(end[rep], p1)
            counts = (cum[:, w1 + 1] - cum[:, w0]).T        # (n, 6) vacancies per band in window
            W = ELIGIBLE_WEIGHTS[band[rep]] * (counts > 0)
            ok = W.sum(axis=1) > 0
            W[~ok] = 1.0
            vb = pick_rows(rng, W)
            del W
            cnt = counts[np.arange(len(rep)), vb]
            pos = band_base[vb] + cum[vb, w0] + (rng.random(len(rep)) * np.maximum(cnt, 1)).astype(np.int64)
            vac = order_bm[np.minimum(pos, nv - 1)]
            ok &= cnt > 0
            np.logical_or.at(placed, grp_all[r0:r0 + WF_BLOCK], ok)
            int_staff.append(rep[ok].astype(np.int64))
            int_vac.append(vac[ok].astype(np.int64))
        leak += int((~placed).sum())
    return int_staff, int_vac, wf_rows, leak


def snapshot_rows(staff: Staff, calendar: Calendar) -> int:
    """Rows of the workforce table: one per person per month present."""
    return int(sum(int(staff.present(m).sum()) for m in range(calendar.n_months)))


def write_workforce(writer: TrustWriter, staff: Staff, calendar: Calendar) -> None:
    """One workforce snapshot per month: every person present that month."""
    no = pa.array(staff.number).cast(pa.string())
    bl = take(band_labels(WORKFORCE_BANDS), staff.band)
    cd = take(CODE_ARR, staff.code)
    sx = take(strings(SEXES), sex_index(staff.female))
    dr = take(strings(DIRECTORATES), staff.directorate)
    months = calendar.labels()
    for m in range(calendar.n_months):
        idx = pa.array(np.flatnonzero(staff.present(m)))
        writer.write("workforce", {
            "snapshot_month": pa.array([months[m]] * len(idx), pa.string()), "staff_id": no.take(idx),
            "band": bl.take(idx), "ethnic_category": cd.take(idx), "sex": sx.take(idx),
            "directorate": dr.take(idx),
        })
