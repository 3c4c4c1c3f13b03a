"""What each ``edi-recruit`` subcommand does (the parser and ``main`` are in edi_recruit/cli.py).

Each ``cmd_<name>(args)`` takes the parsed arguments, resolves the run's
configuration once where it runs or ingests (:func:`config_from_args`,
tasks.core.config), calls the pipeline, prints what it made and returns an
exit code.  A user-facing problem is raised as :class:`CliError` (printed by
``main`` as one line).  No rules live here: they are in tasks/ and flows/.
"""
from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path

from edi_recruit import settings as _settings  # noqa: F401  (telemetry off first)


class CliError(Exception):
    """A user-facing error: printed as one line."""


# ---------------------------------------------------------------- output helpers
def _console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


@contextmanager
def progress_display(description: str):
    """Yield a callback(step, done, total) that drives a rich progress bar on stderr."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    quiet = os.environ.get("EDI_RECRUIT_QUIET") == "1" or not sys.stderr.isatty()
    if quiet:
        last = {"step": None}

        def callback(step: str, done: int, total: int) -> None:
            if step != last["step"]:
                print(f"… {step}", file=sys.stderr, flush=True)
                last["step"] = step

        yield callback
        return
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=_console(), transient=True) as prog:
        tasks: dict[str, int] = {}

        def callback(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = prog.add_task(f"{description}: {step}", total=max(total, 1))
            prog.update(tasks[step], completed=done, total=max(total, 1))

        yield callback


def _require_dir(path: str, what: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise CliError(f"{what} not found: {p}")
    if not p.is_dir():
        raise CliError(f"{what} is not a folder: {p}")
    return p


def _require_file(path: str, what: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise CliError(f"{what} not found: {p}")
    return p


# ---------------------------------------------------------------- subcommands
def cmd_generate(args) -> int:
    from edi_recruit.synthetic.generator import generate_trust, load_effects

    effects = load_effects(_require_file(args.effects, "effects file") if args.effects else None)
    out = Path(args.out)
    with progress_display("generate") as cb:
        t0 = time.perf_counter()
        summary = generate_trust(
            out, seed=args.seed, applications=args.applications, effects=effects, fmt=args.format,
            period_start=args.period_start, period_end=args.period_end,
            programme_start=args.programme_start,
            progress=lambda done, total: cb("writing extracts", done, total),
        )
    rows = ", ".join(f"{t} {n:,}" for t, n in summary.row_counts.items())
    print(f"Generated a synthetic trust (seed {args.seed}) in {time.perf_counter() - t0:.1f}s: {rows}")
    print(f"Extracts: {out.resolve()}  (answer key: {out.resolve() / 'truth.json'}, never read by the pipeline)")
    return 0


def cmd_ingest(args) -> int:
    from tasks.ingest.for_run import require_balanced
    from tasks.ingest.staging import ingest_extracts

    _require_dir(args.extracts, "extracts folder")
    config = config_from_args(args)
    Path(config.db).parent.mkdir(parents=True, exist_ok=True)
    with progress_display("ingest") as cb:
        summary = ingest_extracts(config.extracts, config.db, mapping_paths=list(config.mapping_paths),
                                  force=args.force, redaction_model=config.redaction_model, progress=cb)
    print(f"Landed {len(summary.files)} files ({summary.new_files} new); extract set {summary.input_sha256[:12]}; "
          f"staging {'rebuilt' if summary.rebuilt else 'unchanged (same files)'}")
    for rec in summary.reconciliation:
        mark = "ok" if rec["balanced"] else "MISMATCH"
        print(f"  {rec['table_name']:<17} raw {rec['raw_rows']:>9,} = staged {rec['staged_rows']:>9,} "
              f"+ quarantined {rec['quarantined_rows']:>7,}  {mark}")
    for name in summary.ignored_files:
        print(f"  ignored (no mapping matches): {name}")
    require_balanced(summary.reconciliation)
    print(f"Warehouse: {Path(args.db).resolve()}")
    print("Next: `edi-recruit validate --db ... --as-of YYYY-MM` runs the validation gate and builds the marts "
          "(`edi-recruit run` does ingest, validation, marts and the analyses in one go).")
    return 0


def cmd_validate(args) -> int:
    from datetime import datetime

    from tasks.validation.gate import ValidationCritical, print_summary, validate

    _require_file(args.db, "warehouse")
    run_id = args.run_id or "validate-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        outcome = validate(args.db, run_id, as_of=args.as_of, out_dir=args.out,
                           unknown_ethnicity_threshold=args.unknown_ethnicity_threshold,
                           drift_threshold=args.drift_threshold,
                           mapping_paths=[Path(m) for m in args.mapping] if args.mapping else None)
    except ValidationCritical as exc:
        raise CliError(str(exc)) from None
    print_summary(outcome)
    # only a warehouse that passed the gate gets analysis-ready marts
    from tasks.marts import build_marts

    build_marts(args.db, args.programme_start)
    print(f"Marts built for programme start {args.programme_start}: {Path(args.db).resolve()}")
    return 0


def config_from_args(args, **explicit):
    """The run's configuration from the command line (tasks.core.config: explicit > environment > defaults)."""
    from tasks.core.config import parse_assignments, resolve_config

    given = {"extracts": getattr(args, "extracts", None), "db": getattr(args, "db", None),
             "out_dir": getattr(args, "out", None), "programme_start": getattr(args, "programme_start", None),
             "window": getattr(args, "window", None), "mapping": getattr(args, "mapping", None),
             "redaction_model": getattr(args, "redaction_model", None), "policy": getattr(args, "policy", None),
             "report": getattr(args, "report", True), "exports": getattr(args, "exports", True),
             "params": parse_assignments(getattr(args, "param", None))}
    given.update(explicit)
    return resolve_config(**given)


