"""Free text of one chunk: interview assessments and CEO letters, with planted personal data.

Reads the chunk's panels, applicants and outcomes, the panel pool and the
planted ``assessment_tone`` (logit over sentences) and ``assessment_topics``
(multinomial logit of the dominant theme) terms; sentences come from
``phrase_bank``.  Writes the assessments and ceo_letters rows and returns the
rows of truth_pii.csv and truth_documents.csv.  Implements
"assessment_tone", "assessment_topics" and "Free text and planted personal
data" of docs/synthetic-data.md.  Every random draw is vectorised; the loops
only join strings.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from edi_recruit.synthetic import names as N
from edi_recruit.synthetic import phrase_bank as PB
from edi_recruit.synthetic.applications import Applicants
from edi_recruit.synthetic.columns import dates, ref, take
from edi_recruit.synthetic.draws import offsets, pick_rows, segment_positions, sigmoid
from edi_recruit.synthetic.effects import PlantedEffects
from edi_recruit.synthetic.outcomes import Outcomes
from edi_recruit.synthetic.panels import Panels
from edi_recruit.synthetic.people import FORENAMES, SURNAMES, draw_nhs_number, draw_phones
from edi_recruit.synthetic.plan import Chunk, PanelPool
from edi_recruit.synthetic.sinks import TrustWriter
from tasks.core.vocabulary import (
    STAGE_ASSESSMENT_TONE,
    STAGE_ASSESSMENT_TOPICS,
    TERM_BME,
    TERM_INTERCEPT,
    TERM_OFFERED,
    THEMES,
    topic_term,
)

_BODY_FLAT: list[str] = []
_BODY_OFF = np.zeros((len(THEMES), 2), np.int64)
_BODY_N = np.zeros((len(THEMES), 2), np.int64)
for _ti, _th in enumerate(THEMES):
    for _pi, _pol in enumerate(("neg", "pos")):
        _BODY_OFF[_ti, _pi], _BODY_N[_ti, _pi] = len(_BODY_FLAT), len(PB.BODIES[_th][_pol])
        _BODY_FLAT.extend(PB.BODIES[_th][_pol])


@dataclass(frozen=True, eq=False)
class TextRows:
    """Rows for truth_pii.csv and truth_documents.csv (see ``sinks.PII_HEADER``, ``sinks.DOCUMENTS_HEADER``)."""

    pii: list[tuple]
    documents: list[tuple]
    # assessments only: per application of the chunk, the day its assessment was written (the interview
    # day, read by ``status_dates``); NaT for applications that were not interviewed
    written_day: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class Sentences:
    """The sentence plan of a batch of documents: sentence k belongs to document ``doc[k]``."""

    doc: np.ndarray
    theme: np.ndarray
    positive: np.ndarray
    u_body: np.ndarray
    u_open: np.ndarray
    u_subj: np.ndarray

    def bodies(self) -> list[str]:
        """The phrase-bank body of every sentence (theme, polarity, uniform draw)."""
        pol = np.asarray(self.positive, dtype=np.int64)
        idx = _BODY_OFF[self.theme, pol] + (self.u_body * _BODY_N[self.theme, pol]).astype(np.int64)
        return [_BODY_FLAT[j] for j in idx.tolist()]


def plan_sentences(rng, p_pos, dom_theme, nsent) -> Sentences:
    """Theme, polarity and body draws of every sentence: round(0.65 n) from the dominant theme, shuffled."""
    n_docs = len(nsent)
    total = int(nsent.sum())
    doc = np.repeat(np.arange(n_docs), nsent)
    pos_in = segment_positions(nsent)
    ndom = np.rint(0.65 * nsent).astype(int)
    is_dom = pos_in < ndom[doc]
    other = (dom_theme[doc] + 1 + (rng.random(total) * (len(THEMES) - 1)).astype(int)) % len(THEMES)
    theme = np.where(is_dom, dom_theme[doc], other)
    shuffle = np.lexsort((rng.random(total), doc))          # mix dominant / other sentences
    theme = theme[shuffle]
    positive = rng.random(total) < p_pos[doc]
    u_body = rng.random(total)
    u_open = rng.random(total)
    u_subj = rng.random(total)
    return Sentences(doc=doc, theme=theme, positive=positive, u_body=u_body, u_open=u_open, u_subj=u_subj)


def _unique(pii: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(dict.fromkeys(pii))


# --------------------------------------------------------------------------
# Assessments
# --------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _Assessment:
    """Python-list view of one document's draws, for string assembly."""

    first: str
    last: str
    title: str
    author_name: str    # as written, with the title
    author_value: str   # as recorded in truth_pii.csv, without the title
    full_name: bool
    staff_number: int | None
    internal: bool
    email: bool
    phone: str | None
    nhs: str | None
    with_author: bool
    email_suffix: int


