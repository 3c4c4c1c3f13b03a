"""Stratification, BH q-values, the adjusted BME comparison, planted tone recovery and calibration."""
from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from tasks.analyses.text.tables import ADJ_FULL, ADJ_NONE, bme_effects, text_qvalues
from tasks.core.vocabulary import (
    REDACTION_PLACEHOLDERS,
    STAGE_ASSESSMENT_TONE,
    STAGE_ASSESSMENT_TOPICS,
    TERM_BME,
    topic_term,
    wres_group,
)


def test_text_q_values_are_nan_for_missing_p_and_use_statsmodels_arithmetic():
    from statsmodels.stats.multitest import multipletests

    q = text_qvalues([0.01, 0.04, 0.03, 0.5, np.nan])
    # ranks 1..4 of m=4: 0.01*4/1=.04; 0.03*4/2=.06; 0.04*4/3=.0533; 0.5 -> running minimum from the top
    assert q[:4] == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.5])
    assert np.isnan(q[4])
    assert q[:4] == multipletests([0.01, 0.04, 0.03, 0.5], method="fdr_bh")[1].tolist()


def _confounded(seed: int, n_vac: int = 150, gap: float = 0.0) -> pl.DataFrame:
    """Tone depends on offer (and on bme by ``gap``); BME candidates are offered less often."""
    rng = np.random.default_rng(seed)
    rows = []
    for v in range(n_vac):
        u_v = rng.normal(0, 0.05)
        band = rng.choice(["8a", "8b", "8c"])
        for _ in range(6):
            bme = int(rng.random() < 0.4)
            score = np.clip(rng.normal(0.65 - 0.05 * bme, 0.1), 0, 1)
            offered = int(rng.random() < (0.35 - 0.2 * bme))
            y = 0.2 + 0.25 * offered + gap * bme + u_v + rng.normal(0, 0.1)
            rows.append({"vacancy_id": f"V{v}", "bme": bme, "offered": offered, "normalised_score": score,
                         "band": band, "sentiment": y})
    return pl.DataFrame(rows)


def test_adjustment_removes_confounding_by_offer():
    d = _confounded(1)
    effs = {e["adjustment"]: e for e in bme_effects(d, {"sentiment": TERM_BME})}
    assert effs[ADJ_NONE]["estimate"] < -0.03 and effs[ADJ_NONE]["p_value"] < 0.01
    assert abs(effs[ADJ_FULL]["estimate"]) < 0.015 and effs[ADJ_FULL]["p_value"] > 0.05
    assert effs[ADJ_FULL]["n_clusters"] == 150 and effs[ADJ_FULL]["n"] == 900
    assert effs[ADJ_FULL]["controls"].startswith("offered, normalised_score, band=8b")
    # a real gap is recovered with the right sign
    planted = {e["adjustment"]: e for e in bme_effects(_confounded(2, gap=-0.05), {"sentiment": TERM_BME})}
    assert planted[ADJ_FULL]["ci_low"] < -0.05 < planted[ADJ_FULL]["ci_high"] and planted[ADJ_FULL]["p_value"] < 0.001


# --------------------------------------------------------------------------
# Generated trusts
# --------------------------------------------------------------------------
def _frames_from_extracts(extracts):
    """Mart-shaped frames from a generated trust's raw CSVs (texts redacted as ingest would)."""
    from extract_helpers import known_people_from_extracts

    from tasks.privacy.redaction import build_redactor

    rd = lambda n: pl.read_csv(extracts / f"{n}.csv", infer_schema=False)  # noqa: E731
    vac = rd("vacancies").select(
        pl.col("Vacancy Reference").alias("vacancy_id"), pl.col("Pay Band").str.replace("Band ", "").alias("band"))
    apps = rd("applications").select(
        pl.col("Application Ref").alias("application_id"), pl.col("Vacancy Reference").alias("vacancy_id"),
        pl.col("Ethnic Origin").map_elements(wres_group, return_dtype=pl.Utf8).alias("wres_group"),
        (pl.col("Offered") == "Y").cast(pl.Int64).alias("offered"), pl.col("Gender").alias("sex"),
        (pl.col("Appointed") == "Y").cast(pl.Int64).alias("appointed"),
    ).with_columns(
        pl.when(pl.col("wres_group") == "BME").then(1).when(pl.col("wres_group") == "White").then(0).alias("bme")
    ).join(vac, on="vacancy_id", how="left")
    sc = rd("interview_scores").with_columns(pl.col("Score").cast(pl.Float64), pl.col("Max Score").cast(pl.Float64))
    scores = sc.group_by("Application Ref", "Panel Member Ref").agg(
        (pl.col("Score").sum() / pl.col("Max Score").sum()).alias("normalised_score")
    ).rename({"Application Ref": "application_id"})
    a = rd("assessments")
    red = build_redactor(known_people_from_extracts(extracts)).redact_many(a["Assessment Text"].to_list())
    texts = a.select(
        pl.col("Application Ref").alias("application_id"), pl.col("Assessor Ref").alias("author_id"),
    ).join(apps.select("application_id", "vacancy_id"), on="application_id", how="left").with_columns(
        pl.Series("text", [t for t, _ in red]), pl.Series("n_redactions", [sum(c.values()) for _, c in red]),
        pl.lit(None, dtype=pl.Date).alias("written_date"),
    )
    return texts, apps, scores


