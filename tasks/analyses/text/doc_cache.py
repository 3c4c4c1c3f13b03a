"""Per-document NLP results, cached by content: a month processes only texts it has not seen.

Reads the text of each document (the marts' text, already redacted at ingest); returns, per
document, a :class:`DocFeatures`: the text after the analysis' redaction safety net, its sentences,
each sentence's lemma string (the topic model's input features) and each sentence's sentiment
compound score.  Every one of these is a pure function of the text and of the code and models
that made it, so they are cached in the warehouse (``meta.text_features``, sql/ops/text_cache/)
under ``text_key = sha256(feature version, text)``; the *feature version* hashes the source of the
modules that compute them, the versions of spaCy, spacy-lookups-data, vaderSentiment and numpy,
the spaCy model name and the redaction flag, so a change to any of them recomputes every text.

What is not cached: anything that depends on the corpus as a whole (the topic model's vocabulary
and fit, topic shares, stratified tables).  Those are recomputed from the cached features, so a
cached month and an uncached month publish identical tables (tests/analyses/text/test_doc_cache.py).

Implements the incremental part of docs/methods.md section 2 (text).  Never caches unredacted
text: the cache is filled only from the marts.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

CACHE_TABLE = "meta.text_features"

# the modules whose code makes a document's features: a change to any of them invalidates the cache
_FEATURE_SOURCES = (
    "tasks/analyses/text/doc_cache.py",
    "tasks/analyses/text/sentiment.py",
    "tasks/analyses/text/topics.py",
    "tasks/privacy/redaction.py",
)
_FEATURE_PACKAGES = ("spacy", "spacy-lookups-data", "vaderSentiment", "numpy")


@dataclass(frozen=True)
class DocFeatures:
    """One document's cached NLP results (sentences, lemmas and scores are parallel)."""

    text: str
    sentences: tuple[str, ...]
    lemmas: tuple[str, ...]
    scores: tuple[float, ...]

    @property
    def sentence_features(self) -> list[tuple[str, str]]:
        """``[(sentence, lemma string), ...]`` as :func:`tasks.analyses.text.topics.sentence_features` gives."""
        return list(zip(self.sentences, self.lemmas))


class FeatureCache(Protocol):
    def get(self, keys: Sequence[str]) -> dict[str, DocFeatures]: ...

    def put(self, version: str, rows: dict[str, DocFeatures]) -> None: ...


def feature_version(*, model: str | None, reredact: bool) -> str:
    """Hash of everything a document's features depend on besides its text."""
    root = Path(__file__).resolve().parents[3]
    h = hashlib.sha256()
    for rel in _FEATURE_SOURCES:
        h.update(rel.encode() + b"\0" + (root / rel).read_bytes() + b"\0")
    for pkg in _FEATURE_PACKAGES:
        try:
            h.update(f"{pkg}={importlib.metadata.version(pkg)}\0".encode())
        except importlib.metadata.PackageNotFoundError:
            h.update(f"{pkg}=absent\0".encode())
    h.update(f"model={model}\0reredact={bool(reredact)}".encode())
    return h.hexdigest()[:32]


def text_key(version: str, text: str) -> str:
    return hashlib.sha256(version.encode() + b"\0" + text.encode("utf-8", "surrogatepass")).hexdigest()


class MemoryCache:
    """A cache in a dict (tests; runs without a warehouse)."""

    def __init__(self) -> None:
        self.rows: dict[str, DocFeatures] = {}

    def get(self, keys: Sequence[str]) -> dict[str, DocFeatures]:
        return {k: self.rows[k] for k in keys if k in self.rows}

    def put(self, version: str, rows: dict[str, DocFeatures]) -> None:
        for k, v in rows.items():
            self.rows.setdefault(k, v)


