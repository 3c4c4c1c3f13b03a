"""Topic labels in the words a reader wrote: each lemma shown as its most frequent surface form.

Reads a corpus's (already redacted) texts and the lemma lookup table of the
pipeline the topic model used (``spacy.blank("en")`` + lookup lemmatizer,
:func:`tasks.privacy.redaction.load_pipeline`).  Returns the ``topics`` rows
with ``label`` rebuilt from surface words: the lookup table's artefacts
("putting" -> "putt", "data" -> "datum") become the words the texts use
("putting", "data").  ``top_terms`` keeps the model's lemmas (technical).
Never changes the topic model, its themes or any share; never reads or
returns a document, only word counts over the corpus.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

WORD = re.compile(r"[A-Za-z]+")


LABEL_TERMS = 3  # words in a label


def lookup_lemmatiser(model: str | None = None) -> Callable[[str], str]:
    """word -> lemma with the pipeline's lookup table (a trained pipeline's lemmatizer when ``model`` is given)."""
    from tasks.privacy.redaction import load_pipeline

    nlp = load_pipeline(model, lemmatizer=True)
    try:
        table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
        return lambda w: str(table.get(w, w)).lower()
    except (KeyError, ValueError):  # a trained pipeline with a rule lemmatizer: lemmatise word by word
        return lambda w: nlp(w)[0].lemma_.lower() if w else w


def surface_forms(texts: Iterable[str | None], lemma_of: Callable[[str], str]) -> dict[str, str]:
    """lemma -> its most frequent lower-case surface word in ``texts`` (ties: alphabetical)."""
    counts = Counter(w.lower() for t in texts if t for w in WORD.findall(t))
    by_lemma: dict[str, tuple[int, str]] = {}
    for word, n in counts.items():
        lemma = lemma_of(word)
        best = by_lemma.get(lemma)
        if best is None or n > best[0] or (n == best[0] and word < best[1]):
            by_lemma[lemma] = (n, word)
    return {lemma: word for lemma, (_, word) in by_lemma.items()}


def surface_label(top_terms: Sequence[str], forms: dict[str, str], n: int = LABEL_TERMS) -> str:
    """The label of a topic: its first ``n`` top terms as surface words (a lemma no text spells stays as it is)."""
    return ", ".join(forms.get(t, t) for t in list(top_terms)[:n])


def with_surface_labels(rows: list[dict], texts: Iterable[str | None],
                        lemma_of: Callable[[str], str] | None = None) -> list[dict]:
    """``topics`` rows with ``label`` in surface words (``top_terms`` is the comma-separated lemma list)."""
    if not rows:
        return rows
    forms = surface_forms(texts, lemma_of or lookup_lemmatiser())
    for r in rows:
        r["label"] = surface_label([t.strip() for t in str(r.get("top_terms") or "").split(",") if t.strip()], forms)
    return rows