def _tone_effect(extracts) -> dict:
    from tasks.analyses.text.tables import document_frame
    from tasks.analyses.text.sentiment import document_sentiment, split_sentences

    texts, apps, scores = _frames_from_extracts(extracts)
    d = document_frame("assessments", texts, apps, scores)
    mean, *_ = document_sentiment(split_sentences(t) for t in d["text"])
    d = d.with_columns(pl.Series("sentiment", mean))
    return {e["adjustment"]: e for e in bme_effects(d, {"sentiment": TERM_BME})}


def test_null_tone_gap_rarely_significant_over_20_seeds(tmp_path):
    from edi_recruit.synthetic.generator import generate_trust

    null = {"models": {"assessment_tone": {"terms": {TERM_BME: 0.0}}}}
    significant, estimates = 0, []
    for seed in range(20):
        out = tmp_path / f"t{seed}"
        generate_trust(out, seed=1000 + seed, applications=1500, effects=null)
        e = _tone_effect(out)[ADJ_FULL]
        estimates.append(e["estimate"])
        significant += e["p_value"] < 0.05
    # Rule from the binomial: c = smallest count with P(Bin(20, 0.05) > c) <= 1%, which is 4
    # (P = 0.26%).  Power against a doubled rate is low (P(Bin(20, 0.10) > 4) = 4%): each
    # replicate generates a trust and runs the text analysis, and 420 replicates (the
    # size that gives >= 90% power, see tests/analyses/funnel_statistics/test_null_rates.py)
    # would take most of an hour.  The model-level null rates have that power there.
    c = next(c for c in range(21) if stats.binom.sf(c, 20, 0.05) <= 0.01)
    assert c == 4
    assert significant <= c, (significant, estimates)
    assert abs(np.mean(estimates)) < 0.02


def test_analyse_end_to_end_on_the_warehouse(warehouse_ctx, generated_trust, truth):
    from tasks.analyses.text.analysis import analyse

    seen = []
    out = analyse(warehouse_ctx, progress=lambda f, m: seen.append(f))
    assert set(out) == {"topics", "topic_prevalence", "sentiment_by_group", "text_effects", "text_documents"}
    assert seen[-1] == 1.0 and all(0 <= f <= 1 for f in seen) and seen == sorted(seen)
    eff = out["text_effects"]
    tone = eff.filter((pl.col("stage") == STAGE_ASSESSMENT_TONE) & (pl.col("term") == TERM_BME))
    assert tone.height == 2
    planted = truth["models"][STAGE_ASSESSMENT_TONE]["terms"][TERM_BME]
    adj = tone.filter(pl.col("adjustment") == ADJ_FULL).row(0, named=True)
    assert np.sign(adj["estimate"]) == np.sign(planted) and adj["p_value"] < 0.01
    # topic terms are named as in truth.json
    topic_terms = set(eff.filter(pl.col("stage") == STAGE_ASSESSMENT_TOPICS)["term"])
    truth_terms = set(truth["models"][STAGE_ASSESSMENT_TOPICS]["terms"])
    assert topic_terms & truth_terms and topic_terms <= truth_terms | {topic_term(f"topic_{k}") for k in range(20)}
    # the largest planted topic shift is found with the right sign
    big = max(truth_terms, key=lambda t: truth["models"][STAGE_ASSESSMENT_TOPICS]["terms"][t])
    row = eff.filter((pl.col("term") == big) & (pl.col("adjustment") == ADJ_FULL))
    assert row.height == 1 and row["estimate"][0] > 0 and row["p_value"][0] < 0.05
    # topics: chosen K and the coherence of every K
    topics = out["topics"].filter(pl.col("source") == "assessments")
    assert topics.height == topics["k"][0] and topics["coherence_by_k"].n_unique() == 1
    # stratification families carry q-values; every variable level has n and a CI
    sbg = out["sentiment_by_group"]
    assert sbg["q_value"].is_not_null().all() and (sbg["ci_low"] <= sbg["mean"]).all()
    assert {"candidate_wres_group", "candidate_census_group", "candidate_sex", "band", "offered",
            "manager_wres_group", "manager_sex", "diverse_panel", "post_programme"} <= set(sbg["variable"])
    # no planted names, e-mails or phones in any result table
    import re

    pii = pl.read_csv(generated_trust / "truth_pii.csv", infer_schema=False)
    planted_values = set(pii.filter(pl.col("pii_type").is_in(["email", "phone"]))["value"])
    planted_values |= {v for v in pii.filter(pl.col("pii_type") == "name")["value"] if " " in v}
    blob = "\n".join(str(v) for df in out.values() for col in df.columns if df[col].dtype == pl.Utf8
                     for v in df[col].drop_nulls().unique())
    left = [v for v in planted_values if v in blob and re.search(r"(?<!\w)" + re.escape(v) + r"(?!\w)", blob)]
    assert not left
    assert any(p in blob for p in REDACTION_PLACEHOLDERS)


def test_determinism_same_input_same_figures(generated_trust):
    from tasks.analyses.text.analysis import analyse_frames

    texts, apps, scores = _frames_from_extracts(generated_trust)
    texts = texts.head(800)
    params = {"text_k_range": [6, 7, 8], "text_seed": 11}
    a = analyse_frames({"assessments": texts}, apps, scores, params=params)
    b = analyse_frames({"assessments": texts}, apps, scores, params=params)
    assert a["topics"].height > 0 and a["text_effects"].height > 0
    for name in a:
        assert a[name].equals(b[name]), name


@pytest.mark.slow
def test_determinism_full_warehouse(warehouse_ctx):
    from tasks.analyses.text.analysis import analyse

    a, b = analyse(warehouse_ctx), analyse(warehouse_ctx)
    for name in a:
        assert a[name].equals(b[name]), name
