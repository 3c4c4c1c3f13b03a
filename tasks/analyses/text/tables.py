"""The text analysis' result tables, built from one source's document frame (pure, on frames).

Reads mart-shaped frames (a text mart, ``application_funnel``, ``score_sheets``) and, once the
corpus is processed, the document frame with its sentiment and topic shares, the sentence frame
(doc, score, topic) and the fitted topic model.  Returns the rows of the five result tables for
one source: :func:`document_frame` (one row per document with its stratifiers), stratified group
means (:func:`_stratify`) with BH q-values by family (:func:`_with_q`), the ``topics`` rows, the
sentence tone per dominant topic, the adjusted BME comparison (:func:`bme_effects`,
:func:`_effect_rows`) and the restricted document rows; plus the tables' schemas and
:func:`_frame`.  Group means with cluster-robust SEs, clustered OLS and BH q-values come from
:mod:`tasks.stats`.  Never reads the warehouse or a model; the orchestration (NLP, topic model,
sources, the warehouse) is :mod:`tasks.analyses.text.analysis`.
"""
from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import polars as pl

from tasks.core.vocabulary import (
    MODEL_LINEAR,
    REFERENCE_BAND,
    SENIOR_BANDS,
    STAGE_ASSESSMENT_TONE,
    STAGE_ASSESSMENT_TOPICS,
    TERM_BME,
    TERM_OFFERED,
    band_term,
    topic_term,
)
from tasks.stats.clustered import group_means, ols_clustered
from tasks.stats.multiple_testing import bh_qvalues

SOURCE_ASSESSMENTS = "assessments"


SOURCE_LETTERS = "ceo_letters"


TERM_SCORE = "normalised_score"


OUTCOME_SENTIMENT = "sentiment"


ADJ_NONE = "unadjusted"


ADJ_FULL = "adjusted"


# stratifiers: name in result tables -> column of the document frame
STRATIFIERS: dict[str, str] = {
    "candidate_wres_group": "wres_group",
    "candidate_census_group": "census_group",
    "candidate_sex": "sex",
    "band": "band",
    "offered": "offered",
    "manager_wres_group": "manager_wres_group",
    "manager_sex": "manager_sex",
    "diverse_panel": "diverse_panel",
    "post_programme": "post_programme",
}


FUNNEL_COLUMNS = [
    "application_id", "vacancy_id", "wres_group", "census_group", "bme", "sex", "band", "offered",
    "appointed", "manager_wres_group", "manager_sex", "diverse_panel", "post_programme",
]


MIN_GROUP_N = 5  # levels with fewer documents are left out (cluster-robust SEs need more)


# --------------------------------------------------------------------------
# Statistics (pure)
# --------------------------------------------------------------------------
def text_qvalues(p_values: Sequence[float]) -> list[float]:
    """BH q-values as the text tables store them: NaN for a missing p-value.

    Uses statsmodels' arithmetic (``multipletests(method="fdr_bh")``), which this
    analysis has always published; see :func:`tasks.stats.multiple_testing.bh_qvalues`.
    """
    return [np.nan if q is None else q for q in bh_qvalues(p_values, arithmetic="ecdf")]


