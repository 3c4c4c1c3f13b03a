"""Adverse impact (four-fifths rule) at each funnel stage.

For each stage and grouping (fine ethnic category, census group, WRES group,
sex, and census group x sex) every group's selection rate is compared with the
highest-rate group's: impact ratio = rate / reference rate; a ratio below 0.80
is flagged (US EEOC Uniform Guidelines, 29 CFR 1607.4(D)).  Each group also
gets Fisher's exact p against the reference group, the shortfall (selections
it would need to reach the reference rate: n x reference rate - selected,
floored at 0) and its n.  Groups under 2% of the stage's records or with n < 10
are flagged ``small_group``, never dropped; unknown categories ("Not stated",
Z, 99, missing sex) are kept and flagged ``unknown_category`` (NYC LL144
practice).  The reference group is the highest-rate group that is neither
small nor unknown (if none qualifies, the highest-rate known group, flagged
``reference_small``).
"""
from __future__ import annotations

import logging

import polars as pl
from scipy import stats

from tasks.analyses.funnel_statistics.populations import not_withdrawn_at
from tasks.core.vocabulary import (
    STAGE_APPOINT_FROM_SHORTLIST,
    STAGE_OFFER,
    STAGE_SHORTLIST,
    UNKNOWN_CODES,
    WRES_UNKNOWN,
)
from tasks.stats.multiple_testing import bh_qvalues

log = logging.getLogger(__name__)


FOUR_FIFTHS = 0.80


SMALL_SHARE = 0.02


SMALL_N = 10


UNKNOWN_LABEL = "Unknown"


NOT_STATED = "Not stated"


FLAG_SMALL_GROUP = "small_group"


FLAG_UNKNOWN = "unknown_category"


FLAG_REFERENCE_SMALL = "reference_small"


FLAG_ADVERSE = "adverse_impact"


GROUPING_FINE = "ethnic_category"


GROUPING_CENSUS = "census_group"


GROUPING_WRES = "wres_group"


GROUPING_SEX = "sex"


GROUPING_CENSUS_SEX = "census_group_x_sex"


PERIOD_ALL, PERIOD_PRE, PERIOD_POST = "all", "pre_programme", "post_programme"


AI_SCHEMA: dict[str, pl.DataType] = {
    "stage": pl.String, "period": pl.String, "grouping": pl.String, "group": pl.String,
    "n": pl.Int64, "selected": pl.Int64, "selection_rate": pl.Float64, "share": pl.Float64,
    "reference_group": pl.String, "reference_rate": pl.Float64, "impact_ratio": pl.Float64,
    "four_fifths_flag": pl.Boolean, "p_value": pl.Float64, "q_value": pl.Float64,
    "shortfall": pl.Float64, "small_group": pl.Boolean, "flags": pl.String,
}


def stage_populations(af: pl.DataFrame) -> dict[str, tuple[pl.DataFrame, str]]:
    """Stage -> (population of all ethnicities, selection column)."""
    return {
        STAGE_SHORTLIST: (af.filter(not_withdrawn_at("application")), "shortlisted"),
        STAGE_OFFER: (af.filter((pl.col("interviewed") == 1) & not_withdrawn_at("interview")), "offered"),
        STAGE_APPOINT_FROM_SHORTLIST: (
            af.filter((pl.col("shortlisted") == 1) & ~((pl.col("offered") == 1) & (pl.col("offer_declined") == 1))),
            "appointed",
        ),
    }


def _group_exprs() -> dict[str, pl.Expr]:
    census = pl.col("census_group").fill_null(NOT_STATED)
    sex = pl.col("sex").fill_null(UNKNOWN_LABEL)
    return {
        GROUPING_FINE: pl.col("ethnic_category").fill_null(UNKNOWN_LABEL),
        GROUPING_CENSUS: census,
        GROUPING_WRES: pl.col("wres_group").fill_null(WRES_UNKNOWN),
        GROUPING_SEX: sex,
        GROUPING_CENSUS_SEX: pl.concat_str([census, sex], separator=", "),
    }


