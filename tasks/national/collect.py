"""A trust's published figures that the national run combines, read from its own warehouse.

Reads ``published.odds_ratios`` and ``published.wres_indicator2`` of one completed
trust run through :mod:`tasks.outputs.published` (the one reader of published
tables; never ``results.*``, so nothing a trust withheld or suppressed reaches the
national run).  Returns small row lists (they cross the Dask cluster to the
national flow):

* ``estimates``: the main-model rows of the key terms (:data:`KEY_TERMS`) at the
  key stages (:data:`KEY_MODELS`: the model each stage is planted and reported with),
  ``estimate`` and ``std_error`` on the log-odds scale as published;
* ``wres_months``: the trust's indicator-2 counts by month (``scope = month``);
* ``wres_overall``: its overall indicator-2 counts (one row).

Published counts are text; a suppressed cell (``*``) becomes None here and is never
imputed.  The rows carry the trust's code and region only.
"""
from __future__ import annotations

from pathlib import Path

import polars as pl

from tasks.core.vocabulary import (
    ANALYSIS_MAIN,
    MODEL_CONDITIONAL_LOGIT,
    MODEL_LOGIT,
    STAGE_APPLY_WORKFORCE,
    STAGE_OFFER,
    STAGE_SHORTLIST,
    TERM_BME,
    TERM_BME_X_LETTER,
    TERM_BME_X_PANEL,
    TERM_BME_X_POST,
)
from tasks.national.wres_pooled import COUNT_COLUMNS

KEY_MODELS: dict[str, str] = {STAGE_SHORTLIST: MODEL_LOGIT, STAGE_OFFER: MODEL_CONDITIONAL_LOGIT,
                              STAGE_APPLY_WORKFORCE: MODEL_LOGIT}


KEY_TERMS: tuple[str, ...] = (TERM_BME, TERM_BME_X_LETTER, TERM_BME_X_PANEL, TERM_BME_X_POST)


UNUSABLE_FLAGS = ("not_estimable", "not_converged")


SCOPE_OVERALL, SCOPE_MONTH = "overall", "month"


ESTIMATE_COLUMNS = ("trust_code", "region", "stage", "model", "term", "estimate", "std_error", "n_obs", "usable",
                    "flags")


def published_count(value) -> int | None:
    """A published count as an int; the suppression symbol, empty or None -> None."""
    if value is None:
        return None
    text = str(value).strip()
    if not text or not text.lstrip("-").isdigit():
        return None
    return int(text)


def key_estimates(odds_ratios: pl.DataFrame, *, trust_code: str, region: str) -> list[dict]:
    """The published main-model rows of the key terms at the key stages (see the module docstring)."""
    rows = []
    if odds_ratios.height == 0:
        return rows
    main = odds_ratios.filter(pl.col("analysis") == ANALYSIS_MAIN) if "analysis" in odds_ratios.columns \
        else odds_ratios
    for r in main.iter_rows(named=True):
        if KEY_MODELS.get(r["stage"]) != r["model"] or r["term"] not in KEY_TERMS:
            continue
        flags = r.get("flags") or ""
        usable = (r["estimate"] is not None and r["std_error"] is not None and r["std_error"] > 1e-8
                  and not any(f in flags.split(";") for f in UNUSABLE_FLAGS))
        rows.append({"trust_code": trust_code, "region": region, "stage": r["stage"], "model": r["model"],
                     "term": r["term"], "estimate": r["estimate"], "std_error": r["std_error"],
                     "n_obs": published_count(r.get("n_obs")), "usable": usable, "flags": flags})
    return rows


def wres_rows(wres: pl.DataFrame, *, trust_code: str, region: str, scope: str) -> list[dict]:
    """The trust's published indicator-2 counts of one scope (None = suppressed)."""
    if wres.height == 0:
        return []
    out = []
    for r in wres.filter(pl.col("scope") == scope).iter_rows(named=True):
        out.append({"trust_code": trust_code, "region": region,
                    "month": r["scope_value"] if scope == SCOPE_MONTH else None,
                    **{c: published_count(r[c]) for c in COUNT_COLUMNS}})
    return out


def trust_figures(db: str | Path, run_id: str, *, trust_code: str, region: str) -> dict:
    """``{"estimates", "wres_months", "wres_overall"}`` of one trust's published run."""
    from tasks.outputs.published import load_run

    run = load_run(db, run_id)
    odds = run.tables.get("odds_ratios", pl.DataFrame())
    wres = run.tables.get("wres_indicator2", pl.DataFrame())
    return {"estimates": key_estimates(odds, trust_code=trust_code, region=region),
            "wres_months": wres_rows(wres, trust_code=trust_code, region=region, scope=SCOPE_MONTH),
            "wres_overall": wres_rows(wres, trust_code=trust_code, region=region, scope=SCOPE_OVERALL)}