def bme_effects(docs: pl.DataFrame, outcomes: dict[str, str], bands: Sequence[str] = SENIOR_BANDS) -> list[dict]:
    """Coefficient of ``bme`` on each outcome column, unadjusted and adjusted.

    ``outcomes`` maps a column of ``docs`` to its term name.  Adjusted model:
    outcome ~ 1 + bme + offered + normalised_score + band dummies (reference
    ``REFERENCE_BAND``); both models use the same complete-case sample and SEs
    clustered by ``vacancy_id``.
    """
    need = ["bme", "offered", TERM_SCORE, "band", "vacancy_id"]
    base = docs.filter(pl.all_horizontal([pl.col(c).is_not_null() for c in need]))
    if TERM_SCORE in base.columns:
        base = base.filter(pl.col(TERM_SCORE).is_not_nan())
    out = []
    present = [b for b in bands if b != REFERENCE_BAND and (base["band"] == b).any()] if base.height else []
    for col, term in outcomes.items():
        d = base.filter(pl.col(col).is_not_null() & pl.col(col).is_not_nan())
        if d.height < 10 or d["bme"].n_unique() < 2 or d["vacancy_id"].n_unique() < 2:
            continue
        y = d[col].to_numpy().astype(float)
        bme = d["bme"].to_numpy().astype(float)
        one = np.ones_like(y)
        X0 = np.column_stack([one, bme])
        cols = [one, bme, d["offered"].to_numpy().astype(float), d[TERM_SCORE].to_numpy().astype(float)]
        names = ["intercept", TERM_BME, TERM_OFFERED, TERM_SCORE]
        for b in present:
            dummy = (d["band"] == b).to_numpy().astype(float)
            if dummy.any():
                cols.append(dummy)
                names.append(band_term(b))
        X1 = np.column_stack(cols)
        cl = d["vacancy_id"].to_numpy()
        n_cl = int(np.unique(cl.astype(str)).size)
        for adj, X, nm in ((ADJ_NONE, X0, ["intercept", TERM_BME]), (ADJ_FULL, X1, names)):
            r = ols_clustered(y, X, nm, cl)[TERM_BME]
            out.append({
                "outcome": col, "term": term, "adjustment": adj, **r, "n": int(d.height), "n_clusters": n_cl,
                "controls": "" if adj == ADJ_NONE else ", ".join(nm[2:]),
            })
    return out


# --------------------------------------------------------------------------
# Assembling the result tables (pure, on frames)
# --------------------------------------------------------------------------
def _topic_name(tm, k: int) -> str:
    return tm.themes[k] if tm.themes and tm.themes[k] else f"topic_{k}"


def document_frame(source: str, texts: pl.DataFrame, funnel: pl.DataFrame, scores: pl.DataFrame | None) -> pl.DataFrame:
    """One row per document with its stratifiers, in the order of ``texts`` (lineage order; never by
    the key-dependent pseudonymous IDs).  A letter's appointee: the first appointed application in
    ``funnel``'s lineage order."""
    f = funnel.select([c for c in FUNNEL_COLUMNS if c in funnel.columns])
    if source == SOURCE_ASSESSMENTS:
        d = texts.join(f.drop("vacancy_id", strict=False), on="application_id", how="left", maintain_order="left")
        if scores is not None and scores.height:
            s = scores.group_by("application_id", maintain_order=True).agg(pl.col("normalised_score").mean().alias(TERM_SCORE))
            d = d.join(s, on="application_id", how="left", maintain_order="left")
        else:
            d = d.with_columns(pl.lit(None, dtype=pl.Float64).alias(TERM_SCORE))
        d = d.with_columns(
            (pl.col("application_id") + pl.lit(":") + pl.col("author_id").fill_null("")).alias("document_id")
            if "author_id" in d.columns else pl.col("application_id").alias("document_id")
        )
    else:
        # a letter is about the vacancy's appointee (first appointed application) and the vacancy
        vac_cols = ["vacancy_id", "band", "manager_wres_group", "manager_sex", "diverse_panel", "post_programme"]
        vac = f.select([c for c in vac_cols if c in f.columns]).unique("vacancy_id", keep="first", maintain_order=True)
        appointee = (
            f.filter(pl.col("appointed") == 1)
            .unique("vacancy_id", keep="first", maintain_order=True)
            .select(["vacancy_id", "application_id", "wres_group", "census_group", "bme", "sex", "offered"])
        )
        d = texts.join(vac, on="vacancy_id", how="left", maintain_order="left").join(
            appointee, on="vacancy_id", how="left", maintain_order="left")
        d = d.with_columns(pl.col("vacancy_id").alias("document_id"), pl.lit(None, dtype=pl.Float64).alias(TERM_SCORE))
    return d


