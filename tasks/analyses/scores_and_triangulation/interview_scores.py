"""Interview scores: the sheet rule, candidate scores, group comparisons and the result tables.

Contract: pure functions on polars frames, no I/O.  Input is ``marts.score_sheets``
(one row per application x panel member, normalised in
sql/models/marts/score_sheets.sql) and ``marts.application_funnel``;
:func:`tasks.analyses.scores_and_triangulation.analysis.analyse` reads the
marts and calls :func:`interview_score_tables`, which returns
``interview_scores`` (:data:`INTERVIEW_SCORES_SCHEMA`) and ``score_effects``
(the model fits of :mod:`tasks.analyses.scores_and_triangulation.score_models`).
The method is documented in docs/methods.md section 3.

Normalisation (per score sheet = one panel member's scores for one candidate)
is done by the mart, not here:

* ``normalised_score = sum(score) / sum(max_score)`` over the sheet's criterion
  rows, giving 0-1 whatever the scale (a 4/5 and a 6/10 give 10/15, not the
  mean of the two ratios: a criterion weighs in proportion to its maximum).
  A criterion row with a null score counts in ``n_criteria`` and its maximum
  in the denominator, i.e. it is scored 0 (docs/methods.md section 3).
* The missing/partial-sheet rule (:data:`MIN_SHEET_COVERAGE`): a vacancy's
  criteria are those scored on any of its sheets.  A sheet that scores fewer
  of them is *partial*; it is kept, normalised over the criteria it does
  score, when it covers at least half of them, and excluded otherwise.  A
  sheet with no positive maximum is invalid and excluded.  A missing sheet (a
  panel member who did not score a candidate) is not imputed: the candidate's
  score is the mean over the sheets kept.  A candidate with no kept sheet has
  no score and is counted, not analysed.
* Candidate score = mean of the kept sheets' normalised scores.
* Vacancy z-score = (score - vacancy mean) / vacancy SD (ddof 1); null when
  the vacancy has fewer than two scored candidates or no spread.
* Member severity = mean over the member's sheets of (their score - the mean of
  the other members' scores for the same candidate); negative = harsher.
"""
from __future__ import annotations

import logging

import polars as pl

from tasks.analyses.scores_and_triangulation import score_models
from tasks.core.vocabulary import SENIOR_BANDS, WRES_UNKNOWN
from tasks.stats.intervals import mean_t_interval, wilson_interval

log = logging.getLogger(__name__)


MIN_SHEET_COVERAGE = 0.5  # a partial sheet is kept when it scores >= this share of the vacancy's criteria


SHEET_COMPLETE = "complete"


SHEET_PARTIAL_KEPT = "partial_kept"


SHEET_PARTIAL_EXCLUDED = "partial_excluded"


SHEET_INVALID = "invalid"


CANDIDATE_UNSCORED = "candidate_unscored"


# measures in results.interview_scores
MEASURE_MEAN = "mean_normalised_score"


MEASURE_SCORING_RATE = "scoring_rate"


MEASURE_SEVERITY = "member_severity"


MEASURE_SHEETS = "sheet_count"


ALL = "all"


INTERVIEW_SCORES_SCHEMA = {
    "measure": pl.String, "breakdown": pl.String, "band": pl.String, "group": pl.String,
    "n": pl.Int64, "value": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
    "mean_z": pl.Float64, "impact_ratio": pl.Float64, "reference_group": pl.String,
}


