"""Funnel models: closed-form cases, equivalence with statsmodels, separation, contrasts, BH."""
from __future__ import annotations

import math
from datetime import date

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from statsmodels.discrete.conditional_models import ConditionalLogit

from tasks.analyses.funnel_statistics import models as fm
from tasks.core.vocabulary import (
    MODEL_BINOMIAL_GLM,
    STAGE_APPLY_POOL,
    TERM_BME,
    TERM_LETTER_TO_CEO,
    band_term,
    contrast_term,
    interaction,
)


def table_frame(cells: dict[tuple[int, ...], tuple[int, int]], names=("bme",)) -> pl.DataFrame:
    """Individual rows from {(covariates...): (events, non-events)}; each row its own cluster."""
    rows = []
    for key, (ev, non) in cells.items():
        rows += [(*key, 1)] * ev + [(*key, 0)] * non
    df = pl.DataFrame(rows, schema=[*names, "y"], orient="row")
    return df.with_row_index("cluster")


def test_two_by_two_logit_closed_form():
    # White: 30 events / 70 non-events; BME: 10 / 40
    df = table_frame({(0,): (30, 70), (1,): (10, 40)})
    fit = fm.fit_logit(df, fm.Spec((TERM_BME,)), "y", "cluster", stage="shortlist")
    b0, b1 = fit.params
    assert b0 == pytest.approx(math.log(30 / 70), abs=1e-8)
    assert b1 == pytest.approx(math.log((10 * 70) / (40 * 30)), abs=1e-8)
    # saturated model: robust (HC0) = model-based variance; cluster factor G/(G-1)
    G = df.height
    se = math.sqrt(1 / 10 + 1 / 40 + 1 / 30 + 1 / 70) * math.sqrt(G / (G - 1))
    assert math.sqrt(fit.cov[1, 1]) == pytest.approx(se, rel=1e-6)
    assert fit.n_obs == 150 and fit.n_events == 40 and fit.n_clusters == 150
    assert fit.term_flags[TERM_BME] == set()


def test_grouped_fit_equals_individual_statsmodels_cluster():
    rng = np.random.default_rng(3)
    V, n = 150, 3000
    vac = rng.integers(0, V, n)
    bme, fem = rng.binomial(1, .3, n), rng.binomial(1, .5, n)
    letter = rng.binomial(1, .5, V)[vac]
    eta = -0.5 + 0.4 * bme - 0.2 * fem + 0.3 * letter - 0.5 * bme * letter + rng.normal(0, .4, V)[vac]
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    df = pl.DataFrame({"v": vac, "bme": bme, "female": fem, "letter_to_ceo": letter, "y": y})
    spec = fm.Spec(("bme", "female", "letter_to_ceo"), (), (("bme", "letter_to_ceo"),))
    fit = fm.fit_logit(df, spec, "y", "v", stage="shortlist")
    X = np.column_stack([np.ones(n), bme, fem, letter, bme * letter])
    ref = sm.GLM(y, X, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": vac, "use_correction": False})
    np.testing.assert_allclose(fit.params, ref.params, atol=1e-7)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov)), ref.bse * math.sqrt(V / (V - 1)), rtol=1e-6)
    assert fit.n_clusters == V