def _stratify(source: str, frame: pl.DataFrame, value_cols: dict[str, int | None], family: str) -> list[dict]:
    rows = []
    for var, col in STRATIFIERS.items():
        if col not in frame.columns:
            continue
        groups = frame[col].cast(pl.Utf8).to_list()
        clusters = frame["vacancy_id"].cast(pl.Utf8).fill_null("").to_list()
        for vcol, topic_id in value_cols.items():
            y = frame[vcol].cast(pl.Float64).to_numpy()
            levels, p = group_means(y, groups, clusters, min_group_n=MIN_GROUP_N)
            if len(levels) < 2:
                continue
            for r in levels:
                rows.append({"source": source, "variable": var, "topic_id": topic_id, **r, "p_value": p, "family": family})
    return rows


def _with_q(rows: list[dict]) -> list[dict]:
    """BH q-values within each family (one test per source/variable/topic, shared by its levels)."""
    by_family: dict[str, dict[tuple, float]] = {}
    for r in rows:
        by_family.setdefault(r["family"], {})[(r["variable"], r["topic_id"])] = r["p_value"]
    qmap = {}
    for fam, tests in by_family.items():
        keys = list(tests)
        q = text_qvalues([tests[k] for k in keys])
        qmap.update({(fam, k): float(v) for k, v in zip(keys, q)})
    for r in rows:
        r["q_value"] = qmap[(r["family"], (r["variable"], r["topic_id"]))]
    return rows


def _topic_rows(source: str, frame: pl.DataFrame, tm, shares: np.ndarray, sent_frame: pl.DataFrame) -> list[dict]:
    """Rows of the ``topics`` table for one source, with the sentence tone per topic."""
    rows = []
    coh_json = json.dumps({str(k): round(v, 6) for k, v in tm.coherence_by_k.items()})
    dom = frame["dominant_topic"].to_numpy()
    for k in range(tm.k):
        sc = sent_frame.filter(pl.col("topic") == k)["score"].to_numpy()
        m = float(sc.mean()) if sc.size else np.nan
        se = float(sc.std(ddof=1) / np.sqrt(sc.size)) if sc.size > 1 else np.nan
        rows.append({
            "source": source, "topic_id": k, "label": tm.labels[k], "theme": _topic_name(tm, k),
            "term": topic_term(_topic_name(tm, k)), "top_terms": ", ".join(tm.top_terms[k]),
            "coherence": float(tm.topic_coherence[k]), "method": tm.method, "k": tm.k,
            "coherence_by_k": coh_json, "prevalence": float(shares[:, k].mean()),
            "n_dominant": int((dom == k).sum()), "tone": m, "tone_ci_low": m - 1.96 * se,
            "tone_ci_high": m + 1.96 * se, "n_sentences": int(sc.size),
        })
    return rows


