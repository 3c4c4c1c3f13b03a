"""Topic models of the (redacted) free text: lemmatisation, NMF/LDA, K by NPMI coherence.

* Lemmas come from ``spacy.blank("en")`` + the lookup lemmatizer (spacy-lookups-data),
  lower-cased, alphabetic, length >= 3, without spaCy's English stop words and
  without :data:`DOMAIN_STOP_WORDS` (placeholder words, generic recruitment
  words, and evaluative words: tone is measured by sentiment, topics are about content).
* NMF (default) over TF-IDF (sublinear tf, l2), or LDA over counts.
* K is chosen from a range by mean NPMI coherence of each topic's top terms,
  computed on document co-occurrence in the corpus itself; ties go to the smaller K.
* Fixed seeds throughout; the fit uses at most ``fit_max_docs`` documents (a
  seeded sample) and every document is then transformed.
* Topics are labelled by their top terms and, where the top terms carry the
  cue words of one of ``vocabulary.THEMES`` (:data:`THEME_CUES`, a labelling
  dictionary that plays no part in fitting), by that theme (one topic per theme,
  Hungarian assignment).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Iterable, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment
from sklearn.decomposition import NMF, LatentDirichletAllocation
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.tokens import Doc

from tasks.core.vocabulary import THEMES
from tasks.privacy.redaction import load_pipeline, placeholder_tokens

log = logging.getLogger(__name__)


METHODS = ("nmf", "lda")


DEFAULT_K_RANGE = tuple(range(4, 13))


DEFAULT_SEED = 20240101


TOP_N_COHERENCE = 10


TOP_N_LABEL = 8


GENERIC_RECRUITMENT_WORDS = frozenset("""
candidate applicant applicants candidates interview interviewed interviewing panel panellist role post posts
application applications apply question questions answer answers band trust nhs job vacancy shortlist
shortlisted appoint appointed appointment appointing decision chief executive dear letter sincerely regards
regard kind wish wishes yours writing write chair programme inclusive recruitment require required requires
explain reason reasons follow following set overall balance discussion view accord according note noted
number numb contact detail details file mail tel occupational attach attached error quote quoting
feel felt think thought panel's today day week month year time good well use way example examples give
gave show showed shown demonstrate demonstrated describe described provide provided account evidence
""".split())


EVALUATIVE_WORDS = frozenset("""
exceptional outstanding strong stronger strongest impressive excellent compelling lack lacked lacking limited
struggle struggled struggling benefit unconvincing convincing weak clear clearly real further good
""".split())


DOMAIN_STOP_WORDS = frozenset({w.lower() for w in placeholder_tokens()} | {"staff_number", "nhs_number"}) \
    | GENERIC_RECRUITMENT_WORDS | EVALUATIVE_WORDS


# Cue words used only to NAME recovered topics after a blind fit (never to fit them).
THEME_CUES: dict[str, tuple[str, ...]] = {
    "leadership": ("leadership", "lead", "leading", "team", "teams", "manage", "managing"),
    "strategy": ("strategy", "strategic", "vision", "plan", "planning", "policy"),
    "communication": ("communication", "communicate", "communicator", "presentation", "clarity", "articulate", "listening"),
    "finance_operations": ("finance", "financial", "budget", "cost", "operational", "operations", "performance"),
    "values_compassion": ("values", "value", "compassion", "compassionate", "kindness", "wellbeing", "inclusion", "culture"),
    "experience_readiness": ("experience", "readiness", "ready", "level", "track", "record"),
    "stakeholder_engagement": ("stakeholder", "engagement", "engage", "engaging", "partner", "partners", "relationship", "influence"),
    "quality_improvement": ("quality", "improvement", "improve", "safety", "incident", "incidents", "measurement"),
}


assert set(THEME_CUES) == set(THEMES)


SENTS_KEY = "edi_sentences"


FEATURE_COMPONENT = "edi_text_features"


# --------------------------------------------------------------------------
# Lemmatisation (spaCy)
# --------------------------------------------------------------------------
def keep_lemma(lemma: str) -> bool:
    return len(lemma) >= 3 and lemma.isalpha() and lemma not in STOP_WORDS and lemma not in DOMAIN_STOP_WORDS


@Language.component(FEATURE_COMPONENT)
def _text_features(doc: Doc) -> Doc:
    """Store [(sentence text, 'lemma lemma ...'), ...] in user_data (returned by worker processes)."""
    out = []
    for sent in doc.sents:
        lem = [t.lemma_.lower() for t in sent if t.is_alpha]
        out.append((sent.text, " ".join(x for x in lem if keep_lemma(x))))
    doc.user_data[SENTS_KEY] = out
    return doc


def build_lemmatiser(model: str | None = None) -> Language:
    """Blank English (or a trained pipeline) + lookup lemmatizer + rule sentencizer + feature extractor."""
    nlp = load_pipeline(model, lemmatizer=True)
    if "sentencizer" not in nlp.pipe_names and "parser" not in nlp.pipe_names and "senter" not in nlp.pipe_names:
        nlp.add_pipe("sentencizer")
    nlp.add_pipe(FEATURE_COMPONENT, last=True)
    keep = {"lemmatizer", "sentencizer", "senter", "parser", "tok2vec", "tagger", "attribute_ruler", FEATURE_COMPONENT}
    for name in list(nlp.pipe_names):
        if name not in keep:
            nlp.disable_pipe(name)
    return nlp


def sentence_features(
    texts: Iterable[str], nlp: Language | None = None, batch_size: int = 1000, n_process: int = 1
) -> list[list[tuple[str, str]]]:
    """Per document, its sentences as (text, lemma string)."""
    nlp = nlp or build_lemmatiser()
    texts = ["" if t is None else t for t in texts]
    return [doc.user_data.get(SENTS_KEY, []) for doc in nlp.pipe(texts, batch_size=batch_size, n_process=n_process)]


def document_lemmas(sentences: Sequence[list[tuple[str, str]]]) -> list[str]:
    return [" ".join(lem for _, lem in doc if lem) for doc in sentences]


# --------------------------------------------------------------------------
# Coherence
# --------------------------------------------------------------------------
def npmi_coherence(binary: sp.csr_matrix | np.ndarray, topics: Sequence[Sequence[int]], eps: float = 1e-12) -> np.ndarray:
    """Mean pairwise NPMI of each topic's term indices over document co-occurrence.

    P(w) = share of documents containing w; P(wi, wj) = share containing both;
    NPMI = log(P(wi,wj) / (P(wi) P(wj))) / -log P(wi,wj), and -1 when the pair never co-occurs.
    """
    X = sp.csr_matrix(binary, dtype=np.float64)
    X.data[:] = 1.0
    n = X.shape[0]
    out = np.zeros(len(topics))
    for k, idx in enumerate(topics):
        idx = list(idx)
        sub = X[:, idx]
        co = (sub.T @ sub).toarray() / n
        p = np.diag(co).copy()
        vals = []
        for i in range(len(idx)):
            for j in range(i + 1, len(idx)):
                pij = co[i, j]
                if pij <= 0:
                    vals.append(-1.0)
                elif pij >= 1 - eps:
                    vals.append(1.0)
                else:
                    vals.append(np.log(pij / (p[i] * p[j])) / -np.log(pij))
        out[k] = float(np.mean(vals)) if vals else 0.0
    return out


# --------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------
@dataclass
class TopicModel:
    method: str
    k: int
    seed: int
    vectorizer: object
    model: object
    vocabulary: np.ndarray
    coherence_by_k: dict[int, float]
    topic_coherence: np.ndarray
    top_terms: list[list[str]]
    themes: list[str | None] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return [", ".join(t[:3]) for t in self.top_terms]

    def transform(self, lemma_docs: Sequence[str]) -> np.ndarray:
        """Topic shares per document (rows sum to 1; all-zero rows for documents with no known terms)."""
        X = self.vectorizer.transform(lemma_docs)
        W = self.model.transform(X)
        if self.method == "nmf":
            # weight of topic k in a document = W_k * (total weight of H_k): scale-free shares
            W = W * self.model.components_.sum(axis=1)[None, :]
        s = W.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = np.where(s > 0, W / np.where(s > 0, s, 1), 0.0)
        if self.method == "lda":
            empty = np.asarray(X.sum(axis=1)).ravel() == 0
            shares[empty] = 0.0
        return shares


def _vectorizer(method: str, n_docs: int, min_df: int | None, max_df: float):
    min_df = min_df if min_df is not None else (2 if n_docs < 500 else 5)
    common = dict(tokenizer=str.split, token_pattern=None, lowercase=False, min_df=min_df, max_df=max_df)
    if method == "nmf":
        return TfidfVectorizer(sublinear_tf=True, **common)
    return CountVectorizer(**common)


def _fit_one(method: str, X, k: int, seed: int):
    if method == "nmf":
        m = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=400, tol=1e-4)
    else:
        m = LatentDirichletAllocation(
            n_components=k, random_state=seed, learning_method="online", batch_size=512, max_iter=10,
            n_jobs=1, doc_topic_prior=0.5 / k, topic_word_prior=0.05, learning_offset=10.0,
        )
    m.fit(X)
    return m


def _top_indices(components: np.ndarray, n: int) -> list[list[int]]:
    # stable ordering: by weight desc, then term index asc
    return [list(np.lexsort((np.arange(row.size), -row))[:n]) for row in components]


def fit_topics(
    lemma_docs: Sequence[str],
    method: str = "nmf",
    k_range: Sequence[int] = DEFAULT_K_RANGE,
    seed: int = DEFAULT_SEED,
    fit_max_docs: int = 50_000,
    min_df: int | None = None,
    max_df: float = 0.6,
    theme_lemmas: dict[str, set[str]] | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> TopicModel:
    """Fit a topic model for every K in ``k_range`` and keep the one with the highest mean NPMI."""
    if method not in METHODS:
        raise ValueError(f"topic method must be one of {METHODS}; got {method!r}")
    docs = list(lemma_docs)
    rng = np.random.default_rng(seed)
    if len(docs) > fit_max_docs:
        idx = np.sort(rng.choice(len(docs), size=fit_max_docs, replace=False))
        fit_docs = [docs[i] for i in idx]
    else:
        fit_docs = docs
    nonempty = [d for d in fit_docs if d]
    vec = _vectorizer(method, len(nonempty), min_df, max_df)
    X = vec.fit_transform(nonempty)
    vocab = vec.get_feature_names_out()
    binary = (X > 0).astype(np.float64).tocsr()
    ks = sorted({int(k) for k in k_range if 1 < int(k) < min(X.shape)})
    if not ks:
        raise ValueError(f"too few documents/terms ({X.shape}) for any K in {list(k_range)}")
    best = None
    coherence_by_k: dict[int, float] = {}
    for i, k in enumerate(ks):
        m = _fit_one(method, X, k, seed)
        top = _top_indices(m.components_, TOP_N_COHERENCE)
        coh = npmi_coherence(binary, top)
        coherence_by_k[k] = float(np.mean(coh))
        log.info("topics %s K=%d mean NPMI %.4f", method, k, coherence_by_k[k])
        if best is None or coherence_by_k[k] > best[1] + 1e-9:
            best = (k, coherence_by_k[k], m, coh, top)
        if progress:
            progress((i + 1) / len(ks), f"topic model {method} K={k}")
    k, _, m, coh, top = best
    top_terms = [[str(vocab[j]) for j in row[:TOP_N_LABEL]] for row in _top_indices(m.components_, TOP_N_LABEL)]
    tm = TopicModel(method, k, seed, vec, m, vocab, coherence_by_k, coh, top_terms)
    tm.themes = assign_themes(m.components_, vocab, theme_lemmas or default_theme_lemmas())
    return tm


def default_theme_lemmas(nlp: Language | None = None) -> dict[str, set[str]]:
    """Cue words of each theme, lemmatised the same way as the documents."""
    nlp = nlp or load_pipeline(None, lemmatizer=True)
    out = {}
    for theme, words in THEME_CUES.items():
        lem = {t.lemma_.lower() for w in words for t in nlp(w)}
        out[theme] = {w for w in lem | set(words)}
    return out


@lru_cache(maxsize=8)
def theme_lemmas_for(model: str | None = None) -> dict[str, frozenset[str]]:
    """:func:`default_theme_lemmas` of the lemmatiser of ``model``, built once per process and model
    (a pure function of the cue words and the lemma tables; a warm month need not load spaCy at all)."""
    return {th: frozenset(words) for th, words in default_theme_lemmas(build_lemmatiser(model)).items()}


def assign_themes(components: np.ndarray, vocab: np.ndarray, theme_lemmas: dict[str, set[str]]) -> list[str | None]:
    """Name topics by theme: share of each topic's weight on a theme's cue words, one topic per theme."""
    H = np.asarray(components, dtype=float)
    H = H / np.maximum(H.sum(axis=1, keepdims=True), 1e-300)
    themes = list(theme_lemmas)
    pos = {w: i for i, w in enumerate(vocab)}
    S = np.zeros((H.shape[0], len(themes)))
    for j, th in enumerate(themes):
        cols = [pos[w] for w in sorted(theme_lemmas[th]) if w in pos]
        if cols:
            S[:, j] = H[:, cols].sum(axis=1)
    rows, cols = linear_sum_assignment(-S)
    out: list[str | None] = [None] * H.shape[0]
    for r, c in zip(rows, cols):
        # a topic is named only if the theme's cue words carry a clear share of its weight
        if S[r, c] >= 0.02 and S[r, c] == S[r].max():
            out[r] = themes[c]
    return out


def dominant_topic(shares: np.ndarray) -> np.ndarray:
    """Index of the largest share per row; -1 for rows with no topic weight."""
    dom = shares.argmax(axis=1)
    dom[shares.sum(axis=1) <= 0] = -1
    return dom
