"""Interview scores: sheet rule, comparisons and models, hand-computed cases and planted effects.

The normalisation itself is the mart's (sql/models/marts/score_sheets.sql), tested in
test_score_sheet_normalisation.py; here raw rows become mart-like sheets through its oracle,
score_sheet_oracle.py."""
from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from score_sheet_oracle import normalise_score_rows

from tasks.analyses.scores_and_triangulation import interview_scores as isc
from tasks.analyses.scores_and_triangulation import score_models as scm
from tasks.core.vocabulary import (
    MODEL_LINEAR,
    MODEL_MIXED_LINEAR,
    STAGE_INTERVIEW_SCORE,
    TERM_BME,
    TERM_ETHNICITY_MATCH,
    TERM_FEMALE,
    TERM_INTERNAL,
    WRES_BME,
    WRES_UNKNOWN,
    WRES_WHITE,
)

MAX = {"c1": 5.0, "c2": 10.0, "c3": 4.0}  # mixed scales on one vacancy


def _rows(spec):
    """spec: {(app, member): {criterion: score or None}} -> raw score rows of vacancy V1.

    A criterion left out of a sheet's dict has no row (not scored: the sheet is partial); None is a
    row with a null score, which the mart treats the same: not scored (test_score_sheet_normalisation.py)."""
    out = []
    for (app, member), crit in spec.items():
        for c, s in crit.items():
            out.append({"vacancy_id": "V1", "application_id": app, "member_id": member, "criterion": c,
                        "score": s, "max_score": MAX[c]})
    return pl.DataFrame(out, schema={"vacancy_id": pl.String, "application_id": pl.String,
                                     "member_id": pl.String, "criterion": pl.String,
                                     "score": pl.Float64, "max_score": pl.Float64})


RAW = _rows({
    ("A1", "M1"): {"c1": 4, "c2": 6, "c3": 3},        # 13/19
    ("A1", "M2"): {"c1": 3, "c2": 9, "c3": 2},        # 14/19
    ("A1", "M3"): {"c1": 5},                          # 1 of 3 criteria: excluded
    ("A2", "M1"): {"c1": 5, "c2": 10, "c3": 4},       # 19/19
    ("A2", "M2"): {"c1": 2, "c2": 5},                 # 2 of 3 criteria: kept, 7/15
    # A2-M3: no sheet at all (missing, not imputed)
    ("A3", "M1"): {"c1": 1, "c2": 2, "c3": 1},        # 4/19
    ("A3", "M3"): {"c1": None, "c2": None, "c3": None},  # all scores null: no normalised score, invalid
})


def test_missing_and_partial_sheet_rule():
    ruled = isc.apply_sheet_rule(normalise_score_rows(RAW))
    status = {(r["application_id"], r["member_id"]): r["sheet_status"] for r in ruled.iter_rows(named=True)}
    assert status == {
        ("A1", "M1"): isc.SHEET_COMPLETE, ("A1", "M2"): isc.SHEET_COMPLETE,
        ("A1", "M3"): isc.SHEET_PARTIAL_EXCLUDED, ("A2", "M1"): isc.SHEET_COMPLETE,
        ("A2", "M2"): isc.SHEET_PARTIAL_KEPT, ("A3", "M1"): isc.SHEET_COMPLETE,
        ("A3", "M3"): isc.SHEET_INVALID,
    }
    cands = {r["application_id"]: r for r in isc.candidate_scores(ruled).iter_rows(named=True)}
    assert cands["A1"]["score"] == pytest.approx((13 / 19 + 14 / 19) / 2)  # M3's 1-criterion sheet ignored
    assert cands["A1"]["n_sheets"] == 2
    assert cands["A2"]["score"] == pytest.approx((1.0 + 7 / 15) / 2)  # missing M3 sheet not imputed
    assert cands["A3"]["score"] == pytest.approx(4 / 19) and cands["A3"]["n_sheets"] == 1


