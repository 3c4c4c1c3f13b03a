"""Rule-based redaction of personal data in free text (assessments, letters to the CEO).

Every match is replaced by a typed placeholder from
``vocabulary.REDACTION_PLACEHOLDERS``:

* ``[NAME]``: names the structured extract knows (candidates, panel members,
  managers; matched case-sensitively on capitalised tokens, possessives
  included because spaCy splits ``'s`` off), a title (Dr, Mr, Mrs, Ms, Miss,
  Prof, Professor, Mx, Sir, Dame) followed by capitalised names or initials
  (the title itself is kept: ``Dr [NAME]``), and, when a trained spaCy
  pipeline is configured, its PERSON entities;
* ``[EMAIL]``: any e-mail address;
* ``[PHONE]``: UK phone numbers (``07…``, ``020 …``, ``01xxx …``, ``+44 …``,
  with spaces, hyphens or brackets), 10 or 11 national digits;
* ``[NHS_NUMBER]``: 10-digit NHS numbers, grouped 3-3-4 or continuous
  (optionally only those passing the Modulus 11 check);
* ``[STAFF_NUMBER]``: 8-digit ESR staff/assignment numbers (optional ``-n`` suffix);
* ``[REFERENCE]``: the extracts' own record references embedded in text (vacancy
  ``VAC-000141``, application ``APP-0001234``, candidate ``CAN-00001234``, panel
  member ``PNL-00012``, manager ``MGR-00012``, ESR ``ESR-12345678``;
  :data:`DEFAULT_REFERENCE_PATTERNS`), plus any regular expressions in
  ``EDI_RECRUIT_REFERENCE_PATTERNS`` (separated by ``;;``) or passed to
  :func:`build_redactor`: a reference would link a text back to its record.

The matching runs inside a spaCy component so ``nlp.pipe`` batching and
``n_process`` apply; the component leaves the redacted text and its counts in
``doc.user_data`` so worker processes return them with the Doc.

Entry point used by ingest::

    redactor = build_redactor(KnownPeople(...), model=None)
    text, counts = redactor.redact("...")

Implements the redaction part of docs/methods.md section 2.  It works on
strings only: it never reads or writes the warehouse, and never logs a text.
"""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import spacy
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from tasks.core.vocabulary import REDACTION_PLACEHOLDERS

log = logging.getLogger(__name__)


NAME, EMAIL, PHONE, STAFF_NUMBER, NHS_NUMBER, REFERENCE = REDACTION_PLACEHOLDERS


assert (NAME, EMAIL, PHONE, STAFF_NUMBER, NHS_NUMBER, REFERENCE) == (
    "[NAME]", "[EMAIL]", "[PHONE]", "[STAFF_NUMBER]", "[NHS_NUMBER]", "[REFERENCE]"
)


# record references in the formats the extracts use (prefix, optional separator, 4+ digits)
DEFAULT_REFERENCE_PATTERNS: tuple[str, ...] = (
    r"(?<![\w-])(?:VAC|APP|CAN|PNL|MGR|ESR|STF)[-/ ]?\d{4,}(?![\w])",
)


REFERENCE_PATTERNS_ENV = "EDI_RECRUIT_REFERENCE_PATTERNS"


TITLES: tuple[str, ...] = ("Dr", "Mr", "Mrs", "Ms", "Miss", "Prof", "Professor", "Mx", "Sir", "Dame")


# lower-case particles allowed inside a titled name when a capitalised token follows
NAME_PARTICLES = frozenset({"de", "da", "van", "von", "der", "den", "la", "le", "di", "del", "bin", "al", "el", "ten", "du"})


MAX_TITLED_NAME_TOKENS = 4


USER_DATA_KEY = "edi_redaction"


COMPONENT = "edi_pii_redactor"


_EMAIL_RE = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


_NHS_GROUPED_RE = re.compile(r"(?<![\w+])(\d{3})([ -])(\d{3})\2(\d{4})(?![\w])")


_CONTINUOUS10_RE = re.compile(r"(?<![\w+])\d{10}(?![\w])")


_PHONE_NATIONAL_RE = re.compile(r"(?<![\w+])\(?0\d{2,5}\)?[ -]?\d{3,4}[ -]?\d{3,4}(?![\w])")


_PHONE_INTL_RE = re.compile(r"(?<![\w])\+ ?44 ?(?:\(0\) ?)?\(?\d{2,5}\)?[ -]?\d{3,4}[ -]?\d{3,4}(?![\w])")


_STAFF_RE = re.compile(r"(?<![\w])\d{8}(?:-\d{1,2})?(?![\w])")