def write_assessments(rng, writer: TrustWriter, *, chunk: Chunk, panels: Panels, pool: PanelPool,
                      applicants: Applicants, outcomes: Outcomes, staff_numbers: np.ndarray,
                      effects: PlantedEffects, application_refs: pa.Array) -> TextRows:
    """One assessment per interviewed candidate, by a random member of the vacancy's panel."""
    I = np.flatnonzero(outcomes.interviewed)
    nd = len(I)
    rows = TextRows(pii=[], documents=[], written_day=np.full(len(applicants), np.datetime64("NaT", "D")))
    if nd == 0:
        return rows
    vac = applicants.vacancy[I]
    bme_i = applicants.bme[I]
    author = panels.offset[vac] + (rng.random(nd) * panels.size[vac]).astype(np.int64)
    written = chunk.close[vac] + rng.integers(1, 15, nd)
    rows.written_day[I] = written
    bt = effects.terms[STAGE_ASSESSMENT_TONE]
    p_pos = sigmoid(bt[TERM_INTERCEPT] + bt[TERM_BME] * bme_i + bt[TERM_OFFERED] * outcomes.offered[I])
    btop = effects.terms[STAGE_ASSESSMENT_TOPICS]
    logits = np.outer(bme_i, [btop[topic_term(t)] for t in THEMES])
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    dom = pick_rows(rng, P)
    nsent = rng.integers(4, 10, nd)
    sents = plan_sentences(rng, p_pos, dom, nsent)
    docs = _assessment_documents(rng, I, applicants=applicants, author_seat=author, panels=panels, pool=pool,
                                 staff_numbers=staff_numbers)
    refs = take(application_refs, I).to_pylist()
    seg = offsets(nsent).tolist()
    pieces = _SentencePieces.of(sents)
    texts = []
    for d in range(nd):
        text, pii, n_pos = _assessment_text(docs[d], pieces, seg[d], seg[d + 1])
        texts.append(text)
        rows.pii.extend(("assessments", refs[d], t, v) for t, v in _unique(pii))
        rows.documents.append(("assessments", refs[d], THEMES[int(dom[d])], int(nsent[d]), n_pos))
    writer.write("assessments", {
        "application_id": take(application_refs, I), "author_id": ref("PNL-", panels.person[author] + 1, 5),
        "written_date": dates(written), "text": pa.array(texts, pa.string()),
    })
    return rows


def _assessment_documents(rng, I, *, applicants: Applicants, author_seat, panels: Panels, pool: PanelPool,
                          staff_numbers: np.ndarray) -> list[_Assessment]:
    """Which personal data each assessment carries (e-mail, phone, staff and NHS numbers, author)."""
    nd = len(I)
    d_email = (rng.random(nd) < 0.10).tolist()
    d_phone = (rng.random(nd) < 0.08).tolist()
    d_staff = (applicants.internal[I] & (rng.random(nd) < 0.25)).tolist()
    d_nhs = (rng.random(nd) < 0.01).tolist()
    d_author = (rng.random(nd) < 0.35).tolist()
    d_first_full = (rng.random(nd) < 0.7).tolist()
    phones = draw_phones(rng, nd).to_pylist()
    nhs = [draw_nhs_number(rng) if f else "" for f in d_nhs]
    email_suffix = rng.integers(1, 100, nd).tolist()
    fn_l, sn_l = applicants.forename[I].tolist(), applicants.surname[I].tolist()
    fem_l, int_l = applicants.female[I].tolist(), applicants.internal[I].tolist()
    staff_no_l = staff_numbers[np.maximum(applicants.staff[I], 0)].tolist()
    pers_l = panels.person[author_seat].tolist()
    docs = []
    for d in range(nd):
        pers = pers_l[d]
        a_title, a_fn, a_sn = pool.title[pers], FORENAMES[pool.people.forename[pers]], SURNAMES[pool.people.surname[pers]]
        docs.append(_Assessment(
            first=FORENAMES[fn_l[d]], last=SURNAMES[sn_l[d]], title="Ms" if fem_l[d] else "Mr",
            author_name=f"{a_title} {a_sn}" if (d % 2 == 0) else f"{a_title} {a_fn} {a_sn}",
            author_value=a_sn if (d % 2 == 0) else f"{a_fn} {a_sn}", full_name=d_first_full[d],
            staff_number=staff_no_l[d] if d_staff[d] else None, internal=int_l[d], email=d_email[d],
            phone=phones[d] if d_phone[d] else None, nhs=nhs[d] if d_nhs[d] else None, with_author=d_author[d],
            email_suffix=email_suffix[d]))
    return docs