def test_sheet_rule_on_mart_counts_uses_largest_sheet_of_vacancy():
    sheets = pl.DataFrame({
        "application_id": ["A1", "A1", "A2"], "vacancy_id": ["V", "V", "V"], "member_id": ["M1", "M2", "M1"],
        "n_criteria": [4, 1, 2], "score_sum": [12.0, 3.0, 5.0], "max_score_sum": [20.0, 5.0, 10.0],
        "normalised_score": [0.6, 0.6, 0.5],
    })
    ruled = isc.apply_sheet_rule(sheets)
    assert ruled["sheet_status"].to_list() == [isc.SHEET_COMPLETE, isc.SHEET_PARTIAL_EXCLUDED, isc.SHEET_PARTIAL_KEPT]


def test_vacancy_z_and_member_severity_hand_values():
    ruled = isc.apply_sheet_rule(normalise_score_rows(RAW))
    cands = isc.add_vacancy_z(isc.candidate_scores(ruled))
    scores = np.array([27 / 38, 11 / 15, 4 / 19])
    expected = (scores - scores.mean()) / scores.std(ddof=1)
    assert cands.sort("application_id")["z"].to_numpy() == pytest.approx(expected)
    sev = {r["member_id"]: r for r in isc.member_severity(ruled).iter_rows(named=True)}
    # A1: M1 13/19 vs M2 14/19; A2: M1 1 vs M2 7/15; A3 has one kept sheet and does not count
    assert sev["M1"]["severity"] == pytest.approx(np.mean([-1 / 19, 8 / 15]))
    assert sev["M2"]["severity"] == pytest.approx(np.mean([1 / 19, -8 / 15]))
    assert sev["M1"]["n"] == 2 and "M3" not in sev


def test_severity_is_deviation_from_mean_of_the_other_members():
    sheets = pl.DataFrame({"application_id": ["A"] * 3, "vacancy_id": ["V"] * 3, "member_id": ["P", "Q", "R"],
                           "normalised_score": [0.5, 0.6, 0.9]})
    sev = {r["member_id"]: r["severity"] for r in isc.member_severity(sheets).iter_rows(named=True)}
    assert sev == {"P": pytest.approx(-0.25), "Q": pytest.approx(-0.1), "R": pytest.approx(0.35)}


def test_single_candidate_vacancy_has_null_z():
    c = pl.DataFrame({"application_id": ["A", "B", "C"], "vacancy_id": ["V", "V", "W"], "score": [0.4, 0.6, 0.5]})
    z = isc.add_vacancy_z(c)["z"].to_list()
    assert z[0] == pytest.approx(-1 / math.sqrt(2)) and z[2] is None


def test_score_means_by_band_hand_count():
    cands = pl.DataFrame({
        "application_id": list("abcde"), "vacancy_id": ["V1", "V1", "V2", "V2", "V2"],
        "band": ["8a", "8a", "8b", "8b", "8b"],
        "wres_group": [WRES_WHITE, WRES_BME, WRES_WHITE, WRES_BME, WRES_BME],
        "score": [0.8, 0.6, 0.7, 0.5, 0.3], "z": [0.7, -0.7, 1.0, 0.0, -1.0],
    })
    out = isc.score_means(cands, "wres_group", by_band=True)
    row = out.filter((pl.col("band") == "8b") & (pl.col("group") == WRES_BME)).row(0, named=True)
    assert (row["n"], row["value"], row["mean_z"]) == (2, pytest.approx(0.4), pytest.approx(-0.5))
    allb = out.filter((pl.col("band") == isc.ALL) & (pl.col("group") == WRES_BME)).row(0, named=True)
    assert (allb["n"], allb["value"]) == (3, pytest.approx(1.4 / 3))


