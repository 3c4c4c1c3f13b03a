"""Free-text analysis: topics, sentiment, stratification and the adjusted tone comparison.

``analyse(ctx, progress=None)`` reads ``marts.assessment_texts`` and
``marts.ceo_letter_texts`` (already redacted at ingest), the candidate and
vacancy features of ``marts.application_funnel`` and the interview scores of
``marts.score_sheets``, and returns:

* ``topics``: per source and topic: label (top terms), theme, top_terms, NPMI
  coherence, the chosen K and the coherence of every K tried, prevalence and tone;
* ``topic_prevalence``: mean topic share by group, 95% CI, n, p and BH q;
* ``sentiment_by_group``: mean document sentiment (``topic_id`` null) and mean
  sentence tone per dominant topic, by group, 95% CI, n, p and BH q;
* ``text_effects``: the BME coefficient on document sentiment and on each topic
  share, unadjusted and adjusted for offered, normalised interview score and
  band, SEs clustered by vacancy (assessments);
* ``text_documents``: the restricted document-level table (pseudonymous IDs,
  redacted text, sentiment, topic shares).

This module orchestrates: per source, the NLP and topic model (:func:`process_texts`), then the
rows of each table from :mod:`tasks.analyses.text.tables` (document frame, stratification, the
adjusted BME comparison, schemas).  Pure functions (:func:`analyse_frames`,
:func:`tasks.analyses.text.tables.bme_effects`) hold the logic so tests run without a warehouse;
group means with cluster-robust SEs, clustered OLS and BH q-values come from :mod:`tasks.stats`.  Writes nothing to the warehouse but its
per-document content cache (``meta.text_features``, :mod:`tasks.analyses.text.doc_cache`) and the
run registry's record of what it reused (``results.runs.reuse_json``), both through the single writer.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
import polars as pl

from tasks.analyses.text.doc_cache import FeatureCache, WarehouseCache, document_features, sentence_score_arrays
from tasks.analyses.text.labels import lookup_lemmatiser, with_surface_labels
from tasks.analyses.text.sentiment import summarise_scores
from tasks.analyses.text.tables import (
    DOCS_SCHEMA,
    EFFECTS_SCHEMA,
    GROUP_SCHEMA,
    SOURCE_ASSESSMENTS,
    SOURCE_LETTERS,
    TOPICS_SCHEMA,
    _document_rows,
    _effect_rows,
    _frame,
    _sentence_tone_rows,
    _stratify,
    _topic_rows,
    _with_q,
    _with_stratifiers,
    document_frame,
)
from tasks.analyses.text.topics import (
    DEFAULT_K_RANGE,
    DEFAULT_SEED,
    document_lemmas,
    dominant_topic,
    fit_topics,
    theme_lemmas_for,
)
from tasks.analyses.text.trends import quarter_rows

log = logging.getLogger(__name__)


Progress = Callable[[float, str], None]


SOURCE_MARTS = {SOURCE_ASSESSMENTS: "assessment_texts", SOURCE_LETTERS: "ceo_letter_texts"}


def _noop(_f: float, _m: str) -> None:
    return None


# --------------------------------------------------------------------------
# Per-source text processing
# --------------------------------------------------------------------------
def process_texts(
    texts: Sequence[str],
    *,
    method: str = "nmf",
    k_range: Sequence[int] = DEFAULT_K_RANGE,
    seed: int = DEFAULT_SEED,
    model: str | None = None,
    batch_size: int = 1000,
    n_process: int = 1,
    fit_max_docs: int = 50_000,
    reredact: bool = True,
    cache: FeatureCache | None = None,
    progress: Progress = _noop,
) -> dict:
    """Redaction safety net, lemmas, sentence sentiment and a topic model for one corpus.

    The per-document steps (redaction check, sentences and lemmas, sentence sentiment) come from
    :func:`tasks.analyses.text.doc_cache.document_features`: only texts that ``cache`` does not hold
    are computed; the corpus-level topic model is always fitted on all of them."""
    docs, stats = document_features(
        texts, model=model, reredact=reredact, batch_size=batch_size, n_process=n_process, cache=cache,
        progress=lambda f, m: progress(0.6 * f, m))
    texts = [d.text for d in docs]
    feats = [d.sentence_features for d in docs]
    lemmas = document_lemmas(feats)
    sent_mean, n_sent, neg_share, per_sentence = summarise_scores(sentence_score_arrays(docs))
    progress(0.6, "sentiment scored")
    tm = fit_topics(
        lemmas, method=method, k_range=k_range, seed=seed, fit_max_docs=fit_max_docs,
        theme_lemmas=theme_lemmas_for(model),
        progress=lambda f, m: progress(0.6 + 0.3 * f, m),
    )
    shares = tm.transform(lemmas)
    sent_lemmas = [lem for f in feats for _, lem in f]
    sent_doc = np.repeat(np.arange(len(feats)), [len(f) for f in feats])
    sent_scores = np.concatenate(per_sentence) if per_sentence else np.array([])
    sent_topic = dominant_topic(tm.transform(sent_lemmas)) if sent_lemmas else np.array([], dtype=int)
    progress(0.95, "topics inferred")
    return {
        "texts": texts, "lemmas": lemmas, "sentiment": sent_mean, "n_sentences": n_sent,
        "negative_share": neg_share, "model": tm, "shares": shares, "sentence_doc": sent_doc,
        "sentence_score": sent_scores, "sentence_topic": sent_topic, "feature_stats": stats,
    }


# --------------------------------------------------------------------------
# One source, then all of them (rows from tasks.analyses.text.tables)
# --------------------------------------------------------------------------
def _source_texts(source: str, texts: pl.DataFrame, params: dict) -> pl.DataFrame:
    """The corpus of one source in the marts' lineage order (the same in every warehouse, never the
    pseudonymous IDs' order); assessments optionally one document per application."""
    if source == SOURCE_ASSESSMENTS and params.get("text_assessment_unit", "assessment") == "application":
        # one document per application: the panel's assessments concatenated in extract row order
        texts = (
            texts.group_by("application_id", maintain_order=True)
            .agg(pl.col("vacancy_id").first(), pl.col("author_id").first(), pl.col("written_date").max(),
                 pl.col("text").str.join(" "), pl.col("n_redactions").sum())
        )
    return texts


