"""The national tables of one national run, from the trusts' published figures.

Reads the per-trust rows of :mod:`tasks.national.collect` (estimates, monthly and
overall indicator-2 counts) and each trust's adoption of the programme rules (from
the manifest).  Returns the national tables as polars frames, keyed by name
(:data:`NATIONAL_TABLES`):

* ``trust_estimates``: every trust's key-term rows as combined (the input, for audit);
* ``pooled_effects``: per (stage, model, term) the random-effects pooled estimate by
  REML and, as the cross-check, by DerSimonian-Laird (column ``method``), with tau^2,
  I^2, Q and the prediction interval (:func:`tasks.national.meta_analysis.random_effects`);
* ``wres_indicator2``: national WRES indicator 2 from summed counts by WRES year and
  region (:func:`tasks.national.wres_pooled.national_indicator2`);
* ``funnel``: each trust's overall indicator 2 against its 95% / 99.8% limits
  (:func:`tasks.national.funnel_plot.funnel_plot`), ``funnel_curve`` the drawn limits;
* ``adoption``: per rule and (stage, model, term), adopters against non-adopters
  (:func:`tasks.national.adoption.compare_adopters`);
* ``trust_runs``: every trust's status (``completed`` / ``failed``) with its one-line reason and its own
  run id in its own warehouse (``trust_run_id``).

Only rows marked ``usable`` enter the pooling (an estimate flagged not_estimable or
not_converged, or with no SE, is listed but left out).  Never reads files.
"""
from __future__ import annotations

import polars as pl

from tasks.national.adoption import ADOPTION_SCHEMA, adoption_comparison_row, compare_adopters
from tasks.national.collect import ESTIMATE_COLUMNS, KEY_MODELS, KEY_TERMS
from tasks.national.funnel_plot import funnel_plot
from tasks.national.manifest import RULES
from tasks.national.meta_analysis import POOLED_SCHEMA, random_effects
from tasks.national.wres_pooled import COUNT_COLUMNS, NATIONAL_WRES_SCHEMA, national_indicator2

NATIONAL_TABLES = ("trust_runs", "trust_estimates", "pooled_effects", "wres_indicator2", "funnel", "funnel_curve",
                   "adoption")


METHODS = ("reml", "dl")


TRUST_RUN_SCHEMA = {"trust_code": pl.String, "region": pl.String, "status": pl.String, "trust_run_id": pl.String,
                    "reason": pl.String, "seconds": pl.Float64, "worker": pl.String, "peak_rss_mb": pl.Float64}


ESTIMATE_SCHEMA = {"trust_code": pl.String, "region": pl.String, "stage": pl.String, "model": pl.String,
                   "term": pl.String, "estimate": pl.Float64, "std_error": pl.Float64, "n_obs": pl.Int64,
                   "usable": pl.Boolean, "flags": pl.String}


COUNTS_SCHEMA = {"trust_code": pl.String, "region": pl.String, "month": pl.String,
                 **{c: pl.Int64 for c in COUNT_COLUMNS}}


KEY_ORDER = [(stage, model, term) for stage, model in KEY_MODELS.items() for term in KEY_TERMS]


def _frame(rows: list[dict], schema: dict) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def pooled_effects(estimates: pl.DataFrame) -> pl.DataFrame:
    """REML and DL pooled rows per key (stage, model, term) present in ``estimates``."""
    schema = {"stage": pl.String, "model": pl.String, **POOLED_SCHEMA}
    rows = []
    for stage, model, term in KEY_ORDER:
        part = estimates.filter((pl.col("stage") == stage) & (pl.col("model") == model) & (pl.col("term") == term))
        if part.height == 0:
            continue
        usable = part.filter(pl.col("usable"))
        for method in METHODS:
            pooled = random_effects(estimates=usable.get_column("estimate").to_list(),
                                    std_errors=usable.get_column("std_error").to_list(), method=method)
            row = {"stage": stage, "model": model, "term": term, **pooled.as_row()}
            row["excluded"] += part.height - usable.height
            rows.append(row)
    return _frame(rows, schema)


def adoption_table(estimates: pl.DataFrame, adopts: dict[str, dict]) -> pl.DataFrame:
    """Adopters vs non-adopters of each rule, per key (stage, model, term) (REML)."""
    schema = {"stage": pl.String, "model": pl.String, **ADOPTION_SCHEMA}
    rows = []
    usable = estimates.filter(pl.col("usable"))
    for rule in RULES:
        for stage, model, term in KEY_ORDER:
            part = usable.filter((pl.col("stage") == stage) & (pl.col("model") == model) & (pl.col("term") == term))
            if part.height == 0:
                continue
            codes = part.get_column("trust_code").to_list()
            comparison = compare_adopters(estimates=part.get_column("estimate").to_list(),
                                          std_errors=part.get_column("std_error").to_list(),
                                          adopted=[(adopts.get(c) or {}).get(rule) for c in codes])
            rows.append({"stage": stage, "model": model, **adoption_comparison_row(comparison, term=term, rule=rule)})
    return _frame(rows, schema)


def national_tables(trust_runs: list[dict], figures: dict[str, dict], adopts: dict[str, dict],
                    *, as_of: str) -> dict[str, pl.DataFrame]:
    """Every national table (see the module docstring) from the completed trusts' figures.

    ``figures`` maps a completed trust's code to its :func:`tasks.national.collect.trust_figures`;
    ``adopts`` maps a trust code to ``{rule: True/False/None}``.
    """
    est = _frame([{k: r[k] for k in ESTIMATE_COLUMNS} for f in figures.values() for r in f["estimates"]],
                 ESTIMATE_SCHEMA)
    months = _frame([r for f in figures.values() for r in f["wres_months"]], COUNTS_SCHEMA)
    overall = _frame([r for f in figures.values() for r in f["wres_overall"]], COUNTS_SCHEMA).drop("month")
    wres = national_indicator2(months) if months.height else pl.DataFrame(schema=NATIONAL_WRES_SCHEMA)
    funnel = funnel_plot(overall) if overall.height else None
    tables = {
        "trust_runs": _frame([{**{k: r.get(k) for k in TRUST_RUN_SCHEMA}, "trust_run_id": r.get("run_id")}
                             for r in trust_runs], TRUST_RUN_SCHEMA),
        "trust_estimates": est,
        "pooled_effects": pooled_effects(est),
        "wres_indicator2": wres,
        "funnel": funnel.trusts if funnel else pl.DataFrame(),
        "funnel_curve": funnel.curve if funnel else pl.DataFrame(),
        "adoption": adoption_table(est, adopts),
    }
    return {name: df.with_columns(pl.lit(as_of).alias("as_of")) if df.width else df for name, df in tables.items()}