def test_contrast_is_the_stratum_odds_ratio():
    # saturated 2x2x2: bme@letter_to_ceo=1 equals the log OR in the letter=1 sub-table
    cells = {(0, 0): (30, 70), (1, 0): (10, 40), (0, 1): (25, 50), (1, 1): (20, 30)}
    df = table_frame(cells, names=("bme", "letter_to_ceo"))
    spec = fm.Spec(("bme", "letter_to_ceo"), (), (("bme", "letter_to_ceo"),))
    fit = fm.fit_logit(df, spec, "y", "cluster", stage="shortlist", feature_levels=("letter_to_ceo",))
    rows = {r["term"]: r for r in fm.fit_rows(fit, fm.CONTRASTS)}
    on = rows[contrast_term(TERM_LETTER_TO_CEO, 1)]
    off = rows[contrast_term(TERM_LETTER_TO_CEO, 0)]
    G = df.height
    assert on["estimate"] == pytest.approx(math.log(20 * 50 / (30 * 25)), abs=1e-8)
    assert on["std_error"] == pytest.approx(math.sqrt((1 / 20 + 1 / 30 + 1 / 25 + 1 / 50) * G / (G - 1)), rel=1e-6)
    assert off["estimate"] == pytest.approx(math.log(10 * 70 / (40 * 30)), abs=1e-8)
    assert on["odds_ratio"] == pytest.approx(math.exp(on["estimate"]))
    z = 1.959963984540054
    assert on["ci_low"] == pytest.approx(math.exp(on["estimate"] - z * on["std_error"]))


def test_contrast_averages_other_interactions_within_level():
    fit = fm.Fit("offer", "conditional_logit", "main", ["bme", "bme:letter_to_ceo", "bme:post_programme"],
                 np.array([-0.5, 0.6, 0.2]), np.diag([0.01, 0.04, 0.09]), 1, 1, 1)
    fit.feature_means[("letter_to_ceo", 1)] = {"letter_to_ceo": 1.0, "post_programme": 1.0}
    fit.feature_means[("letter_to_ceo", 0)] = {"letter_to_ceo": 0.0, "post_programme": 0.25}
    w1 = fm.contrast_weights(fit, "letter_to_ceo", 1)
    assert w1 == {"bme": 1.0, "bme:letter_to_ceo": 1.0, "bme:post_programme": 1.0}
    est, se = fit.lincom(fm.contrast_weights(fit, "letter_to_ceo", 0))
    assert est == pytest.approx(-0.5 + 0.25 * 0.2)
    assert se == pytest.approx(math.sqrt(0.01 + 0.25 ** 2 * 0.09))
    assert fm.contrast_weights(fit, "diverse_panel", 1) is None


def test_firth_on_separated_two_by_two_equals_haldane():
    # no BME events at all: quasi-complete separation
    df = table_frame({(0,): (30, 70), (1,): (0, 25)})
    fit = fm.fit_logit(df, fm.Spec((TERM_BME,)), "y", "cluster", stage="offer")
    assert fm.FLAG_SEPARATION in fit.term_flags[TERM_BME]
    assert fm.FLAG_FIRTH in fit.model_flags and fit.engine == fm.ENGINE_FIRTH
    # Firth's estimate in a 2x2 table = log OR with 0.5 added to every cell
    assert fit.params[1] == pytest.approx(math.log(0.5 * 70.5 / (25.5 * 30.5)), abs=1e-5)
    row = [r for r in fm.fit_rows(fit) if r["term"] == TERM_BME][0]
    assert 0.005 < row["odds_ratio"] < 1 and row["ci_low"] > 1e-4
    assert "separation" in row["flags"] and "firth" in row["flags"]


def test_separation_lp_detects_and_clears():
    X = np.array([[1, 0], [1, 0], [1, 1], [1, 1]], float)
    y = np.array([1, 0, 0, 0])
    A = np.vstack([X[y == 1], -X[y == 0]])
    sep, d = fm.detect_separation_lp(A)
    assert sep and abs(d[1]) > 0
    y2 = np.array([1, 0, 1, 0])
    sep2, _ = fm.detect_separation_lp(np.vstack([X[y2 == 1], -X[y2 == 0]]))
    assert not sep2


def test_sparse_and_small_number_flags():
    df = table_frame({(0,): (6, 70), (1,): (3, 40)})
    fit = fm.fit_logit(df, fm.Spec((TERM_BME,)), "y", "cluster", stage="offer")
    assert fm.FLAG_SPARSE in fit.term_flags[TERM_BME]
    assert fm.FLAG_SMALL in fit.model_flags  # 9 events < 10
    assert fm.FLAG_SEPARATION not in fit.term_flags[TERM_BME]