def prefect_api():
    """The Prefect API a CLI flow run uses (edi_recruit.server.cli_api: PREFECT_API_URL, a running
    ``edi-recruit serve``, else a persistent local server started once; never a temporary one)."""
    from edi_recruit.server import cli_api

    return cli_api()


def cmd_run(args) -> int:
    _require_dir(args.extracts, "extracts folder")
    config = config_from_args(args)
    from flows.monthly_evaluation import monthly_evaluation

    Path(config.db).parent.mkdir(parents=True, exist_ok=True)
    with prefect_api():
        result = monthly_evaluation(as_of=args.as_of, **config.flow_parameters())
    _print_run_result(result)
    return 0


def _print_run_result(result: dict) -> None:
    print(f"Run {result['run_id']} completed for {result['as_of']}.")
    print(f"  warehouse:      {Path(result['db']).resolve()}  (results.* and published.* tables)")
    print(f"  run outputs:    {Path(result['output_dir']).resolve()}")
    for key in ("report", "exports", "data_docs"):
        if result.get(key):
            print(f"  {key.replace('_', ' '):<15} {Path(result[key]).resolve()}")


def cmd_demo(args) -> int:
    base = Path(args.workdir)
    extracts, db, out = base / "extracts", base / "edi_recruit.duckdb", base / "out"
    config = config_from_args(args, extracts=extracts, db=db, out_dir=out)
    from edi_recruit.synthetic.generator import generate_trust, load_effects
    from edi_recruit.synthetic.profiles import DEMO, last_data_month
    from flows.monthly_evaluation import monthly_evaluation

    if not (extracts / "applications.csv").exists() or args.regenerate:
        with progress_display("generate") as cb:
            size = getattr(args, "applications", None) or DEMO.applications
            generate_trust(extracts, seed=args.seed, effects=load_effects(None),
                           **(DEMO.generator_arguments() | {"applications": size}),
                           progress=lambda d, t: cb("synthetic trust", d, t))
        print(f"Generated a synthetic trust (seed {args.seed}, {size:,} applications, "
              f"{DEMO.period_start} to {DEMO.period_end}) in {extracts.resolve()}")
    as_of = args.as_of or last_data_month(extracts)   # default: the last month of the data
    with prefect_api():
        result = monthly_evaluation(as_of=as_of, **config.flow_parameters())
    _print_run_result(result)
    return 0