def _name_like(t: str) -> bool:
    """A capitalised name token (Unicode letters, apostrophes), an all-caps name, or an initial (``J``/``J.``)."""
    if not t or not t[0].isupper():
        return False
    if len(t) == 2 and t[1] == ".":
        return True
    return all(c.isalpha() or c in "'’" for c in t)


# placeholder priority when spans of equal extent compete (lower wins)
_PRIORITY = {EMAIL: 0, REFERENCE: 1, NHS_NUMBER: 2, PHONE: 3, STAFF_NUMBER: 4, NAME: 5}


@dataclass
class KnownPeople:
    """Personal data the structured export knows (its ``personal_data`` columns)."""

    forenames: set[str] = field(default_factory=set)
    surnames: set[str] = field(default_factory=set)
    full_names: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)


# --------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------
def nhs_number_valid(digits: str) -> bool:
    """Modulus 11 check of a 10-digit NHS number (NHS Data Dictionary)."""
    d = re.sub(r"\D", "", digits)
    if len(d) != 10:
        return False
    total = sum(int(c) * w for c, w in zip(d[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10:
        return False
    return check == int(d[9])


def _phone_digits_ok(match_text: str) -> bool:
    d = re.sub(r"\D", "", match_text)
    if match_text.lstrip().startswith("+"):
        d = d[2:]  # drop the 44
        d = d.removeprefix("0")
        return len(d) in (9, 10)
    return d.startswith("0") and len(d) in (10, 11)


def policy_reference_patterns(path: str | os.PathLike | None = None) -> list[str]:
    """The trust's own reference formats named in the disclosure policy (``identifiers.reference_patterns``
    of ``config/disclosure_policy.yaml``, or of ``path``); [] when the policy names none."""
    import yaml

    from tasks.core.paths import CONFIG_DIR

    p = path or (CONFIG_DIR / "disclosure_policy.yaml")
    try:
        with open(p, encoding="utf-8") as fh:
            raw = yaml.safe_load(fh) or {}
    except FileNotFoundError:
        return []
    return [str(x) for x in ((raw.get("identifiers") or {}).get("reference_patterns") or [])]


def reference_patterns(extra: Iterable[str] = (), policy_path: str | os.PathLike | None = None) -> list[re.Pattern]:
    """The default reference patterns, the disclosure policy's (:func:`policy_reference_patterns`), those of
    ``EDI_RECRUIT_REFERENCE_PATTERNS`` and ``extra``, compiled."""
    env = [p for p in os.environ.get(REFERENCE_PATTERNS_ENV, "").split(";;") if p.strip()]
    out = []
    for pattern in (*DEFAULT_REFERENCE_PATTERNS, *policy_reference_patterns(policy_path), *env, *extra):
        try:
            out.append(re.compile(pattern))
        except re.error as exc:
            raise ValueError(f"reference pattern {pattern!r} is not a valid regular expression ({exc})") from None
    return out


_DEFAULT_REFERENCES = [re.compile(p) for p in DEFAULT_REFERENCE_PATTERNS]


def find_pattern_spans(text: str, nhs_checksum: bool = False,
                       references: list[re.Pattern] | None = None) -> list[tuple[int, int, str]]:
    """Character spans of e-mails, record references, phone, NHS and staff numbers in ``text``."""
    spans: list[tuple[int, int, str]] = []
    if "@" in text:
        spans += [(m.start(), m.end(), EMAIL) for m in _EMAIL_RE.finditer(text)]
    if not any(c.isdigit() for c in text):
        return spans
    for rx in (_DEFAULT_REFERENCES if references is None else references):
        spans += [(m.start(), m.end(), REFERENCE) for m in rx.finditer(text)]
    for m in _NHS_GROUPED_RE.finditer(text):
        valid = nhs_number_valid(m.group(0))
        if nhs_checksum and not valid:
            continue
        label = PHONE if (m.group(0)[0] == "0" and not valid) else NHS_NUMBER
        spans.append((m.start(), m.end(), label))
    for m in _CONTINUOUS10_RE.finditer(text):
        valid = nhs_number_valid(m.group(0))
        if m.group(0)[0] == "0" and not valid:
            continue  # a phone number; the phone patterns take it
        if nhs_checksum and not valid:
            continue
        spans.append((m.start(), m.end(), NHS_NUMBER))
    for rx in (_PHONE_INTL_RE, _PHONE_NATIONAL_RE):
        spans += [(m.start(), m.end(), PHONE) for m in rx.finditer(text) if _phone_digits_ok(m.group(0))]
    spans += [(m.start(), m.end(), STAFF_NUMBER) for m in _STAFF_RE.finditer(text)]
    return spans


def resolve_spans(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Keep non-overlapping spans: earliest start, then longest, then by placeholder priority."""
    out: list[tuple[int, int, str]] = []
    end = -1
    for s, e, lab in sorted(spans, key=lambda x: (x[0], -(x[1] - x[0]), _PRIORITY[x[2]])):
        if s >= end:
            out.append((s, e, lab))
            end = e
        elif e > end and out:
            # partial overlap: extend the kept span to cover both (never leave a fragment)
            ps, _, plab = out[-1]
            out[-1] = (ps, e, plab)
            end = e
    return out


def merge_adjacent_names(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Join [NAME] spans separated only by spaces or a hyphen ("Lok Yee" "Al-Sayed" -> one [NAME])."""
    out: list[tuple[int, int, str]] = []
    for s, e, lab in spans:
        if out and lab == NAME and out[-1][2] == NAME and text[out[-1][1]:s].strip(" -") == "":
            out[-1] = (out[-1][0], e, NAME)
        else:
            out.append((s, e, lab))
    return out


def apply_spans(text: str, spans: list[tuple[int, int, str]]) -> tuple[str, dict[str, int]]:
    parts, counts, pos = [], {}, 0
    for s, e, lab in spans:
        parts.append(text[pos:s])
        parts.append(lab)
        counts[lab] = counts.get(lab, 0) + 1
        pos = e
    parts.append(text[pos:])
    return "".join(parts), counts


def _name_variants(name: str) -> set[str]:
    n = " ".join(name.split())
    if len(n) < 2:
        return set()
    out = {n}
    if n.isupper() or n.islower():
        out.add(" ".join(p[:1].upper() + p[1:].lower() for p in n.split(" ")))
    out.add(n.upper())
    # only capitalised forms are matched (case-sensitive on capitalised tokens)
    return {v for v in out if v[:1].isupper()}


# --------------------------------------------------------------------------
# The spaCy component
# --------------------------------------------------------------------------
class PiiRedactor:
    def __init__(self, nlp: Language, names: list[str], emails: list[str], ner_labels: list[str], nhs_checksum: bool,
                 references: list[str]):
        self.nhs_checksum = nhs_checksum
        self.references = [re.compile(p) for p in references]
        self.ner_labels = set(ner_labels)
        # known addresses (the generic pattern finds ordinary ones; this catches unusual forms)
        self.emails = frozenset(e.strip().lower() for e in emails if e and e.strip())
        self.name_matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        variants = sorted({v for n in names for v in _name_variants(n)})
        if variants:
            self.name_matcher.add("KNOWN", list(nlp.tokenizer.pipe(variants)))
        self.n_names = len(variants)
        self.title_matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        titles = [t for t in TITLES] + [t + "." for t in TITLES]
        self.title_matcher.add("TITLE", [nlp.make_doc(t) for t in titles])

    def spans(self, doc: Doc) -> list[tuple[int, int, str]]:
        text = doc.text
        spans = find_pattern_spans(text, self.nhs_checksum, self.references)
        if self.emails and "@" in text:
            for t in doc:
                if "@" in t.text:
                    core = t.text.strip(".,;:()<>[]\"'")
                    if core.lower() in self.emails:
                        s0 = t.idx + t.text.index(core)
                        spans.append((s0, s0 + len(core), EMAIL))
        if self.n_names:
            for _, s, e in self.name_matcher(doc):
                spans.append((doc[s].idx, doc[e - 1].idx + len(doc[e - 1].text), NAME))
        for _, s, e in self.title_matcher(doc):
            span = self._titled_name(doc, e)
            if span is not None:
                spans.append(span)
        if self.ner_labels and doc.has_annotation("ENT_IOB"):
            for ent in doc.ents:
                if ent.label_ in self.ner_labels:
                    spans.append((ent.start_char, ent.end_char, NAME))
        return merge_adjacent_names(text, resolve_spans(spans))

    @staticmethod
    def _titled_name(doc: Doc, i: int) -> tuple[int, int, str] | None:
        n = len(doc)
        if i < n and doc[i].text == "." and not doc[i - 1].text.endswith("."):
            i += 1
        start = i
        last = None
        taken = 0
        while i < n and taken < MAX_TITLED_NAME_TOKENS:
            t = doc[i].text
            if _name_like(t):
                last = i
                taken += 1
                i += 1
            elif t in ("-", "‐") and last == i - 1 and i + 1 < n and _name_like(doc[i + 1].text):
                i += 1
            elif t.lower() in NAME_PARTICLES:
                j = i
                while j < n and doc[j].text.lower() in NAME_PARTICLES and j - i < 3:
                    j += 1
                if j < n and _name_like(doc[j].text):
                    i = j
                else:
                    break
            else:
                break
        if last is None:
            return None
        return (doc[start].idx, doc[last].idx + len(doc[last].text), NAME)

    def __call__(self, doc: Doc) -> Doc:
        doc.user_data[USER_DATA_KEY] = apply_spans(doc.text, self.spans(doc))
        return doc


@Language.factory(
    COMPONENT,
    default_config={"names": [], "emails": [], "ner_labels": ["PERSON"], "nhs_checksum": False,
                    "references": list(DEFAULT_REFERENCE_PATTERNS)},
)
def _make_pii_redactor(nlp: Language, name: str, names: list[str], emails: list[str], ner_labels: list[str],
                       nhs_checksum: bool, references: list[str]):
    return PiiRedactor(nlp, names, emails, ner_labels, nhs_checksum, references)


# --------------------------------------------------------------------------
# Pipelines
# --------------------------------------------------------------------------
def load_pipeline(model: str | None = None, lemmatizer: bool = False) -> Language:
    """``spacy.blank("en")`` (plus the lookup lemmatizer when asked), or a trained pipeline by name/path.

    Nothing is downloaded: a trained pipeline must be installed or on disk.
    """
    if model:
        try:
            nlp = spacy.load(model)
        except OSError as exc:
            raise RuntimeError(
                f"the spaCy pipeline {model!r} is not installed or not a pipeline directory; "
                "install it (pip install <package>) or leave the text model unset"
            ) from exc
    else:
        nlp = spacy.blank("en")
    if lemmatizer and "lemmatizer" not in nlp.pipe_names:
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.get_pipe("lemmatizer").initialize()
    return nlp


class Redactor:
    """Redacts personal data; see the module docstring for the rules."""

    def __init__(self, nlp: Language, model: str | None = None):
        self.nlp = nlp
        self.model = model
        disable = [p for p in nlp.pipe_names if p not in (COMPONENT,) and p not in self._needed(nlp)]
        self._disable = disable

    @staticmethod
    def _needed(nlp: Language) -> set[str]:
        # components a trained pipeline needs to produce entities (ner and what it listens to)
        needed = {"ner"}
        for name in list(needed):
            if name in nlp.pipe_names:
                cfg = nlp.get_pipe_config(name)
                listener = cfg.get("model", {}).get("tok2vec", {}).get("upstream")
                if listener and listener != "*":
                    needed.add(listener)
                elif listener == "*":
                    needed |= {"tok2vec", "transformer"}
        return needed

    def redact(self, text: str) -> tuple[str, dict[str, int]]:
        if text is None or text == "":
            return ("" if text is None else text), {}
        with self.nlp.select_pipes(disable=self._disable):
            doc = self.nlp(text)
        return doc.user_data[USER_DATA_KEY]

    def redact_many(
        self, texts: Iterable[str], batch_size: int = 1000, n_process: int = 1
    ) -> list[tuple[str, dict[str, int]]]:
        texts = ["" if t is None else t for t in texts]
        with self.nlp.select_pipes(disable=self._disable):
            out = []
            for doc in self.nlp.pipe(texts, batch_size=batch_size, n_process=n_process):
                res = doc.user_data.get(USER_DATA_KEY)
                out.append((res[0], dict(res[1])) if res is not None else (doc.text, {}))
        return out


def build_redactor(
    known: KnownPeople | None = None, model: str | None = None, nhs_checksum: bool = False,
    extra_reference_patterns: Iterable[str] = (),
) -> Redactor:
    """A :class:`Redactor` for the export's known people; ``model`` names a trained spaCy pipeline.

    With ``model=None`` the pipeline is ``spacy.blank("en")`` and names are
    found by the known-name and title rules only.
    """
    known = known or KnownPeople()
    nlp = load_pipeline(model)
    names = set(known.forenames) | set(known.surnames) | set(known.full_names)
    nlp.add_pipe(
        COMPONENT,
        last=True,
        config={
            "names": sorted(n for n in names if n),
            "emails": sorted(e for e in known.emails if e),
            "ner_labels": ["PERSON", "PER"],
            "nhs_checksum": nhs_checksum,
            "references": [rx.pattern for rx in reference_patterns(extra_reference_patterns)],
        },
    )
    log.info("redactor built: %d known name forms, model=%s", nlp.get_pipe(COMPONENT).n_names, model or "blank:en")
    return Redactor(nlp, model)


def placeholder_tokens() -> set[str]:
    """The bare words of the placeholders (``NAME``, ``EMAIL``, ...), for stop-word lists."""
    return {p.strip("[]") for p in REDACTION_PLACEHOLDERS}
