"""Benchmark the synthetic-trust generator: wall time, rows per table and peak RSS.

    .venv/bin/python benchmarks/bench_generate.py --applications 1000000 --format parquet

Runs the generator in a child process (so peak RSS is that of a fresh
interpreter) and deletes the output folder afterwards unless --out is given.
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time
sys.path.insert(0, {root!r})
from edi_recruit.synthetic import generate_trust
t = time.perf_counter()
s = generate_trust({out!r}, seed={seed}, applications={n}, fmt={fmt!r})
print(json.dumps({{"seconds": time.perf_counter() - t, "rows": s.row_counts,
                   "bytes": {{k: p.stat().st_size for k, p in s.files.items()}}}}))
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--applications", type=int, default=10_000_000)
    ap.add_argument("--format", default="parquet", choices=["csv", "csv-bom", "csv-cp1252", "xlsx", "parquet"])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", help="output folder (default: a temporary folder, deleted afterwards)")
    args = ap.parse_args(argv)
    tmp = None
    out = args.out or (tmp := tempfile.mkdtemp(prefix="bench_generate_"))
    try:
        code = CHILD.format(root=str(ROOT), out=str(Path(out) / "trust"), seed=args.seed, n=args.applications,
                            fmt=args.format)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            return proc.returncode
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        # ru_maxrss of children is in KiB on Linux
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"applications  {args.applications:>14,}")
        print(f"format        {args.format:>14}")
        print(f"{'table':<18}{'rows':>14}{'MiB':>10}")
        for t, n in res["rows"].items():
            print(f"{t:<18}{n:>14,}{res['bytes'][t] / 2**20:>10.1f}")
        print(f"generate s    {res['seconds']:>14.1f}")
        print(f"wall s        {wall:>14.1f}  (incl. interpreter start)")
        print(f"peak RSS MiB  {peak_mib:>14.0f}  (child process, ru_maxrss)")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
