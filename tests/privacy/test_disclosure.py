"""Statistical disclosure control: cell rules, rates, complementary suppression, table specs."""
from __future__ import annotations

import math
import random

import numpy as np
import polars as pl
import pytest
from scipy.optimize import linprog

from tasks.privacy.disclosure import (
    FLAG_WITHHELD,
    SDC_FLAGS_COLUMN,
    complementary_suppression,
    is_primary,
    load_policy,
    policy_from_dict,
    protect_table,
    publish_count,
    publish_rate,
    round_count,
)

POLICY = load_policy()


def test_policy_is_versioned_and_nhs_default():
    assert POLICY.version
    assert len(POLICY.sha256) == 64
    assert (POLICY.suppress_min, POLICY.suppress_max, POLICY.symbol, POLICY.round_to) == (1, 7, "*", 5)
    assert POLICY.min_events == 10
    assert "1-7" in POLICY.summary()


def test_policy_validation_names_the_missing_key():
    raw = dict(POLICY.raw)
    raw["counts"] = {k: v for k, v in raw["counts"].items() if k != "symbol"}
    with pytest.raises(ValueError, match="counts.symbol"):
        policy_from_dict(raw)
    with pytest.raises(ValueError, match="rounding"):
        policy_from_dict({**POLICY.raw, "counts": {**POLICY.raw["counts"], "rounding": "up"}})


@pytest.mark.parametrize(
    "value, shown",
    [(0, "0"), (1, "*"), (2.5, "*"), (7, "*"), (8, "10"), (12, "10"), (13, "15"), (14, "15"),
     (17, "15"), (18, "20"), (100, "100"), (None, None)],
)
def test_count_cell_rules(value, shown):
    assert publish_count(value, is_primary(value, POLICY), POLICY) == shown


def test_rounding_ties_follow_the_policy_convention():
    # integers never tie for base 5; halves of the base do
    assert round_count(12.5, 5, "half_up") == 15
    assert round_count(17.5, 5, "half_up") == 20
    assert round_count(22.5, 5, "half_up") == 25
    assert round_count(12.5, 5, "half_even") == 10
    assert round_count(17.5, 5, "half_even") == 20
    assert round_count(22.5, 5, "half_even") == 20
    # float artefacts do not move a value across a tie
    assert round_count(0.1 + 0.2 + 12.2, 5) == 15  # 12.5000000001
    assert round_count(0, 5) == 0
    assert round_count(None) is None


def test_rates_come_from_rounded_figures_with_a_denominator_threshold():
    # 13/38 = 0.342 but published from 15/40
    assert publish_rate(13, 38, False, False, POLICY) == 0.375
    # rounded denominator 20 passes the threshold of 20 (true 18)
    assert publish_rate(9, 18, False, False, POLICY) == 0.5
    # rounded denominator 15 does not
    assert publish_rate(9, 17, False, False, POLICY) is None
    # a suppressed numerator or denominator withholds the rate
    assert publish_rate(5, 100, True, False, POLICY) is None
    assert publish_rate(10, 100, False, True, POLICY) is None
    # zero is shown
    assert publish_rate(0, 50, False, False, POLICY) == 0.0
    # 3-decimal rounding, half up: 10/80 = 0.125
    assert publish_rate(10, 80, False, False, POLICY) == 0.125
    assert publish_rate(35, 60, False, False, POLICY) == 0.583


def test_complementary_suppression_hand_case():
    # 2 x 2 interior + margins; cell (a) = 3 is primary.
    #        c1   c2 | tot
    #  r1     3   20 |  23
    #  r2    30   40 |  70
    #  tot   33   60 |  93
    v = {"r1c1": 3, "r1c2": 20, "r1t": 23, "r2c1": 30, "r2c2": 40, "r2t": 70, "tc1": 33, "tc2": 60, "tt": 93}
    rels = [(["r1c1", "r1c2"], "r1t"), (["r2c1", "r2c2"], "r2t"), (["tc1", "tc2"], "tt"),
            (["r1c1", "r2c1"], "tc1"), (["r1c2", "r2c2"], "tc2"), (["r1t", "r2t"], "tt")]
    sup = complementary_suppression(v, rels, {"r1c1"})
    # row r1: next smallest interior is 20; column c1: 30; then r2 and c2 need a partner: 40
    assert sup == {"r1c1", "r1c2", "r2c1", "r2c2"}
    for members, total in rels:
        assert sum(c in sup for c in members + [total]) in (0, 2, 3)