def _matched_pairs(n10: int, n01: int, n_tie: int = 0) -> pl.DataFrame:
    rows, v = [], 0
    for _ in range(n10):  # BME candidate offered
        rows += [(v, 1, 1), (v, 0, 0)]; v += 1
    for _ in range(n01):  # White candidate offered
        rows += [(v, 1, 0), (v, 0, 1)]; v += 1
    for _ in range(n_tie):  # two White candidates: uninformative for bme
        rows += [(v, 0, 1), (v, 0, 0)]; v += 1
    return pl.DataFrame(rows, schema=["vacancy_id", "bme", "offered"], orient="row")


def test_conditional_logit_matched_pairs_closed_form():
    df = _matched_pairs(12, 30, 5)
    fit = fm.fit_conditional_logit(df, fm.Spec((TERM_BME,), intercept=False), "offered", "vacancy_id", stage="offer")
    assert fit.params[0] == pytest.approx(math.log(12 / 30), abs=1e-7)
    assert math.sqrt(fit.cov[0, 0]) == pytest.approx(math.sqrt(1 / 12 + 1 / 30), rel=1e-6)
    assert fit.n_clusters == 47 and fit.n_events == 47


def test_conditional_logit_matches_statsmodels_with_multi_event_strata():
    rng = np.random.default_rng(5)
    rows = []
    for v in range(250):
        m = rng.integers(3, 8)
        xb, xf = rng.binomial(1, .4, m), rng.binomial(1, .5, m)
        u = 0.7 * xb - 0.3 * xf + rng.gumbel(size=m)
        d = 1 if v % 4 else 2
        o = np.zeros(m, int)
        o[np.argsort(-u)[:d]] = 1
        rows += [(v, xb[i], xf[i], o[i]) for i in range(m)]
    df = pl.DataFrame(rows, schema=["vacancy_id", "bme", "female", "offered"], orient="row")
    fit = fm.fit_conditional_logit(df, fm.Spec(("bme", "female"), intercept=False), "offered", "vacancy_id", stage="offer")
    ref = ConditionalLogit(df["offered"].to_numpy(), df.select("bme", "female").to_numpy().astype(float),
                           groups=df["vacancy_id"].to_numpy()).fit(method="newton", maxiter=100)
    np.testing.assert_allclose(fit.params, ref.params, atol=1e-5)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov)), ref.bse, rtol=1e-4)


def test_conditional_logit_separation_gives_firth_flag_not_absurd():
    df = _matched_pairs(0, 25, 3)  # BME never offered
    fit = fm.fit_conditional_logit(df, fm.Spec((TERM_BME,), intercept=False), "offered", "vacancy_id", stage="offer")
    assert fm.FLAG_SEPARATION in fit.term_flags[TERM_BME] and fm.FLAG_FIRTH in fit.model_flags
    # Firth for matched pairs = log((n10 + 1/2) / (n01 + 1/2))
    assert fit.params[0] == pytest.approx(math.log(0.5 / 25.5), abs=1e-3)
    row = fm.fit_rows(fit)[0]
    assert row["odds_ratio"] > 1e-3 and row["std_error"] is not None


def test_bh_qvalues_hand_computed():
    p = [0.01, 0.04, 0.03, 0.20, None]
    # sorted: .01*4/1=.04, .03*4/2=.06, .04*4/3=.0533 -> monotone .0533, .20*4/4=.20
    q = fm.bh_qvalues(p)
    assert q[0] == pytest.approx(0.04)
    assert q[2] == pytest.approx(0.04 * 4 / 3)
    assert q[1] == pytest.approx(0.04 * 4 / 3)
    assert q[3] == pytest.approx(0.20)
    assert q[4] is None


