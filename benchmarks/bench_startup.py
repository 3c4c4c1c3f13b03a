"""Start-up benchmark: `edi-recruit run` wall time at trust scale, idle and under a CPU hog.

    .venv/bin/python benchmarks/bench_startup.py [--applications 8000] [--seed 11] [--workdir DIR]
                                                  [--warm-runs 1] [--hog-runs 2] [--ephemeral]

Each run is the real CLI (``python -m edi_recruit.cli run``) on one generated trust, into a
fresh warehouse, with report and exports on, from a fresh PREFECT_HOME under the work folder:

* ``cold``: no hog; this run starts the persistent local Prefect API (edi_recruit/server.py);
* ``warm``: no hog; the API is reused;
* ``warm + hog``: one ``while 1: pass`` process per core runs during the run;
* ``ephemeral + hog`` (``--ephemeral``): Prefect's temporary server per run (the old behaviour,
  ``EDI_RECRUIT_PREFECT_API=ephemeral``), for comparison; it may fail under load.

For each run it prints the time until the flow's first log line ("Beginning flow run": imports,
API start or reuse, flow start), the whole wall time, the 1-minute load average before and after,
and the result.  The machine's other load is not controlled: read the load averages with the
times.  Prints a Markdown table (docs/benchmarks.md, "Start-up").
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXE = [sys.executable, "-m", "edi_recruit.cli"]
HOG = [sys.executable, "-c", "while 1: pass"]
FLOW_STARTED = "Beginning flow run"


def _env(home: Path, ephemeral: bool) -> dict:
    env = dict(os.environ, PREFECT_HOME=str(home), PYTHONWARNINGS="ignore")
    for key in ("PREFECT_API_URL", "EDI_RECRUIT_QUIET", "EDI_RECRUIT_DEBUG"):
        env.pop(key, None)
    if ephemeral:
        env["EDI_RECRUIT_PREFECT_API"] = "ephemeral"
    return env


def one_run(extracts: Path, work: Path, i: int, home: Path, *, hogs: int, ephemeral: bool) -> dict:
    """One CLI run; returns its timings and result."""
    load_before = os.getloadavg()[0]
    hog_procs = [subprocess.Popen(HOG) for _ in range(hogs)]
    first: dict = {}
    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen(
            EXE + ["run", "--extracts", str(extracts), "--db", str(work / f"w{i}" / "edi.duckdb"),
                   "--as-of", "2024-01", "--out", str(work / f"out{i}")],
            env=_env(home, ephemeral), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        tail: list[str] = []

        def read_stderr():
            for line in proc.stderr:
                if FLOW_STARTED in line and "flow" not in first:
                    first["flow"] = time.perf_counter() - t0
                tail.append(line)
                del tail[:-20]

        reader = threading.Thread(target=read_stderr, daemon=True)
        reader.start()
        out = proc.stdout.read()
        proc.wait()
        reader.join()
    finally:
        for h in hog_procs:
            h.kill()
            h.wait()
    wall = time.perf_counter() - t0
    ok = proc.returncode == 0 and "completed for 2024-01" in out
    return {"flow_start": first.get("flow"), "wall": wall, "load_before": load_before,
            "load_after": os.getloadavg()[0], "ok": ok, "error": "" if ok else "".join(tail)[-600:]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--applications", type=int, default=8000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--workdir", type=Path, default=None, help="default: a new temporary folder")
    ap.add_argument("--warm-runs", type=int, default=1)
    ap.add_argument("--hog-runs", type=int, default=2)
    ap.add_argument("--ephemeral", action="store_true", help="also one run on Prefect's temporary server, hogged")
    args = ap.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from edi_recruit.server import stop_local_api
    from edi_recruit.synthetic.generator import generate_trust

    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_startup_"))
    work.mkdir(parents=True, exist_ok=True)
    extracts, home = work / "extracts", work / f"prefect_{int(time.time())}"
    if not (extracts / "applications.csv").exists():
        generate_trust(extracts, seed=args.seed, applications=args.applications)
    cores = os.cpu_count() or 2
    plan = ([("cold", 0, False)] + [("warm", 0, False)] * args.warm_runs + [("warm + hog", cores, False)] * args.hog_runs
            + ([("ephemeral + hog", cores, True)] if args.ephemeral else []))
    started = datetime.now(UTC)
    rows = []
    try:
        for i, (label, hogs, ephemeral) in enumerate(plan, 1):
            r = one_run(extracts, work, i, home, hogs=hogs, ephemeral=ephemeral)
            rows.append((i, label, hogs, r))
            print(f"run {i} ({label}): flow start {r['flow_start'] or float('nan'):.1f} s, wall {r['wall']:.1f} s, "
                  f"load {r['load_before']:.1f} -> {r['load_after']:.1f}, {'ok' if r['ok'] else 'FAILED'}",
                  file=sys.stderr, flush=True)
            if not r["ok"]:
                print(r["error"], file=sys.stderr)
    finally:
        stop_local_api(home)

    print(f"\n{args.applications:,} applications (seed {args.seed}), as of 2024-01; {platform.node()}, "
          f"{cores} cores, started {started:%Y-%m-%d %H:%M} UTC\n")
    print("| run | API | CPU hog | flow start (s) | wall (s) | load average before → after | result |")
    print("|---|---|---|---:|---:|---|---|")
    for i, label, hogs, r in rows:
        api = "ephemeral" if label.startswith("ephemeral") else label.split()[0]
        hog = f"{hogs} × `while 1: pass`" if hogs else "none"
        fs = f"{r['flow_start']:.0f}" if r["flow_start"] is not None else "–"
        print(f"| {i} | {api} | {hog} | {fs} | {r['wall']:.0f} | {r['load_before']:.1f} → {r['load_after']:.1f} "
              f"| {'ok' if r['ok'] else 'failed'} |")
    return 0 if all(r["ok"] for *_, r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
