"""Benchmark of the disclosure-control step (linked-table suppression + per-table protection).

Prints one row per scenario: the number of published count cells and relations, primary and
secondary suppressions, the protection step's wall and CPU time, and (trust scale) its share of
the run (generate excluded: ingest + marts + analyses + protection, same process, wall time).

Scenarios:

* ``trust``: a generated trust (``--seed``, ``--applications``; default seed 7, ~8,000
  applications), ingested, every analysis run as of 2024-01, then protected.
* ``small``: the same at 1,500 applications (dense suppression: the worst case per cell).
* ``1M``: the funnel-linked tables (funnel_counts, wres_indicator2, adverse_impact) computed by the
  project's own analysis functions on 1,000,000 applications RESAMPLED from the trust's
  marts.application_funnel (whole vacancies drawn with replacement, as of the same window), with
  the trust's other result tables (text, scores, representation, odds ratios: their shape does not
  grow with applications).  Generating and ingesting a real 1M trust takes ~10 minutes and is not
  what this measures; the protection step depends on the tables' cells, not on rows.

Usage:  .venv/bin/python benchmarks/bench_disclosure.py [--seed 7] [--applications 0] [--skip-1m]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("EDI_RECRUIT_PSEUDONYM_KEY", "bench-key-not-secret")
os.environ.setdefault("EDI_RECRUIT_QUIET", "1")


def _clock():
    return time.perf_counter(), time.process_time()


def protect_all(results: dict, policy) -> dict:
    """The publish step's disclosure control on in-memory result tables (no warehouse I/O)."""
    from tasks.privacy.disclosure import protect_table
    from tasks.privacy.disclosure.linked import plan_suppression
    from tasks.privacy.disclosure.relations import published_rows

    w0, c0 = _clock()
    frames = {n: published_rows(n, df, policy) for n, df in results.items() if n not in policy.restricted_tables}
    plan = plan_suppression(frames, policy)
    w1, c1 = _clock()
    for n, df in results.items():
        if n not in policy.restricted_tables:
            protect_table(n, df, policy, forced=plan.forced(n))
    w2, c2 = _clock()
    return {"plan": plan,
            "plan_wall": w1 - w0, "plan_cpu": c1 - c0, "total_wall": w2 - w0, "total_cpu": c2 - c0}


def _cpu_with_children() -> float:
    import resource

    return sum(resource.getrusage(w).ru_utime + resource.getrusage(w).ru_stime
               for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def trust_results(seed: int, applications: int | None, work: Path) -> tuple[dict, tuple[float, float], Path]:
    """Every result table of a generated trust, and the wall and CPU time of ingest + marts + analyses."""
    from edi_recruit.synthetic.generator import generate_trust, load_effects
    from tasks import analyses
    from tasks.core.run_context import RunContext
    from tasks.ingest.staging import ingest_extracts
    from tasks.marts import build_marts

    ex = work / "extracts"
    kw = {"applications": applications} if applications else {}
    generate_trust(ex, seed=seed, effects=load_effects(None), **kw)
    db = work / "edi.duckdb"
    w0, c0 = time.perf_counter(), _cpu_with_children()
    ingest_extracts(ex, db)
    build_marts(db)
    ctx = RunContext(db_path=str(db), run_id="bench", as_of="2024-01", out_dir=str(work / "runs"))
    results = {}
    for name in analyses.ANALYSES:
        results.update(analyses.ANALYSES[name](ctx))
    return results, (time.perf_counter() - w0, _cpu_with_children() - c0), db


def million(db: Path, base: dict, n: int = 1_000_000, seed: int = 1) -> tuple[dict, int]:
    """The funnel-linked tables on n applications resampled by vacancy from the trust's mart."""
    import numpy as np
    import polars as pl

    from tasks.analyses.funnel_counts import funnel_counts
    from tasks.analyses.funnel_statistics.adverse_impact import adverse_impact
    from tasks.analyses.funnel_statistics.analysis import FUNNEL_COLUMNS
    from tasks.analyses.funnel_statistics.wres import wres_indicator2
    from tasks.core.run_context import RunContext
    from tasks.marts import load_mart

    ctx = RunContext(db_path=str(db), run_id="bench", as_of="2024-01", out_dir=str(db.parent / "runs"))
    af = load_mart(ctx, "application_funnel", columns=FUNNEL_COLUMNS, window=True)
    per_vac = af.group_by("vacancy_id").len()
    rng = np.random.default_rng(seed)
    vac = per_vac["vacancy_id"].to_numpy()
    draws = rng.choice(len(vac), size=int(n / af.height * len(vac) * 1.02) + 1)
    copies = pl.DataFrame({"vacancy_id": vac[draws], "_copy": np.arange(len(draws))})
    big = copies.join(af, on="vacancy_id", how="inner").head(n)
    big = big.with_columns((pl.col("vacancy_id").cast(pl.Utf8) + "#" + pl.col("_copy").cast(pl.Utf8)).alias("vacancy_id"))
    out = dict(base)
    out["funnel_counts"] = funnel_counts(big)
    out["wres_indicator2"] = wres_indicator2(big)
    out["adverse_impact"] = adverse_impact(big)
    return out, big.height


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--applications", type=int, default=0, help="0 = the generator's default (~8,000)")
    ap.add_argument("--skip-1m", action="store_true")
    ap.add_argument("--skip-small", action="store_true")
    args = ap.parse_args()
    from tasks.privacy.disclosure import load_policy

    policy = load_policy()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        results, run_wall, db = trust_results(args.seed, args.applications or None, tmp / "trust")
        r = protect_all(results, policy)
        rows.append(("trust", sum(df.height for df in results.values()), r, run_wall))
        if not args.skip_1m:
            big, n = million(db, results)
            rows.append((f"1M ({n:,} apps, resampled)", sum(df.height for df in big.values()), protect_all(big, policy),
                         None))
        if not args.skip_small:
            small, small_wall, _ = trust_results(3, 1500, tmp / "small")
            rows.append(("small (1,500 apps)", sum(df.height for df in small.values()), protect_all(small, policy),
                         small_wall))
    print(f"load average: {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}; "
          f"cpus: {os.cpu_count()}; policy {policy.version}")
    print("| scenario | result rows | relations | primary | secondary | plan wall s | plan CPU s "
          "| protection wall s | protection CPU s | run wall / CPU s (ingest+marts+analyses) | share of run wall / CPU |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, nrows, r, run in rows:
        p = r["plan"]
        if run:
            wall, cpu = run
            share = (f"{100 * r['total_wall'] / (wall + r['total_wall']):.1f}% / "
                     f"{100 * r['total_cpu'] / (cpu + r['total_cpu']):.1f}%")
            run_txt = f"{wall:.0f} / {cpu:.0f}"
        else:
            share, run_txt = "-", "-"
        print(f"| {name} | {nrows:,} | {p.relations:,} | {p.primary:,} | {p.secondary:,} | {r['plan_wall']:.1f} | "
              f"{r['plan_cpu']:.1f} | {r['total_wall']:.1f} | {r['total_cpu']:.1f} | {run_txt} | {share} |")


if __name__ == "__main__":
    main()
