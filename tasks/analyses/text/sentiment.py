"""Sentence-level sentiment (VADER) with a recruitment-language lexicon adjustment.

VADER's lexicon is tuned to social-media English.  In recruitment text several
words carry a clear evaluative sign that VADER misses or under-weights, and two
phrases flip sign:

* "would benefit from" is a development need (mildly negative), whereas VADER
  scores "benefit" +2.0;
* "not yet ready" is a firm negative; VADER only dampens "ready" (+1.5) by negation.

:data:`RECRUITMENT_LEXICON` sets valences (VADER scale -4..+4) for single words;
:data:`RECRUITMENT_PHRASES` rewrites multi-word phrases to one token with its own
valence before scoring.  ``tests/test_text_sentiment.py`` checks on the generated
corpus that the adjusted analyser ranks planted positive sentences above planted
negative ones better than the stock lexicon.

A document's sentiment is the mean compound score of its sentences.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

RECRUITMENT_LEXICON: dict[str, float] = {
    # negative in recruitment language (strong enough to outweigh a positive word in the
    # same sentence: "lacked a clear account", "would benefit from ... confident ...")
    "lacked": -2.6, "lacking": -2.6, "lacks": -2.6, "lack": -2.2,
    "limited": -2.2,
    "struggled": -2.4, "struggling": -2.4, "struggles": -2.4,
    "unconvincing": -2.4,
    "underdeveloped": -2.0,
    # positive in recruitment language
    "outstanding": 3.0, "compelling": 2.0, "credibility": 1.5,
}


# phrase -> (single token, valence); matched case-insensitively on word boundaries.
# "exceptional" is rewritten too: VADER lists it as an intensifier (BOOSTER_DICT), which
# gives the word itself no valence; as a token of its own it scores +2.8.
RECRUITMENT_PHRASES: dict[str, tuple[str, float]] = {
    "not yet ready": ("notyetready", -2.6),
    "not ready": ("notready", -2.2),
    "would benefit from": ("wouldbenefitfrom", -2.4),
    "needs further development": ("needsfurtherdevelopment", -2.2),
    "exceptional": ("exceptionalrecruit", 2.8),
}


_PHRASE_RE = re.compile(
    r"\b(" + "|".join(re.escape(p) for p in sorted(RECRUITMENT_PHRASES, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")


NEGATIVE_THRESHOLD = -0.05  # VADER's conventional cut-offs


def build_analyzer(adjusted: bool = True) -> SentimentIntensityAnalyzer:
    """VADER, with the recruitment lexicon adjustment unless ``adjusted=False``."""
    a = SentimentIntensityAnalyzer()
    if adjusted:
        a.lexicon.update(RECRUITMENT_LEXICON)
        a.lexicon.update({tok: val for tok, val in RECRUITMENT_PHRASES.values()})
    a._edi_adjusted = adjusted  # noqa: SLF001  (marks the phrase rewrite)
    return a


def _prepare(sentence: str, adjusted: bool) -> str:
    if not adjusted:
        return sentence
    return _PHRASE_RE.sub(lambda m: RECRUITMENT_PHRASES[m.group(0).lower()][0], sentence)


def split_sentences(text: str) -> list[str]:
    """Rule-based sentence split (used when spaCy sentences are not at hand)."""
    return [s for s in (p.strip() for p in _SENT_SPLIT.split(text or "")) if s]


def sentence_scores(sentences: Sequence[str], analyzer: SentimentIntensityAnalyzer | None = None) -> np.ndarray:
    """VADER compound score of each sentence (-1..1)."""
    a = analyzer or build_analyzer()
    adjusted = getattr(a, "_edi_adjusted", False)
    return np.array([a.polarity_scores(_prepare(s, adjusted))["compound"] for s in sentences], dtype=float)


def document_sentiment(
    docs_sentences: Iterable[Sequence[str]], analyzer: SentimentIntensityAnalyzer | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """Per document: mean sentence compound (NaN if no sentences), number of sentences,
    share of negative sentences, and the sentence scores themselves."""
    a = analyzer or build_analyzer()
    return summarise_scores([sentence_scores(list(sents), a) for sents in docs_sentences])


def summarise_scores(per: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """:func:`document_sentiment`'s summary of given sentence scores (one array per document)."""
    means, ns, negs = [], [], []
    for sc in per:
        ns.append(sc.size)
        means.append(float(sc.mean()) if sc.size else np.nan)
        negs.append(float((sc <= NEGATIVE_THRESHOLD).mean()) if sc.size else np.nan)
    return np.array(means), np.array(ns, dtype=int), np.array(negs), list(per)
