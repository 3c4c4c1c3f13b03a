"""Redaction rules: known names, titles, e-mails, UK phones, staff and NHS numbers, trained NER."""
from __future__ import annotations

import random

import pytest
import spacy
from extract_helpers import known_people_from_extracts
from spacy.training import Example

from tasks.core.vocabulary import REDACTION_PLACEHOLDERS
from tasks.privacy.redaction import (
    KnownPeople,
    apply_spans,
    build_redactor,
    find_pattern_spans,
    nhs_number_valid,
    resolve_spans,
)


@pytest.fixture(scope="module")
def redactor():
    known = KnownPeople(
        forenames={"Priya", "Rose", "Zoë", "Lok Yee"},
        surnames={"Patel", "Green", "O'Brien", "Al-Sayed"},
        full_names={"Priya Patel"},
        emails={"rose.green@btinternet.com"},
    )
    return build_redactor(known)


def test_known_names_case_sensitive_and_possessive(redactor):
    text, counts = redactor.redact("Priya Patel's answers were strong; she rose to the challenge, and Rose led.")
    assert text == "[NAME]'s answers were strong; she rose to the challenge, and [NAME] led."
    assert counts == {"[NAME]": 2}


def test_known_names_with_diacritics_hyphens_and_upper_case(redactor):
    text, _ = redactor.redact("Zoë and Lok Yee Al-Sayed met O'BRIEN and green teams.")
    assert text == "[NAME] and [NAME] met [NAME] and green teams."


def test_title_followed_by_capitalised_names(redactor):
    text, counts = redactor.redact(
        "Dr. J. Smith-Jones, Prof. van der Berg, Mrs Siân Hughes and Sir Robert spoke; "
        "the Professor of Nursing agreed. Ms SMITH too."
    )
    assert text == (
        "Dr. [NAME], Prof. [NAME], Mrs [NAME] and Sir [NAME] spoke; "
        "the Professor of Nursing agreed. Ms [NAME] too."
    )
    assert counts == {"[NAME]": 5}


@pytest.mark.parametrize(
    "raw, placeholder",
    [
        ("j.smith@nhs.net", "[EMAIL]"),
        ("ROSE.GREEN@BTINTERNET.COM", "[EMAIL]"),
        ("o'brien-k+cv@hotmail.co.uk", "[EMAIL]"),
        ("07700 900123", "[PHONE]"),
        ("07700900123", "[PHONE]"),
        ("07700-900-123", "[PHONE]"),
        ("020 7946 0123", "[PHONE]"),
        ("(020) 7946 0123", "[PHONE]"),
        ("0121 496 0000", "[PHONE]"),
        ("01632 960123", "[PHONE]"),
        ("+44 7700 900123", "[PHONE]"),
        ("+44 (0)20 7946 0123", "[PHONE]"),
        ("+447700900123", "[PHONE]"),
        ("12345678", "[STAFF_NUMBER]"),
        ("12345678-2", "[STAFF_NUMBER]"),
        ("943 476 5919", "[NHS_NUMBER]"),
        ("943-476-5919", "[NHS_NUMBER]"),
        ("9434765919", "[NHS_NUMBER]"),
    ],
)
def test_patterns(redactor, raw, placeholder):
    text, counts = redactor.redact(f"Contact: {raw}. Thanks")
    assert text == f"Contact: {placeholder}. Thanks"
    assert counts == {placeholder: 1}


@pytest.mark.parametrize(
    "text",
    [
        "a budget of £4m and 18-week standard",
        "cut length of stay by 2 days in 2023",
        "score 12/20 on 03/04/2023",
        "1234567 items",  # 7 digits: not a staff number
        "reference 123456789",  # 9 digits
    ],
)
def test_no_false_positives_on_numbers(redactor, text):
    assert redactor.redact(text) == (text, {})


def test_nhs_modulus_11():
    # 943 476 5919 is the Data Dictionary's worked example
    assert nhs_number_valid("9434765919")
    assert not nhs_number_valid("9434765918")
    # remainder giving check digit 10 is never valid
    assert not any(nhs_number_valid(f"100000001{d}") for d in range(10))
    # 100000002: 10*1 + 2*2 = 14, 14 % 11 = 3, check digit 11 - 3 = 8
    assert nhs_number_valid("1000000028") and not nhs_number_valid("1000000027")
    spans = find_pattern_spans("a 943 476 5918 b", nhs_checksum=True)
    assert spans == []
    assert find_pattern_spans("a 943 476 5919 b", nhs_checksum=True) == [(2, 14, "[NHS_NUMBER]")]