def _is_unknown(grouping: str, group: str) -> bool:
    parts = [p.strip() for p in group.split(",")]
    unknown = {UNKNOWN_LABEL, NOT_STATED, WRES_UNKNOWN, *UNKNOWN_CODES}
    return any(p in unknown for p in parts)


def impact_table(groups: list[tuple[str, int, int]], grouping: str) -> list[dict]:
    """Rows for one grouping: ``groups`` = [(group, n, selected)]."""
    total = sum(n for _, n, _ in groups)
    info = []
    for g, n, s in groups:
        small = n < SMALL_N or (total > 0 and n / total < SMALL_SHARE)
        info.append((g, n, s, s / n if n else None, small, _is_unknown(grouping, g)))
    cands = [i for i in info if i[3] is not None and not i[4] and not i[5]]
    ref_flag = False
    if not cands:
        cands = [i for i in info if i[3] is not None and not i[5]] or [i for i in info if i[3] is not None]
        ref_flag = True
    rows = []
    ref = max(cands, key=lambda i: (i[3], i[1])) if cands else None
    for g, n, s, rate, small, unknown in info:
        flags = set()
        if small:
            flags.add(FLAG_SMALL_GROUP)
        if unknown:
            flags.add(FLAG_UNKNOWN)
        if ref_flag:
            flags.add(FLAG_REFERENCE_SMALL)
        row = {
            "grouping": grouping, "group": g, "n": n, "selected": s, "selection_rate": rate,
            "share": n / total if total else None, "small_group": small,
            "reference_group": ref[0] if ref else None, "reference_rate": ref[3] if ref else None,
            "impact_ratio": None, "four_fifths_flag": None, "p_value": None, "shortfall": None,
        }
        if ref is not None and rate is not None:
            rr = ref[3]
            row["impact_ratio"] = rate / rr if rr > 0 else None
            row["four_fifths_flag"] = bool(row["impact_ratio"] is not None and row["impact_ratio"] < FOUR_FIFTHS)
            if row["four_fifths_flag"]:
                flags.add(FLAG_ADVERSE)
            row["shortfall"] = max(0.0, n * rr - s)
            if g == ref[0]:
                row["p_value"] = 1.0
            else:
                row["p_value"] = float(stats.fisher_exact([[s, n - s], [ref[2], ref[1] - ref[2]]]).pvalue)
        row["flags"] = ";".join(sorted(flags))
        rows.append(row)
    qs = bh_qvalues([r["p_value"] if r["group"] != (ref[0] if ref else None) else None for r in rows])
    for r, q in zip(rows, qs):
        r["q_value"] = q if q is not None else r["p_value"]
    return rows


def adverse_impact(af: pl.DataFrame) -> pl.DataFrame:
    """The ``adverse_impact`` result table (without run_id)."""
    rows: list[dict] = []
    periods = {PERIOD_ALL: None, PERIOD_PRE: 0, PERIOD_POST: 1}
    for stage, (pop, sel) in stage_populations(af).items():
        for period, val in periods.items():
            p = pop if val is None else pop.filter(pl.col("post_programme") == val)
            for grouping, expr in _group_exprs().items():
                agg = (
                    p.with_columns(expr.alias("_g"))
                    .group_by("_g")
                    .agg(pl.len().alias("n"), pl.col(sel).cast(pl.Int64).sum().alias("s"))
                    .sort("_g")
                )
                groups = [(str(r["_g"]), int(r["n"]), int(r["s"])) for r in agg.iter_rows(named=True)]
                for r in impact_table(groups, grouping):
                    r.update(stage=stage, period=period)
                    rows.append(r)
    log.info("adverse impact: %d rows", len(rows))
    return pl.DataFrame(rows, schema=AI_SCHEMA) if rows else pl.DataFrame(schema=AI_SCHEMA)