# --------------------------------------------------------------------------
# Sheets and candidates
# --------------------------------------------------------------------------
def apply_sheet_rule(sheets: pl.DataFrame, group_col: str = "vacancy_id",
                     min_coverage: float = MIN_SHEET_COVERAGE) -> pl.DataFrame:
    """Classify each sheet (complete / partial_kept / partial_excluded / invalid) and add ``included``.

    A vacancy's criteria (``full_criteria``) are the largest n_criteria among the sheets of
    ``group_col``: the marts carry counts of criteria scored, not criterion names.
    """
    out = sheets.with_columns(pl.col("n_criteria").max().over(group_col).alias("full_criteria"))
    coverage = pl.when(pl.col("full_criteria") > 0).then(
        pl.col("n_criteria") / pl.col("full_criteria")).otherwise(0.0)
    valid = (pl.col("max_score_sum").fill_null(0) > 0) & pl.col("normalised_score").is_not_null() \
        & (pl.col("n_criteria") > 0)
    out = out.with_columns(coverage.alias("coverage")).with_columns(
        pl.when(~valid).then(pl.lit(SHEET_INVALID))
        .when(pl.col("n_criteria") >= pl.col("full_criteria")).then(pl.lit(SHEET_COMPLETE))
        .when(pl.col("coverage") >= min_coverage - 1e-12).then(pl.lit(SHEET_PARTIAL_KEPT))
        .otherwise(pl.lit(SHEET_PARTIAL_EXCLUDED))
        .alias("sheet_status")
    ).with_columns(pl.col("sheet_status").is_in([SHEET_COMPLETE, SHEET_PARTIAL_KEPT]).alias("included"))
    return out


def candidate_scores(sheets: pl.DataFrame) -> pl.DataFrame:
    """Mean of the kept sheets per application: application_id, vacancy_id, n_sheets, score.

    Applications in order of first appearance in ``sheets`` (the marts' lineage order), never
    sorted by the pseudonymous application_id, whose order depends on the warehouse's key.
    """
    kept = sheets.filter(pl.col("included")) if "included" in sheets.columns else sheets
    return (
        kept.group_by("application_id", "vacancy_id", maintain_order=True)
        .agg(pl.len().cast(pl.Int64).alias("n_sheets"), pl.col("normalised_score").mean().alias("score"))
    )


def add_vacancy_z(cands: pl.DataFrame, score_col: str = "score") -> pl.DataFrame:
    """Add ``z``: the score standardised within its vacancy (null for <2 candidates or zero spread)."""
    mean = pl.col(score_col).mean().over("vacancy_id")
    sd = pl.col(score_col).std(ddof=1).over("vacancy_id")
    n = pl.col(score_col).count().over("vacancy_id")
    return cands.with_columns(
        pl.when((n >= 2) & (sd > 1e-12)).then((pl.col(score_col) - mean) / sd).otherwise(None).alias("z")
    )


def member_severity(sheets: pl.DataFrame) -> pl.DataFrame:
    """Per member: mean deviation of their sheet score from the other members' mean for the same candidate.

    Only kept sheets of applications with at least two kept sheets count.
    Returns member_id, n (sheets), severity, ci_low, ci_high (t interval), members in order of
    first appearance (never sorted by the pseudonymous member_id).
    """
    kept = sheets.filter(pl.col("included")) if "included" in sheets.columns else sheets
    s = pl.col("normalised_score")
    k = pl.col("normalised_score").count().over("application_id")
    tot = s.sum().over("application_id")
    dev = kept.with_columns(k.alias("_k"), tot.alias("_tot")).filter(pl.col("_k") >= 2).with_columns(
        (s - (pl.col("_tot") - s) / (pl.col("_k") - 1)).alias("deviation")
    )
    rows = []
    for (member,), g in dev.group_by(["member_id"], maintain_order=True):
        m, lo, hi = mean_t_interval(g["deviation"].to_numpy())
        rows.append({"member_id": member, "n": g.height, "severity": m, "ci_low": lo, "ci_high": hi})
    return pl.DataFrame(rows, schema={"member_id": pl.String, "n": pl.Int64, "severity": pl.Float64,
                                      "ci_low": pl.Float64, "ci_high": pl.Float64})


# --------------------------------------------------------------------------
# Group comparisons
# --------------------------------------------------------------------------
def _label(value) -> str:
    if value is None:
        return WRES_UNKNOWN
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