def _with_stratifiers(sent_frame: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """The sentence frame (doc, score, topic) with its document's cluster and stratifiers."""
    return sent_frame.join(
        frame.with_row_index("doc").select(["doc", "vacancy_id", *[c for c in STRATIFIERS.values() if c in frame.columns]]),
        on="doc", how="left", maintain_order="left",
    )


def _sentence_tone_rows(source: str, sentences: pl.DataFrame, k: int) -> list[dict]:
    """Stratified mean sentence tone for the sentences whose dominant topic is ``k`` (>= 10 sentences)."""
    sub = sentences.filter(pl.col("topic") == k)
    if sub.height < 10:
        return []
    return _stratify(source, sub.rename({"score": f"_tone_{k}"}), {f"_tone_{k}": k}, family=f"{source}:topic_tone")


def _effect_rows(source: str, frame: pl.DataFrame, tm, share_cols: dict[str, int]) -> list[dict]:
    """The adjusted BME comparison on document sentiment and each topic share, with BH q-values by adjustment."""
    outcomes = {"sentiment": TERM_BME} | {c: topic_term(_topic_name(tm, k)) for c, k in share_cols.items()}
    effs = bme_effects(frame, outcomes)
    for e in effs:
        k = share_cols.get(e["outcome"])
        e.update({
            "source": source, "stage": STAGE_ASSESSMENT_TONE if k is None else STAGE_ASSESSMENT_TOPICS,
            "outcome": OUTCOME_SENTIMENT if k is None else f"topic_share:{k}", "topic_id": k,
            "model": MODEL_LINEAR,
        })
    for adj in (ADJ_NONE, ADJ_FULL):
        fam = [e for e in effs if e["adjustment"] == adj and e["topic_id"] is not None]
        for e, q in zip(fam, text_qvalues([e["p_value"] for e in fam])):
            e["q_value"] = float(q)
        for e in effs:
            if e["adjustment"] == adj and e["topic_id"] is None:
                e["q_value"] = e["p_value"]
    return effs


def _document_rows(source: str, frame: pl.DataFrame, share_cols: dict[str, int]) -> pl.DataFrame:
    """Rows of the restricted ``text_documents`` table for one source."""
    return frame.select(
        pl.lit(source).alias("source"), "document_id",
        pl.col("application_id") if "application_id" in frame.columns else pl.lit(None, dtype=pl.Utf8).alias("application_id"),
        "vacancy_id",
        pl.col("author_id") if "author_id" in frame.columns else pl.lit(None, dtype=pl.Utf8).alias("author_id"),
        pl.col("written_date"), "text", "sentiment", "n_sentences", "negative_share", "dominant_topic",
        pl.concat_list([pl.col(c).round(6) for c in share_cols]).alias("topic_shares"),
    ).with_columns(pl.col("topic_shares").map_elements(lambda s: json.dumps(list(s)), return_dtype=pl.Utf8))


# --------------------------------------------------------------------------
# Table schemas
# --------------------------------------------------------------------------
TOPICS_SCHEMA = {
    "source": pl.Utf8, "topic_id": pl.Int64, "label": pl.Utf8, "theme": pl.Utf8, "term": pl.Utf8,
    "top_terms": pl.Utf8, "coherence": pl.Float64, "method": pl.Utf8, "k": pl.Int64, "coherence_by_k": pl.Utf8,
    "prevalence": pl.Float64, "n_dominant": pl.Int64, "tone": pl.Float64, "tone_ci_low": pl.Float64,
    "tone_ci_high": pl.Float64, "n_sentences": pl.Int64,
}


GROUP_SCHEMA = {
    "source": pl.Utf8, "variable": pl.Utf8, "level": pl.Utf8, "topic_id": pl.Int64, "n": pl.Int64,
    "n_clusters": pl.Int64, "mean": pl.Float64, "std_error": pl.Float64, "ci_low": pl.Float64,
    "ci_high": pl.Float64, "p_value": pl.Float64, "q_value": pl.Float64, "family": pl.Utf8,
}


EFFECTS_SCHEMA = {
    "source": pl.Utf8, "stage": pl.Utf8, "outcome": pl.Utf8, "topic_id": pl.Int64, "term": pl.Utf8,
    "adjustment": pl.Utf8, "model": pl.Utf8, "estimate": pl.Float64, "std_error": pl.Float64,
    "ci_low": pl.Float64, "ci_high": pl.Float64, "p_value": pl.Float64, "q_value": pl.Float64,
    "n": pl.Int64, "n_clusters": pl.Int64, "controls": pl.Utf8,
}


DOCS_SCHEMA = {
    "source": pl.Utf8, "document_id": pl.Utf8, "application_id": pl.Utf8, "vacancy_id": pl.Utf8,
    "author_id": pl.Utf8, "written_date": pl.Date, "text": pl.Utf8, "sentiment": pl.Float64,
    "n_sentences": pl.Int64, "negative_share": pl.Float64, "dominant_topic": pl.Int64, "topic_shares": pl.Utf8,
}


def _frame(rows: list[dict], schema: dict) -> pl.DataFrame:
    if not rows:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema, orient="row")