def test_scoring_rate_impact_ratio_hand_count():
    cands = pl.DataFrame({
        "application_id": [f"a{i}" for i in range(10)],
        "vacancy_id": ["V1"] * 4 + ["V2"] * 4 + ["V3"] * 2,
        "wres_group": [WRES_WHITE, WRES_BME, WRES_WHITE, WRES_BME,
                       WRES_WHITE, WRES_BME, WRES_BME, WRES_UNKNOWN, WRES_BME, None],
        "score": [0.4, 0.1, 0.3, 0.2, 0.5, 0.9, 0.7, 0.6, 0.8, None],
    })
    # V1 median .25: White 2/2 above, BME 0/2.  V2 median .65: White 0/1, BME 2/2 (.9, .7), Unknown 0/1.
    # V3 has one scored candidate and is left out.
    out = {r["group"]: r for r in isc.scoring_rates(cands, "wres_group").iter_rows(named=True)}
    assert out[WRES_WHITE]["value"] == pytest.approx(2 / 3) and out[WRES_WHITE]["n"] == 3
    assert out[WRES_BME]["value"] == pytest.approx(2 / 4) and out[WRES_BME]["n"] == 4
    assert out[WRES_BME]["impact_ratio"] == pytest.approx((2 / 4) / (2 / 3))
    assert out[WRES_WHITE]["impact_ratio"] == pytest.approx(1.0)
    assert out[WRES_BME]["reference_group"] == WRES_WHITE
    assert out[WRES_UNKNOWN]["n"] == 1 and out[WRES_UNKNOWN]["impact_ratio"] is None


def test_ethnicity_match_expression():
    df = pl.DataFrame({"c": [WRES_BME, WRES_BME, WRES_WHITE, WRES_UNKNOWN], "m": [WRES_BME, WRES_WHITE, WRES_WHITE, WRES_BME]})
    got = df.select(scm.ethnicity_match(pl.col("c"), pl.col("m")).alias("x"))["x"].to_list()
    assert got == [1, 0, 1, None]


# --------------------------------------------------------------------------
# Planted effects on a small simulated score table (independent of the generator)
# --------------------------------------------------------------------------
def simulate(seed: int, bme_gap: float = -0.03, match: float = 0.0, n_vac: int = 60, per_vac: int = 8,
             panel: int = 3, internal: float = 0.02, female: float = 0.0):
    """Sheets and a funnel frame from the planted linear model on the 0-1 scale, scored on integer scales."""
    rng = np.random.default_rng(seed)
    sheet_rows, cand_rows = [], []
    for v in range(n_vac):
        vid = f"V{v}"
        u = rng.normal(0, 0.05)
        members = [(f"P{v}_{j}", rng.random() < 0.3, rng.normal(0, 0.03)) for j in range(panel)]
        maxes = [5.0, 5.0, 10.0, 4.0]
        band = ["8a", "8b", "8c"][v % 3]
        for c in range(per_vac):
            aid = f"A{v}_{c}"
            bme = int(rng.random() < 0.35)
            fem = int(rng.random() < 0.6)
            internal_flag = int(rng.random() < 0.5)
            cand_rows.append({"application_id": aid, "vacancy_id": vid, "band": band,
                              "wres_group": WRES_BME if bme else WRES_WHITE, "census_group": "x",
                              "bme": bme, "sex": "Female" if fem else "Male", "female": fem,
                              "internal": internal_flag, "interviewed": 1})
            base = 0.62 + bme_gap * bme + female * fem + internal * internal_flag + u + rng.normal(0, 0.06)
            for mid, mbme, sev in members:
                m = int(mbme == bool(bme))
                latent = base + sev + match * m + rng.normal(0, 0.05)
                ssum = sum(float(np.clip(np.round(latent * mx + rng.normal(0, 0.3)), 0, mx)) for mx in maxes)
                sheet_rows.append({"application_id": aid, "vacancy_id": vid, "member_id": mid,
                                   "n_criteria": len(maxes), "score_sum": ssum, "max_score_sum": sum(maxes),
                                   "normalised_score": ssum / sum(maxes),
                                   "member_wres_group": WRES_BME if mbme else WRES_WHITE})
    return pl.DataFrame(sheet_rows), pl.DataFrame(cand_rows)


def _term(effects, model, term):
    return effects.filter((pl.col("model") == model) & (pl.col("term") == term)).row(0, named=True)


