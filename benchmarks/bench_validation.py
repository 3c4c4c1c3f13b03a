"""Benchmark: the validation gate's share of a run's wall time at 1M applications.

Generates a synthetic trust as Parquet (default 1,000,000 applications: about
14.5M workforce rows and 3.5M interview scores), ingests it, validates it and
prints ingest time, validation time and the validation share of
ingest + validation (the run's wall time without marts and analyses, so the
share printed is an upper bound).  Target: share <= 10%.

    .venv/bin/python benchmarks/bench_validation.py [--applications N] [--workdir DIR] [--reuse]

``--reuse`` skips generation and ingest when the work folder already holds an
ingested warehouse and its timing (bench_ingest_seconds.txt).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("EDI_RECRUIT_PSEUDONYM_KEY", "bench-key-not-secret")
os.environ.setdefault("EDI_RECRUIT_QUIET", "1")

from edi_recruit import settings as _settings  # noqa: E402,F401

TARGET_SHARE = 0.10


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--applications", type=int, default=1_000_000)
    ap.add_argument("--workdir", default="data/bench_validation")
    ap.add_argument("--as-of", default="2024-01")
    ap.add_argument("--reuse", action="store_true")
    args = ap.parse_args(argv)

    from tasks.generate import generate_trust
    from tasks.ingest import ingest_extracts
    from tasks.validation import validate

    work = Path(args.workdir)
    extracts, db, out = work / "extracts", work / "edi.duckdb", work / "out"
    timing = work / "bench_ingest_seconds.txt"
    if not (args.reuse and db.exists() and timing.exists()):
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        t = time.perf_counter()
        generate_trust(extracts, seed=7, applications=args.applications, fmt="parquet")
        print(f"generate   {time.perf_counter() - t:9.1f} s  ({args.applications:,} applications, parquet)")
        t = time.perf_counter()
        summary = ingest_extracts(extracts, db)
        ingest_s = time.perf_counter() - t
        timing.write_text(f"{ingest_s}\n")
        rows = ", ".join(f"{k} {v:,}" for k, v in summary.staged_rows.items())
        print(f"ingest     {ingest_s:9.1f} s  (staged: {rows})")
    else:
        ingest_s = float(timing.read_text())
        print(f"ingest     {ingest_s:9.1f} s  (reused from {timing})")
    t = time.perf_counter()
    outcome = validate(str(db), f"bench-{int(time.time())}", as_of=args.as_of, out_dir=str(out))
    validate_s = time.perf_counter() - t
    share = validate_s / (ingest_s + validate_s)
    print(f"validation {validate_s:9.1f} s  ({outcome.tables['validation'].height} checks)")
    print(f"share      {share:9.1%}    of ingest + validation (target <= {TARGET_SHARE:.0%}): "
          f"{'OK' if share <= TARGET_SHARE else 'OVER'}")
    print(outcome.summary)
    return 0 if share <= TARGET_SHARE else 1


if __name__ == "__main__":
    sys.exit(main())