def test_complementary_prefers_nonzero_cells():
    v = {"a": 2, "b": 0, "c": 9, "t": 11}
    sup = complementary_suppression(v, [(["a", "b", "c"], "t")], {"a"})
    assert sup == {"a", "c"}
    # a zero complement leaves the pair's sum (2) bounded by [0, 2]: the audit adds a third cell
    sup0 = complementary_suppression(v, [(["a", "b", "c"], "t")], {"a"}, prefer_nonzero=False, min_range=1)
    assert sup0 == {"a", "b"}
    sup5 = complementary_suppression(v, [(["a", "b", "c"], "t")], {"a"}, prefer_nonzero=False, min_range=5)
    assert sup5 == {"a", "b", "c"}


def test_single_member_relation_suppresses_the_total():
    # a row with one interior cell equals its total
    sup = complementary_suppression({"x": 4, "t": 4}, [(["x"], "t")], {"x"})
    assert sup == {"x", "t"}


def test_audit_catches_cells_linked_through_suppressed_totals():
    # Found by the random study below (seed 15): the lone-cell rule alone left
    # (8b, White) = 25 recoverable, because rows 8a and 8c had suppressed
    # totals whose sum was known from the grand total, which pinned
    # 8a White + 8c White, and so 8b White from its column.
    import random as _r

    df = _funnel_like(_r.Random(15))
    no_audit_policy = policy_from_dict({**POLICY.raw, "secondary": {**POLICY.raw["secondary"], "min_range": 0}})
    weak, _ = protect_table("funnel_counts", df, no_audit_policy)
    strong, _ = protect_table("funnel_counts", df, POLICY)
    weak_ranges = _ranges_of_suppressed(df, weak["applications"].to_list())
    assert any(hi - lo < 1e-9 for lo, hi in weak_ranges.values())
    strong_ranges = _ranges_of_suppressed(df, strong["applications"].to_list())
    assert all(hi - lo >= 5 - 1e-6 for lo, hi in strong_ranges.values())


# --------------------------------------------------------------------------
# "Totals cannot reveal": an attacker who knows every unsuppressed cell
# EXACTLY (worse than rounding) solves the table's equations by linear
# programming.  Every suppressed cell must keep a range of possible values.
# --------------------------------------------------------------------------
def _funnel_like(rng: random.Random, bands=("8a", "8b", "8c", "VSM"), groups=("White", "BME", "Unknown")):
    inner = {(b, g): rng.choice([0, 1, 2, 3, 5, 6, 7, 8, 9, 12, 15, 25, 40, 90]) for b in bands for g in groups}
    rows = []
    for b in bands:
        for g in groups:
            rows.append((b, g, inner[b, g]))
        rows.append((b, "All", sum(inner[b, g] for g in groups)))
    for g in groups:
        rows.append(("All", g, sum(inner[b, g] for b in bands)))
    rows.append(("All", "All", sum(inner.values())))
    return pl.DataFrame(rows, schema=["band", "wres_group", "applications"], orient="row")


def _ranges_of_suppressed(df: pl.DataFrame, shown: list) -> dict[int, tuple[float, float]]:
    idx = {(b, g): i for i, (b, g) in enumerate(df.select("band", "wres_group").rows())}
    vals = df["applications"].to_list()
    unknown = [i for i, s in enumerate(shown) if s == "*"]
    pos = {i: k for k, i in enumerate(unknown)}
    bands = sorted({b for b, _ in idx if b != "All"})
    groups = sorted({g for _, g in idx if g != "All"})
    eqs = []
    for b in bands + ["All"]:
        eqs.append(([idx[b, g] for g in groups], idx[b, "All"]))
    for g in groups + ["All"]:
        eqs.append(([idx[b, g] for b in bands], idx["All", g]))
    a_eq, b_eq = [], []
    for members, total in eqs:
        row = np.zeros(len(unknown))
        rhs = 0.0
        for m in members:
            if m in pos:
                row[pos[m]] += 1
            else:
                rhs -= vals[m]
        if total in pos:
            row[pos[total]] -= 1
        else:
            rhs += vals[total]
        a_eq.append(row)
        b_eq.append(rhs)
    out = {}
    for i in unknown:
        c = np.zeros(len(unknown))
        c[pos[i]] = 1
        lo = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=[(0, None)] * len(unknown)).fun
        hi = -linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=[(0, None)] * len(unknown)).fun
        out[i] = (lo, hi)
    return out


@pytest.mark.parametrize("seed", range(25))
def test_totals_cannot_reveal_a_suppressed_cell(seed):
    df = _funnel_like(random.Random(seed))
    out, rep = protect_table("funnel_counts", df, POLICY)
    shown = out["applications"].to_list()
    vals = df["applications"].to_list()
    # primary rule: no 1..7 shown
    for v, s in zip(vals, shown):
        if 1 <= v <= 7:
            assert s == "*"
        else:
            assert s == "*" or int(s) == round_count(v)
    ranges = _ranges_of_suppressed(df, shown)
    for i, (lo, hi) in ranges.items():
        assert hi - lo >= POLICY.min_range - 1e-6, f"cell {df.row(i)} is determined by the totals: [{lo}, {hi}]"


