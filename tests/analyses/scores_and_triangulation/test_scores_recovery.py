"""Planted-effect recovery on generated trusts: interview-score gap and programme-impact ITS.

Two routes:

* end to end (``warehouse_ctx``/``truth`` fixtures: the default trust, seed 7,
  generated, ingested and analysed through ``tasks.analyses.scores_and_triangulation.analysis.analyse``);
* many small trusts read straight from the generator's CSV extracts (the
  ingest with text redaction is too slow to repeat 20 times): the raw score
  rows go through ``normalise_score_rows`` and the same model code.
"""
from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

import edi_recruit.synthetic.generator as generate
from tasks.analyses.scores_and_triangulation import interview_scores as isc
from tasks.analyses.scores_and_triangulation import programme_impact as pi
from tasks.core.paths import MAPPINGS_DIR
from tasks.core.vocabulary import (
    MODEL_MIXED_LINEAR,
    STAGE_INTERVIEW_SCORE,
    STAGE_PROGRAMME_IMPACT,
    TERM_BME,
    TERM_ETHNICITY_MATCH,
    TERM_INTERNAL,
    TERM_LEVEL_CHANGE,
    TERM_SLOPE_CHANGE,
    census_group,
    wres_group,
)


# --------------------------------------------------------------------------
# A light reader of the generator's extracts (test helper, not the ingest)
# --------------------------------------------------------------------------
def _read(d: Path, table: str) -> pl.DataFrame:
    mapping = yaml.safe_load((MAPPINGS_DIR / "trac.yaml").read_text())["tables"][table]["columns"]
    raw = pl.read_csv(d / f"{table}.csv", infer_schema=False)
    return raw.select([pl.col(h).alias(c) for h, c in mapping.items() if h in raw.columns])


def _yn(col: str) -> pl.Expr:
    return (pl.col(col) == "Y").cast(pl.Int64).alias(col)


