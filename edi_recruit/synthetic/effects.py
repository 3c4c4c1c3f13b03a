"""Planted effects: the stage/term registry, loading and validating effects YAML, and typed views of it.

Reads effects/default.yaml (and a user's YAML, deep-merged over it by term
name).  Returns plain dicts from :func:`load_effects` (the structure that
truth.json repeats) and a frozen :class:`PlantedEffects` view that the
generator's stage modules read their coefficients from.  Implements the
"Data-generating model by stage" contract of docs/synthetic-data.md: which
terms each stage accepts, and which model family it is.  It never draws a
random number and never writes a file.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import yaml

from tasks.core.paths import EFFECTS_DIR
from tasks.core.vocabulary import (
    MODEL_BINOMIAL_GLM,
    MODEL_CONDITIONAL_LOGIT,
    MODEL_LOGIT,
    MODEL_MIXED_LINEAR,
    MODEL_MULTINOMIAL_LOGIT,
    MODEL_SEGMENTED_LINEAR,
    REFERENCE_BAND,
    SENIOR_BANDS,
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
    TERM_MANAGER_BME,
    TERM_OFFERED,
    TERM_POST_PROGRAMME,
    THEMES,
    WORKFORCE_BANDS,
    WORKFORCE_REFERENCE_BAND,
    band_term,
    topic_term,
)

DEFAULT_EFFECTS_PATH = EFFECTS_DIR / "default.yaml"


WF_BANDS_NONREF = tuple(b for b in WORKFORCE_BANDS if b != WORKFORCE_REFERENCE_BAND)


SENIOR_NONREF = tuple(b for b in SENIOR_BANDS if b != REFERENCE_BAND)


STAGE_TERMS: dict[str, tuple[str, ...]] = {
    STAGE_APPLY_WORKFORCE: (TERM_INTERCEPT, TERM_BME, TERM_FEMALE,
                            *(band_term(b) for b in WF_BANDS_NONREF), TERM_POST_PROGRAMME, TERM_BME_X_POST),
    STAGE_APPLY_POOL: (TERM_INTERCEPT, *(band_term(b) for b in SENIOR_NONREF), TERM_LETTER_TO_CEO,
                       TERM_DIVERSE_PANEL, TERM_POST_PROGRAMME),
    STAGE_SHORTLIST: (TERM_INTERCEPT, TERM_BME, TERM_FEMALE, TERM_INTERNAL, TERM_DISABILITY,
                      TERM_DIVERSE_PANEL, TERM_POST_PROGRAMME, TERM_BME_X_PANEL, TERM_BME_X_POST,
                      TERM_MANAGER_BME),
    STAGE_OFFER: (TERM_BME, TERM_FEMALE, TERM_INTERNAL, TERM_DISABILITY, TERM_BME_X_LETTER,
                  TERM_BME_X_PANEL, TERM_BME_X_POST),
    STAGE_INTERVIEW_SCORE: (TERM_INTERCEPT, TERM_BME, TERM_FEMALE, TERM_INTERNAL, TERM_ETHNICITY_MATCH),
    STAGE_ASSESSMENT_TONE: (TERM_INTERCEPT, TERM_BME, TERM_OFFERED),
    STAGE_ASSESSMENT_TOPICS: tuple(topic_term(t) for t in THEMES),
    STAGE_PROGRAMME_IMPACT: (),  # computed, see edi_recruit.synthetic.truth.programme_impact
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


# --------------------------------------------------------------------------
# Loading and validation
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


def resolve_effects(effects: dict | None) -> dict:
    """The defaults, or the defaults with ``effects`` (a ``models:`` mapping) deep-merged over them."""
    base = load_effects(None)
    if effects is None:
        return base
    return _merge_effects(base, effects)


# --------------------------------------------------------------------------
# Typed views
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class PlantedEffects:
    """The merged effects of one trust: every stage's terms (0.0 where not planted) and parameters.

    ``spec`` is the merged ``{"models": ...}`` mapping (notes included) that truth.json repeats.
    """

    spec: dict
    terms: Mapping[str, Mapping[str, float]]

    @classmethod
    def from_spec(cls, spec: dict) -> PlantedEffects:
        terms = {}
        for stage in STAGE_TERMS:
            t = {k: 0.0 for k in STAGE_TERMS[stage]}
            t.update({k: float(v) for k, v in (spec["models"][stage].get("terms") or {}).items()})
            terms[stage] = t
        return cls(spec=spec, terms=terms)

    def parameters(self, stage: str) -> dict[str, float]:
        """The stage's ``parameters`` mapping as floats (empty when it has none)."""
        return {k: float(v) for k, v in (self.spec["models"][stage].get("parameters") or {}).items()}


@dataclass(frozen=True)
class ScoreParameters:
    """The interview_score stage's variance and missingness parameters (docs/synthetic-data.md)."""

    vacancy_sd: float
    member_sd: float
    kappa: float
    noise_sd: float
    missing_sheet_rate: float

    @classmethod
    def from_effects(cls, effects: PlantedEffects) -> ScoreParameters:
        p = effects.parameters(STAGE_INTERVIEW_SCORE)
        return cls(**{name: p[name] for name in STAGE_PARAMETERS[STAGE_INTERVIEW_SCORE]})