# Pre-registered recovery seeds: the original single seed of each test and the next four, kept whatever
# they gave (no seed replaced).  Rule for n = 5: at least 3 CIs cover the planted value
# (P(Bin(5, 0.95) < 3) = 0.1%) and the mean estimate is within 3 standard errors of the mean
# (se_mean = sqrt(sum SE^2) / n).
GAP_SEEDS = (11, 12, 13, 14, 15)
MATCH_SEEDS = (5, 6, 7, 8, 9)


def recovery_misses(rows: list[dict], planted: float, label: str) -> list[str]:
    """The rule above over ``rows`` (effect-table rows of one term, one per seed); empty = recovered."""
    cover = sum(r["ci_low"] <= planted <= r["ci_high"] for r in rows)
    mean = float(np.mean([r["estimate"] for r in rows]))
    se_mean = float(np.sqrt(sum(r["std_error"] ** 2 for r in rows)) / len(rows))
    out = [f"{label}: {cover} of {len(rows)} CIs cover {planted}"] if cover < 3 else []
    if abs(mean - planted) > 3 * se_mean:
        out.append(f"{label}: mean {mean:.4f} vs planted {planted} beyond 3 x {se_mean:.4f}")
    return out


def test_planted_bme_gap_recovered_inside_ci():
    tables = [isc.interview_score_tables(*simulate(s, bme_gap=-0.03, n_vac=80))["score_effects"] for s in GAP_SEEDS]
    assert all(set(eff["stage"].to_list()) == {STAGE_INTERVIEW_SCORE} for eff in tables)
    misses = []
    for model in (MODEL_MIXED_LINEAR, MODEL_LINEAR):
        rows = [_term(eff, model, TERM_BME) for eff in tables]
        misses += recovery_misses(rows, -0.03, f"{model}/bme")
        assert all(r["estimate"] < 0 for r in rows), (model, rows)
    misses += recovery_misses([_term(eff, MODEL_MIXED_LINEAR, TERM_INTERNAL) for eff in tables], 0.02, "internal")
    misses += recovery_misses([_term(eff, MODEL_MIXED_LINEAR, TERM_FEMALE) for eff in tables], 0.0, "female")
    assert not misses, misses
    assert all(_term(eff, MODEL_MIXED_LINEAR, TERM_BME)["primary"] for eff in tables)
    assert not any(_term(eff, MODEL_LINEAR, TERM_BME)["primary"] for eff in tables)


def test_null_bme_gap_rarely_significant_over_20_seeds():
    sig = 0
    covered = 0
    for seed in range(20):
        sheets, funnel = simulate(100 + seed, bme_gap=0.0, n_vac=30, per_vac=6)
        _, cands = isc.prepare(sheets, funnel)
        r = _term(scm.fit_mixed_gap(cands), MODEL_MIXED_LINEAR, TERM_BME)
        sig += r["p_value"] < 0.05
        covered += r["ci_low"] <= 0 <= r["ci_high"]
    # nominal 5%: 3 or more of 20 would be P ~ 0.08 under a correct test; allow 4
    assert sig <= 4, sig
    assert covered >= 16


def test_planted_ethnicity_match_recovered_by_homophily_model():
    rows = []
    for seed in MATCH_SEEDS:
        sheets, funnel = simulate(seed, bme_gap=-0.03, match=0.04, n_vac=80)
        r = scm.fit_homophily(isc.prepare(sheets, funnel)[0]).row(0, named=True)
        assert r["term"] == TERM_ETHNICITY_MATCH and r["primary"]
        rows.append(r)
    assert not recovery_misses(rows, 0.04, "ethnicity_match"), rows
    assert all(r["ci_low"] > 0 for r in rows), rows


def test_null_ethnicity_match_ci_covers_zero_on_most_seeds():
    covered = 0
    for seed in range(12):
        sheets0, funnel0 = simulate(300 + seed, match=0.0, n_vac=40, per_vac=6)
        r0 = scm.fit_homophily(isc.prepare(sheets0, funnel0)[0]).row(0, named=True)
        covered += r0["ci_low"] <= 0.0 <= r0["ci_high"]
    assert covered >= 9, covered  # nominal 95%: 9+ of 12 has probability > 0.99


