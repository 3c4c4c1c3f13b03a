"""Interview panels of one chunk of vacancies: who sits, in which role, and how severe a scorer they are.

Reads the chunk's planned ``diverse_panel`` flags and the panel-member pool.
Returns :class:`Panels`: 2-4 seats per vacancy (slot 0 the Chair), whose
composition agrees with the planned flag (at least one woman AND at least one
BME member), no person twice on a panel.  Writes the panel_members rows.
Implements "Panels" of docs/synthetic-data.md; each member's scoring
severity (interview_score ``member_sd``) is drawn here because it is drawn
in this position of the chunk's stream.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from edi_recruit.synthetic.columns import ref, sex_index, strings, take
from edi_recruit.synthetic.draws import offsets, pick, segment_positions
from edi_recruit.synthetic.people import CODE_ARR, CODE_BME, FORENAME_ARR, SURNAME_ARR
from edi_recruit.synthetic.plan import Chunk, PanelPool
from edi_recruit.synthetic.sinks import TrustWriter
from tasks.core.vocabulary import PANEL_ROLES, SEXES


@dataclass(frozen=True, eq=False)
class Panels:
    """Seats of the chunk's panels, grouped by vacancy in order; ``offset[v]`` is vacancy v's first seat."""

    vacancy: np.ndarray   # chunk-local vacancy index of each seat
    size: np.ndarray      # seats per vacancy
    offset: np.ndarray    # first seat of each vacancy (total appended)
    person: np.ndarray    # index into the panel pool
    role: np.ndarray      # index into PANEL_ROLES
    severity: np.ndarray  # member severity s_j ~ N(0, member_sd)
    member_bme: np.ndarray  # bool: the member's code is BME

    def __len__(self) -> int:
        return len(self.vacancy)

    def member_refs(self) -> pa.Array:
        return ref("PNL-", self.person + 1, 5)


def draw_panels(rng, chunk: Chunk, pool: PanelPool, *, member_sd: float) -> Panels:
    """Panel sizes, composition forced to the planned flag, people from the pool, roles, severities."""
    nv = len(chunk)
    size = 2 + pick(rng, [0.30, 0.45, 0.25], nv)
    pv = np.repeat(np.arange(nv), size)
    slot = segment_positions(size)
    fem = rng.random(len(pv)) < 0.55
    bme = rng.random(len(pv)) < 0.30
    has_f = np.bincount(pv, fem, nv) > 0
    has_b = np.bincount(pv, bme, nv) > 0
    is_div = has_f & has_b
    fix_div = chunk.diverse & ~is_div          # force slot 1 to a BME woman
    m = fix_div[pv] & (slot == 1)
    fem[m], bme[m] = True, True
    undo = ~chunk.diverse & is_div             # make all-male or all-White
    allmale = rng.random(nv) < 0.5
    m2 = undo[pv]
    fem[m2 & allmale[pv]] = False
    bme[m2 & ~allmale[pv]] = False
    cat = fem.astype(int) * 2 + bme.astype(int)
    person = _seat_people(rng, pv, cat, pool)
    role = np.where(slot == 0, 0, 1)
    last4 = (size[pv] == 4) & (slot == 3)
    role = np.where(last4 & (rng.random(len(pv)) < 0.5), np.where(rng.random(len(pv)) < 0.5, 2, 3), role)
    sev = rng.normal(0, member_sd, len(pv))
    return Panels(vacancy=pv, size=size, offset=offsets(size), person=person, role=role, severity=sev,
                  member_bme=CODE_BME[pool.people.code[person]])


def _seat_people(rng, pv, cat, pool: PanelPool) -> np.ndarray:
    """A pool member of the seat's (female, bme) category; duplicates on a panel are redrawn (5 rounds)."""
    person = np.zeros(len(pv), np.int64)
    u = rng.random(len(pv))
    for k in range(4):
        mk = cat == k
        members = pool.by_category[k]
        person[mk] = members[(u[mk] * len(members)).astype(np.int64)]
    # the same person cannot sit twice on one panel: resample duplicates from the whole pool
    for _ in range(5):
        key = pv * (len(pool.people) + 1) + person
        srt = np.argsort(key, kind="stable")
        dup = np.zeros(len(pv), bool)
        dup[srt[1:][key[srt][1:] == key[srt][:-1]]] = True
        if not dup.any():
            break
        for k in range(4):
            mk = dup & (cat == k)
            members = pool.by_category[k]
            person[mk] = members[(rng.random(int(mk.sum())) * len(members)).astype(np.int64)]
    return person


def write_panels(writer: TrustWriter, panels: Panels, pool: PanelPool, vacancy_refs: pa.Array) -> None:
    people, person = pool.people, panels.person
    writer.write("panel_members", {
        "vacancy_id": take(vacancy_refs, panels.vacancy), "member_id": panels.member_refs(),
        "ethnic_category": take(CODE_ARR, people.code[person]),
        "sex": take(strings(SEXES), sex_index(people.female[person])),
        "role": take(strings(PANEL_ROLES), panels.role),
        "forename": take(FORENAME_ARR, people.forename[person]), "surname": take(SURNAME_ARR, people.surname[person]),
    })
