"""Personal attributes of synthetic people: ethnic codes, names, titles, phone and NHS numbers.

Reads the name lists of ``edi_recruit.synthetic.names`` and the code list of
``tasks.core.vocabulary``.  Returns code and name *indices* (into
:data:`CODE_LIST`, :data:`FORENAMES`, :data:`SURNAMES`) so that tables are
built by ``take``; see "Raw values" and "Free text and planted personal data"
in docs/synthetic-data.md.  Names follow a naming group drawn from the
person's ethnic code; nothing downstream may use a name as a proxy.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from edi_recruit.synthetic import names as N
from edi_recruit.synthetic.columns import digits, join, strings
from edi_recruit.synthetic.design import BME_CODE_WEIGHTS, EXTENDED_CODE_RATE, EXTENDED_CODES, WHITE_CODE_WEIGHTS
from edi_recruit.synthetic.draws import pick
from tasks.core.vocabulary import ETHNIC_CATEGORIES, MAIN_CATEGORY_LETTERS, UNKNOWN_CODES, WRES_BME

# --------------------------------------------------------------------------
# Ethnic codes
# --------------------------------------------------------------------------
CODE_LIST: tuple[str, ...] = tuple(ETHNIC_CATEGORIES) + tuple(c for v in EXTENDED_CODES.values() for c in v)


_CODE_INDEX = {c: i for i, c in enumerate(CODE_LIST)}


CODE_ARR = strings(CODE_LIST)


CODE_BME = np.array([ETHNIC_CATEGORIES[c if c in ETHNIC_CATEGORIES else c[0]].wres_group == WRES_BME
                     for c in CODE_LIST])


CODE_KNOWN = np.array([(c if c in ETHNIC_CATEGORIES else c[0]) not in UNKNOWN_CODES for c in CODE_LIST])


assert all(c[0] in MAIN_CATEGORY_LETTERS for c in CODE_LIST[len(ETHNIC_CATEGORIES):])


def draw_codes(rng, bme: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """Ethnic code indices into CODE_LIST given BME / unknown flags (~5% extended local codes)."""
    n = len(bme)
    bk, bw = list(BME_CODE_WEIGHTS), np.array(list(BME_CODE_WEIGHTS.values()))
    wk, ww = list(WHITE_CODE_WEIGHTS), np.array(list(WHITE_CODE_WEIGHTS.values()))
    b_idx = np.array([_CODE_INDEX[c] for c in bk])[pick(rng, bw, n)]
    w_idx = np.array([_CODE_INDEX[c] for c in wk])[pick(rng, ww, n)]
    u_idx = np.where(rng.random(n) < 0.6, _CODE_INDEX["Z"], _CODE_INDEX["99"])
    code = np.where(unknown, u_idx, np.where(bme, b_idx, w_idx))
    ext = (rng.random(n) < EXTENDED_CODE_RATE) & ~unknown
    r = rng.random(n)
    if ext.any():
        for letter, exts in EXTENDED_CODES.items():
            m = ext & (code == _CODE_INDEX[letter])
            if m.any():
                code[m] = np.array([_CODE_INDEX[e] for e in exts])[(r[m] * len(exts)).astype(int)]
    return code


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------
FORENAMES: list[str] = []
SURNAMES: list[str] = []
_FN_OFF, _FN_SIZE = np.zeros((len(N.GROUPS), 2), np.int64), np.zeros((len(N.GROUPS), 2), np.int64)
_SN_OFF, _SN_SIZE = np.zeros(len(N.GROUPS), np.int64), np.zeros(len(N.GROUPS), np.int64)
for _g, _name in enumerate(N.GROUPS):
    _fem, _mal, _sur = N.NAME_GROUPS[_name]
    for _sx, _lst in ((0, _mal), (1, _fem)):
        _FN_OFF[_g, _sx], _FN_SIZE[_g, _sx] = len(FORENAMES), len(_lst)
        FORENAMES.extend(_lst)
    _SN_OFF[_g], _SN_SIZE[_g] = len(SURNAMES), len(_sur)
    SURNAMES.extend(_sur)


FORENAME_ARR, SURNAME_ARR = strings(FORENAMES), strings(SURNAMES)


FORENAME_ASCII_ARR = strings(N.ascii_fold(x) for x in FORENAMES)


SURNAME_ASCII_ARR = strings(N.ascii_fold(x) for x in SURNAMES)


_GROUP_P = np.zeros((len(CODE_LIST), len(N.GROUPS)))
for _i, _c in enumerate(CODE_LIST):
    for _gname, _w in N.CODE_TO_GROUP[_c if _c in N.CODE_TO_GROUP else _c[0]].items():
        _GROUP_P[_i, N.GROUPS.index(_gname)] = _w


def draw_names(rng, code_idx, female):
    """Forename / surname indices from the naming group of each person's ethnic code."""
    n = len(code_idx)
    grp = np.zeros(n, np.int64)
    u = rng.random(n)
    for ci in np.unique(code_idx):
        m = code_idx == ci
        c = np.cumsum(_GROUP_P[ci])
        grp[m] = np.minimum(np.searchsorted(c / c[-1], u[m], side="right"), len(c) - 1)
    sx = np.asarray(female, dtype=np.int64)
    fn = _FN_OFF[grp, sx] + (rng.random(n) * _FN_SIZE[grp, sx]).astype(np.int64)
    sn = _SN_OFF[grp] + (rng.random(n) * _SN_SIZE[grp]).astype(np.int64)
    return fn, sn


def draw_titles(rng, female):
    """Courtesy titles (Mrs, Dr, Mr ...) by sex."""
    n = len(female)
    tf = np.array(N.TITLES_FEMALE, dtype=object)[pick(rng, [0.35, 0.25, 0.25, 0.05, 0.10], n)]
    tm = np.array(N.TITLES_MALE, dtype=object)[pick(rng, [0.65, 0.28, 0.07], n)]
    return np.where(female, tf, tm)


# --------------------------------------------------------------------------
# Contact details and identifiers
# --------------------------------------------------------------------------
def draw_phones(rng, n) -> pa.Array:
    """UK phone numbers: mobile (80%), +44 mobile (10%) or London landline (10%)."""
    kind = pick(rng, [0.8, 0.1, 0.1], n)
    mob = join(pa.scalar("07"), digits(rng, n, width=3), pa.scalar(" "), digits(rng, n, width=6))
    intl = join(pa.scalar("+44 7"), digits(rng, n, width=3), pa.scalar(" "), digits(rng, n, width=6))
    lon = join(pa.scalar("020 "), digits(rng, n, width=4), pa.scalar(" "), digits(rng, n, width=4))
    kind_a = pa.array(kind)
    return pc.if_else(pc.equal(kind_a, 0), mob, pc.if_else(pc.equal(kind_a, 1), intl, lon))


def draw_nhs_number(rng) -> str:
    """A valid modulus-11 NHS number written ``943 476 5919``."""
    while True:
        d = rng.integers(0, 10, 9)
        d[0] = rng.integers(4, 10)
        s = sum(int(x) * (10 - i) for i, x in enumerate(d))
        chk = 11 - s % 11
        if chk == 11:
            chk = 0
        if chk != 10:
            ds = "".join(map(str, d)) + str(chk)
            return f"{ds[:3]} {ds[3:6]} {ds[6:]}"
