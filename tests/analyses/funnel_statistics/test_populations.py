"""Stage populations by hand, and the apply-pool binomial GLM on its population."""
from __future__ import annotations

import math
from datetime import date

import polars as pl
import pytest

from tasks.analyses.funnel_statistics import fits, populations, specs
from tasks.core.vocabulary import MODEL_BINOMIAL_GLM, STAGE_APPLY_POOL, TERM_LETTER_TO_CEO


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
    ids = lambda d: sorted(d["application_id"].to_list())
    assert ids(populations.shortlist_population(af)) == ["a1", "a2", "a5", "a6", "a7"]
    assert ids(populations.offer_population(af)) == ["a1", "a5"]
    assert ids(populations.appoint_population(af)) == ["a1", "a2", "a6"]


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
    pop = populations.apply_workforce_population(wf, af, date(2022, 6, 1))
    got = {(r["staff_id"], r["post_programme"]): (r["band"], r["directorate"], r["applied"]) for r in pop.iter_rows(named=True)}
    # S2 is band 5 (not eligible), S4 unknown ethnicity; S3's application was in the pre period when not on the snapshots
    assert got == {("S1", 0): ("7", "Surgery", 1), ("S1", 1): ("7", "Surgery", 0), ("S3", 1): ("8a", "Medicine", 0)}


def test_apply_pool_binomial_glm_closed_form():
    # two vacancy types: letter vs none; pooled composition gives the coefficient
    af_rows = []
    for v, letter, n_bme, n_white in [("v1", 0, 12, 28), ("v2", 0, 3, 17), ("v3", 1, 12, 18), ("v4", 1, 8, 12)]:
        af_rows += [(v, letter, 1, 0)] * n_bme + [(v, letter, 0, 0)] * n_white
        af_rows += [(v, letter, 1, 1)] * 3  # internal applicants are not in the pool
    af = pl.DataFrame(af_rows, schema=["vacancy_id", "letter_to_ceo", "bme", "internal"], orient="row")
    pool = populations.apply_pool_population(af)
    assert pool.sort("vacancy_id")["n_known"].to_list() == [40, 20, 30, 20]
    fit = fits.fit_logit(pool, specs.Spec((TERM_LETTER_TO_CEO,)), "n_bme", "vacancy_id", trials="n_known",
                       stage=STAGE_APPLY_POOL, model=MODEL_BINOMIAL_GLM)
    assert fit.params[0] == pytest.approx(math.log(15 / 45), abs=1e-7)
    assert fit.params[1] == pytest.approx(math.log((20 / 30) / (15 / 45)), abs=1e-7)
    assert fit.n_obs == 110 and fit.n_events == 35 and fit.n_clusters == 4
    # quasi-binomial SE by hand: fitted shares 0.25 (no letter) and 0.4 (letter); Pearson chi-square
    # (12-10)^2/7.5 + (3-5)^2/3.75 + 0 + 0 = 1.6 on 4 - 2 df, so phi = 0.8;
    # var(letter) = phi (1/(60 x 0.25 x 0.75) + 1/(50 x 0.4 x 0.6))
    assert fit.cov[1, 1] == pytest.approx(0.8 * (1 / 11.25 + 1 / 12), rel=1e-7)
    assert fit.cov[0, 0] == pytest.approx(0.8 / 11.25, rel=1e-7)


def test_disability_not_declared_indicator():
    df = pl.DataFrame({"disability": [1, 0, None]})
    out = populations.with_disability_indicator(df)
    assert out["disability"].to_list() == [1, 0, 0]
    assert out[specs.TERM_DISABILITY_NOT_DECLARED].to_list() == [0, 0, 1]


def test_apply_pool_saturated_fit_uses_the_binomial_variance():
    # two vacancies, two terms: no residual degrees of freedom, so phi = 1 and the SEs are flagged model-based
    pool = pl.DataFrame({"vacancy_id": ["v1", "v2"], "letter_to_ceo": [0, 1], "n_bme": [10, 20], "n_known": [40, 50]})
    fit = fits.fit_logit(pool, specs.Spec((TERM_LETTER_TO_CEO,)), "n_bme", "vacancy_id", trials="n_known",
                         stage=STAGE_APPLY_POOL, model=MODEL_BINOMIAL_GLM)
    assert fit.cov[1, 1] == pytest.approx(1 / (40 * 0.25 * 0.75) + 1 / (50 * 0.4 * 0.6), rel=1e-7)
    assert fits.FLAG_MODEL_SE in fit.term_flags[TERM_LETTER_TO_CEO]
