"""Benchmark of the funnel regression stage at 1M and 10M applications.

Prints, for each size, the wall time of the regression stage (all funnel
models of tasks/analyses/funnel_statistics/odds_ratios.stage_fits: shortlist logit, offer conditional
logit and pooled logit, appoint-from-shortlist logit, the within-band strata)
and the peak resident memory of the process that ran it.

The application-level frame is SYNTHESISED DIRECTLY here with numpy (columns
shaped like marts.application_funnel, planted default effects), not produced
by edi_recruit/synthetic/generator.py + ingest: generating and ingesting a 10M-application
trust takes far longer than the statistics themselves.  The logit stages are
fitted on covariate-pattern aggregates within vacancy (sufficient statistics),
so their cost grows with the number of (vacancy, pattern) cells, not rows.

Engines: the primary fits are statsmodels (binomial GLM with vacancy-clustered
SEs; ConditionalLogit by vacancy).  Above the size thresholds of
tasks/analyses/funnel_statistics/fits.py (STATSMODELS_MAX_ROWS cluster-pattern rows for the
logit, CL_STATSMODELS_MAX_ROWS informative rows for the conditional logit; keyword
parameters of stage_fits, run parameters funnel_statsmodels_max_rows /
funnel_cl_statsmodels_max_rows in a run) the own fast path is used instead: own
Newton-IRLS on the pattern table with the same cluster sandwich, and own exact
conditional likelihood.  The output lists, per size, how many fits each
engine produced, so the reader sees which path was timed.

Usage:  .venv/bin/python benchmarks/bench_funnel.py [--sizes 1000000 10000000]
Each size runs in a fresh subprocess so that peak RSS is per size.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def synthesise(n_apps: int, seed: int = 1):
    import numpy as np
    import polars as pl

    from tasks.core.vocabulary import AGE_BANDS, DIRECTORATES, SENIOR_BANDS

    rng = np.random.default_rng(seed)
    V = max(1, n_apps // 20)
    m = rng.poisson(16, V) + 4
    scale = n_apps / m.sum()
    m = np.maximum(1, np.round(m * scale).astype(np.int64))
    vi = np.repeat(np.arange(V, dtype=np.int32), m)
    n = vi.size
    band = rng.choice(len(SENIOR_BANDS), V, p=[.38, .27, .17, .09, .05, .04]).astype(np.int8)
    post = (rng.random(V) < 0.55).astype(np.int8)
    letter = (post & (rng.random(V) < 0.8)).astype(np.int8)
    panel = (rng.random(V) < np.where(post == 1, 0.9, 0.35)).astype(np.int8)
    mgr_bme = (rng.random(V) < 0.25).astype(np.int8)
    mgr_f = (rng.random(V) < 0.55).astype(np.int8)
    direc = rng.integers(0, len(DIRECTORATES), V).astype(np.int8)
    bme = (rng.random(n) < 0.45).astype(np.int8)
    unknown = rng.random(n) < 0.04
    female = (rng.random(n) < 0.55).astype(np.int8)
    internal = (rng.random(n) < 0.35).astype(np.int8)
    du = rng.random(n)
    disability = (du < 0.06).astype(np.int8)
    dis_null = du > 0.90
    age = rng.integers(0, len(AGE_BANDS), n).astype(np.int8)
    p_, l_, d_ = post[vi], letter[vi], panel[vi]
    eta = (-1.0 - 0.35 * bme + 0.05 * female + 0.5 * internal - 0.2 * disability
           + 0.15 * bme * d_ + 0.25 * bme * p_)
    withdrawn_app = rng.random(n) < 0.03
    shortlisted = (rng.random(n) < 1 / (1 + np.exp(-eta))) & ~withdrawn_app
    del eta
    interviewed = shortlisted & (rng.random(n) < 0.9)
    withdrawn_int = interviewed & (rng.random(n) < 0.03)
    u = (-0.45 * bme + 0.3 * internal - 0.1 * disability + 0.55 * bme * l_ + 0.2 * bme * d_
         + rng.gumbel(size=n))
    eligible = interviewed & ~withdrawn_int
    u = np.where(eligible, u, -np.inf)
    order = np.lexsort((-u, vi))
    first = np.r_[True, vi[order][1:] != vi[order][:-1]]
    offered = np.zeros(n, bool)
    offered[order[first]] = True
    offered &= eligible
    del u, order, first
    declined = offered & (rng.random(n) < 0.08)
    wd = np.where(withdrawn_app, 0, np.where(withdrawn_int, 2, -1))
    band_enum = pl.Enum(list(SENIOR_BANDS))
    age_enum = pl.Enum(list(AGE_BANDS))
    dir_enum = pl.Enum(list(DIRECTORATES))
    wd_enum = pl.Enum(["application", "shortlist", "interview", "offer"])
    df = pl.DataFrame({
        "vacancy_id": vi,
        "bme": pl.Series(bme).scatter(np.flatnonzero(unknown), None),
        "female": female, "internal": internal,
        "disability": pl.Series(disability).scatter(np.flatnonzero(dis_null), None),
        "age_band": pl.Series(age).cast(pl.UInt8).replace_strict(dict(enumerate(AGE_BANDS)), return_dtype=age_enum),
        "shortlisted": shortlisted.astype(np.int8), "interviewed": interviewed.astype(np.int8),
        "offered": offered.astype(np.int8), "offer_declined": declined.astype(np.int8),
        "appointed": (offered & ~declined).astype(np.int8),
        "withdrawn_stage": pl.Series(wd).replace_strict({-1: None, 0: "application", 2: "interview"},
                                                       return_dtype=wd_enum),
        "band": pl.Series(band[vi]).cast(pl.UInt8).replace_strict(dict(enumerate(SENIOR_BANDS)), return_dtype=band_enum),
        "directorate": pl.Series(direc[vi]).cast(pl.UInt8).replace_strict(dict(enumerate(DIRECTORATES)),
                                                                         return_dtype=dir_enum),
        "manager_bme": mgr_bme[vi], "manager_female": mgr_f[vi],
        "letter_to_ceo": l_, "diverse_panel": d_, "post_programme": p_,
    })
    return df


def run_one(n_apps: int) -> dict:
    import logging

    from tasks.analyses.funnel_statistics import fits as ff
    from tasks.analyses.funnel_statistics import odds_ratios as fm

    logging.basicConfig(level=logging.WARNING)
    t0 = time.perf_counter()
    af = synthesise(n_apps)
    t_syn = time.perf_counter() - t0
    rss_after_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t1 = time.perf_counter()
    fits = fm.stage_fits(af, stages=["shortlist", "offer", "appoint_from_shortlist"])
    table = fm.odds_ratio_table(fits)
    t_fit = time.perf_counter() - t1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    bme = table.filter((table["analysis"] == "main") & (table["term"] == "bme"))
    engines: dict[str, int] = {}
    main_engines = {}
    for f, _ in fits:
        engines[f.engine] = engines.get(f.engine, 0) + 1
        if f.analysis == "main":
            main_engines[f"{f.stage}/{f.model}"] = f.engine
    return {
        "engines": engines,
        "main_engines": main_engines,
        "thresholds": {"logit_rows": ff.STATSMODELS_MAX_ROWS, "cl_rows": ff.CL_STATSMODELS_MAX_ROWS},
        "applications": af.height,
        "vacancies": int(af["vacancy_id"].n_unique()),
        "synthesis_s": round(t_syn, 1),
        "regression_stage_s": round(t_fit, 1),
        "peak_rss_mb_after_data": round(rss_after_data),
        "peak_rss_mb": round(peak),
        "fits": len(fits),
        "bme_estimates": {f"{r['stage']}/{r['model']}": round(r["estimate"], 3) for r in bme.iter_rows(named=True)},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one)))
        return
    from tasks.analyses.funnel_statistics import fits as fm

    print("Funnel regression stage (design matrix synthesised directly with numpy; see module docstring)")
    print(f"Primary engine statsmodels; own fast path above {fm.STATSMODELS_MAX_ROWS:,} cluster-pattern rows (logit) "
          f"and {fm.CL_STATSMODELS_MAX_ROWS:,} informative rows (conditional logit)")
    print(f"{'applications':>12} {'vacancies':>9} {'regression s':>12} {'peak RSS MB':>11}  bme estimates (planted -0.35 shortlist, -0.45 offer)")
    for n in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['applications']:>12,} {r['vacancies']:>9,} {r['regression_stage_s']:>12} {r['peak_rss_mb']:>11,}  {r['bme_estimates']}")
        print(f"{'':>12} engines (fits): {r['engines']}; main fits: {r['main_engines']}")


if __name__ == "__main__":
    main()