def _recover(db: str | Path, wait_seconds: float) -> None:
    """Mark the warehouse's abandoned runs (owner gone); a busy warehouse is left for the next command."""
    from tasks.publish.registry import recover
    from tasks.warehouse.connection import WarehouseBusy
    from tasks.warehouse.locks import WriterLockTimeout

    try:
        for item in recover(db, wait_seconds=wait_seconds):
            print(f"Run {item['run_id']} marked abandoned: {item['reason']}", file=sys.stderr)
    except (WarehouseBusy, WriterLockTimeout):
        print("(the warehouse is busy: abandoned runs, if any, are marked by the next command)", file=sys.stderr)


def cmd_outputs(args) -> int:
    from flows.outputs import regenerate
    from tasks.publish.registry import OUTPUT_KINDS

    _require_file(args.db, "warehouse")
    _recover(args.db, wait_seconds=60)
    try:
        with prefect_api():   # the artifacts go to the Prefect API
            made = regenerate(args.db, args.run_id, list(OUTPUT_KINDS) if args.all else None)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if not made:
        print(f"Run {args.run_id}: every output is present; nothing to do (--all remakes them).")
    for kind, where in made.items():
        print(f"  {kind:<10} {where if kind == 'artifacts' else Path(where).resolve()}")
    return 0


def cmd_runs(args) -> int:
    from tasks.publish.registry import list_runs
    from tasks.warehouse.connection import reading

    if not Path(args.db).exists():
        raise CliError(f"no warehouse at {args.db}")
    _recover(args.db, wait_seconds=10)
    with reading(args.db) as con:
        df = list_runs(con)
    if getattr(args, "as_of", None):
        df = df.filter(df["as_of"] == args.as_of)
    if getattr(args, "status", None):
        df = df.filter(df["status"] == args.status)
    if df.height == 0:
        print("No runs yet." if not (getattr(args, "as_of", None) or getattr(args, "status", None))
              else "No runs match.")
        return 0
    from rich.console import Console
    from rich.table import Table

    t = Table("run_id", "flow", "as_of", "status", "code_version", "input", "started (UTC)", "seconds", "reason")
    for r in df.head(args.limit if getattr(args, "limit", None) else df.height).iter_rows(named=True):
        t.add_row(r["run_id"], r["flow"], r["as_of"], r["status"], r["code_version"], (r["input_sha256"] or "")[:12],
                  str(r["started_at"])[:19], str(r["seconds"]), (r["failure_reason"] or "")[:60])
    Console(width=200).print(t)
    return 0


def cmd_backfill(args) -> int:
    _require_dir(args.extracts, "extracts folder")
    config = config_from_args(args)
    from flows.backfill import backfill

    Path(config.db).parent.mkdir(parents=True, exist_ok=True)
    with prefect_api():
        result = backfill(start=args.start, end=args.end, force=args.force, concurrency=args.concurrency,
                          **config.flow_parameters())
    print(f"Backfill {result['start']}..{result['end']}: {result['ran']} month(s) evaluated, "
          f"{result['skipped']} unchanged and skipped (extract set {result['input_sha256'][:12]}).")
    for row in result["months"]:
        print(f"  {row['as_of']}  {row['action']:<8} {row.get('run_id') or ''}  {row.get('note') or ''}".rstrip())
    return 0


def cmd_serve(args) -> int:
    import signal

    from edi_recruit.server import LocalPrefect

    def _terminate(signum, frame):  # a service manager's stop: clean up like Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    home = Path(args.home).resolve()
    _recover(args.db, wait_seconds=10)
    lp = LocalPrefect(home, args.port)
    print(f"Starting the Prefect server on 127.0.0.1:{args.port} (state in {home / 'prefect.db'}) …", flush=True)
    try:
        lp.start(log_dir=home / "logs", with_worker=not args.no_worker, reuse=True)
        print(f"Prefect UI: {lp.ui}  (artifacts: {lp.ui}/v2/artifacts, or a flow run's Artifacts tab)")
        if lp.outputs is not None:
            print(f"Run outputs (the artifacts' links; same login): {lp.outputs.url}")
        print("Deployments: monthly-evaluation (cron 0 6 2 * *, Europe/London), backfill (manual)")
        print(f"Work pool: edi-recruit (process){'; worker running' if not args.no_worker else ''}.  "
              f"Logs: {home / 'logs'}.  Ctrl-C stops it.", flush=True)
        while True:
            for name, proc in (("server", lp.server), ("worker", lp.worker)):
                if proc is not None and proc.poll() is not None:
                    raise CliError(f"the Prefect {name} stopped (exit {proc.returncode}); see {home / 'logs'}")
            time.sleep(1)
    except KeyboardInterrupt:
        print("Stopping …", file=sys.stderr)
    finally:
        lp.stop()
    return 0


