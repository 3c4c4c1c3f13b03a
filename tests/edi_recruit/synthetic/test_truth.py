"""Tests of truth.json (edi_recruit/synthetic/truth.py): its structure, and exact zeros under null effects."""
from __future__ import annotations

import json

import pytest

from edi_recruit.synthetic import STAGE_TERMS, generate_trust, load_effects
from tasks.core import vocabulary as V


def _zero_effects():
    eff = load_effects(None)
    zero = {"models": {}}
    for stage, spec in eff["models"].items():
        zero["models"][stage] = {"terms": {t: 0.0 for t in spec["terms"] if t != V.TERM_INTERCEPT}}
    return zero


def test_zero_effects_give_exactly_zero_terms(tmp_path):
    s = generate_trust(tmp_path, seed=11, applications=30_000, effects=_zero_effects(), fmt="parquet")
    truth = json.loads((s.out_dir / "truth.json").read_text(encoding="utf-8"))
    for stage, spec in truth["models"].items():
        if stage == V.STAGE_PROGRAMME_IMPACT:
            continue
        for term, value in spec["terms"].items():
            if term != V.TERM_INTERCEPT:
                assert value == 0.0, (stage, term)
    # programme impact is computed from the realised pools, not planted: under the null it is
    # only their sampling noise (about 0.005 at 200k applications), never a systematic shift
    pi = truth["models"][V.STAGE_PROGRAMME_IMPACT]["terms"]
    assert abs(pi[V.TERM_LEVEL_CHANGE]) < 0.05 and abs(pi[V.TERM_SLOPE_CHANGE]) < 0.005


def test_truth_structure(small_trust):
    truth = json.loads((small_trust.out_dir / "truth.json").read_text(encoding="utf-8"))
    assert truth["seed"] == 7 and truth["programme_start"] == V.DEFAULT_PROGRAMME_START
    assert set(truth["models"]) == set(STAGE_TERMS)
    for stage, spec in truth["models"].items():
        assert {"model", "terms", "notes"} <= set(spec)
        assert all(isinstance(v, float) for v in spec["terms"].values())
    pi = truth["models"][V.STAGE_PROGRAMME_IMPACT]
    assert set(pi["terms"]) == {V.TERM_LEVEL_CHANGE, V.TERM_SLOPE_CHANGE}
    assert pi["terms"][V.TERM_LEVEL_CHANGE] > 0.05  # the default letter effect raises BME appointments
    assert truth["models"][V.STAGE_SHORTLIST]["terms"][V.TERM_BME] == pytest.approx(-0.35)
