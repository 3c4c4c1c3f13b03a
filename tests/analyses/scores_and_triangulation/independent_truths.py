"""Truths for the score and ITS recovery tests, computed here from effects/*.yaml, not by the generator.

Test-only helper.  Neither function imports edi_recruit.synthetic: each reads
the planted parameters from the effects YAML and, for the ITS, the realised
design (who was interviewed for which vacancy, with which vacancy features)
from the generator's extracts, and computes its target by a separate
calculation.  A generator that simulated from a wrong linear predictor would
move its estimates but not these targets (the truth.json values moved with it).

* ``its_truth``: expected monthly BME share of appointees given each
  vacancy's choice set, P(offer to i) = exp(x_i'b) / sum_j exp(x_j'b) with b
  the YAML offer terms (the conditional logit the docs specify), then the
  same weighted segmented regression the estimator fits.
* ``score_gap_truth``: E[score / max | bme] - E[score / max | white] by
  numerical integration of round(clip(p * max + noise)) over the documented
  score model (docs/synthetic-data.md "interview_score").
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import yaml
from scipy import stats

from tasks.core.paths import MAPPINGS_DIR, PROJECT_ROOT
from tasks.core.vocabulary import (
    STAGE_INTERVIEW_SCORE,
    STAGE_OFFER,
    TERM_BME,
    TERM_BME_X_LETTER,
    TERM_BME_X_PANEL,
    TERM_BME_X_POST,
    TERM_DISABILITY,
    TERM_FEMALE,
    TERM_INTERCEPT,
    TERM_INTERNAL,
    TERM_LEVEL_CHANGE,
    TERM_SLOPE_CHANGE,
    wres_group,
)


def planted(effects: str | None = None) -> dict[str, dict[str, float]]:
    """Terms and parameters per stage: effects/default.yaml, with effects/<name>.yaml merged over it."""
    def load(name):
        return yaml.safe_load((PROJECT_ROOT / "effects" / f"{name}.yaml").read_text())["models"]
    out = {s: dict(v.get("terms", {})) | dict(v.get("parameters", {})) for s, v in load("default").items()}
    if effects:
        for s, v in load(effects).items():
            out[s].update(v.get("terms", {}))
            out[s].update(v.get("parameters", {}))
    return out


def _read(d: Path, table: str) -> pl.DataFrame:
    mapping = yaml.safe_load((MAPPINGS_DIR / "trac.yaml").read_text())["tables"][table]["columns"]
    raw = pl.read_csv(d / f"{table}.csv", infer_schema=False)
    return raw.select([pl.col(h).alias(c) for h, c in mapping.items() if h in raw.columns])


def _wres(col: str) -> pl.Expr:
    return pl.col(col).map_elements(wres_group, return_dtype=pl.String).fill_null("Unknown")


def offer_choice_sets(d: Path, programme_start: date) -> pl.DataFrame:
    """Interviewed candidates not withdrawn at interview, with the offer model's covariates, from the extracts."""
    panel = _read(d, "panel_members").with_columns(_wres("ethnic_category").alias("g")).group_by("vacancy_id").agg(
        ((pl.col("sex") == "Female").any() & (pl.col("g") == "BME").any()).cast(pl.Int64).alias("diverse_panel"))
    vac = _read(d, "vacancies").select(
        "vacancy_id", pl.col("advert_date").str.strptime(pl.Date, "%d/%m/%Y"),
        (pl.col("letter_to_ceo") == "Y").cast(pl.Int64).alias("letter_to_ceo"),
    ).with_columns((pl.col("advert_date") >= programme_start).cast(pl.Int64).alias("post_programme")
                   ).join(panel, on="vacancy_id", how="left").with_columns(pl.col("diverse_panel").fill_null(0))
    apps = _read(d, "applications").filter(
        (pl.col("interviewed") == "Y") & (pl.col("withdrawn_stage").fill_null("") != "interview"))
    return apps.select(
        "vacancy_id", _wres("ethnic_category").alias("wres"),
        (pl.col("sex") == "Female").cast(pl.Int64).alias("female"),
        (pl.col("internal") == "Y").cast(pl.Int64).alias("internal"),
        (pl.col("disability") == "Yes").cast(pl.Int64).alias("disability"),
        (pl.col("appointed") == "Y").cast(pl.Int64).alias("appointed"),
    ).join(vac, on="vacancy_id", how="inner")


