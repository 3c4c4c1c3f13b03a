"""The trust's plan: what was asked for, its calendar, and the vacancies, managers and panel pool.

Reads the caller's arguments and the planted ``apply_pool`` terms.  Returns
frozen objects: :class:`TrustSpec` (validated arguments), :class:`Calendar`
(months of the period), and :class:`TrustPlan` (vacancies with their
programme flags, hiring managers, panel-member pool, and the BME share of
each vacancy's external pool).  Implements "Trust structure" and the
``apply_pool`` stage of docs/synthetic-data.md.  All draws come from stream 0
(``draws.STREAM_PLAN``) in a fixed order; it never writes a file.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from edi_recruit.synthetic.columns import band_labels, dates, join, ref, sex_index, strings, take, yn
from edi_recruit.synthetic.design import (
    DIVERSE_PANEL_RATE,
    LETTER_RATE_POST,
    MANAGERS_PER_VACANCY,
    MAX_PERIOD_MONTHS,
    MEAN_APPS_BY_BAND,
    MIN_APPLICATIONS,
    ROLE_TITLES,
    TWO_POSTS_RATE,
    VAC_BAND_SHARE,
)
from edi_recruit.synthetic.draws import STREAM_PLAN, pick, sigmoid, stream
from edi_recruit.synthetic.effects import SENIOR_NONREF, PlantedEffects
from edi_recruit.synthetic.people import (
    CODE_ARR,
    CODE_BME,
    FORENAME_ARR,
    FORENAME_ASCII_ARR,
    SURNAME_ARR,
    SURNAME_ASCII_ARR,
    draw_codes,
    draw_names,
    draw_titles,
)
from edi_recruit.synthetic.sinks import FORMATS, TrustWriter
from tasks.core.vocabulary import (
    DIRECTORATES,
    SENIOR_BANDS,
    SEXES,
    STAFF_GROUPS,
    STAGE_APPLY_POOL,
    TERM_DIVERSE_PANEL,
    TERM_INTERCEPT,
    TERM_LETTER_TO_CEO,
    TERM_POST_PROGRAMME,
    band_term,
)


# --------------------------------------------------------------------------
# What was asked for
# --------------------------------------------------------------------------
def _month_index(s: str, what: str) -> int:
    if not isinstance(s, str) or not re.fullmatch(r"\d{4}-\d{2}", s) or not 1 <= int(s[5:]) <= 12:
        raise ValueError(f"{what} must be a month 'YYYY-MM', got {s!r}")
    return int(s[:4]) * 12 + int(s[5:]) - 1


@dataclass(frozen=True)
class TrustSpec:
    """The validated arguments of one generated trust (months are ``YYYY-MM``)."""

    seed: int
    applications: int
    fmt: str
    period_start: str
    period_end: str
    programme_start: str

    @classmethod
    def checked(cls, *, seed, applications, fmt, period_start, period_end, programme_start) -> TrustSpec:
        """The spec, or a one-line ``ValueError`` naming the first bad argument."""
        if fmt not in FORMATS:
            raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, got {fmt!r}")
        if isinstance(applications, bool) or not isinstance(applications, (int, np.integer)):
            raise ValueError(f"applications must be an integer, got {applications!r}")
        if applications < MIN_APPLICATIONS:
            raise ValueError(f"applications must be at least {MIN_APPLICATIONS}, got {applications}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        ms = _month_index(period_start, "period_start")
        me = _month_index(period_end, "period_end")
        mp = _month_index(programme_start, "programme_start")
        if not ms < mp <= me:
            raise ValueError(f"need period_start < programme_start <= period_end, got "
                             f"{period_start}, {programme_start}, {period_end}")
        if me - ms + 1 > MAX_PERIOD_MONTHS:
            raise ValueError(f"the period may span at most {MAX_PERIOD_MONTHS} months")
        return cls(seed=int(seed), applications=int(applications), fmt=fmt, period_start=period_start,
                   period_end=period_end, programme_start=programme_start)


@dataclass(frozen=True, eq=False)
class Calendar:
    """Months of the period: ``n_months`` months from ``period_start``; month ``programme_month`` starts it."""

    n_months: int
    programme_month: int
    month_start: np.ndarray  # datetime64[D], first day of each month
    month_len: np.ndarray    # days in each month

    @classmethod
    def of(cls, spec: TrustSpec) -> Calendar:
        ms = _month_index(spec.period_start, "period_start")
        n_months = _month_index(spec.period_end, "period_end") - ms + 1
        base = np.datetime64(spec.period_start, "M")
        month_start = (base + np.arange(n_months)).astype("datetime64[D]")
        month_len = ((base + np.arange(1, n_months + 1)).astype("datetime64[D]") - month_start).astype(int)
        return cls(n_months=n_months, programme_month=_month_index(spec.programme_start, "programme_start") - ms,
                   month_start=month_start, month_len=month_len)

    def labels(self) -> list[str]:
        """``YYYY-MM`` of every month."""
        return [str(m)[:7] for m in self.month_start]


# --------------------------------------------------------------------------
# Vacancies, managers, panel pool
# --------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Vacancies:
    """One entry per vacancy, sorted by advert date (indices into vocabulary lists where not said)."""

    band: np.ndarray          # index into SENIOR_BANDS
    month: np.ndarray         # advert month index into the calendar
    advert: np.ndarray        # datetime64[D]
    close: np.ndarray         # datetime64[D]
    directorate: np.ndarray   # index into DIRECTORATES
    staff_group: np.ndarray   # index into STAFF_GROUPS
    title: pa.Array           # job title strings
    posts: np.ndarray         # 1 or 2
    post: np.ndarray          # bool: advertised on or after programme_start
    letter: np.ndarray        # bool: letter to the CEO required
    diverse: np.ndarray       # bool: planned diverse panel
    manager: np.ndarray       # index into Managers
    manager_bme: np.ndarray   # bool
    external_bme_p: np.ndarray  # apply_pool: BME share of external applicants of known ethnicity

    def __len__(self) -> int:
        return len(self.band)


@dataclass(frozen=True, eq=False)
class People:
    """Managers or panel members: ethnic code, sex and name indices (see ``people``)."""

    code: np.ndarray
    female: np.ndarray
    forename: np.ndarray
    surname: np.ndarray

    def __len__(self) -> int:
        return len(self.code)


@dataclass(frozen=True, eq=False)
class PanelPool:
    """The people who sit on interview panels; ``by_category[k]`` lists members with 2 x female + bme == k."""

    people: People
    bme: np.ndarray
    title: np.ndarray
    by_category: tuple[np.ndarray, ...]


@dataclass(frozen=True, eq=False)
class TrustPlan:
    vacancies: Vacancies
    managers: People
    panel_pool: PanelPool


def draw_plan(spec: TrustSpec, calendar: Calendar, effects: PlantedEffects) -> TrustPlan:
    """Vacancies, then managers, then the panel pool, all from stream 0 in that order."""
    rng = stream(spec.seed, STREAM_PLAN)
    v = _draw_vacancies(rng, spec.applications, calendar)
    managers, v_mgr = _draw_managers(rng, len(v["band"]))
    pool = _draw_panel_pool(rng, len(v["band"]))
    v_mgr_bme = CODE_BME[managers.code[v_mgr]]
    p_bme = _apply_pool_probability(effects, band=v["band"], letter=v["letter"], diverse=v["diverse"],
                                    post=v["post"])
    vacancies = Vacancies(**v, manager=v_mgr, manager_bme=v_mgr_bme, external_bme_p=p_bme)
    return TrustPlan(vacancies=vacancies, managers=managers, panel_pool=pool)


def _draw_vacancies(rng, applications: int, calendar: Calendar) -> dict[str, np.ndarray | pa.Array]:
    mean_apps = float(VAC_BAND_SHARE @ MEAN_APPS_BY_BAND)
    nv = max(5, int(round(applications / mean_apps)))
    band = pick(rng, VAC_BAND_SHARE, nv)
    month = rng.integers(0, calendar.n_months, nv)
    day = (rng.random(nv) * calendar.month_len[month]).astype(int)
    advert = calendar.month_start[month] + day
    order = np.lexsort((rng.random(nv), advert))
    band, month, advert = band[order], month[order], advert[order]
    close = advert + rng.integers(14, 29, nv)
    direc = rng.integers(0, len(DIRECTORATES), nv)
    sg_map = {"Nursing": 0, "Women and Children": 0, "Medicine": 0, "Surgery": 0, "Clinical Support": 1,
              "Estates and Facilities": 5}
    base_sg = np.array([sg_map.get(d, 2) for d in DIRECTORATES])[direc]
    alt = rng.integers(0, len(STAFF_GROUPS), nv)
    staff_group = np.where(rng.random(nv) < 0.8, base_sg, alt)
    roles = [r for b in SENIOR_BANDS for r in ROLE_TITLES[b]]
    r_off = np.cumsum([0] + [len(ROLE_TITLES[b]) for b in SENIOR_BANDS])
    r_n = np.diff(r_off)
    role_idx = r_off[band] + (rng.random(nv) * r_n[band]).astype(np.int64)
    with_dir = rng.random(nv) < 0.5
    title = pc.if_else(pa.array(with_dir),
                       join(take(strings(roles), role_idx), pa.scalar(" – "), take(strings(DIRECTORATES), direc)),
                       take(strings(roles), role_idx))
    posts = np.where(rng.random(nv) < TWO_POSTS_RATE, 2, 1)
    post = month >= calendar.programme_month
    letter = post & (rng.random(nv) < LETTER_RATE_POST)
    diverse = rng.random(nv) < np.where(post, DIVERSE_PANEL_RATE[1], DIVERSE_PANEL_RATE[0])
    return dict(band=band, month=month, advert=advert, close=close, directorate=direc, staff_group=staff_group,
                title=title, posts=posts, post=post, letter=letter, diverse=diverse)


def _draw_managers(rng, nv: int) -> tuple[People, np.ndarray]:
    """Hiring managers (one per ~3 vacancies, 25% BME) and each vacancy's manager."""
    nm = max(2, int(math.ceil(nv * MANAGERS_PER_VACANCY)))
    female = rng.random(nm) < 0.55
    code = draw_codes(rng, rng.random(nm) < 0.25, rng.random(nm) < 0.03)
    fn, sn = draw_names(rng, code, female)
    v_mgr = rng.integers(0, nm, nv)
    return People(code=code, female=female, forename=fn, surname=sn), v_mgr