def cmd_diff(args) -> int:
    from tasks.publish.run_diff import diff_runs, format_diff

    _require_file(args.db, "warehouse")
    d = diff_runs(args.db, args.run_a, args.run_b, schema="results" if args.results else "published",
                  abs_tol=args.tolerance, rel_tol=args.tolerance)
    print(format_diff(d, max_rows=args.max_rows))
    return 0


def cmd_report(args) -> int:
    from tasks.outputs.report.page import render_report

    _require_file(args.db, "warehouse")
    path = render_report(args.db, run_id=args.run_id, out_path=args.out)
    print(f"Report: {Path(path).resolve()}  (self-contained HTML: opens offline, published tables only)")
    return 0


def cmd_export(args) -> int:
    from tasks.outputs.export import export_run

    _require_file(args.db, "warehouse")
    result = export_run(args.db, run_id=args.run_id, out_dir=args.out)
    print("Exports of the published (disclosure-controlled) tables:")
    print(f"  run_id   {result.get('run_id')}")
    for key, value in result.items():
        if key == "run_id":
            continue
        if isinstance(value, (str, Path)):
            print(f"  {key:<8} {Path(value).resolve()}")
        elif isinstance(value, dict):
            print(f"  {key:<8} {len(value)} files")
    return 0


def cmd_rekey(args) -> int:
    from tasks.ingest.rekey import rekey
    from tasks.privacy.pseudonyms import KEY_ENV, KEY_FILE_ENV, pseudonym_key
    from tasks.warehouse.files import write_private_text

    db = _require_file(args.db, "warehouse")
    if args.new_key_file:
        new_key = _require_file(args.new_key_file, "new key file").read_text(encoding="utf-8").strip()
        if not new_key:
            raise CliError(f"the new key file {args.new_key_file} is empty")
    else:
        new_key = pseudonym_key(db)
    mappings = [Path(m) for m in args.mapping] if args.mapping else None
    result = rekey(db, new_key=new_key, mapping_paths=mappings)
    if args.new_key_file and not (os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV)):
        write_private_text(Path(f"{db}.key"), new_key)
    print(f"Re-keyed {sum(result.columns.values()):,} identifiers in {len(result.columns)} columns "
          f"(key fingerprint {result.old_fingerprint} -> {result.new_fingerprint}); "
          f"marts {'rebuilt' if result.marts_rebuilt else 'not built yet'}.")
    if args.new_key_file and (os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV)):
        print(f"Now set {KEY_ENV} / {KEY_FILE_ENV} to the new key: ingest stops while they hold the old one.")
    return 0


def cmd_retention(args) -> int:
    from tasks.ingest.retention import apply_retention, retention_policy

    db = _require_file(args.db, "warehouse")
    policy = retention_policy(days=args.days, runs=args.runs)
    if not policy.active:
        raise CliError("no retention policy: give --days or --runs (or set EDI_RECRUIT_RETENTION_DAYS / _RUNS)")
    mappings = [Path(m) for m in args.mapping] if args.mapping else None
    done = apply_retention(db, policy, mapping_paths=mappings)
    for f in done:
        print(f"  {f.table:<17} {f.file_name}: {len(f.columns)} personal-data column(s) nulled, {f.rows_kept:,} rows kept")
    print(f"Retention ({policy.describe()}): {len(done)} file(s) done; row counts unchanged.")
    return 0
