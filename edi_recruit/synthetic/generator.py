"""Synthetic large acute NHS trust: senior recruitment with planted effects.

The generator is the project's demo and its test oracle.  It writes raw
exports (Trac-style recruitment tables and ESR workforce snapshots) whose
headers come from ``mappings/trac.yaml`` and ``mappings/esr.yaml``, plus truth
files (``truth.json``, ``truth_pii.csv``, ``truth_documents.csv``) that the
pipeline never reads.  See docs/synthetic-data.md for the data-generating
model of every stage and which estimator recovers which planted value.
"""
from __future__ import annotations

import copy
import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

from edi_recruit.synthetic import names as N
from edi_recruit.synthetic import phrase_bank as PB
from tasks.core.paths import EFFECTS_DIR, MAPPINGS_DIR
from tasks.core.vocabulary import (
    AGE_BANDS,
    DEFAULT_PERIOD_END,
    DEFAULT_PERIOD_START,
    DEFAULT_PROGRAMME_START,
    DIRECTORATES,
    DISABILITY_VALUES,
    ETHNIC_CATEGORIES,
    MAIN_CATEGORY_LETTERS,
    MODEL_BINOMIAL_GLM,
    MODEL_CONDITIONAL_LOGIT,
    MODEL_LOGIT,
    MODEL_MIXED_LINEAR,
    MODEL_MULTINOMIAL_LOGIT,
    MODEL_SEGMENTED_LINEAR,
    PANEL_ROLES,
    REFERENCE_BAND,
    SENIOR_BANDS,
    SEXES,
    STAFF_GROUPS,
    STAGE_APPLY_POOL,
    STAGE_APPLY_WORKFORCE,
    STAGE_ASSESSMENT_TONE,
    STAGE_ASSESSMENT_TOPICS,
    STAGE_INTERVIEW_SCORE,
    STAGE_OFFER,
    STAGE_PROGRAMME_IMPACT,
    STAGE_SHORTLIST,
    TERM_BME,
    TERM_BME_X_LETTER,
    TERM_BME_X_PANEL,
    TERM_BME_X_POST,
    TERM_DISABILITY,
    TERM_DIVERSE_PANEL,
    TERM_ETHNICITY_MATCH,
    TERM_FEMALE,
    TERM_INTERCEPT,
    TERM_INTERNAL,
    TERM_LETTER_TO_CEO,
    TERM_LEVEL_CHANGE,
    TERM_MANAGER_BME,
    TERM_OFFERED,
    TERM_POST_PROGRAMME,
    TERM_SLOPE_CHANGE,
    THEMES,
    UNKNOWN_CODES,
    WITHDRAWN_STAGES,
    WORKFORCE_BANDS,
    WORKFORCE_REFERENCE_BAND,
    WRES_BME,
    band_term,
    topic_term,
)

DEFAULT_EFFECTS_PATH = EFFECTS_DIR / "default.yaml"


FORMATS: dict[str, str] = {"csv": "csv", "csv-bom": "csv", "csv-cp1252": "csv", "xlsx": "xlsx", "parquet": "parquet"}


XLSX_MAX_ROWS = 1_048_575


MIN_APPLICATIONS = 100


WF_BLOCK = 500_000  # internal applications placed per block


VAC_CHUNK = 2000  # vacancies per generation chunk (fixed: results do not depend on memory)


PARQUET_ROW_GROUP = 262_144


TRUST_TABLES: tuple[str, ...] = (
    "vacancies", "hiring_managers", "panel_members", "applications",
    "interview_scores", "assessments", "ceo_letters", "workforce",
)


# --------------------------------------------------------------------------
# Design constants (documented in docs/synthetic-data.md)
# --------------------------------------------------------------------------
VAC_BAND_SHARE = np.array([0.38, 0.27, 0.17, 0.09, 0.05, 0.04])          # 8a..VSM


MEAN_APPS_BY_BAND = np.array([23.0, 21.0, 19.0, 17.0, 15.0, 14.0])        # incl. internals


INTERNAL_SHARE = 0.35


STAFF_PER_APPLICATION = 0.5        # workforce headcount = 0.5 x applications (4,000 at 8,000)


MONTHLY_LEAVE_RATE = 0.006         # ~7% turnover a year, replaced by joiners


STAFF_BAND_SHARE = np.array([0.45, 0.33, 0.12, 0.05, 0.025, 0.013, 0.007, 0.005])  # 6,7,8a..VSM


STAFF_BME_BY_BAND = np.array([0.45, 0.38, 0.28, 0.22, 0.18, 0.16, 0.15, 0.15])


STAFF_FEMALE_BY_BAND = np.array([0.78, 0.74, 0.68, 0.62, 0.58, 0.52, 0.48, 0.45])


EXT_FEMALE_BY_BAND = np.array([0.62, 0.58, 0.54, 0.50, 0.46, 0.42])


UNKNOWN_ETHNICITY_RATE = 0.04


STAFF_UNKNOWN_ETHNICITY_RATE = 0.03


EXTENDED_CODE_RATE = 0.05


DISABILITY_P = np.array([0.06, 0.84, 0.10])  # Yes, No, Not declared


TWO_POSTS_RATE = 0.05


LETTER_RATE_POST = 0.80


LETTER_COMPLIANCE = 0.90


DIVERSE_PANEL_RATE = (0.35, 0.90)   # pre, post


MANAGERS_PER_VACANCY = 1 / 3


WITHDRAW_APPLICATION = 0.03


WITHDRAW_SHORTLIST = 0.10


WITHDRAW_INTERVIEW = 0.03


OFFER_DECLINE = 0.08


# Internal applicants: staff band -> weights over senior vacancy bands (at or above own band)
ELIGIBLE_WEIGHTS = np.array([
    [0.80, 0.20, 0.00, 0.00, 0.00, 0.00],   # 6
    [0.60, 0.30, 0.10, 0.00, 0.00, 0.00],   # 7
    [0.20, 0.50, 0.30, 0.00, 0.00, 0.00],   # 8a
    [0.00, 0.20, 0.50, 0.30, 0.00, 0.00],   # 8b
    [0.00, 0.00, 0.20, 0.50, 0.30, 0.00],   # 8c
    [0.00, 0.00, 0.00, 0.20, 0.50, 0.30],   # 8d
    [0.00, 0.00, 0.00, 0.00, 0.40, 0.60],   # 9
    [0.00, 0.00, 0.00, 0.00, 0.00, 1.00],   # VSM
])


AGE_P_SENIOR = np.array([[0.06, 0.34, 0.35, 0.21, 0.04], [0.02, 0.22, 0.40, 0.30, 0.06],
                         [0.01, 0.12, 0.42, 0.37, 0.08]])  # young/mid/top band groups


BME_CODE_WEIGHTS = {"D": .04, "E": .03, "F": .04, "G": .04, "H": .16, "J": .07, "K": .05, "L": .10,
                    "M": .10, "N": .20, "P": .03, "R": .05, "S": .09}


WHITE_CODE_WEIGHTS = {"A": .75, "B": .05, "C": .20}


EXTENDED_CODES = {"A": ("AA", "AB"), "C": ("CA", "CB", "CP", "CK"), "G": ("GC", "GE"), "H": ("HA",),
                  "L": ("LH", "LK", "LE"), "N": ("NA", "NC", "NN"), "M": ("MA",), "S": ("SC", "SD", "SE"),
                  "R": ("RA",), "J": ("JA",), "K": ("KA",), "F": ("FA",), "D": ("DA",), "E": ("EA",),
                  "B": ("BA",), "P": ("PA", "PB")}


CRITERIA: tuple[str, ...] = (
    "Leadership", "Strategic thinking", "Communication", "Financial management", "Values and behaviours",
    "Stakeholder engagement", "Quality improvement", "Presentation", "Operational delivery",
    "Team development", "Problem solving", "Equality, diversity and inclusion",
)


ROLE_TITLES: dict[str, tuple[str, ...]] = {
    "8a": ("Service Manager", "Matron", "Lead Nurse", "Finance Manager", "Senior HR Business Partner",
           "Lead Pharmacist", "Senior Project Manager", "Senior Information Analyst", "Estates Manager",
           "Lead Physiotherapist"),
    "8b": ("General Manager", "Head of Nursing", "Head of Finance", "Head of Workforce Planning",
           "Consultant Nurse", "Head of IT Services", "Head of Estates", "Principal Clinical Scientist"),
    "8c": ("Associate Director of Operations", "Deputy Chief Nurse", "Associate Director of Finance",
           "Head of Transformation", "Associate Director of HR", "Chief Pharmacist"),
    "8d": ("Deputy Director of Operations", "Deputy Director of Finance", "Deputy Director of Nursing",
           "Deputy Director of Workforce", "Deputy Chief Information Officer", "Director of Estates"),
    "9": ("Director of Operations", "Director of Strategy", "Director of Transformation",
          "Director of Nursing – Quality", "Chief Information Officer"),
    "VSM": ("Chief Operating Officer", "Chief Nurse", "Chief Financial Officer", "Chief People Officer",
            "Director of Strategy and Partnerships", "Chief Digital Officer"),
}


GUMBEL_MEAN = 0.5772156649015329


GUMBEL_SD = math.pi / math.sqrt(6)


