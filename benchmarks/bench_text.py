"""Throughput of the text pipeline: redaction, lemmatisation, sentiment, topic inference.

    .venv/bin/python benchmarks/bench_text.py --sizes 100000 1000000 --n-process 1 2

A synthetic trust is generated once (seed 7) and its raw assessment texts are
repeated to the requested number of documents (real lengths and PII density).
Each stage streams the corpus in chunks (bounded memory) and prints documents
per second for each ``n_process``.  Topic inference = ``TopicModel.transform``
of every document with an NMF model fitted (K fixed at 8) on a 50,000-document
sample; the fit time is printed separately.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import polars as pl  # noqa: E402

from tasks.analyses.text.sentiment import build_analyzer, document_sentiment
from tasks.analyses.text.topics import build_lemmatiser, document_lemmas, fit_topics, sentence_features
from tasks.privacy.redaction import KnownPeople, build_redactor

CHUNK = 25_000


def corpus(n_base: int = 0) -> tuple[list[str], KnownPeople]:
    from edi_recruit.synthetic.generator import generate_trust

    out = Path(tempfile.mkdtemp(prefix="bench_text_"))
    generate_trust(out, seed=7)
    a = pl.read_csv(out / "assessments.csv", infer_schema=False)["Assessment Text"].to_list()
    kp = KnownPeople()
    for table, fn, sn, em in (
        ("applications", "Forename", "Surname", "Email"),
        ("panel_members", "Panel Member Forename", "Panel Member Surname", None),
        ("hiring_managers", "Manager Forename", "Manager Surname", "Manager Email"),
    ):
        df = pl.read_csv(out / f"{table}.csv", infer_schema=False)
        kp.forenames |= set(df[fn].drop_nulls())
        kp.surnames |= set(df[sn].drop_nulls())
        kp.full_names |= {f"{x} {y}" for x, y in zip(df[fn], df[sn]) if x and y}
        if em:
            kp.emails |= set(df[em].drop_nulls())
    return a, kp


def chunks(base: list[str], n: int):
    i = 0
    while i < n:
        m = min(CHUNK, n - i)
        yield [base[(i + j) % len(base)] for j in range(m)]
        i += m


# worker state, created before the pool forks (inherited, never pickled)
_W: dict = {}


def _redact_chunk(c: list[str]) -> list[str]:
    return [x for x, _ in _W["red"].redact_many(c, batch_size=1000)]


def _lemma_chunk(c: list[str]):
    return sentence_features(c, _W["nlp"], batch_size=1000)


def _sentiment_chunk(sents: list[list[str]]) -> int:
    document_sentiment(sents, _W["vader"])
    return len(sents)


def _timed(fn, items, n, n_process, pool_mode):
    """Docs/s of fn over the chunks; n_process > 1: spaCy's own n_process ('spacy') or a fork pool ('pool')."""
    import multiprocessing as mp

    t = time.perf_counter()
    first = None
    if n_process == 1 or pool_mode == "spacy":
        for c in chunks(items, n):
            out = fn(c)
            first = first if first is not None else out
    else:
        with ProcessPoolExecutor(n_process, mp_context=mp.get_context("fork")) as ex:
            for out in ex.map(fn, chunks(items, n)):
                first = first if first is not None else out
    return n / (time.perf_counter() - t), first


def run(n: int, n_process: int, base: list[str], kp: KnownPeople, tm, pool_mode: str = "pool") -> dict[str, float]:
    res = {}
    _W.update(red=build_redactor(kp), nlp=build_lemmatiser(), vader=build_analyzer())
    if pool_mode == "spacy" and n_process > 1:
        red_fn = lambda c: [x for x, _ in _W["red"].redact_many(c, batch_size=1000, n_process=n_process)]  # noqa: E731
        lem_fn = lambda c: sentence_features(c, _W["nlp"], batch_size=1000, n_process=n_process)  # noqa: E731
    else:
        red_fn, lem_fn = _redact_chunk, _lemma_chunk
    res["redaction"], redacted = _timed(red_fn, base, n, n_process, pool_mode)
    res["lemmatisation"], feats = _timed(lem_fn, redacted[:len(base)], n, n_process, pool_mode)
    sents = [[s for s, _ in f] for f in feats[:len(base)]]
    res["sentiment"], _ = _timed(_sentiment_chunk, sents, n, n_process, "pool")

    lem = document_lemmas(feats[:len(base)])
    t = time.perf_counter()
    for c in chunks(lem, n):
        tm.transform(c)
    res["topic_inference"] = n / (time.perf_counter() - t)
    return res


def machine() -> str:
    import psutil

    return (f"{platform.node()}: {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
            f"{psutil.virtual_memory().total / 2**30:.1f} GiB RAM, Python {platform.python_version()}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--n-process", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--pool", choices=["pool", "spacy"], default="pool",
                    help="parallelism for n_process > 1: a fork pool over 50k-document chunks, or nlp.pipe(n_process)")
    args = ap.parse_args(argv)
    print(machine(), flush=True)
    base, kp = corpus()
    print(f"base corpus: {len(base)} assessments, mean {sum(map(len, base)) / len(base):.0f} characters", flush=True)
    lem = document_lemmas(sentence_features([x for x, _ in build_redactor(kp).redact_many(base)]))
    fit_docs = [lem[i % len(lem)] for i in range(50_000)]
    t = time.perf_counter()
    tm = fit_topics(fit_docs, k_range=[8], seed=1)
    print(f"NMF fit on 50,000 documents (K=8): {time.perf_counter() - t:.1f} s", flush=True)
    print(f"parallelism for n_process > 1: {args.pool}")
    print("| documents | n_process | redaction | lemmatisation | sentiment | topic inference |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        for p in args.n_process:
            r = run(n, p, base, kp, tm, args.pool)
            print(f"| {n:,} | {p} | {r['redaction']:,.0f} | {r['lemmatisation']:,.0f} | "
                  f"{r['sentiment']:,.0f} | {r['topic_inference']:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
