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

Pure functions (:func:`bme_effects`, :func:`analyse_frames`) hold the logic so
tests run without a warehouse; group means with cluster-robust SEs, clustered
OLS and BH q-values come from :mod:`tasks.stats`.  Writes nothing to the warehouse but its
per-document content cache (``meta.text_features``, :mod:`tasks.analyses.text.doc_cache`) and the
run registry's record of what it reused (``results.runs.reuse_json``), both through the single writer.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence

import numpy as np
import polars as pl

from tasks.analyses.text.doc_cache import FeatureCache, WarehouseCache, document_features, sentence_score_arrays
from tasks.analyses.text.labels import lookup_lemmatiser, with_surface_labels
from tasks.analyses.text.sentiment import summarise_scores
from tasks.analyses.text.topics import (
    DEFAULT_K_RANGE,
    DEFAULT_SEED,
    document_lemmas,
    dominant_topic,
    fit_topics,
    theme_lemmas_for,
)
from tasks.analyses.text.trends import quarter_rows
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

log = logging.getLogger(__name__)


Progress = Callable[[float, str], None]


SOURCE_ASSESSMENTS = "assessments"


SOURCE_LETTERS = "ceo_letters"


SOURCE_MARTS = {SOURCE_ASSESSMENTS: "assessment_texts", SOURCE_LETTERS: "ceo_letter_texts"}


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


def _noop(_f: float, _m: str) -> None:
    return None


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


def _topic_name(tm, k: int) -> str:
    return tm.themes[k] if tm.themes and tm.themes[k] else f"topic_{k}"


# --------------------------------------------------------------------------
# Assembling the result tables (pure, on frames)
# --------------------------------------------------------------------------
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