def _process(frame: pl.DataFrame, params: dict, k_range: Sequence[int], progress: Progress,
             cache: FeatureCache | None = None) -> dict:
    """:func:`process_texts` on the frame's text with the run parameters (``text_*``)."""
    return process_texts(
        frame["text"].to_list(),
        method=params.get("text_topic_method", "nmf"), k_range=k_range,
        seed=int(params.get("text_seed", DEFAULT_SEED)), model=params.get("text_spacy_model"),
        batch_size=int(params.get("text_batch_size", 1000)), n_process=int(params.get("text_n_process", 1)),
        fit_max_docs=int(params.get("text_fit_max_docs", 50_000)), reredact=bool(params.get("text_reredact", True)),
        cache=cache, progress=progress,
    )


def _with_results(frame: pl.DataFrame, res: dict, share_cols: dict[str, int]) -> pl.DataFrame:
    shares = res["shares"]
    return frame.with_columns(
        pl.Series("text", res["texts"]),
        pl.Series("sentiment", res["sentiment"], dtype=pl.Float64),
        pl.Series("n_sentences", res["n_sentences"], dtype=pl.Int64),
        pl.Series("negative_share", res["negative_share"], dtype=pl.Float64),
        pl.Series("dominant_topic", dominant_topic(shares), dtype=pl.Int64),
        *[pl.Series(c, shares[:, k], dtype=pl.Float64) for c, k in share_cols.items()],
    )


def _analyse_source(source: str, texts: pl.DataFrame, funnel: pl.DataFrame, scores: pl.DataFrame | None,
                    params: dict, prog: Progress, cache: FeatureCache | None = None) -> dict[str, list] | None:
    """Result rows of one source (topics, prevalence, sentiment, effects, documents); None if too few documents."""
    texts = _source_texts(source, texts, params)
    frame = document_frame(source, texts, funnel, scores if source == SOURCE_ASSESSMENTS else None)
    k_range = params.get("text_k_range", DEFAULT_K_RANGE)
    if frame.height < 4 * max(k_range):
        log.warning("%s: %d documents, too few for topic models with K up to %d; skipped", source, frame.height, max(k_range))
        return None
    res = _process(frame, params, k_range, lambda f, m: prog(0.8 * f, m), cache)
    tm = res["model"]
    share_cols = {f"_share_{k}": k for k in range(tm.k)}
    frame = _with_results(frame, res, share_cols)
    sent_frame = pl.DataFrame({
        "doc": res["sentence_doc"], "score": res["sentence_score"], "topic": res["sentence_topic"],
    })
    out = {"topics": with_surface_labels(_topic_rows(source, frame, tm, res["shares"], sent_frame),
                                         frame["text"].to_list(), lookup_lemmatiser(params.get("text_spacy_model")))}
    out["prevalence"] = _stratify(source, frame, share_cols, family=f"{source}:topic_prevalence")
    out["prevalence"] += quarter_rows(source, frame, share_cols, family=f"{source}:topic_prevalence")
    out["sentiment"] = _stratify(source, frame, {"sentiment": None}, family=f"{source}:sentiment")
    out["sentiment"] += quarter_rows(source, frame, {"sentiment": None}, family=f"{source}:sentiment")
    sentences = _with_stratifiers(sent_frame, frame)
    for k in range(tm.k):
        out["sentiment"] += _sentence_tone_rows(source, sentences, k)
    # adjusted comparison (assessments: the candidate's own documents)
    out["effects"] = _effect_rows(source, frame, tm, share_cols) if source == SOURCE_ASSESSMENTS else []
    out["documents"] = [_document_rows(source, frame, share_cols)]
    prog(1.0, "stratified")
    return out


