"""Benchmark the national evaluation on this machine's LocalCluster: wall time, peak memory per worker, 1 vs 2 workers.

    .venv/bin/python benchmarks/bench_national.py --trusts 100 --applications 20000      # the issue-16 scale (2M)
    .venv/bin/python benchmarks/bench_national.py --trusts 6 --applications 3000 --workers 1 2   # a reduced run

Generates the national set once (edi_recruit/synthetic/national.py; --data reuses one), then
for each worker count runs the national flow (flows/national_evaluation.py) with fresh trust
warehouses and a fresh national warehouse, against a local Prefect API started the way the CLI
starts one.  Prints one row per worker count: trusts completed, applications, wall seconds,
trusts per minute, the median and largest trust wall time, the peak RSS of each worker process
(the largest ru_maxrss a trust's task saw in that process) and the national run's own seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _manifest_for(data: Path, run_dir: Path) -> Path:
    """The generated manifest with every trust's warehouse and outputs under ``run_dir`` (fresh per run)."""
    import yaml

    spec = yaml.safe_load((data / "manifest.yaml").read_text())
    for t in spec["trusts"]:
        t["extracts"] = str((data / t["extracts"]).resolve())
        t["db"] = str(run_dir / t["trust_code"] / "warehouse.duckdb")
    path = run_dir / "manifest.yaml"
    run_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trusts", type=int, default=100)
    ap.add_argument("--applications", type=int, default=20_000, help="mean applications per trust")
    ap.add_argument("--size-sd", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--data", help="an existing generate-national folder (default: generate into a temp folder)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args(argv)
    os.environ.setdefault("EDI_RECRUIT_QUIET", "1")
    from edi_recruit import settings as _settings  # noqa: F401

    tmp = Path(tempfile.mkdtemp(prefix="bench_national_"))
    try:
        data = Path(args.data) if args.data else tmp / "data"
        if not args.data:
            from edi_recruit.synthetic.national import generate_national

            t0 = time.perf_counter()
            s = generate_national(data, trusts=args.trusts, seed=args.seed, applications=args.applications,
                                  size_sd=args.size_sd)
            print(f"generated {s.trusts} trusts, {s.applications:,} applications in {time.perf_counter() - t0:.0f} s",
                  flush=True)
        truth = json.loads((data / "truth.json").read_text())
        apps = sum(t["applications"] for t in truth["trusts"])
        from edi_recruit.server import cli_api, stop_local_api
        from flows.national_evaluation import national_evaluation

        home = tmp / "prefect"
        rows = []
        try:
            # the CLI's API context: it keeps the local API's lease (a run longer than the API's idle limit,
            # 30 minutes, would otherwise see the API stop under it)
            with cli_api(home):
                for n in args.workers:
                    run_dir = tmp / f"run_{n}"
                    manifest = _manifest_for(data, run_dir)
                    t0 = time.perf_counter()
                    result = national_evaluation(manifest=str(manifest), national_db=str(run_dir / "national.duckdb"),
                                                 out_dir=str(run_dir / "out"), n_workers=n)
                    wall = time.perf_counter() - t0
                    done = [t for t in result["trusts"] if t["status"] == "completed"]
                    secs = sorted(t["seconds"] for t in done)
                    peaks: dict[str, float] = {}
                    for t in done:
                        peaks[t["worker"]] = max(peaks.get(t["worker"], 0.0), t.get("peak_rss_mb") or 0.0)
                    rows.append({"workers": n, "trusts": f"{len(done)}/{len(result['trusts'])}", "applications": apps,
                                 "wall_s": round(wall), "trusts_per_min": round(60 * len(done) / wall, 2),
                                 "median_trust_s": round(secs[len(secs) // 2]) if secs else None,
                                 "max_trust_s": round(secs[-1]) if secs else None,
                                 "peak_rss_mb_per_worker": sorted(round(v) for v in peaks.values())})
                    print(json.dumps(rows[-1]), flush=True)
                    shutil.rmtree(run_dir, ignore_errors=True)
        finally:
            stop_local_api(home)
        print()
        print("| workers | trusts | applications | wall (s) | trusts/min | median trust (s) | max trust (s) | "
              "peak RSS per worker (MB) |")
        print("|---|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['workers']} | {r['trusts']} | {r['applications']:,} | {r['wall_s']} | {r['trusts_per_min']} | "
                  f"{r['median_trust_s']} | {r['max_trust_s']} | {', '.join(map(str, r['peak_rss_mb_per_worker']))} |")
        print(f"\nload average at the end: {os.getloadavg()}")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