# --------------------------------------------------------------------------
# Stage / term registry (built from the vocabulary)
# --------------------------------------------------------------------------
_WF_BANDS_NONREF = tuple(b for b in WORKFORCE_BANDS if b != WORKFORCE_REFERENCE_BAND)


_SENIOR_NONREF = tuple(b for b in SENIOR_BANDS if b != REFERENCE_BAND)


STAGE_TERMS: dict[str, tuple[str, ...]] = {
    STAGE_APPLY_WORKFORCE: (TERM_INTERCEPT, TERM_BME, TERM_FEMALE,
                            *(band_term(b) for b in _WF_BANDS_NONREF), TERM_POST_PROGRAMME, TERM_BME_X_POST),
    STAGE_APPLY_POOL: (TERM_INTERCEPT, *(band_term(b) for b in _SENIOR_NONREF), TERM_LETTER_TO_CEO,
                       TERM_DIVERSE_PANEL, TERM_POST_PROGRAMME),
    STAGE_SHORTLIST: (TERM_INTERCEPT, TERM_BME, TERM_FEMALE, TERM_INTERNAL, TERM_DISABILITY,
                      TERM_DIVERSE_PANEL, TERM_POST_PROGRAMME, TERM_BME_X_PANEL, TERM_BME_X_POST,
                      TERM_MANAGER_BME),
    STAGE_OFFER: (TERM_BME, TERM_FEMALE, TERM_INTERNAL, TERM_DISABILITY, TERM_BME_X_LETTER,
                  TERM_BME_X_PANEL, TERM_BME_X_POST),
    STAGE_INTERVIEW_SCORE: (TERM_INTERCEPT, TERM_BME, TERM_FEMALE, TERM_INTERNAL, TERM_ETHNICITY_MATCH),
    STAGE_ASSESSMENT_TONE: (TERM_INTERCEPT, TERM_BME, TERM_OFFERED),
    STAGE_ASSESSMENT_TOPICS: tuple(topic_term(t) for t in THEMES),
    STAGE_PROGRAMME_IMPACT: (),  # computed, see _programme_impact
}


STAGE_MODELS: dict[str, str] = {
    STAGE_APPLY_WORKFORCE: MODEL_LOGIT, STAGE_APPLY_POOL: MODEL_BINOMIAL_GLM, STAGE_SHORTLIST: MODEL_LOGIT,
    STAGE_OFFER: MODEL_CONDITIONAL_LOGIT, STAGE_INTERVIEW_SCORE: MODEL_MIXED_LINEAR,
    STAGE_ASSESSMENT_TONE: MODEL_LOGIT, STAGE_ASSESSMENT_TOPICS: MODEL_MULTINOMIAL_LOGIT,
    STAGE_PROGRAMME_IMPACT: MODEL_SEGMENTED_LINEAR,
}


STAGE_PARAMETERS: dict[str, tuple[str, ...]] = {
    STAGE_INTERVIEW_SCORE: ("vacancy_sd", "member_sd", "kappa", "noise_sd", "missing_sheet_rate"),
}


_STAGE_KEYS = {"model", "terms", "parameters", "notes"}


@dataclass
class GenerationSummary:
    out_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    row_counts: dict[str, int] = field(default_factory=dict)
    seed: int = 7


# --------------------------------------------------------------------------
# Effects
# --------------------------------------------------------------------------
def _deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _validate_effects(eff: dict) -> None:
    if not isinstance(eff, dict) or not isinstance(eff.get("models"), dict):
        raise ValueError("effects must be a mapping with a 'models:' mapping")
    bad_stages = sorted(set(eff["models"]) - set(STAGE_TERMS))
    if bad_stages:
        raise ValueError(f"unknown stage name(s) in effects: {', '.join(map(str, bad_stages))} "
                         f"(known: {', '.join(STAGE_TERMS)})")
    problems = []
    for stage, spec in eff["models"].items():
        if not isinstance(spec, dict):
            raise ValueError(f"effects stage {stage!r} must be a mapping")
        for k in sorted(set(spec) - _STAGE_KEYS):
            problems.append(f"{stage}: unknown key {k!r}")
        terms = spec.get("terms") or {}
        for t in sorted(set(terms) - set(STAGE_TERMS[stage])):
            problems.append(f"{stage}: unknown term {t!r}" + (" (programme_impact terms are computed)"
                                                              if stage == STAGE_PROGRAMME_IMPACT else ""))
        for t, v in terms.items():
            if t in STAGE_TERMS[stage] and (isinstance(v, bool) or not isinstance(v, (int, float))):
                problems.append(f"{stage}: term {t!r} must be a number, got {v!r}")
        params = spec.get("parameters") or {}
        for p in sorted(set(params) - set(STAGE_PARAMETERS.get(stage, ()))):
            problems.append(f"{stage}: unknown parameter {p!r}")
        if "model" in spec and spec["model"] != STAGE_MODELS[stage]:
            problems.append(f"{stage}: model must be {STAGE_MODELS[stage]!r}, got {spec['model']!r}")
    if problems:
        raise ValueError("invalid effects: " + "; ".join(problems))


def _load_yaml(path: Path) -> dict:
    with Path(path).open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ValueError(f"effects file {path} must contain a mapping")
    return data


def load_effects(path: str | Path | None = None) -> dict:
    """Defaults from effects/default.yaml deep-merged with the user's YAML (override terms by name)."""
    base = _load_yaml(DEFAULT_EFFECTS_PATH)
    _validate_effects(base)
    if path is None:
        return base
    p = Path(path)
    if not p.exists():
        raise ValueError(f"effects file not found: {p}")
    return _merge_effects(base, _load_yaml(p))


def _merge_effects(base: dict, user: dict) -> dict:
    user = dict(user)
    if "models" not in user:
        raise ValueError("effects YAML must have a top-level 'models:' mapping")
    unknown_top = sorted(set(user) - {"models", "seed", "programme_start", "notes"})
    if unknown_top:
        raise ValueError(f"unknown top-level key(s) in effects: {', '.join(unknown_top)}")
    _validate_effects({"models": user["models"] or {}})
    merged = _deep_merge(base, {"models": user["models"] or {}})
    _validate_effects(merged)
    return merged


def _full_effects(effects: dict | None) -> dict:
    base = load_effects(None)
    if effects is None:
        return base
    return _merge_effects(base, effects)


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------
def _rng(seed: int, key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(key,))))


def _month_index(s: str, what: str) -> int:
    if not isinstance(s, str) or not re.fullmatch(r"\d{4}-\d{2}", s) or not 1 <= int(s[5:]) <= 12:
        raise ValueError(f"{what} must be a month 'YYYY-MM', got {s!r}")
    return int(s[:4]) * 12 + int(s[5:]) - 1


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _pick(rng, p, n):
    """Vectorised categorical draw with fixed probabilities."""
    c = np.cumsum(np.asarray(p, dtype=float))
    c /= c[-1]
    return np.minimum(np.searchsorted(c, rng.random(n), side="right"), len(c) - 1)


def _pick_rows(rng, P):
    """Categorical draw per row of a probability matrix."""
    c = np.cumsum(P, axis=1)
    c /= c[:, -1:]
    u = rng.random(len(P))[:, None]
    return np.minimum((u >= c).sum(axis=1), P.shape[1] - 1)


def _s(values) -> pa.Array:
    return pa.array(list(values), pa.string())


def _take(values: pa.Array, idx) -> pa.Array:
    return values.take(pa.array(np.asarray(idx, dtype=np.int64)))


def _digits(rng, n, k) -> pa.Array:
    return pc.utf8_lpad(pa.array(rng.integers(0, 10 ** k, n, dtype=np.int64)).cast(pa.string()), k, "0")


def _ref(prefix: str, ints, width: int) -> pa.Array:
    s = pc.utf8_lpad(pa.array(np.asarray(ints, dtype=np.int64)).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), s, "")


def _join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _dates(d) -> pa.Array:
    a = pa.array(np.asarray(d, dtype="datetime64[D]"))
    return pc.strftime(a.cast(pa.timestamp("s")), format="%d/%m/%Y")


def _yn(b) -> pa.Array:
    return _take(_YN, np.asarray(b, dtype=np.int8))