def test_qvalue_families_stratified_by_term():
    rows = []
    for a, t, p in [("stratum:band=8a", "bme", 0.01), ("stratum:band=8b", "bme", 0.04),
                    ("stratum:band=8a", "female", 0.5), ("main", "bme", 0.01), ("main", "female", 0.02),
                    ("main", "intercept", 1e-9)]:
        rows.append({"analysis": a, "stage": "offer", "model": "logit", "term": t, "p_value": p})
    out = fm.add_qvalues(pl.DataFrame(rows))
    q = {(r["analysis"], r["term"]): r["q_value"] for r in out.iter_rows(named=True)}
    assert q[("stratum:band=8a", "bme")] == pytest.approx(0.02)  # family of 2 strata
    assert q[("stratum:band=8b", "bme")] == pytest.approx(0.04)
    assert q[("stratum:band=8a", "female")] == pytest.approx(0.5)  # alone in its family
    assert q[("main", "bme")] == pytest.approx(0.02)  # main family excludes the intercept
    assert q[("main", "intercept")] is None


def _funnel_rows() -> pl.DataFrame:
    cols = ["application_id", "vacancy_id", "bme", "shortlisted", "interviewed", "offered", "offer_declined",
            "appointed", "withdrawn_stage"]
    rows = [
        ("a1", "v1", 1, 1, 1, 1, 0, 1, None),
        ("a2", "v1", 0, 1, 1, 0, 0, 0, "interview"),  # withdrew at interview
        ("a3", "v1", None, 1, 1, 0, 0, 0, None),  # unknown ethnicity
        ("a4", "v1", 0, 0, 0, 0, 0, 0, "application"),  # withdrew at application
        ("a5", "v2", 0, 1, 1, 1, 1, 0, "offer"),  # declined offer
        ("a6", "v2", 1, 1, 0, 0, 0, 0, None),
        ("a7", "v2", 1, 0, 0, 0, 0, 0, None),
    ]
    return pl.DataFrame(rows, schema=cols, orient="row")


def test_stage_populations_by_hand():
    af = _funnel_rows()
    ids = lambda d: sorted(d["application_id"].to_list())  # noqa: E731
    assert ids(fm.shortlist_population(af)) == ["a1", "a2", "a5", "a6", "a7"]
    assert ids(fm.offer_population(af)) == ["a1", "a5"]
    assert ids(fm.appoint_population(af)) == ["a1", "a2", "a6"]


def test_apply_workforce_population_by_hand():
    wf = pl.DataFrame({
        "snapshot_month": [date(2022, 1, 1), date(2022, 3, 1), date(2022, 7, 1), date(2022, 7, 1), date(2022, 7, 1),
                           date(2022, 7, 1)],
        "staff_id": ["S1", "S1", "S1", "S2", "S3", "S4"],
        "band": ["6", "7", "7", "5", "8a", "7"],
        "bme": [1, 1, 1, 0, 0, None],
        "female": [1, 1, 1, 0, 1, 0],
        "directorate": ["Medicine", "Surgery", "Surgery", "Medicine", "Medicine", "Medicine"],
    })
    af = pl.DataFrame({"staff_id": ["S1", "S3", None], "applied_date": [date(2022, 2, 10), date(2022, 1, 5), date(2022, 8, 1)]})
    pop = fm.apply_workforce_population(wf, af, date(2022, 6, 1))
    got = {(r["staff_id"], r["post_programme"]): (r["band"], r["directorate"], r["applied"]) for r in pop.iter_rows(named=True)}
    # S2 is band 5 (not eligible), S4 unknown ethnicity; S3's application was in the pre period when not on the snapshots
    assert got == {("S1", 0): ("7", "Surgery", 1), ("S1", 1): ("7", "Surgery", 0), ("S3", 1): ("8a", "Medicine", 0)}