def analyse_frames(
    sources: dict[str, pl.DataFrame],
    funnel: pl.DataFrame,
    scores: pl.DataFrame | None,
    params: dict | None = None,
    progress: Progress | None = None,
    cache: FeatureCache | None = None,
) -> dict[str, pl.DataFrame]:
    """All five result tables from mart-shaped frames (``sources``: source -> text mart frame).

    ``cache``: where per-document NLP results are looked up and stored (:mod:`tasks.analyses.text.doc_cache`);
    the tables are the same with or without it."""
    params = params or {}
    progress = progress or _noop
    parts: dict[str, list] = {"topics": [], "prevalence": [], "sentiment": [], "effects": [], "documents": []}
    active = [s for s in (SOURCE_ASSESSMENTS, SOURCE_LETTERS) if s in sources and sources[s].height]
    for i, source in enumerate(active):
        lo, span = i / max(len(active), 1), 1 / max(len(active), 1)

        def prog(f: float, m: str, lo=lo, span=span, source=source) -> None:
            progress(min(lo + span * f, 1.0), f"{source}: {m}")

        out = _analyse_source(source, sources[source], funnel, scores, params, prog, cache)
        for name, rows in (out or {}).items():
            parts[name] += rows
    progress(1.0, "text analysis complete")
    docs = parts["documents"]
    return {
        "topics": _frame(parts["topics"], TOPICS_SCHEMA),
        "topic_prevalence": _frame(_with_q(parts["prevalence"]), GROUP_SCHEMA),
        "sentiment_by_group": _frame(_with_q(parts["sentiment"]), GROUP_SCHEMA),
        "text_effects": _frame(parts["effects"], EFFECTS_SCHEMA),
        "text_documents": pl.concat(docs, how="vertical_relaxed") if docs else _frame([], DOCS_SCHEMA),
    }


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------
def analyse(ctx, progress: Progress | None = None) -> dict[str, pl.DataFrame]:
    """The monthly text analysis over the warehouse (read-only)."""
    from tasks.marts import load_mart

    progress = progress or _noop
    progress(0.0, "loading text marts")
    sources = {src: load_mart(ctx, mart, window=True) for src, mart in SOURCE_MARTS.items()}
    funnel = load_mart(ctx, "application_funnel", window=True)
    scores = load_mart(ctx, "score_sheets", columns=["application_id", "normalised_score"], window=True)
    log.info("text analysis: %d assessments, %d letters", sources[SOURCE_ASSESSMENTS].height, sources[SOURCE_LETTERS].height)
    from tasks.analyses.text.reuse import inputs_fingerprint, reusable_tables
    from tasks.publish.registry import record_reuse

    inputs = inputs_fingerprint({**sources, "funnel": funnel, "scores": scores}, ctx.params)
    prior = reusable_tables(ctx.db_path, inputs)
    if prior is not None:  # same inputs, parameters and code as a completed run: its tables, not a recomputation
        run_id, tables = prior
        record_reuse(ctx.db_path, ctx.run_id, "text", {"inputs_sha256": inputs, "tables": list(tables),
                                                       "reused_run": run_id})
        log.info("text analysis: inputs unchanged since run %s; its tables reused", run_id)
        progress(1.0, "inputs unchanged: tables of an earlier run reused")
        return tables
    cache = WarehouseCache(ctx.db_path)
    out = analyse_frames(sources, funnel, scores, params=ctx.params, progress=progress, cache=cache)
    # distinct texts: looked up in the content cache, found there, computed and added to it
    record_reuse(ctx.db_path, ctx.run_id, "text", {"inputs_sha256": inputs, "tables": list(out),
                                                   "distinct_texts": cache.tally["looked_up"],
                                                   "from_cache": cache.tally["from_cache"],
                                                   "computed": cache.tally["computed"]})
    return out