def _draw_panel_pool(rng, nv: int) -> PanelPool:
    """0.75 x vacancies people (55% women, 30% BME, ethnicity known), every (female, bme) category present."""
    npool = max(16, int(nv * 0.75))
    p_female = rng.random(npool) < 0.55
    p_bme = rng.random(npool) < 0.30
    p_code = draw_codes(rng, p_bme, np.zeros(npool, bool))
    p_fn, p_sn = draw_names(rng, p_code, p_female)
    p_title = draw_titles(rng, p_female)
    cat = p_female.astype(int) * 2 + p_bme.astype(int)
    for c in range(4):  # make sure every category exists
        if not (cat == c).any():
            i = c  # overwrite person c
            p_female[i], p_bme[i] = bool(c // 2), bool(c % 2)
            p_code[i] = draw_codes(rng, np.array([c % 2 == 1]), np.zeros(1, bool))[0]
            cat = p_female.astype(int) * 2 + p_bme.astype(int)
    people = People(code=p_code, female=p_female, forename=p_fn, surname=p_sn)
    return PanelPool(people=people, bme=p_bme, title=p_title,
                     by_category=tuple(np.flatnonzero(cat == c) for c in range(4)))


def _apply_pool_probability(effects: PlantedEffects, *, band, letter, diverse, post) -> np.ndarray:
    """apply_pool: logistic(intercept + band + letter_to_ceo + diverse_panel + post_programme) per vacancy."""
    b = effects.terms[STAGE_APPLY_POOL]
    eta = (b[TERM_INTERCEPT] + np.array([0.0] + [b[band_term(x)] for x in SENIOR_NONREF])[band]
           + b[TERM_LETTER_TO_CEO] * letter + b[TERM_DIVERSE_PANEL] * diverse
           + b[TERM_POST_PROGRAMME] * post)
    return sigmoid(eta)


@dataclass(frozen=True, eq=False)
class Chunk:
    """Vacancies ``first`` .. ``stop - 1`` (chunk ``index``), with their plan columns sliced out."""

    index: int
    first: int
    stop: int
    band: np.ndarray
    month: np.ndarray
    advert: np.ndarray
    close: np.ndarray
    post: np.ndarray
    letter: np.ndarray
    diverse: np.ndarray
    posts: np.ndarray
    manager_bme: np.ndarray
    external_bme_p: np.ndarray

    @classmethod
    def of(cls, vacancies: Vacancies, *, index: int, first: int, stop: int) -> Chunk:
        V = np.arange(first, stop)
        return cls(index=index, first=first, stop=stop, band=vacancies.band[V], month=vacancies.month[V],
                   advert=vacancies.advert[V], close=vacancies.close[V], post=vacancies.post[V],
                   letter=vacancies.letter[V], diverse=vacancies.diverse[V], posts=vacancies.posts[V],
                   manager_bme=vacancies.manager_bme[V], external_bme_p=vacancies.external_bme_p[V])

    def __len__(self) -> int:
        return self.stop - self.first

    @property
    def vacancies(self) -> np.ndarray:
        """Trust-wide indices of the chunk's vacancies."""
        return np.arange(self.first, self.stop)


# --------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------
def vacancy_refs(vacancies: Vacancies, idx) -> pa.Array:
    """``VAC-`` references (6 digits, widened when the trust has more vacancies)."""
    return ref("VAC-", np.asarray(idx) + 1, max(6, len(str(len(vacancies)))))


def write_managers(writer: TrustWriter, managers: People) -> None:
    nm = len(managers)
    writer.write("hiring_managers", {
        "manager_id": ref("MGR-", np.arange(1, nm + 1), 5),
        "ethnic_category": take(CODE_ARR, managers.code),
        "sex": take(strings(SEXES), sex_index(managers.female)),
        "forename": take(FORENAME_ARR, managers.forename), "surname": take(SURNAME_ARR, managers.surname),
        "email": join(take(FORENAME_ASCII_ARR, managers.forename), pa.scalar("."),
                      take(SURNAME_ASCII_ARR, managers.surname), pa.scalar("@nhs.net")),
    })


def write_vacancies(writer: TrustWriter, vacancies: Vacancies, chunk: Chunk, *, refs: pa.Array,
                    letter_received: np.ndarray) -> None:
    V = chunk.vacancies
    writer.write("vacancies", {
        "vacancy_id": refs, "job_title": vacancies.title.slice(chunk.first, len(chunk)),
        "band": take(band_labels(SENIOR_BANDS), chunk.band),
        "directorate": take(strings(DIRECTORATES), vacancies.directorate[V]),
        "staff_group": take(strings(STAFF_GROUPS), vacancies.staff_group[V]),
        "advert_date": dates(chunk.advert), "closing_date": dates(chunk.close),
        "hiring_manager_id": ref("MGR-", vacancies.manager[V] + 1, 5),
        "letter_to_ceo": yn(chunk.letter), "letter_received": yn(letter_received),
        "posts": pa.array(chunk.posts.astype(np.int64)),
    })
