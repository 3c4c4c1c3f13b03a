"""Topic models: NPMI by hand, K selection, planted-theme recovery on the generated corpus, determinism."""
from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import adjusted_mutual_info_score

from tasks.analyses.text.topics import (
    assign_themes,
    document_lemmas,
    dominant_topic,
    fit_topics,
    keep_lemma,
    npmi_coherence,
    sentence_features,
)
from tasks.core.vocabulary import THEMES
from tasks.privacy.redaction import build_redactor


def test_npmi_hand_computed():
    # 4 documents x 4 terms: a and b always together, c never with a, d independent of a
    X = np.array([
        [1, 1, 0, 1],
        [1, 1, 0, 0],
        [0, 0, 1, 1],
        [0, 0, 1, 0],
    ])
    # NPMI(a,b): P=.5,.5,.5 -> log(.5/.25)/-log(.5) = 1; NPMI(a,c) = -1 (never together);
    # NPMI(a,d): P(a)=P(d)=.5, P(ad)=.25 -> log(1)=0
    assert npmi_coherence(X, [[0, 1]])[0] == pytest.approx(1.0)
    assert npmi_coherence(X, [[0, 2]])[0] == pytest.approx(-1.0)
    assert npmi_coherence(X, [[0, 3]])[0] == pytest.approx(0.0)
    assert npmi_coherence(X, [[0, 1, 2]])[0] == pytest.approx((1 - 1 - 1) / 3)


def test_lemmas_drop_placeholders_stop_and_evaluative_words():
    feats = sentence_features(["[NAME] lacked experience of budgets. Dr [NAME] led teams exceptionally."])
    assert [s for s, _ in feats[0]] == ["[NAME] lacked experience of budgets.", "Dr [NAME] led teams exceptionally."]
    assert document_lemmas(feats) == ["experience budget lead team exceptionally"]
    assert not keep_lemma("name") and not keep_lemma("candidate") and not keep_lemma("outstanding")


def _corpus(n_per_theme: int, seed: int) -> tuple[list[str], list[str]]:
    """Documents of 5 sentences, 4 on one theme, words distinct per theme."""
    rng = np.random.default_rng(seed)
    words = {t: [f"{t.replace('_', '')}{c}" for c in "abcdefgh"] for t in THEMES[:5]}
    docs, truth = [], []
    for t in words:
        for _ in range(n_per_theme):
            others = [o for o in words if o != t]
            themes = [t, t, t, t, rng.choice(others)]
            docs.append(" ".join(" ".join(rng.choice(words[th], 4)) for th in themes))
            truth.append(t)
    return docs, truth


def test_k_chosen_by_npmi_recovers_planted_k_and_is_deterministic():
    docs, truth = _corpus(60, seed=1)
    tm = fit_topics(docs, k_range=range(3, 9), seed=3)
    assert sorted(tm.coherence_by_k) == [3, 4, 5, 6, 7, 8]
    assert tm.k == 5 == max(tm.coherence_by_k, key=tm.coherence_by_k.get)
    shares = tm.transform(docs)
    assert np.allclose(shares.sum(axis=1), 1)
    assert adjusted_mutual_info_score(truth, dominant_topic(shares)) > 0.9
    tm2 = fit_topics(docs, k_range=range(3, 9), seed=3)
    assert tm2.top_terms == tm.top_terms and tm2.coherence_by_k == tm.coherence_by_k
    assert np.array_equal(tm2.transform(docs), shares)


def test_lda_alternative_recovers_planted_topics():
    docs, truth = _corpus(60, seed=2)
    tm = fit_topics(docs, method="lda", k_range=[4, 5, 6], seed=3)
    assert tm.method == "lda" and tm.k in (4, 5, 6)
    assert adjusted_mutual_info_score(truth, dominant_topic(tm.transform(docs))) > 0.8


def test_theme_naming_by_cue_words():
    vocab = np.array(["budget", "financial", "team", "lead", "other"])
    H = np.array([[0.0, 0.1, 3.0, 2.0, 0.5], [2.0, 1.0, 0.0, 0.1, 0.5], [0, 0, 0, 0, 1.0]])
    themes = assign_themes(H, vocab, {"leadership": {"team", "lead"}, "finance_operations": {"budget", "financial"}})
    assert themes == ["leadership", "finance_operations", None]


@pytest.fixture(scope="module")
def generated_assessments(generated_trust):
    from extract_helpers import known_people_from_extracts

    a = pl.read_csv(generated_trust / "assessments.csv", infer_schema=False)
    truth = pl.read_csv(generated_trust / "truth_documents.csv", infer_schema=False).filter(
        pl.col("document_type") == "assessments"
    )
    a = a.join(truth, left_on="Application Ref", right_on="document_ref", how="inner")
    texts = [t for t, _ in build_redactor(known_people_from_extracts(generated_trust)).redact_many(a["Assessment Text"].to_list())]
    return texts, a["dominant_theme"].to_list()


def test_planted_theme_recovered_on_generated_corpus(generated_assessments):
    texts, truth = generated_assessments
    assert len(texts) >= 2000
    lemmas = document_lemmas(sentence_features(texts))
    tm = fit_topics(lemmas)  # NMF, K from 4..12 by NPMI
    assert set(tm.coherence_by_k) == set(range(4, 13)) and tm.k in tm.coherence_by_k
    dom = dominant_topic(tm.transform(lemmas))
    assert adjusted_mutual_info_score(truth, dom) >= 0.6
    # named topics agree with the planted dominant theme for most documents
    named = [tm.themes[d] if d >= 0 else None for d in dom]
    assert np.mean([a == b for a, b in zip(named, truth)]) >= 0.7