def test_apply_pool_binomial_glm_closed_form():
    # two vacancy types: letter vs none; pooled composition gives the coefficient
    af_rows = []
    for v, letter, n_bme, n_white in [("v1", 0, 10, 30), ("v2", 0, 5, 15), ("v3", 1, 12, 18), ("v4", 1, 8, 12)]:
        af_rows += [(v, letter, 1, 0)] * n_bme + [(v, letter, 0, 0)] * n_white
        af_rows += [(v, letter, 1, 1)] * 3  # internal applicants are not in the pool
    af = pl.DataFrame(af_rows, schema=["vacancy_id", "letter_to_ceo", "bme", "internal"], orient="row")
    pool = fm.apply_pool_population(af)
    assert pool.sort("vacancy_id")["n_known"].to_list() == [40, 20, 30, 20]
    fit = fm.fit_logit(pool, fm.Spec((TERM_LETTER_TO_CEO,)), "n_bme", "vacancy_id", trials="n_known",
                       stage=STAGE_APPLY_POOL, model=MODEL_BINOMIAL_GLM)
    assert fit.params[0] == pytest.approx(math.log(15 / 45), abs=1e-7)
    assert fit.params[1] == pytest.approx(math.log((20 / 30) / (15 / 45)), abs=1e-7)
    assert fit.n_obs == 110 and fit.n_events == 35 and fit.n_clusters == 4


def test_disability_not_declared_indicator():
    df = pl.DataFrame({"disability": [1, 0, None]})
    out = fm.with_disability_indicator(df)
    assert out["disability"].to_list() == [1, 0, 0]
    assert out[fm.TERM_DISABILITY_NOT_DECLARED].to_list() == [0, 0, 1]


def test_band_terms_use_vocabulary_reference():
    df = pl.DataFrame({"band": ["8a", "8b", "VSM", "8b"]})
    terms, _, _ = fm.design(df, fm.Spec((), (fm.BAND_CAT,)))
    assert terms == ["intercept", band_term("8b"), band_term("VSM")]
    assert interaction("bme", "letter_to_ceo") in [interaction(*i) for i in fm.BME_INTERACTIONS]


# --------------------------------------------------------------------------
# Engines: statsmodels is primary; the own fast path (above a size threshold) agrees
# --------------------------------------------------------------------------
def _clustered_logit_data(seed=11, V=200, n=5000):
    rng = np.random.default_rng(seed)
    vac = rng.integers(0, V, n)
    bme, fem = rng.binomial(1, .3, n), rng.binomial(1, .5, n)
    letter = rng.binomial(1, .5, V)[vac]
    band = rng.choice(np.array(["8a", "8b", "8c"]), V)[vac]
    eta = -0.5 + 0.4 * bme - 0.2 * fem + 0.3 * letter - 0.5 * bme * letter + rng.normal(0, .5, V)[vac]
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    return pl.DataFrame({"v": vac, "bme": bme, "female": fem, "letter_to_ceo": letter, "band": band, "y": y})


def test_logit_engine_statsmodels_and_fast_path_agree(monkeypatch):
    df = _clustered_logit_data()
    spec = fm.Spec(("bme", "female", "letter_to_ceo"), (fm.BAND_CAT,), (("bme", "letter_to_ceo"),))
    primary = fm.fit_logit(df, spec, "y", "v", stage="shortlist")
    assert primary.engine == fm.ENGINE_STATSMODELS
    monkeypatch.setattr(fm, "STATSMODELS_MAX_ROWS", 0)
    fast = fm.fit_logit(df, spec, "y", "v", stage="shortlist")
    assert fast.engine == fm.ENGINE_OWN
    np.testing.assert_allclose(fast.params, primary.params, atol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(fast.cov)), np.sqrt(np.diag(primary.cov)), rtol=1e-6)
    # and both equal statsmodels on one row per application, clustered by vacancy
    X = np.column_stack([np.ones(df.height), df["bme"], df["female"], df["letter_to_ceo"],
                         df["band"] == "8b", df["band"] == "8c", df["bme"] * df["letter_to_ceo"]]).astype(float)
    ref = sm.GLM(df["y"].to_numpy(), X, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": df["v"].to_numpy(), "use_correction": False})
    G = df["v"].n_unique()
    assert primary.terms == ["intercept", "bme", "female", "letter_to_ceo", band_term("8b"), band_term("8c"),
                             interaction("bme", "letter_to_ceo")]
    np.testing.assert_allclose(primary.params, ref.params, atol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(primary.cov)), ref.bse * math.sqrt(G / (G - 1)), rtol=1e-6)