def _segment_positions(counts):
    """For segments of the given lengths, the position of each element within its segment."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total, dtype=np.int64) - starts


_YN = _s(["N", "Y"])


_BODY_FLAT: list[str] = []


_BODY_OFF = np.zeros((len(THEMES), 2), np.int64)


_BODY_N = np.zeros((len(THEMES), 2), np.int64)


for _ti, _th in enumerate(THEMES):
    for _pi, _pol in enumerate(("neg", "pos")):
        _BODY_OFF[_ti, _pi], _BODY_N[_ti, _pi] = len(_BODY_FLAT), len(PB.BODIES[_th][_pol])
        _BODY_FLAT.extend(PB.BODIES[_th][_pol])


def _body_list(theme, positive, u) -> list[str]:
    pol = np.asarray(positive, dtype=np.int64)
    idx = _BODY_OFF[theme, pol] + (u * _BODY_N[theme, pol]).astype(np.int64)
    return [_BODY_FLAT[j] for j in idx.tolist()]


CODE_LIST: tuple[str, ...] = tuple(ETHNIC_CATEGORIES) + tuple(c for v in EXTENDED_CODES.values() for c in v)


_CODE_INDEX = {c: i for i, c in enumerate(CODE_LIST)}


_CODE_ARR = _s(CODE_LIST)


_CODE_BME = np.array([ETHNIC_CATEGORIES[c if c in ETHNIC_CATEGORIES else c[0]].wres_group == WRES_BME
                      for c in CODE_LIST])


_CODE_KNOWN = np.array([(c if c in ETHNIC_CATEGORIES else c[0]) not in UNKNOWN_CODES for c in CODE_LIST])


_CODE_MAIN = np.array([_CODE_INDEX[c if c in ETHNIC_CATEGORIES else c[0]] for c in CODE_LIST])


assert all(c[0] in MAIN_CATEGORY_LETTERS for c in CODE_LIST[len(ETHNIC_CATEGORIES):])


def _draw_codes(rng, bme: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """Ethnic code indices into CODE_LIST given BME / unknown flags (~5% extended local codes)."""
    n = len(bme)
    bk, bw = list(BME_CODE_WEIGHTS), np.array(list(BME_CODE_WEIGHTS.values()))
    wk, ww = list(WHITE_CODE_WEIGHTS), np.array(list(WHITE_CODE_WEIGHTS.values()))
    b_idx = np.array([_CODE_INDEX[c] for c in bk])[_pick(rng, bw, n)]
    w_idx = np.array([_CODE_INDEX[c] for c in wk])[_pick(rng, ww, n)]
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


# Name tables
_FN, _FN_ASCII, _FN_OFF, _FN_SIZE = [], [], np.zeros((len(N.GROUPS), 2), np.int64), np.zeros((len(N.GROUPS), 2), np.int64)


_SN, _SN_ASCII, _SN_OFF, _SN_SIZE = [], [], np.zeros(len(N.GROUPS), np.int64), np.zeros(len(N.GROUPS), np.int64)


for _g, _name in enumerate(N.GROUPS):
    _fem, _mal, _sur = N.NAME_GROUPS[_name]
    for _sx, _lst in ((0, _mal), (1, _fem)):
        _FN_OFF[_g, _sx], _FN_SIZE[_g, _sx] = len(_FN), len(_lst)
        _FN.extend(_lst)
    _SN_OFF[_g], _SN_SIZE[_g] = len(_SN), len(_sur)
    _SN.extend(_sur)


_FN_ASCII = [N.ascii_fold(x) for x in _FN]


_SN_ASCII = [N.ascii_fold(x) for x in _SN]


_FN_ARR, _SN_ARR = _s(_FN), _s(_SN)


_FN_ASCII_ARR, _SN_ASCII_ARR = _s(_FN_ASCII), _s(_SN_ASCII)


_GROUP_P = np.zeros((len(CODE_LIST), len(N.GROUPS)))


for _i, _c in enumerate(CODE_LIST):
    for _gname, _w in N.CODE_TO_GROUP[_c if _c in N.CODE_TO_GROUP else _c[0]].items():
        _GROUP_P[_i, N.GROUPS.index(_gname)] = _w


def _draw_names(rng, code_idx, female):
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


def _titles(rng, female):
    n = len(female)
    tf = np.array(N.TITLES_FEMALE, dtype=object)[_pick(rng, [0.35, 0.25, 0.25, 0.05, 0.10], n)]
    tm = np.array(N.TITLES_MALE, dtype=object)[_pick(rng, [0.65, 0.28, 0.07], n)]
    return np.where(female, tf, tm)


def _phones(rng, n) -> pa.Array:
    kind = _pick(rng, [0.8, 0.1, 0.1], n)
    mob = _join(pa.scalar("07"), _digits(rng, n, 3), pa.scalar(" "), _digits(rng, n, 6))
    intl = _join(pa.scalar("+44 7"), _digits(rng, n, 3), pa.scalar(" "), _digits(rng, n, 6))
    lon = _join(pa.scalar("020 "), _digits(rng, n, 4), pa.scalar(" "), _digits(rng, n, 4))
    kind_a = pa.array(kind)
    return pc.if_else(pc.equal(kind_a, 0), mob, pc.if_else(pc.equal(kind_a, 1), intl, lon))


def _nhs_number(rng) -> str:
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


# --------------------------------------------------------------------------
# Output sinks
# --------------------------------------------------------------------------
class _Sink:
    def __init__(self, path: Path, fmt: str, headers: list[str], numeric: set[str], table: str):
        self.path, self.fmt, self.headers, self.table = path, fmt, headers, table
        self.rows = 0
        self.schema = pa.schema([(h, pa.int64() if h in numeric else pa.string()) for h in headers])
        self._buf: list[pa.Table] = []
        self._buffered = 0
        if FORMATS[fmt] == "csv":
            self._fh = path.open("wb")
            if fmt == "csv-bom":
                self._fh.write(b"\xef\xbb\xbf")
            sio = io.StringIO()
            csv.writer(sio, lineterminator="\n").writerow(headers)
            self._write_text(sio.getvalue())
        elif fmt == "parquet":
            self._pw = pq.ParquetWriter(path, self.schema, compression="zstd", use_dictionary=True)
        else:
            import xlsxwriter
            self._wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                                       "strings_to_formulas": False, "strings_to_urls": False})
            self._wb.set_properties({"title": table, "author": "edi-recruit synthetic generator",
                                     "created": datetime(2024, 1, 1, 0, 0, 0)})
            self._ws = self._wb.add_worksheet(table)
            self._ws.write_row(0, 0, headers)

    def _write_text(self, text: str) -> None:
        if self.fmt == "csv-cp1252":
            try:
                self._fh.write(text.encode("cp1252"))
            except UnicodeEncodeError as exc:  # pragma: no cover - the generator only emits cp1252 text
                raise ValueError(f"{self.table}: text not representable in cp1252: {exc}") from None
        else:
            self._fh.write(text.encode("utf-8"))

    def write(self, cols: dict[str, pa.Array]) -> None:
        if set(cols) != set(self.headers):
            raise RuntimeError(f"{self.table}: columns {sorted(set(cols) ^ set(self.headers))} mismatch")
        t = pa.table([cols[h] for h in self.headers], schema=self.schema)
        if t.num_rows == 0:
            return
        self.rows += t.num_rows
        if self.fmt == "xlsx" and self.rows > XLSX_MAX_ROWS:
            raise ValueError(f"xlsx cannot hold table {self.table!r}: more than {XLSX_MAX_ROWS:,} rows; "
                             f"use --format parquet or csv, or fewer applications")
        if FORMATS[self.fmt] == "csv":
            buf = io.BytesIO()
            pacsv.write_csv(t, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
            data = buf.getvalue()
            if self.fmt == "csv-cp1252":
                self._write_text(data.decode("utf-8"))
            else:
                self._fh.write(data)
        elif self.fmt == "parquet":
            self._buf.append(t)
            self._buffered += t.num_rows
            if self._buffered >= PARQUET_ROW_GROUP:
                self._flush(final=False)
        else:
            r0 = self.rows - t.num_rows + 1
            cols_py = [c.to_pylist() for c in t.columns]
            for i, row in enumerate(zip(*cols_py)):
                self._ws.write_row(r0 + i, 0, row)

    def _flush(self, final: bool = True) -> None:
        if self._buf:
            t = pa.concat_tables(self._buf)
            self._buf, self._buffered = [], 0
            off = 0
            while t.num_rows - off >= PARQUET_ROW_GROUP or (final and off < t.num_rows):
                self._pw.write_table(t.slice(off, PARQUET_ROW_GROUP), row_group_size=PARQUET_ROW_GROUP)
                off += PARQUET_ROW_GROUP
            if off < t.num_rows:
                self._buf, self._buffered = [t.slice(off)], t.num_rows - off

    def close(self) -> None:
        if FORMATS[self.fmt] == "csv":
            self._fh.close()
        elif self.fmt == "parquet":
            self._flush()
            self._pw.close()
        else:
            self._wb.close()


def _load_mapping(name: str) -> dict:
    with (MAPPINGS_DIR / f"{name}.yaml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def export_headers() -> dict[str, list[str]]:
    """Raw export header names of each table, from mappings/trac.yaml and mappings/esr.yaml."""
    out: dict[str, list[str]] = {}
    for src in ("trac", "esr"):
        for table, spec in _load_mapping(src)["tables"].items():
            out[table] = list(spec["columns"]) + list(spec.get("personal_data") or {})
    return out


def _header_by_canonical() -> dict[str, dict[str, str]]:
    """table -> canonical/personal field name -> raw header."""
    out: dict[str, dict[str, str]] = {}
    for src in ("trac", "esr"):
        for table, spec in _load_mapping(src)["tables"].items():
            d = {v: k for k, v in (spec.get("personal_data") or {}).items()}
            d.update({v: k for k, v in spec["columns"].items()})
            out[table] = d
    return out


# --------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------
def _terms(eff: dict, stage: str) -> dict[str, float]:
    t = {k: 0.0 for k in STAGE_TERMS[stage]}
    t.update({k: float(v) for k, v in (eff["models"][stage].get("terms") or {}).items()})
    return t


def _params(eff: dict, stage: str) -> dict[str, float]:
    return {k: float(v) for k, v in (eff["models"][stage].get("parameters") or {}).items()}


def generate_trust(out_dir, *, seed: int = 7, applications: int = 8000, effects: dict | None = None,
                   fmt: str = "csv", period_start: str = DEFAULT_PERIOD_START,
                   period_end: str = DEFAULT_PERIOD_END, programme_start: str = DEFAULT_PROGRAMME_START,
                   progress: Callable[[int, int], None] | None = None) -> GenerationSummary:
    """Write a synthetic trust (raw exports + truth files) to ``out_dir``; see docs/synthetic-data.md."""
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
    if me - ms + 1 > 240:
        raise ValueError("the period may span at most 240 months")
    eff = _full_effects(effects)
    gen = _Generator(Path(out_dir), int(seed), int(applications), eff, fmt, ms, me, mp,
                     period_start, period_end, programme_start, progress)
    return gen.run()


class _Generator:
    def __init__(self, out_dir, seed, applications, eff, fmt, ms, me, mp, ps, pe, pg, progress):
        self.out, self.seed, self.n_apps_target, self.eff, self.fmt = out_dir, seed, applications, eff, fmt
        self.T, self.t0 = me - ms + 1, mp - ms
        self.period_start, self.period_end, self.programme_start = ps, pe, pg
        self.progress = progress
        base = np.datetime64(ps, "M")
        self.month_start = (base + np.arange(self.T)).astype("datetime64[D]")
        self.month_len = ((base + np.arange(1, self.T + 1)).astype("datetime64[D]") - self.month_start).astype(int)
        self.hdr = _header_by_canonical()
        self.headers = export_headers()
        self.b = {s: _terms(eff, s) for s in STAGE_TERMS}
        self.diag: dict = {}

    # ---------------- plan: vacancies, managers, panel pool -------------
    def _plan(self):
        rng = _rng(self.seed, 0)
        mean_apps = float(VAC_BAND_SHARE @ MEAN_APPS_BY_BAND)
        nv = max(5, int(round(self.n_apps_target / mean_apps)))
        self.nv = nv
        band = _pick(rng, VAC_BAND_SHARE, nv)
        month = rng.integers(0, self.T, nv)
        day = (rng.random(nv) * self.month_len[month]).astype(int)
        advert = self.month_start[month] + day
        order = np.lexsort((rng.random(nv), advert))
        band, month, advert = band[order], month[order], advert[order]
        self.v_band, self.v_month, self.v_advert = band, month, advert
        self.v_close = advert + rng.integers(14, 29, nv)
        self.v_dir = rng.integers(0, len(DIRECTORATES), nv)
        sg_map = {"Nursing": 0, "Women and Children": 0, "Medicine": 0, "Surgery": 0, "Clinical Support": 1,
                  "Estates and Facilities": 5}
        base_sg = np.array([sg_map.get(d, 2) for d in DIRECTORATES])[self.v_dir]
        alt = rng.integers(0, len(STAFF_GROUPS), nv)
        self.v_sg = np.where(rng.random(nv) < 0.8, base_sg, alt)
        roles = [r for b in SENIOR_BANDS for r in ROLE_TITLES[b]]
        r_off = np.cumsum([0] + [len(ROLE_TITLES[b]) for b in SENIOR_BANDS])
        r_n = np.diff(r_off)
        role_idx = r_off[band] + (rng.random(nv) * r_n[band]).astype(np.int64)
        with_dir = rng.random(nv) < 0.5
        self.v_title = pc.if_else(pa.array(with_dir),
                                  _join(_take(_s(roles), role_idx), pa.scalar(" – "),
                                        _take(_s(DIRECTORATES), self.v_dir)),
                                  _take(_s(roles), role_idx))
        self.v_posts = np.where(rng.random(nv) < TWO_POSTS_RATE, 2, 1)
        self.v_post = month >= self.t0
        self.v_letter = self.v_post & (rng.random(nv) < LETTER_RATE_POST)
        self.v_diverse = rng.random(nv) < np.where(self.v_post, DIVERSE_PANEL_RATE[1], DIVERSE_PANEL_RATE[0])
        # hiring managers
        nm = max(2, int(math.ceil(nv * MANAGERS_PER_VACANCY)))
        self.nm = nm
        self.m_female = rng.random(nm) < 0.55
        self.m_code = _draw_codes(rng, rng.random(nm) < 0.25, rng.random(nm) < 0.03)
        self.m_fn, self.m_sn = _draw_names(rng, self.m_code, self.m_female)
        self.v_mgr = rng.integers(0, nm, nv)
        self.v_mgr_bme = _CODE_BME[self.m_code[self.v_mgr]]
        # panel-member pool, split into (female, bme) categories
        npool = max(16, int(nv * 0.75))
        self.p_female = rng.random(npool) < 0.55
        self.p_bme = rng.random(npool) < 0.30
        self.p_code = _draw_codes(rng, self.p_bme, np.zeros(npool, bool))
        self.p_fn, self.p_sn = _draw_names(rng, self.p_code, self.p_female)
        self.p_title = _titles(rng, self.p_female)
        cat = self.p_female.astype(int) * 2 + self.p_bme.astype(int)
        for c in range(4):  # make sure every category exists
            if not (cat == c).any():
                i = c  # overwrite person c
                self.p_female[i], self.p_bme[i] = bool(c // 2), bool(c % 2)
                self.p_code[i] = _draw_codes(rng, np.array([c % 2 == 1]), np.zeros(1, bool))[0]
                cat = self.p_female.astype(int) * 2 + self.p_bme.astype(int)
        self.p_cat_members = [np.flatnonzero(cat == c) for c in range(4)]
        # apply_pool: BME share of external applicants of known ethnicity
        b = self.b[STAGE_APPLY_POOL]
        eta = (b[TERM_INTERCEPT] + np.array([0.0] + [b[band_term(x)] for x in _SENIOR_NONREF])[band]
               + b[TERM_LETTER_TO_CEO] * self.v_letter + b[TERM_DIVERSE_PANEL] * self.v_diverse
               + b[TERM_POST_PROGRAMME] * self.v_post)
        self.v_p_bme = _sigmoid(eta)

    # ---------------- workforce and internal applications ----------------
    def _workforce(self):
        rng = _rng(self.seed, 1)
        T, t0 = self.T, self.t0
        n0 = max(50, int(round(self.n_apps_target * STAFF_PER_APPLICATION)))
        end0 = np.minimum(rng.geometric(MONTHLY_LEAVE_RATE, n0) - 1, T - 1)  # last month present
        joins = rng.poisson(n0 * MONTHLY_LEAVE_RATE, T - 1)
        j_start = np.repeat(np.arange(1, T), joins)
        j_end = np.minimum(j_start + rng.geometric(MONTHLY_LEAVE_RATE, len(j_start)) - 1, T - 1)
        start = np.concatenate([np.zeros(n0, np.int64), j_start])
        end = np.concatenate([end0, j_end])
        ns = len(start)
        band = _pick(rng, STAFF_BAND_SHARE, ns)
        bme = rng.random(ns) < STAFF_BME_BY_BAND[band]
        unknown = rng.random(ns) < STAFF_UNKNOWN_ETHNICITY_RATE
        code = _draw_codes(rng, bme & ~unknown, unknown)
        female = rng.random(ns) < STAFF_FEMALE_BY_BAND[band]
        age_grp = np.clip(band - 1, 0, 2) // 1
        age_grp = np.where(band <= 2, 0, np.where(band <= 4, 1, 2))
        age = np.zeros(ns, np.int64)
        for g in range(3):
            m = age_grp == g
            age[m] = _pick(rng, AGE_P_SENIOR[g], int(m.sum()))
        disab = _pick(rng, DISABILITY_P, ns)
        direc = rng.integers(0, len(DIRECTORATES), ns)
        fn, sn = _draw_names(rng, code, female)
        # 8-digit unique staff numbers via an affine bijection of 0..89,999,999
        staff_no = (np.arange(ns, dtype=np.int64) * 37_124_483 + 7_654_321 + self.seed * 1_000_003) % 90_000_000 + 10_000_000
        self.s = dict(start=start.astype(np.int32), end=end.astype(np.int32), band=band.astype(np.int8),
                      code=code.astype(np.int16), female=female, age=age.astype(np.int8),
                      disab=disab.astype(np.int8), direc=direc.astype(np.int8), fn=fn.astype(np.int32),
                      sn=sn.astype(np.int32), no=staff_no.astype(np.int32))
        start, end, band, code = self.s["start"], self.s["end"], self.s["band"], self.s["code"]
        del age, disab, direc, fn, sn, staff_no
        self.ns = ns
        # apply_workforce logit: one row per staff x period present in that period
        b = self.b[STAGE_APPLY_WORKFORCE]
        band_eff = np.array([0.0 if x == WORKFORCE_REFERENCE_BAND else b[band_term(x)] for x in WORKFORCE_BANDS])
        s_bme = _CODE_BME[code].astype(float)
        periods = ((0, t0 - 1, 0), (t0, T - 1, 1))
        vac_month_band = np.zeros((len(SENIOR_BANDS), T + 1), np.int64)
        np.add.at(vac_month_band, (self.v_band, self.v_month + 1), 1)
        cum = np.cumsum(vac_month_band, axis=1)                 # cum[b, m] = #vac band b with month < m
        order_bm = np.lexsort((np.arange(self.nv), self.v_month, self.v_band))
        band_base = np.concatenate([[0], np.cumsum(cum[:, -1])[:-1]])
        int_staff, int_vac, leak, wf_rows = [], [], 0, 0
        for p0, p1, post in periods:
            present = (start <= p1) & (end >= p0)
            idx = np.flatnonzero(present)
            wf_rows += len(idx)
            eta = (b[TERM_INTERCEPT] + b[TERM_BME] * s_bme[idx] + b[TERM_FEMALE] * female[idx]
                   + band_eff[band[idx]] + (b[TERM_POST_PROGRAMME] + b[TERM_BME_X_POST] * s_bme[idx]) * post)
            applied = rng.random(len(idx)) < _sigmoid(eta)
            who = idx[applied]
            n_vac_p = int(((self.v_month >= p0) & (self.v_month <= p1)).sum())
            target = INTERNAL_SHARE * self.n_apps_target * n_vac_p / self.nv
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
                vb = _pick_rows(rng, W)
                del W
                cnt = counts[np.arange(len(rep)), vb]
                pos = band_base[vb] + cum[vb, w0] + (rng.random(len(rep)) * np.maximum(cnt, 1)).astype(np.int64)
                vac = order_bm[np.minimum(pos, self.nv - 1)]
                ok &= cnt > 0
                np.logical_or.at(placed, grp_all[r0:r0 + WF_BLOCK], ok)
                int_staff.append(rep[ok].astype(np.int64))
                int_vac.append(vac[ok].astype(np.int64))
            leak += int((~placed).sum())
        st = np.concatenate(int_staff)
        vc = np.concatenate(int_vac)
        key = np.unique(vc.astype(np.int64) * ns + st)          # drop duplicate (staff, vacancy) pairs
        self.i_vac, self.i_staff = key // ns, key % ns          # sorted by vacancy
        self.v_int_n = np.bincount(self.i_vac, minlength=self.nv)
        self.diag["apply_workforce_rows"] = wf_rows
        self.diag["apply_workforce_unplaceable"] = leak
        # external applicants: the rest of the requested total, allocated by band and vacancy popularity
        rng2 = _rng(self.seed, 2)
        n_ext = max(0, self.n_apps_target - len(key))
        w = MEAN_APPS_BY_BAND[self.v_band] * rng2.gamma(4.0, 0.25, self.nv)
        self.v_ext_n = rng2.multinomial(n_ext, w / w.sum())
        self.v_n = self.v_int_n + self.v_ext_n
        self.v_app_off = np.concatenate([[0], np.cumsum(self.v_n)])
        self.v_ext_off = np.concatenate([[0], np.cumsum(self.v_ext_n)])
        self.n_apps = int(self.v_app_off[-1])
        self.wf_rows_total = int(sum(int(((start <= m) & (end >= m)).sum()) for m in range(T)))

    # ---------------- sinks ----------------
    def _open(self):
        ext = FORMATS[self.fmt]
        self.out.mkdir(parents=True, exist_ok=True)
        numeric = {self.hdr["vacancies"]["posts"], self.hdr["interview_scores"]["score"],
                   self.hdr["interview_scores"]["max_score"]}
        self.sinks = {t: _Sink(self.out / f"{t}.{ext}", self.fmt, self.headers[t], numeric, t) for t in TRUST_TABLES}
        self._pii_fh = (self.out / "truth_pii.csv").open("w", encoding="utf-8", newline="")
        self._doc_fh = (self.out / "truth_documents.csv").open("w", encoding="utf-8", newline="")
        self._pii_w = csv.writer(self._pii_fh, lineterminator="\n")
        self._doc_w = csv.writer(self._doc_fh, lineterminator="\n")
        self._pii_w.writerow(["document_type", "document_ref", "pii_type", "value"])
        self._doc_w.writerow(["document_type", "document_ref", "dominant_theme", "n_sentences",
                              "n_positive_sentences"])

    def _write(self, table: str, canon: dict[str, pa.Array]) -> None:
        h = self.hdr[table]
        self.sinks[table].write({h[k]: v for k, v in canon.items()})

    # ---------------- main ----------------
    def run(self) -> GenerationSummary:
        self._plan()
        self._workforce()
        if self.fmt == "xlsx":
            est = {"applications": self.n_apps, "workforce": self.wf_rows_total,
                   "interview_scores": int(self.n_apps * 0.3 * 3 * 4.5)}
            big = {t: n for t, n in est.items() if n > XLSX_MAX_ROWS}
            if big:
                t, n = next(iter(big.items()))
                raise ValueError(f"xlsx cannot hold table {t!r} (~{n:,} rows > {XLSX_MAX_ROWS:,}); "
                                 f"use --format parquet or csv, or fewer applications")
        self._open()
        n_chunks = (self.nv + VAC_CHUNK - 1) // VAC_CHUNK
        total = n_chunks + 2
        self.pii_rows: list[tuple] = []
        self.doc_rows: list[tuple] = []
        self.month_num = np.zeros(self.T)
        self.month_den = np.zeros(self.T)
        self.acc = {k: 0.0 for k in ("apps", "known", "bme", "shortlisted", "eligible_sl", "interviewed",
                                     "offered", "declined", "appointed", "filled", "internal")}
        self.acc_band = np.zeros((len(SENIOR_BANDS), 2))
        self.int_per_vac: list[np.ndarray] = []
        try:
            self._write_static()
            if self.progress:
                self.progress(1, total)
            for c in range(n_chunks):
                self._chunk(c, c * VAC_CHUNK, min(self.nv, (c + 1) * VAC_CHUNK))
                self._pii_w.writerows(self.pii_rows)
                self._doc_w.writerows(self.doc_rows)
                self.pii_rows, self.doc_rows = [], []
                if self.progress:
                    self.progress(c + 2, total)
            self._write_workforce()
        finally:
            for s in getattr(self, "sinks", {}).values():
                s.close()
            for fh in (getattr(self, "_pii_fh", None), getattr(self, "_doc_fh", None)):
                if fh is not None:
                    fh.close()
        if self.progress:
            self.progress(total, total)
        self._write_truth()
        ext = FORMATS[self.fmt]
        files = {t: self.out / f"{t}.{ext}" for t in TRUST_TABLES}
        return GenerationSummary(out_dir=self.out, files=files,
                                 row_counts={t: self.sinks[t].rows for t in TRUST_TABLES}, seed=self.seed)

    def _write_static(self):
        nm = self.nm
        self._write("hiring_managers", {
            "manager_id": _ref("MGR-", np.arange(1, nm + 1), 5),
            "ethnic_category": _take(_CODE_ARR, self.m_code),
            "sex": _take(_s(SEXES), np.where(self.m_female, 0, 1)),
            "forename": _take(_FN_ARR, self.m_fn), "surname": _take(_SN_ARR, self.m_sn),
            "email": _join(_take(_FN_ASCII_ARR, self.m_fn), pa.scalar("."), _take(_SN_ASCII_ARR, self.m_sn),
                           pa.scalar("@nhs.net")),
        })

    def _vac_ref(self, idx):
        return _ref("VAC-", np.asarray(idx) + 1, max(6, len(str(self.nv))))

    # ---------------- one chunk of vacancies ----------------
    def _chunk(self, c: int, v0: int, v1: int):
        rng = _rng(self.seed, 1000 + c)
        nv = v1 - v0
        V = np.arange(v0, v1)
        band, post, letter, diverse = self.v_band[V], self.v_post[V], self.v_letter[V], self.v_diverse[V]
        # ---- panels
        size = 2 + _pick(rng, [0.30, 0.45, 0.25], nv)
        pv = np.repeat(np.arange(nv), size)
        slot = _segment_positions(size)
        fem = rng.random(len(pv)) < 0.55
        bme = rng.random(len(pv)) < 0.30
        has_f = np.bincount(pv, fem, nv) > 0
        has_b = np.bincount(pv, bme, nv) > 0
        is_div = has_f & has_b
        fix_div = diverse & ~is_div              # force slot 1 to a BME woman
        m = fix_div[pv] & (slot == 1)
        fem[m], bme[m] = True, True
        undo = ~diverse & is_div                 # make all-male or all-White
        allmale = rng.random(nv) < 0.5
        m2 = undo[pv]
        fem[m2 & allmale[pv]] = False
        bme[m2 & ~allmale[pv]] = False
        cat = fem.astype(int) * 2 + bme.astype(int)
        person = np.zeros(len(pv), np.int64)
        u = rng.random(len(pv))
        for k in range(4):
            mk = cat == k
            pool = self.p_cat_members[k]
            person[mk] = pool[(u[mk] * len(pool)).astype(np.int64)]
        # the same person cannot sit twice on one panel: resample duplicates from the whole pool
        for _ in range(5):
            key = pv * (len(self.p_female) + 1) + person
            srt = np.argsort(key, kind="stable")
            dup = np.zeros(len(pv), bool)
            dup[srt[1:][key[srt][1:] == key[srt][:-1]]] = True
            if not dup.any():
                break
            for k in range(4):
                mk = dup & (cat == k)
                pool = self.p_cat_members[k]
                person[mk] = pool[(rng.random(int(mk.sum())) * len(pool)).astype(np.int64)]
        role = np.where(slot == 0, 0, 1)
        last4 = (size[pv] == 4) & (slot == 3)
        role = np.where(last4 & (rng.random(len(pv)) < 0.5), np.where(rng.random(len(pv)) < 0.5, 2, 3), role)
        p_off = np.concatenate([[0], np.cumsum(size)])
        sev = rng.normal(0, self._ip("member_sd"), len(pv))
        p_bme_flag = _CODE_BME[self.p_code[person]]
        # ---- applications (internal rows from the workforce, external rows new)
        lo, hi = np.searchsorted(self.i_vac, [v0, v1])
        i_vac = self.i_vac[lo:hi] - v0
        i_staff = self.i_staff[lo:hi]
        n_ext = self.v_ext_n[V]
        e_vac = np.repeat(np.arange(nv), n_ext)
        ne, ni = len(e_vac), len(i_vac)
        e_cand = self.ns + self.v_ext_off[v0] + np.arange(ne) + 1
        # external attributes
        e_female = rng.random(ne) < EXT_FEMALE_BY_BAND[band[e_vac]]
        e_unknown = rng.random(ne) < UNKNOWN_ETHNICITY_RATE
        e_bme = (rng.random(ne) < self.v_p_bme[V][e_vac]) & ~e_unknown
        e_code = _draw_codes(rng, e_bme, e_unknown)
        ag = np.where(band[e_vac] <= 1, 0, np.where(band[e_vac] <= 3, 1, 2))
        e_age = np.zeros(ne, np.int64)
        for g in range(3):
            mg = ag == g
            e_age[mg] = _pick(rng, AGE_P_SENIOR[g], int(mg.sum()))
        e_dis = _pick(rng, DISABILITY_P, ne)
        e_fn, e_sn = _draw_names(rng, e_code, e_female)
        adv, clo = self.v_advert[V], self.v_close[V]
        e_day = adv[e_vac] + (rng.random(ne) * ((clo - adv).astype(int)[e_vac] + 1)).astype(int)
        # internal attributes (from the staff record)
        s = self.s
        i_month_end = self.month_start[self.v_month[V][i_vac]] + self.month_len[self.v_month[V][i_vac]] - 1
        i_last = np.minimum(clo[i_vac], i_month_end)
        i_day = adv[i_vac] + (rng.random(ni) * ((i_last - adv[i_vac]).astype(int) + 1)).astype(int)
        # combine and order by vacancy, applied date
        vac = np.concatenate([i_vac, e_vac])
        internal = np.concatenate([np.ones(ni, bool), np.zeros(ne, bool)])
        staff = np.concatenate([i_staff, np.full(ne, -1)])
        cand = np.concatenate([i_staff + 1, e_cand])
        female = np.concatenate([s["female"][i_staff], e_female])
        code = np.concatenate([s["code"][i_staff], e_code])
        age = np.concatenate([s["age"][i_staff], e_age])
        dis = np.concatenate([s["disab"][i_staff], e_dis])
        fn = np.concatenate([s["fn"][i_staff], e_fn])
        sn = np.concatenate([s["sn"][i_staff], e_sn])
        day = np.concatenate([i_day, e_day])
        cur_band = np.concatenate([s["band"][i_staff], np.full(ne, -1)])
        o = np.lexsort((rng.random(len(vac)), day, vac))
        vac, internal, staff, cand, female, code, age, dis, fn, sn, day, cur_band = (
            a[o] for a in (vac, internal, staff, cand, female, code, age, dis, fn, sn, day, cur_band))
        n = len(vac)
        assert np.array_equal(np.bincount(vac, minlength=nv), self.v_n[V])
        bme_i = _CODE_BME[code].astype(float)
        known = _CODE_KNOWN[code]
        disab_i = (dis == 0).astype(float)
        postv, letterv, divv = post[vac].astype(float), letter[vac].astype(float), diverse[vac].astype(float)
        # ---- shortlist
        w_app = rng.random(n) < WITHDRAW_APPLICATION
        b = self.b[STAGE_SHORTLIST]
        eta = (b[TERM_INTERCEPT] + b[TERM_BME] * bme_i + b[TERM_FEMALE] * female + b[TERM_INTERNAL] * internal
               + b[TERM_DISABILITY] * disab_i + b[TERM_DIVERSE_PANEL] * divv + b[TERM_POST_PROGRAMME] * postv
               + b[TERM_BME_X_PANEL] * bme_i * divv + b[TERM_BME_X_POST] * bme_i * postv
               + b[TERM_MANAGER_BME] * self.v_mgr_bme[V][vac])
        shortlisted = ~w_app & (rng.random(n) < _sigmoid(eta))
        w_sl = shortlisted & (rng.random(n) < WITHDRAW_SHORTLIST)
        interviewed = shortlisted & ~w_sl
        # ---- offer: conditional logit via Gumbel-max among interviewed, not withdrawn at interview
        b = self.b[STAGE_OFFER]
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
        offered = eligible & (rank < self.v_posts[V][vac])
        declined = offered & (rng.random(n) < OFFER_DECLINE)
        appointed = offered & ~declined
        n_appointed = np.bincount(vac, appointed, nv)
        filled = n_appointed > 0
        received = letter & filled & (rng.random(nv) < LETTER_COMPLIANCE)
        wstage = np.full(n, -1)
        wstage[w_app] = WITHDRAWN_STAGES.index("application")
        wstage[w_sl] = WITHDRAWN_STAGES.index("shortlist")
        wstage[w_int] = WITHDRAWN_STAGES.index("interview")
        # programme impact: expected BME share of appointees (softmax over the choice set)
        ex = np.where(eligible, np.exp(xb), 0.0)
        den = np.bincount(vac, ex, nv)
        pk = np.bincount(vac, ex * known, nv) / np.where(den > 0, den, 1)
        pb = np.bincount(vac, ex * (bme_i > 0), nv) / np.where(den > 0, den, 1)
        np.add.at(self.month_num, self.v_month[V], n_appointed * pb)
        np.add.at(self.month_den, self.v_month[V], n_appointed * pk)
        # diagnostics
        a = self.acc
        a["apps"] += n
        a["known"] += known.sum()
        a["bme"] += (bme_i > 0).sum()
        a["shortlisted"] += shortlisted.sum()
        a["eligible_sl"] += (~w_app).sum()
        a["interviewed"] += interviewed.sum()
        a["offered"] += offered.sum()
        a["declined"] += declined.sum()
        a["appointed"] += appointed.sum()
        a["filled"] += filled.sum()
        a["internal"] += internal.sum()
        np.add.at(self.acc_band, (band[vac], 0), known)
        np.add.at(self.acc_band, (band[vac], 1), bme_i > 0)
        self.int_per_vac.append(np.bincount(vac, interviewed, nv))
        # ---- write vacancies, panel, applications
        vref = self._vac_ref(V)
        self._write("vacancies", {
            "vacancy_id": vref, "job_title": self.v_title.slice(v0, nv),
            "band": _take(_s([f"Band {x}" if x != "VSM" else "VSM" for x in SENIOR_BANDS]), band),
            "directorate": _take(_s(DIRECTORATES), self.v_dir[V]),
            "staff_group": _take(_s(STAFF_GROUPS), self.v_sg[V]),
            "advert_date": _dates(adv), "closing_date": _dates(clo),
            "hiring_manager_id": _ref("MGR-", self.v_mgr[V] + 1, 5),
            "letter_to_ceo": _yn(letter), "letter_received": _yn(received),
            "posts": pa.array(self.v_posts[V].astype(np.int64)),
        })
        pm_ref = _ref("PNL-", person + 1, 5)
        self._write("panel_members", {
            "vacancy_id": _take(vref, pv), "member_id": pm_ref,
            "ethnic_category": _take(_CODE_ARR, self.p_code[person]),
            "sex": _take(_s(SEXES), np.where(self.p_female[person], 0, 1)),
            "role": _take(_s(PANEL_ROLES), role),
            "forename": _take(_FN_ARR, self.p_fn[person]), "surname": _take(_SN_ARR, self.p_sn[person]),
        })
        app_no = self.v_app_off[v0] + np.arange(n) + 1
        aref = _ref("APP-", app_no, max(7, len(str(self.n_apps))))
        cband_labels = _s([f"Band {x}" if x != "VSM" else "VSM" for x in WORKFORCE_BANDS])
        cur = pc.if_else(pa.array(cur_band >= 0), _take(cband_labels, np.maximum(cur_band, 0)),
                         pa.nulls(n, pa.string()))
        staff_no = pc.if_else(pa.array(internal), pa.array(self.s["no"][np.maximum(staff, 0)]).cast(pa.string()),
                              pa.nulls(n, pa.string()))
        fn_a, sn_a = _take(_FN_ARR, fn), _take(_SN_ARR, sn)
        suffix = pc.if_else(pa.array(rng.random(n) < 0.4), pa.array(rng.integers(1, 100, n)).cast(pa.string()),
                            pa.scalar(""))
        dom_ext = _take(_s(N.EMAIL_DOMAINS_EXTERNAL), _pick(rng, [.3, .2, .15, .1, .1, .1, .05], n))
        dom = pc.if_else(pa.array(internal), pa.scalar("nhs.net"), dom_ext)
        email = _join(_take(_FN_ASCII_ARR, fn), pa.scalar("."), _take(_SN_ASCII_ARR, sn), suffix, pa.scalar("@"), dom)
        phone = _phones(rng, n)
        wst = pc.if_else(pa.array(wstage >= 0), _take(_s(WITHDRAWN_STAGES), np.maximum(wstage, 0)),
                         pa.nulls(n, pa.string()))
        self._write("applications", {
            "application_id": aref, "vacancy_id": _take(vref, vac),
            "candidate_id": _ref("CAN-", cand, 8), "staff_id": staff_no, "applied_date": _dates(day),
            "ethnic_category": _take(_CODE_ARR, code), "sex": _take(_s(SEXES), np.where(female, 0, 1)),
            "age_band": _take(_s(AGE_BANDS), age), "disability": _take(_s(DISABILITY_VALUES), dis),
            "internal": _yn(internal), "current_band": cur, "shortlisted": _yn(shortlisted),
            "interviewed": _yn(interviewed), "offered": _yn(offered), "offer_declined": _yn(declined),
            "appointed": _yn(appointed), "withdrawn_stage": wst,
            "forename": fn_a, "surname": sn_a, "email": email, "phone": phone,
        })
        # ---- interview scores
        I = np.flatnonzero(interviewed)
        bi = self.b[STAGE_INTERVIEW_SCORE]
        re_v = rng.normal(0, self._ip("vacancy_sd"), nv)
        g_std = (g - GUMBEL_MEAN) / GUMBEL_SD
        p_i = (bi[TERM_INTERCEPT] + bi[TERM_BME] * bme_i + bi[TERM_FEMALE] * female + bi[TERM_INTERNAL] * internal
               + re_v[vac] + self._ip("kappa") * g_std)
        scale10 = rng.random(nv) < 0.4
        smax = np.where(scale10, 10, 5)
        smin = np.where(scale10, 0, 1)
        ncrit = rng.integers(3, 7, nv)
        crit_perm = np.argsort(rng.random((nv, len(CRITERIA))), axis=1)
        nmem = size[vac[I]]
        sh_app = np.repeat(I, nmem)
        sh_mem = p_off[vac[sh_app]] + _segment_positions(nmem)
        keep = rng.random(len(sh_app)) >= self._ip("missing_sheet_rate")
        sh_app, sh_mem = sh_app[keep], sh_mem[keep]
        nc = ncrit[vac[sh_app]]
        r_app = np.repeat(sh_app, nc)
        r_mem = np.repeat(sh_mem, nc)
        r_crit = crit_perm[vac[r_app], _segment_positions(nc)]
        cand_known = known[r_app]
        match = cand_known & (p_bme_flag[r_mem] == (bme_i[r_app] > 0))
        p = p_i[r_app] + sev[r_mem] + bi[TERM_ETHNICITY_MATCH] * match
        vr = vac[r_app]
        raw = p * smax[vr] + rng.normal(0, 1, len(r_app)) * self._ip("noise_sd") * smax[vr]
        score = np.clip(np.rint(raw), smin[vr], smax[vr]).astype(np.int64)
        self._write("interview_scores", {
            "application_id": _take(aref, r_app), "member_id": _take(pm_ref, r_mem),
            "criterion": _take(_s(CRITERIA), r_crit), "score": pa.array(score),
            "max_score": pa.array(smax[vr].astype(np.int64)),
        })
        # ---- free text
        self._assessments(rng, c, I, vac, nv, size, p_off, person, bme_i, offered, internal, staff, fn, sn, female,
                          clo, aref)
        self._letters(rng, V, received, vac, appointed, person, role, p_off, size, fn, sn, clo, vref, band,
                      shortlisted, bme_i)

    def _ip(self, name):
        return _params(self.eff, STAGE_INTERVIEW_SCORE)[name]

    # ---------------- text ----------------
    def _sentences(self, rng, n_docs, p_pos, dom_theme, nsent):
        """Vectorised sentence plan: theme, polarity and body index of every sentence of every document."""
        total = int(nsent.sum())
        doc = np.repeat(np.arange(n_docs), nsent)
        pos_in = _segment_positions(nsent)
        ndom = np.rint(0.65 * nsent).astype(int)
        is_dom = pos_in < ndom[doc]
        other = (dom_theme[doc] + 1 + (rng.random(total) * (len(THEMES) - 1)).astype(int)) % len(THEMES)
        theme = np.where(is_dom, dom_theme[doc], other)
        shuffle = np.lexsort((rng.random(total), doc))          # mix dominant / other sentences
        theme = theme[shuffle]
        positive = rng.random(total) < p_pos[doc]
        u_body = rng.random(total)
        u_open = rng.random(total)
        u_subj = rng.random(total)
        return doc, theme, positive, u_body, u_open, u_subj

    @staticmethod
    def _body(theme, positive, u):  # kept for _letters
        lst = PB.BODIES[THEMES[theme]]["pos" if positive else "neg"]
        return lst[int(u * len(lst))]

    def _assessments(self, rng, c, I, vac, nv, size, p_off, person, bme_i, offered, internal, staff, fn, sn,
                     female, clo, aref):
        nd = len(I)
        if nd == 0:
            return
        author = p_off[vac[I]] + (rng.random(nd) * size[vac[I]]).astype(np.int64)
        written = clo[vac[I]] + rng.integers(1, 15, nd)
        bt = self.b[STAGE_ASSESSMENT_TONE]
        p_pos = _sigmoid(bt[TERM_INTERCEPT] + bt[TERM_BME] * bme_i[I] + bt[TERM_OFFERED] * offered[I])
        btop = self.b[STAGE_ASSESSMENT_TOPICS]
        logits = np.outer(bme_i[I], [btop[topic_term(t)] for t in THEMES])
        P = np.exp(logits - logits.max(axis=1, keepdims=True))
        dom = _pick_rows(rng, P)
        nsent = rng.integers(4, 10, nd)
        doc, theme, positive, u_body, u_open, u_subj = self._sentences(rng, nd, p_pos, dom, nsent)
        d_email = rng.random(nd) < 0.10
        d_phone = rng.random(nd) < 0.08
        d_staff = internal[I] & (rng.random(nd) < 0.25)
        d_nhs = rng.random(nd) < 0.01
        d_author = rng.random(nd) < 0.35
        d_first_full = rng.random(nd) < 0.7
        phones = _phones(rng, nd).to_pylist()
        nhs = [_nhs_number(rng) if f else "" for f in d_nhs]
        email_suffix = rng.integers(1, 100, nd)
        texts = []
        seg = np.concatenate([[0], np.cumsum(nsent)]).tolist()
        FNL, SNL = _FN, _SN
        # per-sentence pieces, vectorised; the loop below only concatenates strings
        bodies = _body_list(theme, positive, u_body)
        opener_i = (u_open * len(PB.OPENERS)).astype(np.int64).tolist()
        auth_i = (u_open * len(PB.AUTHOR_OPENERS)).astype(np.int64).tolist()
        generic = (u_subj * 7).astype(np.int64) % 2
        subj_kind = np.where(u_subj < 0.35, 0, np.where(u_subj < 0.5, 1, 2 + generic)).tolist()
        positive_l = positive.tolist()
        fn_l, sn_l = fn[I].tolist(), sn[I].tolist()
        fem_l, int_l = female[I].tolist(), internal[I].tolist()
        staff_no_l = self.s["no"][np.maximum(staff[I], 0)].tolist()
        pers_l = person[author].tolist()
        ptitle, pfn, psn = self.p_title, self.p_fn, self.p_sn
        refs = _take(aref, I).to_pylist()
        dom_l, nsent_l = dom.tolist(), nsent.tolist()
        d_email, d_phone, d_staff, d_nhs = d_email.tolist(), d_phone.tolist(), d_staff.tolist(), d_nhs.tolist()
        d_author, d_first_full, email_suffix = d_author.tolist(), d_first_full.tolist(), email_suffix.tolist()
        OPEN, AOPEN, GEN = PB.OPENERS, PB.AUTHOR_OPENERS, PB.SUBJECTS_GENERIC
        pii_out, doc_out = self.pii_rows, self.doc_rows
        for d in range(nd):
            first, last = FNL[fn_l[d]], SNL[sn_l[d]]
            title = "Ms" if fem_l[d] else "Mr"
            pers = pers_l[d]
            a_title, a_fn, a_sn = ptitle[pers], FNL[pfn[pers]], SNL[psn[pers]]
            a_name = f"{a_title} {a_sn}" if (d % 2 == 0) else f"{a_title} {a_fn} {a_sn}"
            a_val = a_sn if (d % 2 == 0) else f"{a_fn} {a_sn}"
            full = d_first_full[d]
            pii = [("name", f"{first} {last}")] if full else [("name", first)]
            sents = []
            n_pos = 0
            k0 = seg[d]
            for k in range(k0, seg[d + 1]):
                if k == k0:
                    subj = f"{first} {last}" if full else first
                    if d_staff[d]:
                        subj += f" (staff number {staff_no_l[d]})"
                else:
                    sk = subj_kind[k]
                    if sk == 0:
                        subj = first
                        pii.append(("name", first))
                    elif sk == 1:
                        subj = f"{title} {last}"
                        pii.append(("name", last))
                    else:
                        subj = GEN[sk - 2]
                if k == k0 + 1 and d_author[d]:
                    opener = AOPEN[auth_i[k]].format(author=a_name)
                    pii.append(("name", a_val))
                else:
                    opener = OPEN[opener_i[k]]
                if not opener:
                    subj = subj[0].upper() + subj[1:]
                sents.append(f"{opener}{subj} {bodies[k]}")
                n_pos += positive_l[k]
            text = " ".join(sents)
            admin = []
            if d_email[d]:
                em = f"{N.ascii_fold(first)}.{N.ascii_fold(last)}{email_suffix[d] if not int_l[d] else ''}@" \
                     f"{'nhs.net' if int_l[d] else 'gmail.com'}"
                admin.append(f"e-mail {em}")
                pii.append(("email", em))
            if d_phone[d]:
                admin.append(f"tel. {phones[d]}")
                pii.append(("phone", phones[d]))
            if admin:
                text += "\n\nCandidate contact details on file: " + "; ".join(admin)
            if d_nhs[d]:
                text += f"\n\nNote: an occupational health form quoting NHS number {nhs[d]} was attached in error."
                pii.append(("nhs_number", nhs[d]))
            if d_staff[d]:
                pii.append(("staff_number", str(staff_no_l[d])))
            texts.append(text)
            ref = refs[d]
            for t, v in dict.fromkeys(pii):
                pii_out.append(("assessments", ref, t, v))
            doc_out.append(("assessments", ref, THEMES[dom_l[d]], nsent_l[d], n_pos))
        self._write("assessments", {
            "application_id": _take(aref, I), "author_id": _ref("PNL-", person[author] + 1, 5),
            "written_date": _dates(written), "text": pa.array(texts, pa.string()),
        })

    def _letters(self, rng, V, received, vac, appointed, person, role, p_off, size, fn, sn, clo, vref, band,
                 shortlisted, bme_i):
        L = np.flatnonzero(received)
        if len(L) == 0:
            return
        nd = len(L)
        # first appointee of each vacancy
        ap = np.flatnonzero(appointed)
        first_ap = np.full(len(V), -1)
        first_ap[vac[ap[::-1]]] = ap[::-1]
        written = clo[L] + rng.integers(21, 46, nd)
        dom = (rng.random(nd) * len(THEMES)).astype(int)
        nsent = rng.integers(4, 8, nd)
        p_pos = np.full(nd, 0.9)
        doc, theme, positive, u_body, u_open, u_subj = self._sentences(rng, nd, p_pos, dom, nsent)
        u = rng.random((nd, 6))
        phones = _phones(rng, nd).to_pylist()
        n_sl = np.bincount(vac, shortlisted, len(V))
        n_sl_b = np.bincount(vac, shortlisted & (bme_i > 0), len(V))
        seg = np.concatenate([[0], np.cumsum(nsent)])
        texts = []
        for d in range(nd):
            v = L[d]
            i = first_ap[v]
            first, last = _FN[fn[i]], _SN[sn[i]]
            chair = person[p_off[v]]
            c_title, c_fn, c_sn = self.p_title[chair], _FN[self.p_fn[chair]], _SN[self.p_sn[chair]]
            ref = vref[v].as_py()
            job = self.v_title[V[v]].as_py()
            pii = [("name", f"{first} {last}")]
            lines = [PB.LETTER_OPENINGS[int(u[d, 0] * len(PB.LETTER_OPENINGS))], ""]
            intro = PB.LETTER_INTRO[int(u[d, 1] * len(PB.LETTER_INTRO))].format(job=job, vac=ref)
            intro += f" The shortlist of {int(n_sl[v])} included {int(n_sl_b[v])} candidate(s) from BME backgrounds."
            sents = []
            n_pos = 0
            for k in range(seg[d], seg[d + 1]):
                j = k - seg[d]
                if j == 0:
                    subj = f"{first} {last}"
                else:
                    us = u_subj[k]
                    subj = first if us < 0.4 else "the successful candidate"
                    if us < 0.4:
                        pii.append(("name", first))
                opener = PB.OPENERS[int(u_open[k] * len(PB.OPENERS))]
                if not opener:
                    subj = subj[0].upper() + subj[1:]
                sents.append(f"{opener}{subj} {self._body(theme[k], positive[k], u_body[k])}")
                n_pos += bool(positive[k])
            lines += [intro, "", " ".join(sents), "", PB.LETTER_CLOSINGS[int(u[d, 2] * len(PB.LETTER_CLOSINGS))],
                      f"{c_title} {c_fn} {c_sn}", "Chair of the interview panel"]
            pii.append(("name", f"{c_fn} {c_sn}"))
            if u[d, 3] < 0.3:
                em = f"{N.ascii_fold(c_fn)}.{N.ascii_fold(c_sn)}@nhs.net"
                lines.append(em)
                pii.append(("email", em))
            if u[d, 4] < 0.2:
                lines.append(f"Direct line: {phones[d]}")
                pii.append(("phone", phones[d]))
            texts.append("\n".join(lines))
            seen = set()
            for t, val in pii:
                if (t, val) not in seen:
                    seen.add((t, val))
                    self.pii_rows.append(("ceo_letters", ref, t, val))
            self.doc_rows.append(("ceo_letters", ref, THEMES[dom[d]], int(nsent[d]), n_pos))
        self._write("ceo_letters", {
            "vacancy_id": _take(vref, L), "written_date": _dates(written), "text": pa.array(texts, pa.string()),
        })

    # ---------------- workforce snapshots ----------------
    def _write_workforce(self):
        s = self.s
        no = pa.array(s["no"]).cast(pa.string())
        bl = _take(_s([f"Band {x}" if x != "VSM" else "VSM" for x in WORKFORCE_BANDS]), s["band"])
        cd = _take(_CODE_ARR, s["code"])
        sx = _take(_s(SEXES), np.where(s["female"], 0, 1))
        dr = _take(_s(DIRECTORATES), s["direc"])
        months = [str(m)[:7] for m in self.month_start]
        for m in range(self.T):
            idx = pa.array(np.flatnonzero((s["start"] <= m) & (s["end"] >= m)))
            self._write("workforce", {
                "snapshot_month": pa.array([months[m]] * len(idx), pa.string()), "staff_id": no.take(idx),
                "band": bl.take(idx), "ethnic_category": cd.take(idx), "sex": sx.take(idx),
                "directorate": dr.take(idx),
            })

    # ---------------- truth ----------------
    def _programme_impact(self):
        ok = self.month_den > 0
        y = np.where(ok, self.month_num / np.where(ok, self.month_den, 1), np.nan)
        t = np.arange(self.T, dtype=float)
        postm = (t >= self.t0).astype(float)
        X = np.column_stack([np.ones(self.T), t, postm, (t - self.t0) * postm])[ok]
        coef = np.linalg.lstsq(X, y[ok], rcond=None)[0] if ok.sum() >= 4 else np.full(4, np.nan)
        return {TERM_LEVEL_CHANGE: float(coef[2]), TERM_SLOPE_CHANGE: float(coef[3])}, y

    def _write_truth(self):
        impact, y = self._programme_impact()
        models = {}
        for stage in STAGE_TERMS:
            spec = self.eff["models"][stage]
            entry = {"model": STAGE_MODELS[stage], "terms": dict(self.b[stage]), "notes": spec.get("notes", "")}
            if spec.get("parameters"):
                entry["parameters"] = _params(self.eff, stage)
            models[stage] = entry
        models[STAGE_PROGRAMME_IMPACT]["terms"] = impact
        models[STAGE_PROGRAMME_IMPACT]["expected_monthly_bme_share"] = {
            str(m)[:7]: (None if not np.isfinite(v) else round(float(v), 6)) for m, v in zip(self.month_start, y)}
        models[STAGE_APPLY_WORKFORCE]["reference_band"] = WORKFORCE_REFERENCE_BAND
        models[STAGE_APPLY_POOL]["reference_band"] = REFERENCE_BAND
        a = self.acc
        ipv = np.concatenate(self.int_per_vac) if self.int_per_vac else np.zeros(0)
        realised = {
            "vacancies": self.nv, "applications": int(a["apps"]), "staff": self.ns,
            "internal_share": a["internal"] / max(1, a["apps"]),
            "bme_share_known": a["bme"] / max(1, a["known"]),
            "bme_share_known_by_band": {b: float(self.acc_band[i, 1] / max(1, self.acc_band[i, 0]))
                                        for i, b in enumerate(SENIOR_BANDS)},
            "shortlist_rate": a["shortlisted"] / max(1, a["eligible_sl"]),
            "median_interviewed_per_vacancy": float(np.median(ipv)) if len(ipv) else 0.0,
            "offers": int(a["offered"]), "declined": int(a["declined"]), "appointed": int(a["appointed"]),
            "filled_vacancies": int(a["filled"]), **self.diag,
        }
        truth = {"seed": self.seed, "programme_start": self.programme_start, "period_start": self.period_start,
                 "period_end": self.period_end, "applications_requested": self.n_apps_target, "format": self.fmt,
                 "models": models, "realised": {k: (float(v) if isinstance(v, (np.floating, float)) else v)
                                                for k, v in realised.items()}}
        with (self.out / "truth.json").open("w", encoding="utf-8") as fh:
            json.dump(truth, fh, indent=2, sort_keys=False, default=float)
            fh.write("\n")