def extract_frames(d: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(score sheets like marts.score_sheets, funnel like marts.application_funnel) from raw extracts."""
    vac = _read(d, "vacancies").select(
        "vacancy_id", pl.col("band").str.replace("Band ", "").alias("band"),
        pl.col("advert_date").str.strptime(pl.Date, "%d/%m/%Y"))
    apps = _read(d, "applications").with_columns(
        [_yn(c) for c in ("internal", "shortlisted", "interviewed", "offered", "offer_declined", "appointed")])
    apps = apps.with_columns(
        pl.col("ethnic_category").map_elements(wres_group, return_dtype=pl.String).fill_null("Unknown").alias("wres_group"),
        pl.col("ethnic_category").map_elements(census_group, return_dtype=pl.String).alias("census_group"),
        (pl.col("sex") == "Female").cast(pl.Int64).alias("female"),
    ).with_columns(
        pl.when(pl.col("wres_group") == "BME").then(1).when(pl.col("wres_group") == "White").then(0)
        .otherwise(None).cast(pl.Int64).alias("bme")
    ).join(vac, on="vacancy_id", how="left")
    panel = _read(d, "panel_members").with_columns(
        pl.col("ethnic_category").map_elements(wres_group, return_dtype=pl.String).fill_null("Unknown")
        .alias("member_wres_group")).select("vacancy_id", "member_id", "member_wres_group")
    rows = _read(d, "interview_scores").with_columns(
        pl.col("score").cast(pl.Float64), pl.col("max_score").cast(pl.Float64)
    ).join(apps.select("application_id", "vacancy_id"), on="application_id", how="inner")
    sheets = isc.normalise_score_rows(rows).join(panel, on=["vacancy_id", "member_id"], how="left")
    return sheets, apps


def _effects(**interview_terms) -> dict:
    eff = copy.deepcopy(generate.load_effects(None))
    eff["models"][STAGE_INTERVIEW_SCORE]["terms"].update(interview_terms)
    return eff


def _row(frame: pl.DataFrame, **kw) -> dict:
    for k, v in kw.items():
        frame = frame.filter(pl.col(k) == v)
    assert frame.height == 1, kw
    return frame.row(0, named=True)


# --------------------------------------------------------------------------
# End to end on the default trust
# --------------------------------------------------------------------------
def test_default_trust_end_to_end_recovers_planted_effects(warehouse_ctx, truth):
    from tasks.analyses.scores_and_triangulation.analysis import RESULT_TABLES, analyse

    out = analyse(warehouse_ctx)
    assert set(out) == set(RESULT_TABLES)
    eff = out["score_effects"]
    planted = truth["models"][STAGE_INTERVIEW_SCORE]["terms"]
    for term in (TERM_BME, TERM_INTERNAL):
        r = _row(eff, model=MODEL_MIXED_LINEAR, term=term)
        assert r["ci_low"] <= planted[term] <= r["ci_high"], (term, r, planted[term])
    assert _row(eff, model=MODEL_MIXED_LINEAR, term=TERM_BME)["ci_high"] < 0
    m = _row(eff, term=TERM_ETHNICITY_MATCH)
    assert m["ci_low"] <= planted[TERM_ETHNICITY_MATCH] <= m["ci_high"]
    its = out["programme_impact"].filter(pl.col("row_type") == pi.ROW_ITS)
    target = truth["models"][STAGE_PROGRAMME_IMPACT]["terms"]
    lc = _row(its, term=TERM_LEVEL_CHANGE)
    assert np.sign(lc["estimate"]) == np.sign(target[TERM_LEVEL_CHANGE])
    assert lc["ci_low"] <= target[TERM_LEVEL_CHANGE] <= lc["ci_high"]
    sc = _row(its, term=TERM_SLOPE_CHANGE)
    assert sc["ci_low"] <= target[TERM_SLOPE_CHANGE] <= sc["ci_high"]
    nat = out["national_reference"]
    assert nat.filter(~pl.col("is_trust")).height == len(
        pi.load_national_reference()) and nat.filter(pl.col("is_trust")).height >= 2


# --------------------------------------------------------------------------
# Many small trusts from the extracts
# --------------------------------------------------------------------------
def _gap_fit(tmp: Path, seed: int, applications: int, **terms) -> dict:
    d = tmp / f"s{seed}"
    generate.generate_trust(d, seed=seed, applications=applications, effects=_effects(**terms))
    sheets, funnel = extract_frames(d)
    _, cands = isc.prepare(sheets, funnel)
    return _row(isc.fit_mixed_gap(cands), term=TERM_BME)


def test_planted_gap_recovered_on_small_generated_trust(tmp_path):
    r = _gap_fit(tmp_path, 3, 4000, bme=-0.03)
    assert r["ci_low"] <= -0.03 <= r["ci_high"] and r["ci_high"] < 0


def test_null_gap_not_significant_on_most_of_20_small_trusts(tmp_path):
    p = [_gap_fit(tmp_path, 1000 + s, 1500, bme=0.0)["p_value"] for s in range(20)]
    n_sig = sum(v < 0.05 for v in p)
    # a correct 5% test gives >= 4 of 20 with probability 0.016
    assert n_sig <= 3, p


@pytest.mark.slow
def test_null_gap_rate_on_40_larger_trusts(tmp_path):
    p = [_gap_fit(tmp_path, 2000 + s, 8000, bme=0.0)["p_value"] for s in range(40)]
    assert sum(v < 0.05 for v in p) <= 5, p


def _its_fit(tmp: Path, seed: int, applications: int, effects: dict | None = None):
    d = tmp / f"its{seed}"
    generate.generate_trust(d, seed=seed, applications=applications, effects=effects or _effects())
    import json
    truth = json.loads((d / "truth.json").read_text())
    _, funnel = extract_frames(d)
    start = date.fromisoformat(truth["programme_start"] + "-01")
    table = pi.programme_impact_table(funnel, start, last_month=date(2024, 1, 1))
    its = table.filter(pl.col("row_type") == pi.ROW_ITS)
    return its, truth["models"][STAGE_PROGRAMME_IMPACT]["terms"]


def test_its_recovers_planted_change_on_most_generated_trusts(tmp_path):
    cover = sign = 0
    seeds = range(8)
    for s in seeds:
        its, target = _its_fit(tmp_path, 500 + s, 6000)
        lc = _row(its, term=TERM_LEVEL_CHANGE)
        cover += lc["ci_low"] <= target[TERM_LEVEL_CHANGE] <= lc["ci_high"]
        sign += np.sign(lc["estimate"]) == np.sign(target[TERM_LEVEL_CHANGE])
    assert cover >= 6 and sign >= 7, (cover, sign)
