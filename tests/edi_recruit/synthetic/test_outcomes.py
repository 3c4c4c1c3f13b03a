"""Recovery of the planted shortlist (logit) and offer (conditional logit) stages (edi_recruit/synthetic/outcomes.py).

A 200k-application trust is read back from parquet and fitted with statsmodels.
"""
from __future__ import annotations

import json

import polars as pl

from tasks.core import vocabulary as V


def _design(summary):
    t = {k: pl.read_parquet(p) for k, p in summary.files.items() if k != "workforce"}
    def bme(col):
        return pl.col(col).map_elements(lambda c: float(V.wres_group(c) == V.WRES_BME), return_dtype=pl.Float64)
    pan = t["panel_members"].with_columns(b=bme("Ethnic Origin"), f=pl.col("Gender") == "Female").group_by(
        "Vacancy Reference").agg(diverse_panel=(pl.col("b").max() > 0) & pl.col("f").any())
    mgr = t["hiring_managers"].select(pl.col("Manager Ref").alias("Recruiting Manager Ref"),
                                      bme("Ethnic Origin").alias("manager_bme"))
    vac = t["vacancies"].join(pan, on="Vacancy Reference").join(mgr, on="Recruiting Manager Ref").select(
        "Vacancy Reference",
        pl.col("diverse_panel").cast(pl.Float64),
        (pl.col("Advert Date").str.to_date("%d/%m/%Y") >= pl.date(2022, 6, 1)).cast(pl.Float64).alias("post_programme"),
        (pl.col("CEO Letter Required") == "Y").cast(pl.Float64).alias("letter_to_ceo"), "manager_bme")
    app = t["applications"].join(vac, on="Vacancy Reference").with_columns(
        bme=bme("Ethnic Origin"), female=(pl.col("Gender") == "Female").cast(pl.Float64),
        internal=(pl.col("Internal Applicant") == "Y").cast(pl.Float64),
        disability=(pl.col("Disability") == "Yes").cast(pl.Float64))
    return app.with_columns(**{
        V.TERM_BME_X_PANEL: pl.col("bme") * pl.col("diverse_panel"),
        V.TERM_BME_X_POST: pl.col("bme") * pl.col("post_programme"),
        V.TERM_BME_X_LETTER: pl.col("bme") * pl.col("letter_to_ceo"),
        V.TERM_INTERCEPT: pl.lit(1.0)})


def test_shortlist_stage_recovered(big_trust):
    import statsmodels.api as sm
    truth = json.loads((big_trust.out_dir / "truth.json").read_text(encoding="utf-8"))
    terms = truth["models"][V.STAGE_SHORTLIST]["terms"]
    app = _design(big_trust).filter(pl.col("Withdrawn Stage").is_null() | (pl.col("Withdrawn Stage") != "application"))
    names = list(terms)
    X = app.select(names).to_numpy()
    y = (app["Shortlisted"] == "Y").cast(pl.Float64).to_numpy()
    fit = sm.Logit(y, X).fit(disp=0)
    for name, est in zip(names, fit.params):
        assert abs(est - terms[name]) < 0.1, (name, est, terms[name])


def test_offer_stage_recovered(big_trust):
    from statsmodels.discrete.conditional_models import ConditionalLogit
    truth = json.loads((big_trust.out_dir / "truth.json").read_text(encoding="utf-8"))
    terms = truth["models"][V.STAGE_OFFER]["terms"]
    app = _design(big_trust).filter((pl.col("Interviewed") == "Y") & (
        pl.col("Withdrawn Stage").is_null() | (pl.col("Withdrawn Stage") != "interview")))
    # groups with variation in the outcome only
    app = app.with_columns(o=(pl.col("Offered") == "Y").cast(pl.Float64)).filter(
        (pl.col("o").sum().over("Vacancy Reference") > 0)
        & (pl.col("o").sum().over("Vacancy Reference") < pl.len().over("Vacancy Reference")))
    names = list(terms)
    groups = app["Vacancy Reference"].rank("dense").to_numpy()
    fit = ConditionalLogit(app["o"].to_numpy(), app.select(names).to_numpy(), groups=groups).fit(disp=0)
    for name, est in zip(names, fit.params):
        assert abs(est - terms[name]) < 0.15, (name, est, terms[name])
