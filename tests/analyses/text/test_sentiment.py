"""Sentiment: recruitment lexicon adjustment, sentence aggregation, check on the generated phrase bank."""
from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from edi_recruit.synthetic import phrase_bank
from tasks.analyses.text.sentiment import build_analyzer, document_sentiment, sentence_scores, split_sentences


@pytest.fixture(scope="module")
def adjusted():
    return build_analyzer(adjusted=True)


@pytest.fixture(scope="module")
def stock():
    return build_analyzer(adjusted=False)


@pytest.mark.parametrize(
    "sentence, sign",
    [
        ("The candidate lacked examples of leading teams.", -1),
        ("The candidate gave limited evidence of change.", -1),
        ("The candidate is not yet ready for a role at this level.", -1),
        ("The candidate struggled with the finance scenario.", -1),
        ("The candidate would benefit from a deputy role first.", -1),
        ("The candidate gave an unconvincing answer.", -1),
        ("The candidate showed exceptional judgement.", 1),
        ("The candidate gave an outstanding presentation.", 1),
    ],
)
def test_recruitment_words_have_the_documented_sign(adjusted, sentence, sign):
    assert np.sign(sentence_scores([sentence], adjusted)[0]) == sign


def test_adjustment_changes_what_stock_vader_gets_wrong(adjusted, stock):
    s = ["The candidate lacked experience.", "The candidate would benefit from more experience."]
    assert list(sentence_scores(s, stock)) == [0.0, pytest.approx(0.4588, abs=1e-4)]  # stock VADER: neutral, positive
    assert (sentence_scores(s, adjusted) < -0.05).all()


def test_document_score_is_mean_of_sentence_scores(adjusted):
    sents = ["The candidate showed exceptional judgement.", "The candidate lacked experience.", "It was Tuesday."]
    sc = sentence_scores(sents, adjusted)
    assert sc[2] == 0.0
    mean, n, neg, per = document_sentiment([sents, []], adjusted)
    assert mean[0] == pytest.approx(sc.mean()) and n[0] == 3 and neg[0] == pytest.approx(1 / 3)
    assert np.isnan(mean[1]) and n[1] == 0
    assert np.array_equal(per[0], sc)


def test_split_sentences():
    assert split_sentences("One. Two! [NAME] three? 4 four.\n\nFive") == ["One.", "Two!", "[NAME] three?", "4 four.", "Five"]


def test_adjusted_lexicon_separates_the_generated_phrase_bank(adjusted, stock):
    """Every planted positive body should score > 0 and every negative body < 0."""
    pos = [f"The candidate {b}" for t in phrase_bank.BODIES.values() for b in t["pos"]]
    neg = [f"The candidate {b}" for t in phrase_bank.BODIES.values() for b in t["neg"]]

    def accuracy(a):
        return ((sentence_scores(pos, a) > 0).sum() + (sentence_scores(neg, a) < 0).sum()) / (len(pos) + len(neg))

    assert accuracy(adjusted) >= 0.95
    assert accuracy(adjusted) > accuracy(stock) + 0.2


def test_document_sentiment_tracks_planted_positive_share(generated_trust, adjusted, stock):
    a = pl.read_csv(generated_trust / "assessments.csv", infer_schema=False)
    truth = pl.read_csv(generated_trust / "truth_documents.csv", infer_schema=False)
    d = a.join(truth, left_on="Application Ref", right_on="document_ref").head(600)
    share = (d["n_positive_sentences"].cast(pl.Float64) / d["n_sentences"].cast(pl.Float64)).to_numpy()
    sents = [split_sentences(t) for t in d["Assessment Text"]]
    r_adj = np.corrcoef(share, document_sentiment(sents, adjusted)[0])[0, 1]
    r_stock = np.corrcoef(share, document_sentiment(sents, stock)[0])[0, 1]
    assert r_adj >= 0.85 and r_adj > r_stock