class WarehouseCache:
    """``meta.text_features`` in the warehouse: read through a reader, written by the single writer."""

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = str(db_path)
        self.tally = {"looked_up": 0, "from_cache": 0, "computed": 0}

    def get(self, keys: Sequence[str]) -> dict[str, DocFeatures]:
        import polars as pl

        from tasks.warehouse.connection import reading
        from tasks.warehouse.sql import query, run_sql

        self.tally["looked_up"] += len(keys)
        if not keys:
            return {}
        with reading(self.db_path) as con:
            if not run_sql(con, "ops/text_cache/table_exists").fetchall()[0][0]:
                return {}
            con.register("text_cache_wanted", pl.DataFrame({"text_key": list(dict.fromkeys(keys))}).to_arrow())
            try:
                got = query(con, "ops/text_cache/lookup", wanted="text_cache_wanted")
            finally:
                con.unregister("text_cache_wanted")
        found = {
            r["text_key"]: DocFeatures(r["text"], tuple(r["sentences"]), tuple(r["lemmas"]), tuple(r["scores"]))
            for r in got.iter_rows(named=True)
        }
        self.tally["from_cache"] += len(found)
        return found

    def put(self, version: str, rows: dict[str, DocFeatures]) -> None:
        import polars as pl

        from tasks.warehouse.connection import writing
        from tasks.warehouse.sql import run_sql

        frame = pl.DataFrame({
            "text_key": list(rows), "version": [version] * len(rows),
            "text": [f.text for f in rows.values()],
            "sentences": [list(f.sentences) for f in rows.values()],
            "lemmas": [list(f.lemmas) for f in rows.values()],
            "scores": [list(f.scores) for f in rows.values()],
        }, schema={"text_key": pl.Utf8, "version": pl.Utf8, "text": pl.Utf8, "sentences": pl.List(pl.Utf8),
                   "lemmas": pl.List(pl.Utf8), "scores": pl.List(pl.Float64)})
        self.tally["computed"] += len(rows)
        with writing(self.db_path) as con:
            run_sql(con, "ops/text_cache/create")
            run_sql(con, "ops/text_cache/drop_version", {"version": version})
            con.register("text_cache_fresh", frame.to_arrow())
            try:
                run_sql(con, "ops/text_cache/insert", fresh="text_cache_fresh")
            finally:
                con.unregister("text_cache_fresh")


@dataclass(frozen=True)
class FeatureStats:
    documents: int
    distinct: int
    cached: int
    computed: int


def compute_features(
    texts: Sequence[str], *, model: str | None, reredact: bool, batch_size: int = 1000, n_process: int = 1,
    progress: Callable[[float, str], None] | None = None,
) -> list[DocFeatures]:
    """Redaction safety net, sentences with lemmas and sentence sentiment of ``texts`` (no cache)."""
    from tasks.analyses.text.sentiment import build_analyzer, sentence_scores
    from tasks.analyses.text.topics import build_lemmatiser, sentence_features

    texts = ["" if t is None else str(t) for t in texts]
    if not texts:
        return []
    if reredact:
        # defence in depth: pattern and title rules again (marts text is already redacted at ingest)
        from tasks.privacy.redaction import build_redactor

        texts = [t for t, _ in build_redactor(None).redact_many(texts, batch_size=batch_size, n_process=n_process)]
    if progress:
        progress(0.25, "redaction check")
    feats = sentence_features(texts, build_lemmatiser(model), batch_size=batch_size, n_process=n_process)
    if progress:
        progress(0.65, "lemmatised")
    analyzer = build_analyzer()
    out = []
    for t, f in zip(texts, feats):
        sents = tuple(s for s, _ in f)
        out.append(DocFeatures(t, sents, tuple(lem for _, lem in f),
                               tuple(float(x) for x in sentence_scores(list(sents), analyzer))))
    if progress:
        progress(1.0, "sentiment scored")
    return out


def document_features(
    texts: Sequence[str], *, model: str | None = None, reredact: bool = True, batch_size: int = 1000,
    n_process: int = 1, cache: FeatureCache | None = None, progress: Callable[[float, str], None] | None = None,
) -> tuple[list[DocFeatures], FeatureStats]:
    """:class:`DocFeatures` of every text, computing only the distinct texts ``cache`` does not hold.

    Without a cache every distinct text is computed once (identical texts share their features).
    New results are written to the cache.  Returns the features in the order of ``texts``.
    """
    texts = ["" if t is None else str(t) for t in texts]
    version = feature_version(model=model, reredact=reredact)
    keys = [text_key(version, t) for t in texts]
    distinct = list(dict.fromkeys(keys))
    found = cache.get(distinct) if cache is not None else {}
    first_text = dict(zip(keys, texts))
    todo = [k for k in distinct if k not in found]
    fresh = dict(zip(todo, compute_features([first_text[k] for k in todo], model=model, reredact=reredact,
                                            batch_size=batch_size, n_process=n_process, progress=progress)))\
        if todo else {}
    if cache is not None and fresh:
        cache.put(version, fresh)
    stats = FeatureStats(documents=len(texts), distinct=len(distinct), cached=len(found), computed=len(fresh))
    log.info("text features: %d documents, %d distinct, %d from the cache, %d computed",
             stats.documents, stats.distinct, stats.cached, stats.computed)
    allf = {**found, **fresh}
    return [allf[k] for k in keys], stats


def sentence_score_arrays(features: Sequence[DocFeatures]) -> list[np.ndarray]:
    return [np.array(f.scores, dtype=float) for f in features]
