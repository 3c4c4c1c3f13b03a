"""Planted-effect recovery for the funnel models.

Two data sources:
* ``simulate_funnel`` below: a fast mart-shaped simulator whose data-generating
  model is the one documented for edi_recruit/synthetic/generator.py (effects/default.yaml):
  shortlisting = independent logit; offer = argmax of x'beta + Gumbel among the
  interviewed (so a conditional logit by vacancy is the matching estimator).
  Used for the >= 200k-application check and the separation case, where
  large sizes are needed.  (The null-effect rate is test_null_rates.py.)
* the project's generator (edi_recruit/synthetic/generator.py) through the real
  ingest, dealt into independent replicates (replicates.py, conftest.py):
  pre-registered trust-scale recovery with effects/default.yaml and
  effects/alternative.yaml, judged by replicates.recovery_failures.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import replicates as R
import yaml

from tasks.analyses.funnel_statistics import odds_ratios as ort
from tasks.core.paths import PROJECT_ROOT
from tasks.core.vocabulary import (
    AGE_BANDS,
    ANALYSIS_MAIN,
    DIRECTORATES,
    MODEL_CONDITIONAL_LOGIT,
    MODEL_LOGIT,
    SENIOR_BANDS,
    STAGE_OFFER,
    STAGE_SHORTLIST,
    TERM_BME,
    TERM_BME_X_LETTER,
    TERM_BME_X_PANEL,
)

EFFECTS = PROJECT_ROOT / "effects"


def _effects(name: str = "default") -> dict:
    base = yaml.safe_load((EFFECTS / "default.yaml").read_text())["models"]
    if name != "default":
        over = yaml.safe_load((EFFECTS / f"{name}.yaml").read_text())["models"]
        for stage, spec in over.items():
            base.setdefault(stage, {}).setdefault("terms", {}).update(spec.get("terms", {}))
    return {s: dict(v.get("terms", {})) for s, v in base.items()}


def _expit(x):
    return 1 / (1 + np.exp(-x))


def simulate_funnel(
    seed: int,
    vacancies: int = 600,
    mean_applicants: float = 25.0,
    shortlist_terms: dict | None = None,
    offer_terms: dict | None = None,
    interview_share: float = 0.55,
    unknown_share: float = 0.05,
    no_bme_offer_band: str | None = None,
) -> pl.DataFrame:
    """A frame shaped like marts.application_funnel with planted shortlist/offer effects."""
    eff = _effects()
    sl = dict(eff["shortlist"] if shortlist_terms is None else shortlist_terms)
    of = dict(eff["offer"] if offer_terms is None else offer_terms)
    rng = np.random.default_rng(seed)
    V = vacancies
    band = rng.choice(np.array(SENIOR_BANDS), V, p=[.35, .25, .15, .1, .08, .07])
    post = rng.binomial(1, 0.55, V)
    letter = post * rng.binomial(1, 0.7, V)
    panel = rng.binomial(1, 0.25 + 0.45 * post)
    mgr_bme = rng.binomial(1, 0.2, V)
    mgr_f = rng.binomial(1, 0.5, V)
    directorate = rng.choice(np.array(DIRECTORATES), V)
    m = rng.poisson(mean_applicants - 4, V) + 4
    vi = np.repeat(np.arange(V), m)
    n = vi.size
    bme = rng.binomial(1, 0.3, n)
    female = rng.binomial(1, 0.55, n)
    internal = rng.binomial(1, 0.35, n)
    dis_u = rng.random(n)
    disability = np.where(dis_u < 0.08, 1, 0)
    dis_null = dis_u > 0.92
    age = rng.choice(np.array(AGE_BANDS), n)
    x = {"bme": bme, "female": female, "internal": internal, "disability": disability,
         "diverse_panel": panel[vi], "post_programme": post[vi], "letter_to_ceo": letter[vi],
         "manager_bme": mgr_bme[vi]}
    x["bme:diverse_panel"] = bme * panel[vi]
    x["bme:post_programme"] = bme * post[vi]
    x["bme:letter_to_ceo"] = bme * letter[vi]
    eta = np.full(n, sl.get("intercept", 0.0))
    for t, b in sl.items():
        if t != "intercept":
            eta += b * x[t]
    withdrawn_app = rng.random(n) < 0.03
    shortlisted = (rng.random(n) < _expit(eta)) & ~withdrawn_app
    interviewed = shortlisted & (rng.random(n) < interview_share)
    withdrawn_int = interviewed & (rng.random(n) < 0.04)
    u = rng.gumbel(size=n)
    for t, b in of.items():
        u += b * x[t]
    eligible = interviewed & ~withdrawn_int
    if no_bme_offer_band is not None:
        eligible &= ~((band[vi] == no_bme_offer_band) & (bme == 1))
    u = np.where(eligible, u, -np.inf)
    order = np.lexsort((-u, vi))
    first = np.r_[True, vi[order][1:] != vi[order][:-1]]
    offered = np.zeros(n, bool)
    offered[order[first]] = True
    offered &= eligible
    declined = offered & (rng.random(n) < 0.08)
    unknown = rng.random(n) < unknown_share
    wres = np.where(unknown, "Unknown", np.where(bme == 1, "BME", "White"))
    code = np.where(unknown, "Z", np.where(bme == 1, rng.choice(np.array(list("DHJMNR")), n), rng.choice(np.array(list("ABC")), n)))
    census = {"A": "White", "B": "White", "C": "White", "D": "Mixed", "H": "Asian", "J": "Asian",
              "M": "Black", "N": "Black", "R": "Other", "Z": "Not stated"}
    wd = np.where(withdrawn_app, "application", np.where(withdrawn_int, "interview", None))
    months = np.where(post[vi] == 1, "2023-03-01", "2021-12-01")
    return pl.DataFrame({
        "application_id": [f"A-{i}" for i in range(n)],
        "vacancy_id": [f"V-{seed}-{v}" for v in vi],
        "staff_id": pl.Series([None] * n, dtype=pl.String),
        "ethnic_category": code, "census_group": [census[c] for c in code], "wres_group": wres,
        "bme": pl.Series(bme).scatter(np.nonzero(unknown)[0], None),
        "sex": np.where(female == 1, "Female", "Male"), "female": female,
        "age_band": age,
        "disability": pl.Series(disability).scatter(np.nonzero(dis_null)[0], None),
        "internal": internal,
        "shortlisted": shortlisted.astype(int), "interviewed": interviewed.astype(int),
        "offered": offered.astype(int), "offer_declined": declined.astype(int),
        "appointed": (offered & ~declined).astype(int),
        "withdrawn_stage": pl.Series(wd.tolist(), dtype=pl.String),
        "band": band[vi], "directorate": directorate[vi],
        "advert_month": months, "manager_bme": mgr_bme[vi], "manager_female": mgr_f[vi],
        "letter_to_ceo": letter[vi], "diverse_panel": panel[vi], "post_programme": post[vi],
    })


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------
PROGRAMME_TERMS = ("diverse_panel", "post_programme", "letter_to_ceo")


def recovery_terms(terms: dict) -> dict:
    """The planted bme* and programme terms of a stage."""
    return {t: v for t, v in terms.items() if t.startswith(TERM_BME) or t in PROGRAMME_TERMS}


def main_rows(table: pl.DataFrame, stage: str, model: str) -> dict[str, dict]:
    sub = table.filter((pl.col("analysis") == ANALYSIS_MAIN) & (pl.col("stage") == stage) & (pl.col("model") == model))
    return {r["term"]: r for r in sub.iter_rows(named=True)}


def funnel_warehouse(tmp: Path, seed: int, effects: str | Path | dict | None = None, applications: int = 8000,
                     *, workforce: bool = True) -> tuple[Path, dict]:
    """Generate a trust with edi_recruit/synthetic/generator.py and ingest only the funnel tables (text tables left empty).

    ``effects``: a YAML path, or an effects dict (e.g. a mutated one).  With
    ``workforce=False`` the ESR snapshots are left empty too (stages other than
    apply_workforce do not read them).  Returns (db path, truth).  Ingesting
    the free text is what makes the session fixture slow; the funnel
    statistics do not read it.
    """
    import shutil

    import edi_recruit.synthetic.generator as gen
    from tasks.ingest.staging import ingest_extracts
    from tasks.marts import build_marts

    src, sub = tmp / "extracts", tmp / "funnel_only"
    eff = effects if isinstance(effects, dict) else gen.load_effects(effects)
    gen.generate_trust(src, seed=seed, applications=applications, effects=eff)
    empty = {"assessments", "ceo_letters", "interview_scores"} | (set() if workforce else {"workforce"})
    sub.mkdir()
    for f in src.iterdir():
        if f.suffix != ".csv" or f.name.startswith("truth"):
            continue
        if f.stem in empty:
            with f.open(encoding="utf-8") as fh:
                (sub / f.name).write_text(fh.readline(), encoding="utf-8")
        else:
            shutil.copy(f, sub / f.name)
    db = tmp / "edi.duckdb"
    ingest_extracts(sub, db)
    build_marts(db)
    return db, json.loads((src / "truth.json").read_text())


def read_marts(db: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    import duckdb

    from tasks.analyses.funnel_statistics.analysis import FUNNEL_COLUMNS, WORKFORCE_COLUMNS

    con = duckdb.connect(str(db), read_only=True)
    try:
        # in source-row order (the lineage: file hash, row number), which no pseudonymisation key changes
        af = pl.from_arrow(con.sql(f"SELECT {', '.join(FUNNEL_COLUMNS)} FROM marts.application_funnel "
                                   "ORDER BY _lineage").to_arrow_table())
        wf = pl.from_arrow(con.sql(f"SELECT {', '.join(WORKFORCE_COLUMNS)} FROM marts.workforce "
                                   "ORDER BY _lineage").to_arrow_table())
    finally:
        con.close()
    return af, wf


# --------------------------------------------------------------------------
# Trust scale, the project's generator (default and alternative effects)
# --------------------------------------------------------------------------
# Pre-registered: seeds, sizes and replicate counts are the constants of
# replicates.py, fixed before the first run; no seed was replaced after a
# failure.  Each trust is dealt into independent replicates (replicates.py)
# and judged by replicates.recovery_failures: for every planted bme / bme:* /
# programme term, at least k of n CIs cover (k from Binomial(n, 0.95)) and the
# mean bias over replicates is within z x its standard error, family-wise
# error 1%.  At these sizes the bias bound on the offer bme:letter_to_ceo term
# (planted 0.55, OR 1.7) is +-0.76 (default trust): a sign flip fails it
# (test_recovery_rule_rejects_a_sign_flip_in_the_estimator); a halved effect
# is caught by the >= 200k-application check below.
def test_trust_scale_recovery_default_effects(default_generated, default_replicates):
    _, _, truth = default_generated
    assert truth["models"][STAGE_OFFER]["model"] == MODEL_CONDITIONAL_LOGIT
    failures = R.recovery_failures(default_replicates, truth, R.CALIBRATION_STAGES)
    assert not failures, failures


def test_trust_scale_recovery_alternative_effects(tmp_path):
    af, _, truth = R.read_trust(tmp_path, R.ALTERNATIVE_TRUST_SEED, applications=R.ALTERNATIVE_APPLICATIONS,
                                effects=EFFECTS / "alternative.yaml", workforce=False)
    assert truth["models"][STAGE_OFFER]["terms"][TERM_BME_X_PANEL] == 0.5  # the alternative scenario
    reps = R.replicate_fits(af, None, truth, n=R.ALTERNATIVE_REPLICATES, seed=R.ALTERNATIVE_SPLIT_SEED,
                            stages=(STAGE_SHORTLIST, STAGE_OFFER))
    failures = R.recovery_failures(reps, truth, (STAGE_SHORTLIST, STAGE_OFFER))
    assert not failures, failures


def test_recovery_rule_rejects_a_sign_flip_in_the_estimator(default_generated, default_replicates):
    """Mutation check: an offer estimator reporting the letter term with its sign flipped fails the rule."""
    _, _, truth = default_generated
    bad = R.shift_param(default_replicates, STAGE_OFFER, TERM_BME_X_LETTER, lambda b: -b)
    failures = R.recovery_failures(bad, truth, R.CALIBRATION_STAGES)
    assert any(TERM_BME_X_LETTER in f for f in failures), failures


def _mutated_effects(factor: float) -> dict:
    import copy

    import edi_recruit.synthetic.generator as gen

    eff = copy.deepcopy(gen.load_effects(None))
    eff["models"][STAGE_OFFER]["terms"][TERM_BME_X_LETTER] *= factor
    return eff


@pytest.mark.slow
def test_recovery_rule_rejects_a_generator_with_the_letter_sign_flipped(tmp_path):
    """Mutation check (docs/methods.md 1.7): the default trust generated with bme:letter_to_ceo = -0.55
    and judged against the planted +0.55 fails the CI rule of test_trust_scale_recovery_default_effects."""
    import edi_recruit.synthetic.generator as gen

    af, _, _ = R.read_trust(tmp_path, R.DEFAULT_TRUST_SEED, applications=R.DEFAULT_APPLICATIONS,
                            effects=_mutated_effects(-1.0), workforce=False)
    truth = gen.load_effects(None)
    reps = R.replicate_fits(af, None, truth, n=R.DEFAULT_REPLICATES, seed=R.DEFAULT_SPLIT_SEED, stages=(STAGE_OFFER,))
    failures = R.recovery_failures(reps, truth, (STAGE_OFFER,))
    assert any(TERM_BME_X_LETTER in f for f in failures), failures


# --------------------------------------------------------------------------
# >= 200k applications: within +-0.1 (simulator with the generator's DGM)
# --------------------------------------------------------------------------
# Pre-registered (fixed before the first run; no seed replaced after a failure): four seeds of
# 6,000 vacancies (~150k applications each, 600k in all).  The rule, per planted term of the
# shortlist logit and offer conditional logit (K terms, family-wise 1%):
# * replicates.recovery_failures over the four seeds: coverage count and mean bias against the
#   reported SEs;
# * precision: the mean estimate over the four seeds lies within +-0.1 of the planted value, for
#   every term whose mean has an SE of at most 0.1 / 3 (so +-0.1 is >= 3 SE: a pass or a fail is
#   not chance).  That is every shortlist term and the offer's bme; the offer interactions
#   (bme:letter_to_ceo SE ~0.108 a seed, 0.054 for the mean) would need ~1.6M applications, so they
#   are judged by the first rule alone here and to +-0.1 by the slow generator study below.
# A halved letter effect (0.55 -> 0.275, OR 1.7 -> 1.3) or a sign flip is 5 or 20 SEs of the mean
# away and fails the first rule (test_large_scale_check_rejects_a_mutated_estimator).
LARGE_SCALE_SEEDS = (2024, 2025, 2026, 2027)
LARGE_SCALE_VACANCIES = 6_000
PRECISION, PRECISION_SES = 0.1, 3.0


@pytest.fixture(scope="module")
def large_scale() -> tuple[list[R.Replicate], dict]:
    """(the main shortlist and offer fits of the four seeds, their truth)."""
    eff = _effects()
    models = {STAGE_SHORTLIST: MODEL_LOGIT, STAGE_OFFER: MODEL_CONDITIONAL_LOGIT}
    truth = {"models": {stage: {"model": model, "terms": eff[stage]} for stage, model in models.items()}}
    reps, n_apps = [], 0
    for seed in LARGE_SCALE_SEEDS:
        # the conditional logit's precision is set by the number of vacancies
        af = simulate_funnel(seed, vacancies=LARGE_SCALE_VACANCIES, mean_applicants=25.0)
        n_apps += af.height
        fits = ort.stage_fits(af, stages=list(models), strata=False)
        reps.append(R.Replicate({f.stage: f for f, _ in fits
                                 if f.analysis == ANALYSIS_MAIN and f.model == models.get(f.stage)}))
    assert n_apps >= 200_000
    return reps, truth


def _large_scale_check(reps: list[R.Replicate], truth: dict) -> tuple[list[str], set[tuple[str, str]]]:
    """(what the rule rejects, the (stage, term) pairs precise enough for the +-0.1 check)."""
    stages = tuple(truth["models"])
    failures, precise = R.recovery_failures(reps, truth, stages), set()
    for stage in stages:
        for term, value in R.recovery_terms(truth, stage).items():
            bias, se_mean = R.mean_bias(reps, stage, term, value)
            if se_mean <= PRECISION / PRECISION_SES:
                precise.add((stage, term))
                if not abs(bias) < PRECISION:
                    failures.append(f"{stage}/{term}: mean {value + bias:.3f}, planted {value}, beyond +-{PRECISION}")
    return failures, precise


def test_large_scale_recovery_within_0_1(large_scale):
    failures, precise = _large_scale_check(*large_scale)
    assert not failures, failures
    assert {(STAGE_SHORTLIST, TERM_BME), (STAGE_OFFER, TERM_BME)} <= precise, precise


@pytest.mark.parametrize("mutation", [lambda b: b / 2, lambda b: -b], ids=["halved", "sign_flip"])
def test_large_scale_check_rejects_a_mutated_estimator(large_scale, mutation):
    """Mutation check: a conditional logit reporting bme:letter_to_ceo halved or sign-flipped fails the check."""
    reps, truth = large_scale
    failures, _ = _large_scale_check(R.shift_param(reps, STAGE_OFFER, TERM_BME_X_LETTER, mutation), truth)
    assert failures and all(f.startswith(f"{STAGE_OFFER}/{TERM_BME_X_LETTER}:") for f in failures), failures


# --------------------------------------------------------------------------
# Separation: a band where no BME candidate is ever offered
# --------------------------------------------------------------------------
def test_band_without_bme_offers_is_flagged_not_absurd():
    from tasks.analyses.funnel_statistics.wres import wres_indicator2

    af = simulate_funnel(31, vacancies=600, no_bme_offer_band="9")
    band9 = af.filter((pl.col("band") == "9") & (pl.col("bme") == 1))
    assert band9["offered"].sum() == 0 and band9["interviewed"].sum() > 0
    table = ort.odds_ratio_table(ort.stage_fits(af, stages=[STAGE_OFFER, "appoint_from_shortlist"]))
    for stage in (STAGE_OFFER, "appoint_from_shortlist"):
        r = table.filter((pl.col("analysis") == "stratum:band=9") & (pl.col("stage") == stage) & (pl.col("term") == TERM_BME))
        assert r.height >= 1
        for row in r.iter_rows(named=True):
            assert "separation" in row["flags"] and "firth" in row["flags"]
            assert row["odds_ratio"] is not None and 1e-3 < row["odds_ratio"] < 1.0
            assert row["ci_low"] > 1e-6 and row["std_error"] < 5
    # other bands are unaffected
    ok = table.filter((pl.col("analysis") == "stratum:band=8a") & (pl.col("term") == TERM_BME))
    assert not any("separation" in f for f in ok["flags"].to_list())
    w = wres_indicator2(af).filter((pl.col("scope") == "band") & (pl.col("scope_value") == "9")).row(0, named=True)
    assert w["appointed_bme"] == 0 and "zero_cell_haldane" in w["flags"] and math.isfinite(w["relative_likelihood"])


# Size of the generator study.  The offer-stage conditional logit's precision is set by
# the number of vacancies (~20 applications each), not applications: at 250,000
# applications its SEs are 0.05 (bme) to 0.08 (bme:post_programme), so +-0.1 is only
# 1.2-2 SE and would pass or fail by chance (docs/methods.md 1.7).  At 1.5M applications
# the largest checked SE is ~0.034, so +-0.1 is >= 3 SE for every planted term of every stage.
# Pre-registered: three generated trusts (seeds 11, 12, 13) of 500,000 applications each, judged
# on the mean estimate over the three (its SE from the reported SEs, as for 1.5M in one trust).
LARGE_GENERATED_SEEDS = (11, 12, 13)
LARGE_GENERATED_APPLICATIONS = 500_000


def _large_generated_misses(tmp_path, effects: dict | None) -> tuple[list, list]:
    """Trusts from edi_recruit/synthetic/generator.py (+ funnel-only ingest): the planted terms (default
    effects) of shortlist, offer, apply_pool and apply_workforce whose mean estimate over the trusts is
    outside +-0.1, and those whose mean has an SE above 0.04."""
    import edi_recruit.synthetic.generator as gen
    from tasks.analyses.funnel_statistics.analysis import analyse_frames
    from tasks.core.months import parse_month
    from tasks.core.vocabulary import DEFAULT_PROGRAMME_START

    truth = {"models": gen.load_effects(None)["models"]}
    stages = (STAGE_SHORTLIST, STAGE_OFFER, "apply_pool", "apply_workforce")
    est: dict[tuple, list[float]] = {}
    se: dict[tuple, list[float]] = {}
    for seed in LARGE_GENERATED_SEEDS:
        folder = tmp_path / f"trust{seed}"
        folder.mkdir()
        db, _ = funnel_warehouse(folder, seed, effects, applications=LARGE_GENERATED_APPLICATIONS)
        af, wf = read_marts(db)
        assert af.height >= 200_000
        table = analyse_frames(af, wf, parse_month(DEFAULT_PROGRAMME_START))["odds_ratios"]
        for stage in stages:
            rows = main_rows(table, stage, truth["models"][stage]["model"])
            for t in truth["models"][stage]["terms"]:
                est.setdefault((stage, t), []).append(rows[t]["estimate"])
                se.setdefault((stage, t), []).append(rows[t]["std_error"])
    far, wide = [], []
    for (stage, t), values in est.items():
        planted = truth["models"][stage]["terms"][t]
        mean, se_mean = float(np.mean(values)), math.sqrt(sum(x * x for x in se[(stage, t)])) / len(values)
        if abs(mean - planted) >= 0.1:
            far.append((stage, t, planted, mean))
        if se_mean > 0.1 / 2.5:
            wide.append((stage, t, se_mean))
    return far, wide


@pytest.mark.slow
def test_large_scale_recovery_generated(tmp_path):
    """Every planted term within +-0.1, with SEs small enough for that to be a >= 2.5-SE check."""
    far, wide = _large_generated_misses(tmp_path, None)
    assert not wide, wide
    assert not far, far


@pytest.mark.slow
def test_large_scale_check_rejects_a_generator_with_the_letter_effect_halved(tmp_path):
    """Mutation check (docs/methods.md 1.7): bme:letter_to_ceo drawn at 0.275 (OR 1.3, not 1.7) misses by 0.275."""
    far, _ = _large_generated_misses(tmp_path, _mutated_effects(0.5))
    assert (STAGE_OFFER, TERM_BME_X_LETTER) in [f[:2] for f in far], far