def test_aggregated_rows_keep_per_row_clustered_se_in_statsmodels():
    """Collapsing to (cluster, pattern) rows leaves statsmodels' clustered sandwich unchanged."""
    df = _clustered_logit_data(seed=4)
    X = np.column_stack([np.ones(df.height), df["bme"], df["female"], df["letter_to_ceo"]]).astype(float)
    per_row = sm.GLM(df["y"].to_numpy(), X, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": df["v"].to_numpy(), "use_correction": False})
    agg = df.group_by("v", "bme", "female", "letter_to_ceo").agg(pl.len().alias("n"), pl.col("y").sum())
    assert agg.height < df.height
    Xa = np.column_stack([np.ones(agg.height), agg["bme"], agg["female"], agg["letter_to_ceo"]]).astype(float)
    ya, na = agg["y"].to_numpy().astype(float), agg["n"].to_numpy().astype(float)
    grouped = sm.GLM(np.column_stack([ya, na - ya]), Xa, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": agg["v"].to_numpy(), "use_correction": False})
    np.testing.assert_allclose(grouped.params, per_row.params, atol=1e-9)
    np.testing.assert_allclose(grouped.bse, per_row.bse, rtol=1e-9)
    # pooling ACROSS clusters (pattern table only) would lose the clustering: the sandwich differs
    pat = df.group_by("bme", "female", "letter_to_ceo").agg(pl.len().alias("n"), pl.col("y").sum())
    Xp = np.column_stack([np.ones(pat.height), pat["bme"], pat["female"], pat["letter_to_ceo"]]).astype(float)
    yp, np_ = pat["y"].to_numpy().astype(float), pat["n"].to_numpy().astype(float)
    model_based = sm.GLM(np.column_stack([yp, np_ - yp]), Xp, family=sm.families.Binomial()).fit()
    np.testing.assert_allclose(model_based.params, per_row.params, atol=1e-8)
    assert np.abs(model_based.bse / per_row.bse - 1).max() > 0.05


def test_conditional_logit_engine_statsmodels_and_fast_path_agree(monkeypatch):
    rng = np.random.default_rng(8)
    rows = []
    for v in range(300):
        m = rng.integers(2, 9)
        xb, xf, xi = rng.binomial(1, .4, m), rng.binomial(1, .5, m), rng.binomial(1, .3, m)
        u = -0.5 * xb + 0.3 * xi + rng.gumbel(size=m)
        d = 2 if v % 10 == 0 else 1
        o = np.zeros(m, int)
        o[np.argsort(-u)[:d]] = 1
        rows += [(v, xb[i], xf[i], xi[i], o[i]) for i in range(m)]
    df = pl.DataFrame(rows, schema=["vacancy_id", "bme", "female", "internal", "offered"], orient="row")
    spec = fm.Spec(("bme", "female", "internal"), intercept=False)
    primary = fm.fit_conditional_logit(df, spec, "offered", "vacancy_id", stage="offer")
    assert primary.engine == fm.ENGINE_STATSMODELS
    monkeypatch.setattr(fm, "CL_STATSMODELS_MAX_ROWS", 0)
    fast = fm.fit_conditional_logit(df, spec, "offered", "vacancy_id", stage="offer")
    assert fast.engine == fm.ENGINE_OWN
    np.testing.assert_allclose(fast.params, primary.params, atol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(fast.cov)), np.sqrt(np.diag(primary.cov)), rtol=1e-4)
