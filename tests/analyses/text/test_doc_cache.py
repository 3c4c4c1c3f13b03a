"""The per-document content cache: a cached month publishes what an uncached month does, and only
new or changed texts are computed (tasks/analyses/text/doc_cache.py)."""
from __future__ import annotations

import polars as pl
import pytest

from tasks.analyses.text import doc_cache
from tasks.analyses.text.doc_cache import (
    DocFeatures,
    MemoryCache,
    WarehouseCache,
    compute_features,
    document_features,
    feature_version,
)

TEXTS = [
    "The candidate showed outstanding leadership of a large team. She would benefit from more financial experience.",
    "An unconvincing account of the strategy. Not yet ready for the role!",
    "Strong stakeholder engagement with partners across the system.",
    "",
    "The candidate showed outstanding leadership of a large team. She would benefit from more financial experience.",
]


@pytest.fixture
def counting(monkeypatch):
    """compute_features, recording how many texts each call computes."""
    calls: list[list[str]] = []

    def spy(texts, **kw):
        calls.append(list(texts))
        return compute_features(texts, **kw)

    monkeypatch.setattr(doc_cache, "compute_features", spy)
    return calls


def test_changing_one_text_recomputes_only_that_text(counting):
    cache = MemoryCache()
    first, s1 = document_features(TEXTS, cache=cache)
    # identical texts are computed once: 4 distinct of 5
    assert (s1.documents, s1.distinct, s1.cached, s1.computed) == (5, 4, 0, 4) and len(counting[0]) == 4
    changed = list(TEXTS)
    changed[1] = "A convincing account of the strategy. Ready for the role."
    second, s2 = document_features(changed, cache=cache)
    assert (s2.cached, s2.computed) == (3, 1) and counting[1] == [changed[1]]
    for i in (0, 2, 3, 4):
        assert second[i] == first[i]
    assert second[1] == compute_features([changed[1]], model=None, reredact=True)[0]
    assert second[1].scores[0] > 0 > first[1].scores[0]
    # a third month with nothing new computes nothing
    _, s3 = document_features(changed, cache=cache)
    assert s3.computed == 0 and len(counting) == 2


def test_features_match_the_uncached_steps():
    from tasks.analyses.text.sentiment import build_analyzer, sentence_scores
    from tasks.analyses.text.topics import build_lemmatiser, sentence_features

    got, _ = document_features(TEXTS[:3], reredact=False)
    feats = sentence_features(TEXTS[:3], build_lemmatiser())
    assert [g.sentence_features for g in got] == feats
    a = build_analyzer()
    assert [list(g.scores) for g in got] == [sentence_scores([s for s, _ in f], a).tolist() for f in feats]


def test_version_depends_on_model_and_redaction_flag():
    v = feature_version(model=None, reredact=True)
    assert v == feature_version(model=None, reredact=True)
    assert v != feature_version(model=None, reredact=False)
    assert v != feature_version(model="en_core_web_sm", reredact=True)


def test_warehouse_cache_round_trip_is_exact(tmp_path):
    db = tmp_path / "w" / "edi.duckdb"
    from tasks.warehouse.connection import connect

    connect(db).close()
    cache = WarehouseCache(db)
    assert cache.get(["nothing"]) == {}  # no table yet
    rows = {"k1": DocFeatures("a b. c", ("a b.", "c"), ("", "cee"), (0.1 + 0.2, -1 / 3)),
            "k2": DocFeatures("", (), (), ())}
    cache.put("v1", rows)
    cache.put("v1", {"k1": DocFeatures("other", (), (), ())})  # a cached key is kept
    assert cache.get(["k1", "k2", "k3"]) == rows
    assert cache.tally == {"looked_up": 4, "from_cache": 2, "computed": 3}
    cache.put("v2", {"k3": DocFeatures("x", ("x",), ("",), (0.0,))})  # a new version drops the old rows
    assert set(cache.get(["k1", "k2", "k3"])) == {"k3"}


def test_cached_month_publishes_the_same_tables_as_an_uncached_month(warehouse_ctx, counting):
    from tasks.analyses.text.analysis import analyse_frames
    from tasks.marts import load_mart

    texts = load_mart(warehouse_ctx, "assessment_texts", window=True).head(700)
    funnel = load_mart(warehouse_ctx, "application_funnel", window=True)
    scores = load_mart(warehouse_ctx, "score_sheets", columns=["application_id", "normalised_score"], window=True)
    params = {"text_k_range": [6, 7, 8], "text_seed": 11}
    cache = MemoryCache()
    uncached = analyse_frames({"assessments": texts}, funnel, scores, params=params, cache=cache)
    n_computed = sum(len(c) for c in counting)
    cached = analyse_frames({"assessments": texts}, funnel, scores, params=params, cache=cache)
    assert n_computed > 600 and sum(len(c) for c in counting) == n_computed  # the second month computed none
    assert uncached["topics"].height > 0 and uncached["text_documents"].height == 700
    for name in uncached:
        assert cached[name].equals(uncached[name]), name
    assert uncached["text_documents"].equals(
        analyse_frames({"assessments": texts}, funnel, scores, params=params)["text_documents"])


def test_registry_records_what_the_text_analysis_reused(tmp_path):
    from tasks.publish import registry
    from tasks.warehouse.connection import reading

    db = tmp_path / "edi.duckdb"
    registry.register_run(db, run_id="r1", flow="monthly-evaluation", as_of="2024-01", params={}, out_dir=tmp_path)
    registry.record_reuse(db, "r1", "text", {"distinct_texts": 10, "from_cache": 7, "computed": 3})
    registry.record_reuse(db, "r1", "other", {"reused": True})
    registry.record_reuse(db, "no-such-run", "text", {"computed": 1})  # outside a registered run: ignored
    with reading(db) as con:
        run = registry.get_run(con, "r1")
    assert pl.Series([run["reuse_json"]]).str.json_decode().to_list()[0] == {
        "other": {"reused": True}, "text": {"computed": 3, "distinct_texts": 10, "from_cache": 7}}
