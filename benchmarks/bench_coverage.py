"""Coverage study: 95% CI coverage of the planted bme terms over many seeds.

For each seed a trust-sized funnel (default 600 vacancies, ~15,000
applications) is simulated with the generator's data-generating model for
shortlisting (independent logit) and offers (Gumbel-max among the
interviewed = conditional logit), using the planted terms of
effects/default.yaml; the shortlist logit (vacancy-clustered SEs) and the
offer conditional logit are fitted, and we count how often each planted
``bme`` / ``bme:*`` term lies inside its 95% CI.  Coverage should lie in
[0.92, 0.98].

The simulator is tests/test_funnel_recovery.simulate_funnel (fast, mart-shaped),
not edi_recruit/synthetic/generator.py + ingest, so that 200+ seeds run in minutes.

Usage:  .venv/bin/python benchmarks/bench_coverage.py [--seeds 200] [--vacancies 600]
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "analyses" / "funnel_statistics"))


def coverage(seeds: int = 200, vacancies: int = 600, first_seed: int = 10_000) -> list[dict]:
    from test_funnel_recovery import _effects, main_rows, simulate_funnel

    from tasks.analyses.funnel_statistics import odds_ratios as fm
    from tasks.core.vocabulary import MODEL_CONDITIONAL_LOGIT, MODEL_LOGIT, STAGE_OFFER, STAGE_SHORTLIST

    eff = _effects()
    targets = {
        (STAGE_SHORTLIST, MODEL_LOGIT): {t: v for t, v in eff[STAGE_SHORTLIST].items() if t.startswith("bme")},
        (STAGE_OFFER, MODEL_CONDITIONAL_LOGIT): {t: v for t, v in eff[STAGE_OFFER].items() if t.startswith("bme")},
    }
    hits = {(s, m, t): 0 for (s, m), terms in targets.items() for t in terms}
    bias = {k: 0.0 for k in hits}
    for i in range(seeds):
        af = simulate_funnel(first_seed + i, vacancies=vacancies)
        table = fm.odds_ratio_table(fm.stage_fits(af, stages=[STAGE_SHORTLIST, STAGE_OFFER], strata=False))
        for (s, m), terms in targets.items():
            rows = main_rows(table, s, m)
            for t, v in terms.items():
                r = rows[t]
                hits[(s, m, t)] += int(r["ci_low"] <= math.exp(v) <= r["ci_high"])
                bias[(s, m, t)] += (r["estimate"] - v) / seeds
    out = []
    for (s, m, t), h in hits.items():
        p = h / seeds
        out.append({"stage": s, "model": m, "term": t, "planted": targets[(s, m)][t], "seeds": seeds,
                    "coverage": p, "mc_se": math.sqrt(p * (1 - p) / seeds), "mean_bias": bias[(s, m, t)]})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--vacancies", type=int, default=600)
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = coverage(args.seeds, args.vacancies)
    print(f"95% CI coverage over {args.seeds} seeds, {args.vacancies} vacancies per trust "
          f"({time.perf_counter() - t0:.0f}s)")
    print("| stage | model | term | planted | coverage | MC s.e. | mean bias |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['stage']} | {r['model']} | `{r['term']}` | {r['planted']:+.2f} | {r['coverage']:.3f} | "
              f"{r['mc_se']:.3f} | {r['mean_bias']:+.3f} |")


if __name__ == "__main__":
    main()