def test_tables_have_no_personal_columns_and_expected_measures():
    sheets, funnel = simulate(3, n_vac=12)
    out = isc.interview_score_tables(sheets, funnel)
    t = out["interview_scores"]
    assert set(t["measure"].unique().to_list()) == {isc.MEASURE_SHEETS, isc.MEASURE_MEAN,
                                                    isc.MEASURE_SCORING_RATE, isc.MEASURE_SEVERITY}
    assert t.schema == pl.Schema(isc.INTERVIEW_SCORES_SCHEMA)
    n_sheets = t.filter(pl.col("measure") == isc.MEASURE_SHEETS)
    assert int(n_sheets.filter(pl.col("group") == isc.SHEET_COMPLETE)["n"][0]) == sheets.height
    assert int(n_sheets.filter(pl.col("group") == isc.CANDIDATE_UNSCORED)["n"][0]) == 0


def _two_period_candidates(gap_pre: float, gap_post: float) -> pl.DataFrame:
    """12 vacancies (6 before, 6 after the programme), each 2 White and 2 BME candidates scoring
    0.6 + vacancy effect + gap * bme +/- e_v: the gap of each period is known exactly."""
    rows, rng = [], np.random.default_rng(1)
    for v in range(12):
        post, ve, e = int(v >= 6), rng.normal(0, 0.03), 0.02 + 0.01 * (v % 3)
        gap = gap_post if post else gap_pre
        for i, (bme, dev) in enumerate([(0, e), (0, -e), (1, e), (1, -e)]):
            rows.append({"application_id": f"A{v}_{i}", "vacancy_id": f"V{v}", "score": 0.6 + ve + gap * bme + dev,
                         "bme": bme, "female": 0, "internal": 0, "band": "8a", "post_programme": post})
    return pl.DataFrame(rows)


def test_score_gap_before_and_after_the_programme_hand_computed():
    from tasks.core.vocabulary import TERM_POST_PROGRAMME, contrast_term, interaction

    out = scm.fit_programme_gap(_two_period_candidates(-0.05, -0.01))
    r = {row["term"]: row for row in out.iter_rows(named=True)}
    pre, post = r[contrast_term(TERM_POST_PROGRAMME, 0)], r[contrast_term(TERM_POST_PROGRAMME, 1)]
    change = r[interaction(TERM_BME, TERM_POST_PROGRAMME)]
    assert (pre["estimate"], post["estimate"], change["estimate"]) == (
        pytest.approx(-0.05, abs=1e-9), pytest.approx(-0.01, abs=1e-9), pytest.approx(0.04, abs=1e-9))
    # balanced within-vacancy design: sigma^2 = within SS / df = sum(4 e_v^2) / (48 - 12 - 2);
    # each period's gap averages 6 vacancy differences of variance sigma^2, the change adds the two
    e = np.array([0.02 + 0.01 * (v % 3) for v in range(12)])
    s2 = float((4 * e ** 2).sum() / 34)
    assert pre["std_error"] == pytest.approx(math.sqrt(s2 / 6), rel=1e-3)
    assert post["std_error"] == pytest.approx(math.sqrt(s2 / 6), rel=1e-3)
    assert change["std_error"] == pytest.approx(math.sqrt(2 * s2 / 6), rel=1e-3)
    z = 1.959963984540054
    assert change["ci_low"] == pytest.approx(0.04 - z * change["std_error"])
    assert pre["ci_high"] < 0 and post["ci_low"] < 0 < post["ci_high"]
    assert set(out["model"]) == {MODEL_MIXED_LINEAR} and set(out["specification"]) == {scm.SPEC_PROGRAMME}
    assert not out["primary"].any()  # the primary bme row stays the all-periods gap


def test_score_gap_by_period_needs_both_groups_in_both_periods():
    only_white_after = _two_period_candidates(-0.05, -0.01).filter(
        ~((pl.col("post_programme") == 1) & (pl.col("bme") == 1)))
    assert scm.fit_programme_gap(only_white_after).height == 0
    assert scm.fit_programme_gap(_two_period_candidates(-0.05, -0.01).drop("post_programme")).height == 0