VACANCY_LEVEL = ("manager_wres_group", "diverse_panel", "post_programme", "band")


def score_means(cands: pl.DataFrame, group_col: str, breakdown: str | None = None,
                by_band: bool = False) -> pl.DataFrame:
    """Mean normalised score with 95% t-interval, n and mean vacancy z per group (and band).

    ``mean_z`` is left null for vacancy-level characteristics (it is 0 by
    construction there: z is centred within each vacancy).
    """
    rows = []
    bands = [ALL] + ([b for b in SENIOR_BANDS if b in set(cands["band"].to_list())] if by_band else [])
    for band in bands:
        sub = cands if band == ALL else cands.filter(pl.col("band") == band)
        for (value,), g in sub.group_by([group_col], maintain_order=True):
            m, lo, hi = mean_t_interval(g["score"].to_numpy())
            z = g["z"].drop_nulls()
            rows.append({
                "measure": MEASURE_MEAN, "breakdown": breakdown or group_col, "band": band,
                "group": _label(value), "n": g.height, "value": m, "ci_low": lo, "ci_high": hi,
                "mean_z": float(z.mean()) if z.len() and group_col not in VACANCY_LEVEL else None,
                "impact_ratio": None, "reference_group": None,
            })
    return pl.DataFrame(rows, schema=INTERVIEW_SCORES_SCHEMA).sort("band", "group")


def scoring_rates(cands: pl.DataFrame, group_col: str, breakdown: str | None = None,
                  exclude: tuple[str, ...] = (WRES_UNKNOWN, "Not stated")) -> pl.DataFrame:
    """NYC LL144-style scoring rate: the share of each group scoring above its vacancy's median.

    Vacancies with fewer than two scored candidates are left out.  The impact
    ratio is each group's rate over the highest rate among the known groups;
    the unknown group is reported (its count) but not compared.
    """
    c = cands.filter(pl.col("score").count().over("vacancy_id") >= 2).with_columns(
        (pl.col("score") > pl.col("score").median().over("vacancy_id")).cast(pl.Int64).alias("above")
    )
    rows = []
    for (value,), g in c.group_by([group_col], maintain_order=True):
        k, n = int(g["above"].sum()), g.height
        lo, hi = wilson_interval(successes=k, trials=n)
        rows.append({"group": _label(value), "n": n, "value": k / n if n else None, "ci_low": lo, "ci_high": hi})
    known = [r for r in rows if r["group"] not in exclude and r["value"] is not None]
    best = max(known, key=lambda r: r["value"]) if known else None
    out = []
    for r in rows:
        ratio = None
        if best is not None and r["group"] not in exclude and best["value"] > 0:
            ratio = r["value"] / best["value"]
        out.append({"measure": MEASURE_SCORING_RATE, "breakdown": breakdown or group_col, "band": ALL,
                    "group": r["group"], "n": r["n"], "value": r["value"], "ci_low": r["ci_low"],
                    "ci_high": r["ci_high"], "mean_z": None, "impact_ratio": ratio,
                    "reference_group": best["group"] if best is not None and ratio is not None else None})
    return pl.DataFrame(out, schema=INTERVIEW_SCORES_SCHEMA).sort("group")


# --------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------
CANDIDATE_FEATURES = [
    "application_id", "vacancy_id", "band", "wres_group", "census_group", "bme", "sex", "female",
    "internal", "manager_wres_group", "diverse_panel", "post_programme",
]


COMPARISONS: tuple[tuple[str, str, bool], ...] = (
    # (column, breakdown name, by band too)
    ("wres_group", "wres_group", True),
    ("census_group", "census_group", True),
    ("sex", "sex", False),
    ("internal", "internal", False),
    ("manager_wres_group", "manager_wres_group", False),
    ("diverse_panel", "diverse_panel", False),
    ("post_programme", "post_programme", False),
)