def test_funnel_spec_protects_every_count_column_independently():
    df = pl.DataFrame({
        "band": ["8a", "8a", "8a", "8b", "8b", "8b", "All", "All", "All"],
        "wres_group": ["White", "BME", "All"] * 3,
        "applications": [50, 30, 80, 40, 20, 60, 90, 50, 140],
        "appointed": [9, 3, 12, 10, 10, 20, 19, 13, 32],
    })
    out, rep = protect_table("funnel_counts", df, POLICY)
    assert out["applications"].to_list() == ["50", "30", "80", "40", "20", "60", "90", "50", "140"]
    # 3 is primary; row 8a and column BME then need partners: 9 (8a White), 10 (8b BME), 10 (8b White)
    assert out["appointed"].to_list() == ["*", "*", "10", "*", "*", "20", "20", "15", "30"]
    assert rep.primary == 1 and rep.secondary == 3


def test_wres_rates_and_derived_statistics():
    df = pl.DataFrame({
        "scope": ["overall", "band", "band"],
        "scope_value": ["all", "8a", "8b"],
        "shortlisted_white": [200, 120, 80],
        "appointed_white": [40, 25, 15],
        "shortlisted_bme": [100, 62, 38],
        "appointed_bme": [13, 9, 4],
        "proportion_white": [0.2, 25 / 120, 15 / 80],
        "proportion_bme": [0.13, 9 / 62, 4 / 38],
        "relative_likelihood": [1.538, 1.435, 1.781],
        "ci_low": [0.86, 0.7, 0.6],
        "ci_high": [2.7, 2.9, 5.0],
        "p_value": [0.13, 0.3, 0.3],
        "in_non_adverse_band": [False, False, False],
        "orientation": ["white_over_bme"] * 3,
    })
    out, rep = protect_table("wres_indicator2", df, POLICY)
    # 4 is primary, the 8b partition then needs a partner: 9 (8a) is the smallest
    assert out["appointed_bme"].to_list() == ["15", "*", "*"]
    assert out["proportion_bme"].to_list() == [0.15, None, None]  # 15/100 from rounded figures
    assert out["proportion_white"].to_list() == [0.2, 0.208, 0.188]  # 25/120, 15/80
    # the ratio beside the counts is recomputed from them as shown: (40/200) / (15/100), not the exact 1.538
    assert out["relative_likelihood"].to_list() == [pytest.approx(4 / 3), None, None]
    import math
    se = math.sqrt(1 / 40 - 1 / 200 + 1 / 15 - 1 / 100)  # Katz, from the shown counts
    assert out["ci_low"].to_list()[0] == pytest.approx(4 / 3 * math.exp(-1.959963984540054 * se))
    assert out["ci_low"].to_list()[1:] == [None, None]
    assert out["in_non_adverse_band"].to_list() == [False, None, None]
    flags = out[SDC_FLAGS_COLUMN].to_list()
    assert flags[0] is None
    assert FLAG_WITHHELD in flags[1] and "small_n_events" in flags[1]
    assert out["orientation"].to_list() == ["white_over_bme"] * 3


def test_regression_estimates_are_kept_and_flagged_when_events_are_few():
    df = pl.DataFrame({
        "analysis": ["funnel"] * 3, "stage": ["shortlist"] * 3, "model": ["logit"] * 3,
        "term": ["bme", "bme@letter_to_ceo=1", "bme@letter_to_ceo=0"],
        "estimate": [-0.4, -0.1, -0.7], "std_error": [0.1, 0.3, 0.5],
        "odds_ratio": [math.exp(-0.4), math.exp(-0.1), math.exp(-0.7)],
        "ci_low": [0.55, 0.5, 0.2], "ci_high": [0.82, 1.6, 1.3],
        "p_value": [0.001, 0.7, 0.16], "q_value": [0.003, 0.7, 0.24],
        "n_obs": [1234, 300, 61], "n_events": [400, 9, 3], "n_clusters": [180, 40, 6], "flags": [None, None, "x"],
    })
    out, rep = protect_table("odds_ratios", df, POLICY)
    assert out["estimate"].to_list() == df["estimate"].to_list()
    assert out["ci_high"].to_list() == df["ci_high"].to_list()
    assert out["n_obs"].to_list() == ["1235", "300", "60"]
    assert out["n_events"].to_list() == ["400", "10", "*"]
    assert out["n_clusters"].to_list() == ["180", "40", "*"]  # vacancies: shown like any count (no 1-7 anywhere)
    assert out[SDC_FLAGS_COLUMN].to_list() == [None, "small_n_events", "small_n_events"]
    assert out["flags"].to_list() == [None, None, "x"]
    assert rep.estimates_flagged == 2