@dataclass(frozen=True, eq=False)
class _SentencePieces:
    """Python lists of the per-sentence pieces (body, opener, author opener, subject kind, polarity)."""

    bodies: list[str]
    opener: list[int]
    author_opener: list[int]
    subject_kind: list[int]   # 0 forename, 1 title + surname, 2.. a generic subject
    positive: list[bool]

    @classmethod
    def of(cls, s: Sentences) -> _SentencePieces:
        generic = (s.u_subj * 7).astype(np.int64) % 2
        return cls(bodies=s.bodies(), opener=(s.u_open * len(PB.OPENERS)).astype(np.int64).tolist(),
                   author_opener=(s.u_open * len(PB.AUTHOR_OPENERS)).astype(np.int64).tolist(),
                   subject_kind=np.where(s.u_subj < 0.35, 0, np.where(s.u_subj < 0.5, 1, 2 + generic)).tolist(),
                   positive=s.positive.tolist())


def _assessment_text(a: _Assessment, s: _SentencePieces, k0: int, k1: int) -> tuple[str, list, int]:
    """The text of one assessment (sentences k0 .. k1 - 1), its planted personal data and positives."""
    first, last = a.first, a.last
    pii = [("name", f"{first} {last}")] if a.full_name else [("name", first)]
    sents = []
    n_pos = 0
    for k in range(k0, k1):
        if k == k0:
            subj = f"{first} {last}" if a.full_name else first
            if a.staff_number is not None:
                subj += f" (staff number {a.staff_number})"
        else:
            sk = s.subject_kind[k]
            if sk == 0:
                subj = first
                pii.append(("name", first))
            elif sk == 1:
                subj = f"{a.title} {last}"
                pii.append(("name", last))
            else:
                subj = PB.SUBJECTS_GENERIC[sk - 2]
        if k == k0 + 1 and a.with_author:
            opener = PB.AUTHOR_OPENERS[s.author_opener[k]].format(author=a.author_name)
            pii.append(("name", a.author_value))
        else:
            opener = PB.OPENERS[s.opener[k]]
        if not opener:
            subj = subj[0].upper() + subj[1:]
        sents.append(f"{opener}{subj} {s.bodies[k]}")
        n_pos += s.positive[k]
    text = " ".join(sents)
    admin = []
    if a.email:
        em = f"{N.ascii_fold(first)}.{N.ascii_fold(last)}{a.email_suffix if not a.internal else ''}@" \
             f"{'nhs.net' if a.internal else 'gmail.com'}"
        admin.append(f"e-mail {em}")
        pii.append(("email", em))
    if a.phone is not None:
        admin.append(f"tel. {a.phone}")
        pii.append(("phone", a.phone))
    if admin:
        text += "\n\nCandidate contact details on file: " + "; ".join(admin)
    if a.nhs is not None:
        text += f"\n\nNote: an occupational health form quoting NHS number {a.nhs} was attached in error."
        pii.append(("nhs_number", a.nhs))
    if a.staff_number is not None:
        pii.append(("staff_number", str(a.staff_number)))
    return text, pii, n_pos