def its_truth(d: Path, programme_start: date, *, effects: str | None = None) -> dict[str, float]:
    """Level and slope change of the expected monthly BME share of appointees (see the module docstring)."""
    b = planted(effects)[STAGE_OFFER]
    cs = offer_choice_sets(d, programme_start)
    bme = (pl.col("wres") == "BME").cast(pl.Float64)
    xb = (b[TERM_BME] * bme + b[TERM_FEMALE] * pl.col("female") + b[TERM_INTERNAL] * pl.col("internal")
          + b[TERM_DISABILITY] * pl.col("disability") + bme * (b[TERM_BME_X_LETTER] * pl.col("letter_to_ceo")
          + b[TERM_BME_X_PANEL] * pl.col("diverse_panel") + b[TERM_BME_X_POST] * pl.col("post_programme")))
    cs = cs.with_columns(xb.exp().alias("w"), bme.alias("b"), (pl.col("wres") != "Unknown").cast(pl.Float64).alias("k"))
    per_vac = cs.group_by("vacancy_id", "advert_date").agg(
        ((pl.col("w") * pl.col("b")).sum() / pl.col("w").sum()).alias("pb"),
        ((pl.col("w") * pl.col("k")).sum() / pl.col("w").sum()).alias("pk"),
        pl.col("appointed").sum().alias("a"))
    p0 = programme_start.year * 12 + programme_start.month - 1
    monthly = per_vac.with_columns(
        (pl.col("advert_date").dt.year() * 12 + pl.col("advert_date").dt.month() - 1 - p0).alias("t")
    ).group_by("t").agg((pl.col("a") * pl.col("pb")).sum().alias("nb"), (pl.col("a") * pl.col("pk")).sum().alias("nk")
                        ).filter(pl.col("nk") > 0).sort("t")
    t = monthly["t"].to_numpy().astype(float)
    y = (monthly["nb"] / monthly["nk"]).to_numpy()
    w = monthly["nk"].to_numpy()
    post = (t >= 0).astype(float)
    X = np.column_stack([np.ones_like(t), t, post, t * post])
    sw = np.sqrt(w)
    coef = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]
    return {TERM_LEVEL_CHANGE: float(coef[2]), TERM_SLOPE_CHANGE: float(coef[3])}


def _expected_normalised_score(mean_share: float, sd_share: float, smin: int, smax: int) -> float:
    """E[clip(round(N(mean_share * smax, (sd_share * smax)^2)), smin, smax)] / smax, summed over the integers."""
    k = np.arange(smin, smax + 1)
    mu, sd = mean_share * smax, sd_share * smax
    upper = np.where(k == smax, np.inf, k + 0.5)
    lower = np.where(k == smin, -np.inf, k - 0.5)
    prob = stats.norm.cdf((upper - mu) / sd) - stats.norm.cdf((lower - mu) / sd)
    return float((prob * k).sum() / smax)


def score_gap_truth(*, effects: str | None = None, share_ten_point: float = 0.4) -> float:
    """Planted BME gap in the normalised score after rounding and clipping (White, not internal, female = 0).

    The score model: p = intercept + bme + vacancy effect + member severity +
    kappa * z (z the standardised offer noise, independent of bme) + noise;
    the score is round(p * max) clipped to 1..5 (60% of vacancies) or 0..10
    (40%).  The non-normal z is approximated by a normal of the same variance
    (its effect on the rounding is below 1e-4 here).
    """
    p = planted(effects)[STAGE_INTERVIEW_SCORE]
    sd = float(np.sqrt(p["vacancy_sd"] ** 2 + p["member_sd"] ** 2 + p["kappa"] ** 2 + p["noise_sd"] ** 2))
    gap = 0.0
    for share, (smin, smax) in ((1 - share_ten_point, (1, 5)), (share_ten_point, (0, 10))):
        white = _expected_normalised_score(p[TERM_INTERCEPT], sd, smin, smax)
        bme = _expected_normalised_score(p[TERM_INTERCEPT] + p[TERM_BME], sd, smin, smax)
        gap += share * (bme - white)
    return gap