def test_unknown_tables_default_to_conservative_roles():
    df = pl.DataFrame({
        "group": ["BME", "White"], "n_people": [4, 23], "mean_score": [0.61, 0.66],
        "year": [2023, 2023], "sample_ids": [["A-1"], ["A-2"]], "terms": [["a", "b"], ["c"]],
    })
    out, rep = protect_table("some_future_table", df, POLICY)
    assert out["n_people"].to_list() == ["*", "25"]
    assert out["mean_score"].to_list() == [0.61, 0.66]
    assert out["year"].to_list() == [2023, 2023]
    assert "sample_ids" not in out.columns
    assert out["terms"].to_list() == ["a; b", "c"]


def test_rate_without_numerator_checks_the_implied_count():
    spec_policy = policy_from_dict({
        **POLICY.raw,
        "tables": {"prev": {"counts": ["n"], "rates": {"share": {"denominator": "n"}}}},
    })
    df = pl.DataFrame({"n": [100, 100, 15], "share": [0.05, 0.31, 0.6]})
    out, _ = protect_table("prev", df, spec_policy)
    # 5 of 100 is a small count: withheld; 31 of 100 -> 30/100; denominator 15 < 20: withheld
    assert out["share"].to_list() == [None, 0.3, None]


def test_no_small_count_is_ever_shown_in_random_tables():
    rng = random.Random(11)
    for _ in range(40):
        df = _funnel_like(rng, bands=tuple(f"b{i}" for i in range(rng.randint(1, 5))),
                          groups=tuple(f"g{i}" for i in range(rng.randint(1, 4))))
        out, _ = protect_table("funnel_counts", df, POLICY)
        for s in out["applications"].to_list():
            assert s == "*" or int(s) % 5 == 0
            assert s == "*" or not 1 <= int(s) <= 7


def test_cases_give_row_subsets_their_own_roles_and_named_staff_rows_are_dropped():
    df = pl.DataFrame({
        "measure": ["mean_normalised_score", "mean_normalised_score", "scoring_rate", "scoring_rate", "member_severity"],
        "breakdown": ["wres_group"] * 4 + ["member"],
        "band": ["all"] * 5,
        "group": ["White", "BME", "White", "BME", "P-0123456789ab"],
        "n": [120, 5, 120, 40],
        "value": [0.66, 0.61, 0.52, 0.15, -0.03],
        "ci_low": [0.64, 0.5, 0.43, 0.07, -0.1], "ci_high": [0.68, 0.7, 0.61, 0.29, 0.04],
        "mean_z": [0.1, -0.3, None, None, None],
        "impact_ratio": [None, None, 1.0, 0.29, None],
        "reference_group": [None, None, "White", "White", None],
    } | {"n": [120, 5, 120, 40, 12]})
    out, _ = protect_table("interview_scores", df, POLICY)
    assert out.height == 4 and "P-0123456789ab" not in out["group"].to_list()
    # a mean of 5 candidates describes a suppressed group: its n is suppressed and its statistics withheld
    assert out["n"][1] == "*" and out["value"][1] is None and out["ci_low"][1] is None and out["mean_z"][1] is None
    assert "withheld_inputs_suppressed" in out["sdc_flags"][1]
    assert out["value"][0] == 0.66 and out["mean_z"][0] == 0.1  # a group of 120: kept
    # scoring rates: 0.52 x 120 = 62.4 -> 60/120; 0.15 x 40 = 6 people: withheld with what reveals it
    assert out["value"][2] == 0.5
    assert out["value"][3] is None and out["impact_ratio"][3] is None and out["ci_low"][3] is None
    assert out["impact_ratio"][2] == 1.0


def test_share_with_a_summed_denominator_and_wres_rows_of_programme_impact():
    df = pl.DataFrame({
        "row_type": ["period", "period", "its"],
        "stage": ["programme_impact"] * 3,
        "measure": ["bme_share_appointed", "wres_indicator2", "bme_share_appointed"],
        "term": [None, None, "level_change"],
        "appointed_bme": [12, 3, None], "appointed_white": [29, 30, None],
        "shortlisted_bme": [None, 60, None], "shortlisted_white": [None, 90, None],
        "estimate": [12 / 41, 1.8, 0.05], "ci_low": [0.17, 0.6, -0.02], "ci_high": [0.44, 5.2, 0.12],
        "n_periods": [None, None, 29],
    })
    out, _ = protect_table("programme_impact", df, POLICY)
    assert out["estimate"][0] == round(10 / 40, 3)  # from rounded 10 of rounded 40 (12 + 29 = 41)
    assert out["estimate"][1] is None and out["ci_high"][1] is None  # appointed_bme 3 suppressed
    assert out["estimate"][2] == 0.05 and out["n_periods"][2] == 29  # ITS regression kept
    assert out["appointed_bme"].to_list() == ["10", "*", None]