# --------------------------------------------------------------------------
# CEO letters
# --------------------------------------------------------------------------
def write_letters(rng, writer: TrustWriter, *, chunk: Chunk, job_titles: pa.Array, panels: Panels, pool: PanelPool,
                  applicants: Applicants, outcomes: Outcomes, vacancy_refs: pa.Array) -> TextRows:
    """One letter per vacancy whose required letter was received, about its first appointee, by the chair."""
    L = np.flatnonzero(outcomes.letter_received)
    rows = TextRows(pii=[], documents=[])
    if len(L) == 0:
        return rows
    nd, nv = len(L), len(chunk)
    vac = applicants.vacancy
    ap = np.flatnonzero(outcomes.appointed)
    first_ap = np.full(nv, -1)
    first_ap[vac[ap[::-1]]] = ap[::-1]
    written = chunk.close[L] + rng.integers(21, 46, nd)
    dom = (rng.random(nd) * len(THEMES)).astype(int)
    nsent = rng.integers(4, 8, nd)
    sents = plan_sentences(rng, np.full(nd, 0.9), dom, nsent)
    u = rng.random((nd, 6))
    phones = draw_phones(rng, nd).to_pylist()
    shortlisted_bme = outcomes.shortlisted & (applicants.bme > 0)
    n_sl = np.bincount(vac, outcomes.shortlisted, nv)
    n_sl_b = np.bincount(vac, shortlisted_bme, nv)
    bodies = sents.bodies()
    seg = offsets(nsent)
    texts = []
    for d in range(nd):
        v = L[d]
        i = first_ap[v]
        ref_v = vacancy_refs[v].as_py()
        intro = PB.LETTER_INTRO[int(u[d, 1] * len(PB.LETTER_INTRO))].format(job=job_titles[chunk.first + v].as_py(),
                                                                           vac=ref_v)
        intro += f" The shortlist of {int(n_sl[v])} included {int(n_sl_b[v])} candidate(s) from BME backgrounds."
        text, pii, n_pos = _letter_text(
            first=FORENAMES[applicants.forename[i]], last=SURNAMES[applicants.surname[i]],
            chair=panels.person[panels.offset[v]], pool=pool, intro=intro, u=u[d], phone=phones[d],
            sentences=sents, bodies=bodies, k0=seg[d], k1=seg[d + 1])
        texts.append(text)
        rows.pii.extend(("ceo_letters", ref_v, t, val) for t, val in _unique(pii))
        rows.documents.append(("ceo_letters", ref_v, THEMES[dom[d]], int(nsent[d]), n_pos))
    writer.write("ceo_letters", {
        "vacancy_id": take(vacancy_refs, L), "written_date": dates(written), "text": pa.array(texts, pa.string()),
    })
    return rows


def _letter_text(*, first: str, last: str, chair: int, pool: PanelPool, intro: str, u: np.ndarray, phone: str,
                 sentences: Sentences, bodies: list[str], k0: int, k1: int) -> tuple[str, list, int]:
    """Salutation, intro, sentences k0 .. k1 - 1 about the appointee, and the chair's sign-off."""
    c_title = pool.title[chair]
    c_fn, c_sn = FORENAMES[pool.people.forename[chair]], SURNAMES[pool.people.surname[chair]]
    pii = [("name", f"{first} {last}")]
    lines = [PB.LETTER_OPENINGS[int(u[0] * len(PB.LETTER_OPENINGS))], ""]
    sents = []
    n_pos = 0
    for k in range(k0, k1):
        if k == k0:
            subj = f"{first} {last}"
        else:
            us = sentences.u_subj[k]
            subj = first if us < 0.4 else "the successful candidate"
            if us < 0.4:
                pii.append(("name", first))
        opener = PB.OPENERS[int(sentences.u_open[k] * len(PB.OPENERS))]
        if not opener:
            subj = subj[0].upper() + subj[1:]
        sents.append(f"{opener}{subj} {bodies[k]}")
        n_pos += bool(sentences.positive[k])
    lines += [intro, "", " ".join(sents), "", PB.LETTER_CLOSINGS[int(u[2] * len(PB.LETTER_CLOSINGS))],
              f"{c_title} {c_fn} {c_sn}", "Chair of the interview panel"]
    pii.append(("name", f"{c_fn} {c_sn}"))
    if u[3] < 0.3:
        em = f"{N.ascii_fold(c_fn)}.{N.ascii_fold(c_sn)}@nhs.net"
        lines.append(em)
        pii.append(("email", em))
    if u[4] < 0.2:
        lines.append(f"Direct line: {phone}")
        pii.append(("phone", phone))
    return "\n".join(lines), pii, n_pos
