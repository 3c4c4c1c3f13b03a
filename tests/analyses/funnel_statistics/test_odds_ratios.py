"""The odds-ratio table: contrasts, Wald rows and q-value families."""
from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from funnel_tables import table_frame

from tasks.analyses.funnel_statistics import fits, odds_ratios, specs
from tasks.core.vocabulary import TERM_LETTER_TO_CEO, contrast_term


def test_contrast_is_the_stratum_odds_ratio():
    # saturated 2x2x2: bme@letter_to_ceo=1 equals the log OR in the letter=1 sub-table
    cells = {(0, 0): (30, 70), (1, 0): (10, 40), (0, 1): (25, 50), (1, 1): (20, 30)}
    df = table_frame(cells, names=("bme", "letter_to_ceo"))
    spec = specs.Spec(("bme", "letter_to_ceo"), (), (("bme", "letter_to_ceo"),))
    fit = fits.fit_logit(df, spec, "y", "cluster", stage="shortlist", feature_levels=("letter_to_ceo",))
    rows = {r["term"]: r for r in odds_ratios.fit_rows(fit, specs.CONTRASTS)}
    on = rows[contrast_term(TERM_LETTER_TO_CEO, 1)]
    off = rows[contrast_term(TERM_LETTER_TO_CEO, 0)]
    assert on["estimate"] == pytest.approx(math.log(20 * 50 / (30 * 25)), abs=1e-8)
    # one row per cluster, saturated: CR2 = HC2, leverage 1/n in each cell of n = e + f rows, so a
    # cell's log odds has variance n/(n-1) (1/e + 1/f) (Woolf's 1/e + 1/f times the leverage correction)
    var = 75 / 74 * (1 / 25 + 1 / 50) + 50 / 49 * (1 / 20 + 1 / 30)
    assert on["std_error"] == pytest.approx(math.sqrt(var), rel=1e-6)
    assert off["estimate"] == pytest.approx(math.log(10 * 70 / (40 * 30)), abs=1e-8)
    assert on["odds_ratio"] == pytest.approx(math.exp(on["estimate"]))
    z = 1.959963984540054
    assert on["ci_low"] == pytest.approx(math.exp(on["estimate"] - z * on["std_error"]))


def test_contrast_averages_other_interactions_within_level():
    fit = fits.Fit("offer", "conditional_logit", "main", ["bme", "bme:letter_to_ceo", "bme:post_programme"],
                 np.array([-0.5, 0.6, 0.2]), np.diag([0.01, 0.04, 0.09]), 1, 1, 1)
    fit.feature_means[("letter_to_ceo", 1)] = {"letter_to_ceo": 1.0, "post_programme": 1.0}
    fit.feature_means[("letter_to_ceo", 0)] = {"letter_to_ceo": 0.0, "post_programme": 0.25}
    w1 = odds_ratios.contrast_weights(fit, "letter_to_ceo", 1)
    assert w1 == {"bme": 1.0, "bme:letter_to_ceo": 1.0, "bme:post_programme": 1.0}
    est, se = fit.lincom(odds_ratios.contrast_weights(fit, "letter_to_ceo", 0))
    assert est == pytest.approx(-0.5 + 0.25 * 0.2)
    assert se == pytest.approx(math.sqrt(0.01 + 0.25 ** 2 * 0.09))
    assert odds_ratios.contrast_weights(fit, "diverse_panel", 1) is None


def test_qvalue_families_stratified_by_term():
    rows = []
    for a, t, p in [("stratum:band=8a", "bme", 0.01), ("stratum:band=8b", "bme", 0.04),
                    ("stratum:band=8a", "female", 0.5), ("main", "bme", 0.01), ("main", "female", 0.02),
                    ("main", "intercept", 1e-9)]:
        rows.append({"analysis": a, "stage": "offer", "model": "logit", "term": t, "p_value": p})
    out = odds_ratios.add_qvalues(pl.DataFrame(rows))
    q = {(r["analysis"], r["term"]): r["q_value"] for r in out.iter_rows(named=True)}
    assert q[("stratum:band=8a", "bme")] == pytest.approx(0.02)  # family of 2 strata
    assert q[("stratum:band=8b", "bme")] == pytest.approx(0.04)
    assert q[("stratum:band=8a", "female")] == pytest.approx(0.5)  # alone in its family
    assert q[("main", "bme")] == pytest.approx(0.02)  # main family excludes the intercept
    assert q[("main", "intercept")] is None