def test_overlaps_resolved_without_fragments():
    spans = resolve_spans([(0, 5, "[NAME]"), (3, 10, "[PHONE]"), (20, 25, "[EMAIL]"), (20, 22, "[NAME]")])
    assert spans == [(0, 10, "[NAME]"), (20, 25, "[EMAIL]")]
    assert apply_spans("abcdefghij middle   xxxxxyy", spans) == ("[NAME] middle   [EMAIL]yy", {"[NAME]": 1, "[EMAIL]": 1})


def test_placeholders_come_from_vocabulary(redactor):
    text, counts = redactor.redact("Dr Patel, p@x.org, 07700 900123, 12345678, 943 476 5919, VAC-000141")
    assert set(counts) == set(REDACTION_PLACEHOLDERS)
    assert all(v == 1 for v in counts.values())


def test_redact_many_matches_redact_and_multiprocess(redactor):
    texts = [
        "Priya Patel did well.", "", "Call 020 7946 0123.", "Mr Green's plan", "nothing here",
    ] * 7
    single = [redactor.redact(t) for t in texts]
    assert redactor.redact_many(texts, batch_size=4) == single
    assert redactor.redact_many(texts, batch_size=4, n_process=2) == single


def test_trained_pipeline_person_entities(tmp_path):
    """A tiny NER trained here, saved, and loaded by path: its PERSON entities become [NAME]."""
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    ner.add_label("PERSON")
    names = ["Kwame", "Bethan", "Tomasz", "Harpreet", "Delroy", "Mairéad"]
    data = []
    for n in names:
        for tpl in ("{} showed strong leadership.", "The panel agreed that {} was ready.", "We appointed {} today."):
            t = tpl.format(n)
            s = t.index(n)
            data.append((t, {"entities": [(s, s + len(n), "PERSON")]}))
    data.append(("The panel agreed that the candidate was ready.", {"entities": []}))
    # capitalised words that are not names, so the tiny model does not learn "capitalised = PERSON"
    data += [(t, {"entities": []}) for t in ("Call the office today.", "Please call back.", "Overall, strong.")]
    examples = [Example.from_dict(nlp.make_doc(t), a) for t, a in data]
    # seeds Python's, numpy's and thinc's generators: weights and dropout, not only the shuffle
    spacy.util.fix_random_seed(0)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(30):
        random.shuffle(examples)
        nlp.update(examples, sgd=optimizer, drop=0.1)
    path = tmp_path / "tiny_ner"
    nlp.to_disk(path)

    r = build_redactor(KnownPeople(), model=str(path))
    assert "ner" in r.nlp.pipe_names
    text, counts = r.redact("Kwame showed strong leadership.")
    assert text == "[NAME] showed strong leadership."
    assert counts == {"[NAME]": 1}
    # the rule-based patterns still apply alongside the model
    assert r.redact_many(["We appointed Tomasz today. Call 07700 900123."]) == [
        ("We appointed [NAME] today. Call [PHONE].", {"[NAME]": 1, "[PHONE]": 1})
    ]


def test_missing_model_is_a_clear_error():
    with pytest.raises(RuntimeError, match="not installed"):
        build_redactor(model="no_such_pipeline_xyz")


# --------------------------------------------------------------------------
# Planted personal data of the generated trust
# --------------------------------------------------------------------------
def test_recall_on_generated_planted_pii(generated_trust):
    import re

    import polars as pl

    r = build_redactor(known_people_from_extracts(generated_trust))
    a = pl.read_csv(generated_trust / "assessments.csv", infer_schema=False)
    letters = pl.read_csv(generated_trust / "ceo_letters.csv", infer_schema=False)
    docs = {("assessments", k): v for k, v in zip(a["Application Ref"], a["Assessment Text"])}
    docs |= {("ceo_letters", k): v for k, v in zip(letters["Vacancy Reference"], letters["Letter Text"])}
    keys = list(docs)
    redacted = dict(zip(keys, (t for t, _ in r.redact_many([docs[k] for k in keys]))))
    pii = pl.read_csv(generated_trust / "truth_pii.csv", infer_schema=False)
    assert pii.height > 1000
    left = {}
    for doc_type, ref, pii_type, value in pii.iter_rows():
        if re.search(r"(?<!\w)" + re.escape(value) + r"(?!\w)", redacted[(doc_type, ref)]):
            left.setdefault(pii_type, []).append(value)
    n_left = sum(len(v) for v in left.values())
    assert 1 - n_left / pii.height >= 0.99
    # zero planted names, e-mails or phone numbers left anywhere
    assert not left.get("name") and not left.get("email") and not left.get("phone"), left
