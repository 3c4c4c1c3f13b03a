"""Benchmark: the validation gate's share of a whole monthly run's wall time at 1M applications.

Acceptance (issue 3): validating 1M applications takes <= 10% of that run's
wall time.  This script runs the REAL monthly evaluation flow
(``flows.monthly_evaluation.monthly_evaluation``: register -> ingest ->
validation gate -> marts -> concurrent analyses -> publish -> report, exports,
artifacts) on a synthetic trust of 1,000,000 applications (Parquet; about
14.5M workforce rows, 3.5M interview scores, 267k assessments), with a
temporary Prefect API under the work folder, then reads every task run's
start and end from Prefect and prints a table (step, seconds, share of the
flow's wall time) and the validation share against the 10% target.

    .venv/bin/python benchmarks/bench_validation.py [--applications N] [--workdir DIR]
        [--extracts DIR] [--as-of YYYY-MM] [--reuse]

``--extracts DIR`` uses an existing extracts folder (generation is not part of
a monthly run and is never timed).  The full run's figures are saved in
``<workdir>/bench_run.json``.

``--reuse`` re-measures only the validation gate: it re-validates the
warehouse the last full run left in the work folder (``validate`` on the same
staged tables, a new run id) and prints the saved full-run table with the
validation row replaced by the new figure and the wall time adjusted by the
difference (marked as such).  Use it while tuning the gate.

The analyses run concurrently (up to 4 threads), so their rows overlap: the
"analyses (concurrent)" row is their wall time, first start to last end, and
the per-analysis rows below it are indented and not added up.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("EDI_RECRUIT_PSEUDONYM_KEY", "bench-key-not-secret")
os.environ.setdefault("EDI_RECRUIT_QUIET", "1")

from edi_recruit import settings as _settings  # noqa: E402,F401

TARGET_SHARE = 0.10
SERIAL_STEPS = ("register-run", "ingest", "validation-gate", "build-marts", "publish", "report", "exports",
                "artifacts", "mark-failed")


def _step_of(task_name: str) -> str:
    if task_name.startswith("analyse-"):
        return task_name
    for s in SERIAL_STEPS:
        if task_name == s or task_name.startswith(s + "-"):
            return s
    return task_name


def _task_timings(flow_run_id: str) -> list[dict]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
        fr = client.read_flow_run(flow_run_id)
    out = [{"step": "flow", "start": fr.start_time.timestamp(), "end": fr.end_time.timestamp(),
            "seconds": (fr.end_time - fr.start_time).total_seconds(), "state": fr.state.type.value}]
    for r in runs:
        if r.start_time is None:
            continue
        end = r.end_time or r.start_time
        out.append({"step": _step_of(r.name), "start": r.start_time.timestamp(), "end": end.timestamp(),
                    "seconds": (end - r.start_time).total_seconds(),
                    "state": r.state.type.value if r.state else "?"})
    return sorted(out, key=lambda x: x["start"])


def table_rows(run: dict) -> list[tuple[str, float, bool]]:
    """(label, seconds, counts_towards_wall) in flow order."""
    steps = [s for s in run["steps"] if s["step"] != "flow"]
    serial = {}
    for s in steps:
        if not s["step"].startswith("analyse-"):
            serial[s["step"]] = serial.get(s["step"], 0.0) + s["seconds"]
    analyses = [s for s in steps if s["step"].startswith("analyse-")]
    rows: list[tuple[str, float, bool]] = []
    for name in ("register-run", "ingest", "validation-gate", "build-marts"):
        if name in serial:
            rows.append((name, serial.pop(name), True))
    if analyses:
        rows.append(("analyses (concurrent)", max(a["end"] for a in analyses) - min(a["start"] for a in analyses),
                     True))
        for a in analyses:
            rows.append(("  " + a["step"], a["seconds"], False))
    for name in ("publish", "report", "exports", "artifacts", "mark-failed"):
        if name in serial:
            rows.append((name, serial.pop(name), True))
    for name, sec in serial.items():
        rows.append((name, sec, True))
    counted = sum(sec for _, sec, c in rows if c)
    rows.append(("flow overhead (between tasks)", max(0.0, run["wall_seconds"] - counted), True))
    return rows


def print_table(run: dict, note: str = "") -> float:
    wall = run["wall_seconds"]
    print(f"\nMonthly evaluation at {run['applications']:,} applications (as of {run['as_of']}){note}")
    print(f"{'step':<40} {'seconds':>9} {'share':>7}")
    print("-" * 58)
    for label, sec, counted in table_rows(run):
        share = f"{sec / wall:7.1%}" if counted else "       "
        print(f"{label:<40} {sec:9.1f} {share}")
    print("-" * 58)
    print(f"{'whole run (flow wall time)':<40} {wall:9.1f} {1:7.1%}")
    if run.get("call_seconds"):
        print(f"(the call took {run['call_seconds']:.1f} s including the benchmark's temporary Prefect "
              "server start-up, not counted)")
    v = sum(s["seconds"] for s in run["steps"] if s["step"] == "validation-gate")
    share = v / wall if wall else 0.0
    print(f"\nvalidation {v:.1f} s of {wall:.1f} s = {share:.1%} of the run's wall time "
          f"(target <= {TARGET_SHARE:.0%}): {'OK' if share <= TARGET_SHARE else 'OVER'}")
    return share


def full_run(args, work: Path) -> dict:
    from edi_recruit.synthetic.generator import generate_trust

    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    extracts = Path(args.extracts) if args.extracts else work / "extracts"
    if not args.extracts:
        t = time.perf_counter()
        generate_trust(extracts, seed=7, applications=args.applications, fmt="parquet")
        print(f"generated {args.applications:,} applications (parquet) in {time.perf_counter() - t:.1f} s "
              "(not part of the run)")
    # a private Prefect API for this benchmark (ephemeral server, state under the work folder)
    os.environ["PREFECT_HOME"] = str((work / "prefect").resolve())
    os.environ.pop("PREFECT_API_URL", None)
    from flows.monthly_evaluation import monthly_evaluation

    db, out = work / "edi.duckdb", work / "out"
    t = time.perf_counter()
    result = monthly_evaluation(as_of=args.as_of, extracts=str(extracts), db=str(db), out_dir=str(out))
    call = time.perf_counter() - t
    steps = _task_timings(result["run_id"])
    # the run's wall time is the flow run's own start..end as Prefect recorded it; starting the
    # benchmark's temporary Prefect server (a production worker has one running) is left out
    wall = next(s["seconds"] for s in steps if s["step"] == "flow")
    run = {"applications": args.applications, "as_of": args.as_of, "extracts": str(extracts),
           "db": str(db), "out": str(out), "run_id": result["run_id"], "wall_seconds": wall,
           "call_seconds": call,
           "measured_at": datetime.now().isoformat(timespec="seconds"), "steps": steps}
    from tasks.warehouse.connection import reading

    with reading(db) as con:
        run["staged_rows"] = {t: con.execute(f"SELECT count(*) FROM staging.{t}").fetchone()[0]
                              for t in ("applications", "workforce", "interview_scores", "assessments")}
    (work / "bench_run.json").write_text(json.dumps(run, indent=2))
    return run


def reuse_run(args, work: Path) -> tuple[dict, float]:
    from tasks.validation.gate import validate

    saved = work / "bench_run.json"
    if not saved.exists():
        raise SystemExit(f"--reuse needs a full run in {work} first (no {saved})")
    run = json.loads(saved.read_text())
    old = sum(s["seconds"] for s in run["steps"] if s["step"] == "validation-gate")
    t = time.perf_counter()
    outcome = validate(run["db"], f"bench-revalidate-{int(time.time())}", as_of=run["as_of"], out_dir=run["out"])
    new = time.perf_counter() - t
    print(outcome.summary)
    for s in run["steps"]:
        if s["step"] == "validation-gate":
            s["seconds"] = new
    run["wall_seconds"] = run["wall_seconds"] - old + new
    return run, old


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--applications", type=int, default=1_000_000)
    ap.add_argument("--workdir", default="data/bench_validation")
    ap.add_argument("--extracts", default=None, help="an existing extracts folder (skips generation)")
    ap.add_argument("--as-of", default="2024-01")
    ap.add_argument("--reuse", action="store_true",
                    help="re-validate the last full run's warehouse; other steps from bench_run.json")
    args = ap.parse_args(argv)
    work = Path(args.workdir)
    if args.reuse:
        run, old = reuse_run(args, work)
        share = print_table(run, note=f"\n(validation re-measured now; the other steps are the full run of "
                                      f"{run['measured_at']}, whose validation took {old:.1f} s)")
    else:
        run = full_run(args, work)
        rows = ", ".join(f"{k} {v:,}" for k, v in run["staged_rows"].items())
        share = print_table(run, note=f"\n(staged: {rows})")
    return 0 if share <= TARGET_SHARE else 1


if __name__ == "__main__":
    sys.exit(main())