SPEC_WITH_PROGRAMME = specs.Spec(("bme", "letter_to_ceo", "post_programme"), (),
                                 (("bme", "letter_to_ceo"), ("bme", "post_programme")))


def _programme_fit(df: pl.DataFrame):
    return fits.fit_logit(df, SPEC_WITH_PROGRAMME, "y", "cluster", stage="shortlist",
                          feature_levels=("letter_to_ceo", "post_programme"))


def test_contrast_ignores_an_inestimable_term_it_does_not_use():
    # no vacancy is post-programme: post_programme and bme:post_programme cannot be estimated (NaN),
    # but bme@letter_to_ceo=1 gives them weight 0 and must equal the 2x2x2 stratum log odds ratio
    cells = {(0, 0): (30, 70), (1, 0): (10, 40), (0, 1): (25, 50), (1, 1): (20, 30)}
    df = table_frame(cells, names=("bme", "letter_to_ceo")).with_columns(pl.lit(0).alias("post_programme"))
    fit = _programme_fit(df)
    rows = {r["term"]: r for r in odds_ratios.fit_rows(fit, specs.CONTRASTS)}
    assert "not_estimable" in rows["bme:post_programme"]["flags"]
    assert rows["bme:post_programme"]["estimate"] is None
    on = rows[contrast_term(TERM_LETTER_TO_CEO, 1)]
    off = rows[contrast_term(TERM_LETTER_TO_CEO, 0)]
    assert on["estimate"] == pytest.approx(math.log(20 * 50 / (30 * 25)), abs=1e-8)
    assert off["estimate"] == pytest.approx(math.log(10 * 70 / (40 * 30)), abs=1e-8)
    # CR2 = HC2 here (one row per cluster, saturated in the estimable columns): see the test above
    assert on["std_error"] == pytest.approx(math.sqrt(75 / 74 * (1 / 25 + 1 / 50) + 50 / 49 * (1 / 20 + 1 / 30)),
                                            rel=1e-6)
    assert "not_estimable" not in on["flags"] and "not_estimable" not in off["flags"]


def test_contrast_that_uses_an_inestimable_term_is_flagged_never_blank():
    # post_programme = letter_to_ceo: bme:post_programme is aliased (NaN) and bme@letter_to_ceo=1 uses it
    cells = {(0, 0): (30, 70), (1, 0): (10, 40), (0, 1): (25, 50), (1, 1): (20, 30)}
    df = table_frame(cells, names=("bme", "letter_to_ceo")).with_columns(pl.col("letter_to_ceo").alias("post_programme"))
    fit = _programme_fit(df)
    rows = {r["term"]: r for r in odds_ratios.fit_rows(fit, specs.CONTRASTS)}
    on = rows[contrast_term(TERM_LETTER_TO_CEO, 1)]
    assert on["estimate"] is None and on["std_error"] is None
    assert "not_estimable" in on["flags"].split(";")
    assert all(r["flags"] for r in rows.values() if r["estimate"] is None)


def test_lincom_skips_zero_weights_on_nan_coefficients():
    fit = fits.Fit("offer", "logit", "main", ["bme", "bme:letter_to_ceo", "bme:post_programme"],
                   np.array([-0.5, 0.6, np.nan]), np.diag([0.01, 0.04, np.nan]), 1, 1, 1)
    est, se = fit.lincom({"bme": 1.0, "bme:letter_to_ceo": 1.0, "bme:post_programme": 0.0})
    assert est == pytest.approx(0.1) and se == pytest.approx(math.sqrt(0.05))
    est, se = fit.lincom({"bme": 1.0, "bme:post_programme": 0.5})
    assert math.isnan(est) and math.isnan(se)