def prepare(sheets: pl.DataFrame, funnel: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Apply the sheet rule and build (sheets with status and candidate features, candidate frame with z)."""
    ruled = apply_sheet_rule(sheets)
    feats = funnel.select([c for c in CANDIDATE_FEATURES if c in funnel.columns])
    cands = candidate_scores(ruled).join(feats.drop("vacancy_id"), on="application_id", how="inner",
                                         maintain_order="left")
    cands = add_vacancy_z(cands)
    sheet_feats = ruled.join(feats.select("application_id", "wres_group"), on="application_id", how="inner",
                             maintain_order="left")
    if "member_wres_group" in sheet_feats.columns:
        sheet_feats = sheet_feats.with_columns(
            score_models.ethnicity_match(pl.col("wres_group"), pl.col("member_wres_group")).alias("ethnicity_match"))
    return sheet_feats, cands


def sheet_rule_counts(ruled: pl.DataFrame, funnel: pl.DataFrame | None = None) -> pl.DataFrame:
    counts = ruled.group_by("sheet_status").agg(pl.len().cast(pl.Int64).alias("n"))
    rows = [{"measure": MEASURE_SHEETS, "breakdown": "sheet_status", "band": ALL, "group": s,
             "n": int(counts.filter(pl.col("sheet_status") == s)["n"].sum()), "value": None, "ci_low": None,
             "ci_high": None, "mean_z": None, "impact_ratio": None, "reference_group": None}
            for s in (SHEET_COMPLETE, SHEET_PARTIAL_KEPT, SHEET_PARTIAL_EXCLUDED, SHEET_INVALID)]
    if funnel is not None and "interviewed" in funnel.columns:
        scored = set(ruled.filter(pl.col("included"))["application_id"].to_list())
        interviewed = funnel.filter(pl.col("interviewed") == 1)["application_id"].to_list()
        rows.append({**rows[0], "group": CANDIDATE_UNSCORED, "n": sum(1 for a in interviewed if a not in scored)})
    return pl.DataFrame(rows, schema=INTERVIEW_SCORES_SCHEMA)


def interview_score_tables(sheets: pl.DataFrame, funnel: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """All interview-score results from marts.score_sheets and marts.application_funnel frames."""
    sheet_feats, cands = prepare(sheets, funnel)
    log.info("interview scores: %d sheets, %d scored candidates", sheet_feats.height, cands.height)
    parts = [sheet_rule_counts(sheet_feats, funnel)]
    for col, name, by_band in COMPARISONS:
        if col in cands.columns:
            parts.append(score_means(cands, col, name, by_band=by_band))
    for col in ("wres_group", "census_group", "sex"):
        parts.append(scoring_rates(cands, col))
    cands_x = cands.with_columns((pl.col("sex").fill_null("?") + " x " + pl.col("wres_group").fill_null(WRES_UNKNOWN))
                                 .alias("sex_x_wres_group"))
    parts.append(scoring_rates(cands_x, "sex_x_wres_group", exclude=tuple(
        g for g in cands_x["sex_x_wres_group"].unique().to_list() if WRES_UNKNOWN in g)))
    sev = member_severity(sheet_feats)
    parts.append(pl.DataFrame({
        "measure": [MEASURE_SEVERITY] * sev.height, "breakdown": ["member"] * sev.height,
        "band": [ALL] * sev.height, "group": sev["member_id"], "n": sev["n"], "value": sev["severity"],
        "ci_low": sev["ci_low"], "ci_high": sev["ci_high"], "mean_z": [None] * sev.height,
        "impact_ratio": [None] * sev.height, "reference_group": [None] * sev.height,
    }, schema=INTERVIEW_SCORES_SCHEMA))
    effects = pl.concat([score_models.fit_mixed_gap(cands), score_models.fit_cluster_ols(cands),
                         score_models.fit_homophily(sheet_feats), score_models.fit_programme_gap(cands)])
    return {"interview_scores": pl.concat(parts), "score_effects": effects}
