"""Topic labels in surface words: lemmatiser artefacts ("putt", "datum") become the words the texts use."""
from __future__ import annotations

from tasks.analyses.text.labels import lookup_lemmatiser, surface_forms, surface_label, with_surface_labels

TEXTS = ["Putting patients first, she showed commitment.", "Putting data to use; the data were clear.",
         "He used data well and was putting in effort. Patients came first.", None]


def test_the_lookup_lemmatiser_has_the_artefacts_this_fixes():
    lemma = lookup_lemmatiser()
    assert lemma("putting") == "putt" and lemma("data") == "datum"  # why surface words are needed


def test_each_lemma_gets_its_most_frequent_surface_word():
    forms = surface_forms(TEXTS, lookup_lemmatiser())
    assert forms["putt"] == "putting" and forms["datum"] == "data" and forms["patient"] == "patients"
    assert surface_label(["patient", "commitment", "putt", "datum"], forms) == "patients, commitment, putting"
    assert surface_label(["unseen"], forms) == "unseen"  # a lemma no text spells stays


def test_ties_break_alphabetically_and_rows_keep_their_lemmas():
    forms = surface_forms(["b a"], lambda w: "x")
    assert forms == {"x": "a"}
    rows = [{"topic_id": 0, "label": "patient, commitment, putt", "top_terms": "patient, commitment, putt, datum"}]
    out = with_surface_labels(rows, TEXTS, lookup_lemmatiser())
    assert out[0]["label"] == "patients, commitment, putting"
    assert out[0]["top_terms"] == "patient, commitment, putt, datum"
    assert with_surface_labels([], TEXTS) == []
