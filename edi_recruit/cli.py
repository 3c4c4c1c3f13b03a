"""The ``edi-recruit`` command line.

Every subcommand has ``--help``; long work shows a progress display; bad
arguments or missing files print one clear line and exit non-zero, with no
Python traceback (set EDI_RECRUIT_DEBUG=1 to see one).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from edi_recruit import settings as _settings  # noqa: F401  (telemetry off first)

EXIT_USAGE = 2
EXIT_FAILED = 1


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


def _month(value: str) -> str:
    from tasks.core.months import month_str, parse_month

    try:
        return month_str(parse_month(value))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_int(value: str) -> int:
    try:
        n = int(value.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return n


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
    from tasks.ingest.staging import ingest_extracts

    _require_dir(args.extracts, "extracts folder")
    mapping = [_require_file(m, "mapping file") for m in args.mapping] if args.mapping else None
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    with progress_display("ingest") as cb:
        summary = ingest_extracts(args.extracts, args.db, mapping_paths=mapping, force=args.force,
                                  redaction_model=args.redaction_model, progress=cb)
    print(f"Landed {len(summary.files)} files ({summary.new_files} new); extract set {summary.input_sha256[:12]}; "
          f"staging {'rebuilt' if summary.rebuilt else 'unchanged (same files)'}")
    for rec in summary.reconciliation:
        mark = "ok" if rec["balanced"] else "MISMATCH"
        print(f"  {rec['table_name']:<17} raw {rec['raw_rows']:>9,} = staged {rec['staged_rows']:>9,} "
              f"+ quarantined {rec['quarantined_rows']:>7,}  {mark}")
    for name in summary.ignored_files:
        print(f"  ignored (no mapping matches): {name}")
    if not all(r["balanced"] for r in summary.reconciliation):
        raise CliError("reconciliation failed: raw rows do not equal staged + quarantined")
    print(f"Warehouse: {Path(args.db).resolve()}")
    print("Next: `edi-recruit validate --db ... --as-of YYYY-MM` runs the validation gate and builds the marts "
          "(`edi-recruit run` does ingest, validation, marts and the analyses in one go).")
    return 0


def cmd_validate(args) -> int:
    from datetime import datetime, timezone

    from tasks.validation.gate import ValidationCritical, print_summary, validate

    _require_file(args.db, "warehouse")
    run_id = args.run_id or "validate-" + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    try:
        outcome = validate(args.db, run_id, as_of=args.as_of, out_dir=args.out,
                           unknown_ethnicity_threshold=args.unknown_ethnicity_threshold,
                           drift_threshold=args.drift_threshold)
    except ValidationCritical as exc:
        raise CliError(str(exc)) from None
    print_summary(outcome)
    # only a warehouse that passed the gate gets analysis-ready marts
    from tasks.marts import build_marts

    build_marts(args.db, args.programme_start)
    print(f"Marts built for programme start {args.programme_start}: {Path(args.db).resolve()}")
    return 0


def cmd_run(args) -> int:
    from flows.monthly_evaluation import monthly_evaluation

    _require_dir(args.extracts, "extracts folder")
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    result = monthly_evaluation(
        as_of=args.as_of, extracts=args.extracts, db=args.db, out_dir=args.out,
        programme_start=args.programme_start, window=args.window,
        mapping=[str(_require_file(m, "mapping file")) for m in args.mapping] if args.mapping else None,
        redaction_model=args.redaction_model,
    )
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
    from edi_recruit.synthetic.generator import generate_trust, load_effects
    from flows.monthly_evaluation import monthly_evaluation

    base = Path(args.workdir)
    extracts, db, out = base / "extracts", base / "edi_recruit.duckdb", base / "out"
    if not (extracts / "applications.csv").exists() or args.regenerate:
        with progress_display("generate") as cb:
            generate_trust(extracts, seed=args.seed, effects=load_effects(None),
                           progress=lambda d, t: cb("synthetic trust", d, t))
        print(f"Generated a synthetic trust (seed {args.seed}) in {extracts.resolve()}")
    result = monthly_evaluation(as_of=args.as_of, extracts=str(extracts), db=str(db), out_dir=str(out))
    _print_run_result(result)
    return 0


def cmd_runs(args) -> int:
    from tasks.publish.registry import list_runs
    from tasks.warehouse.connection import reading

    if not Path(args.db).exists():
        raise CliError(f"no warehouse at {args.db}")
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
    from flows.backfill import backfill

    _require_dir(args.extracts, "extracts folder")
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    result = backfill(
        start=args.start, end=args.end, extracts=args.extracts, db=args.db, out_dir=args.out,
        programme_start=args.programme_start, window=args.window,
        mapping=[str(_require_file(m, "mapping file")) for m in args.mapping] if args.mapping else None,
        redaction_model=args.redaction_model, force=args.force, concurrency=args.concurrency,
    )
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
    lp = LocalPrefect(home, args.port)
    print(f"Starting the Prefect server on 127.0.0.1:{args.port} (state in {home / 'prefect.db'}) …", flush=True)
    try:
        lp.start(log_dir=home / "logs", with_worker=not args.no_worker, reuse=True)
        print(f"Prefect UI: {lp.ui}")
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
    d = diff_runs(args.db, args.run_a, args.run_b, schema="published" if args.published else "results",
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


# ---------------------------------------------------------------- parser
class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (the usage is in --help)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from tasks.core.vocabulary import DEFAULT_PERIOD_END, DEFAULT_PERIOD_START, DEFAULT_PROGRAMME_START

    p = _Parser(
        prog="edi-recruit",
        description="Evaluate an NHS trust's inclusive senior-recruitment programme, month by month.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    g = sub.add_parser("generate", help="write a realistic synthetic trust's extracts with planted effects",
                       description="Write a synthetic trust's recruitment and workforce extracts, plus truth.json.")
    g.add_argument("--out", required=True, help="folder to write the extracts to")
    g.add_argument("--seed", type=int, default=7, help="random seed (same seed, byte-identical files)")
    g.add_argument("--applications", type=_positive_int, default=8000, help="number of applications (default 8000)")
    g.add_argument("--effects", help="YAML file overriding planted effects by name (see effects/default.yaml)")
    g.add_argument("--format", default="csv", choices=["csv", "csv-bom", "csv-cp1252", "xlsx", "parquet"])
    g.add_argument("--period-start", type=_month, default=DEFAULT_PERIOD_START)
    g.add_argument("--period-end", type=_month, default=DEFAULT_PERIOD_END)
    g.add_argument("--programme-start", type=_month, default=DEFAULT_PROGRAMME_START)
    g.set_defaults(func=cmd_generate)

    def common(sp, extracts_required=True):
        sp.add_argument("--extracts", required=extracts_required, help="folder of extract files")
        sp.add_argument("--db", required=True, help="DuckDB warehouse file (created if missing)")
        sp.add_argument("--mapping", action="append",
                        help="column-mapping YAML (repeatable; default: every file in mappings/)")
        sp.add_argument("--programme-start", type=_month, default=DEFAULT_PROGRAMME_START)
        sp.add_argument("--redaction-model", help="name or path of an installed trained spaCy pipeline "
                                                  "whose PERSON entities are also redacted")

    i = sub.add_parser("ingest", help="land extracts, load raw and staging (then: validate)",
                       description="Land extract files (by content hash), load raw and staging. "
                                   "The validation gate (`validate`) builds the marts.")
    common(i)
    i.add_argument("--force", action="store_true", help="rebuild staging and marts even if nothing changed")
    i.set_defaults(func=cmd_ingest)

    v = sub.add_parser("validate", help="run the validation gate over the staged tables",
                       description="Validate staged tables with the Great Expectations suites in expectations/: "
                                   "stop on critical failures, quarantine bad rows, report warnings, build Data Docs.")
    v.add_argument("--db", required=True, help="DuckDB warehouse file (after `edi-recruit ingest`)")
    v.add_argument("--as-of", type=_month, required=True, help="month being evaluated, YYYY-MM")
    v.add_argument("--out", default="out", help="folder for run outputs (Data Docs, results parquet)")
    v.add_argument("--run-id", help="run id (default: validate-<UTC timestamp>)")
    v.add_argument("--unknown-ethnicity-threshold", type=float, default=0.10,
                   help="warn when more than this share of ethnicity is not stated (default 0.10)")
    v.add_argument("--drift-threshold", type=float, default=0.25,
                   help="warn when a table's row count moves more than this share since the last run (default 0.25)")
    v.add_argument("--programme-start", type=_month, default=DEFAULT_PROGRAMME_START,
                   help="programme start month for the marts' post_programme flag (default %(default)s)")
    v.set_defaults(func=cmd_validate)

    r = sub.add_parser("run", help="run the monthly evaluation for one month",
                       description="Run the monthly evaluation flow (Prefect; local ephemeral API by default).")
    common(r)
    r.add_argument("--as-of", type=_month, help="month to evaluate, YYYY-MM (default: previous month)")
    r.add_argument("--out", default="out", help="folder for run outputs (report, exports, Data Docs)")
    r.add_argument("--window", default="all_to_date",
                   choices=["all_to_date", "programme_to_date", "last_12_months"])
    r.set_defaults(func=cmd_run)

    d = sub.add_parser("demo", help="generate a synthetic trust and evaluate its latest month",
                       description="Generate a synthetic trust (if not there) and run the evaluation for its latest month.")
    d.add_argument("--workdir", default="data/demo", help="folder for the demo's extracts, warehouse and outputs")
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("--as-of", type=_month, default=DEFAULT_PERIOD_END)
    d.add_argument("--regenerate", action="store_true", help="write the synthetic extracts again")
    d.set_defaults(func=cmd_demo)

    rs = sub.add_parser("runs", help="list evaluation runs", description="List runs from results.runs.")
    rs.add_argument("--db", required=True)
    rs.add_argument("--as-of", type=_month, help="only runs for this month, YYYY-MM")
    rs.add_argument("--status", choices=["running", "completed", "failed"], help="only runs with this status")
    rs.add_argument("--limit", type=_positive_int, help="show at most this many (newest first)")
    rs.set_defaults(func=cmd_runs)

    b = sub.add_parser("backfill", help="evaluate every month of a range (skips unchanged months)",
                       description="Run the monthly evaluation for each month from --start to --end. A month whose "
                                   "last completed run had the same extract set, code version and parameters is "
                                   "skipped unless --force.")
    common(b)
    b.add_argument("--start", type=_month, required=True, help="first month, YYYY-MM")
    b.add_argument("--end", type=_month, required=True, help="last month, YYYY-MM (inclusive)")
    b.add_argument("--force", action="store_true", help="re-run months even if nothing changed")
    b.add_argument("--concurrency", type=_positive_int, default=2,
                   help="months evaluated at once (default 2, at most 8; DuckDB writes still queue)")
    b.add_argument("--out", default="out", help="folder for run outputs")
    b.add_argument("--window", default="all_to_date",
                   choices=["all_to_date", "programme_to_date", "last_12_months"])
    b.set_defaults(func=cmd_backfill)

    sv = sub.add_parser("serve", help="local Prefect server + deployments + worker (UI on 127.0.0.1:4200)",
                        description="Start a local Prefect server on 127.0.0.1 (SQLite state under --home), register "
                                    "the deployments in prefect.yaml and run a worker until Ctrl-C.")
    sv.add_argument("--port", type=_positive_int, default=4200)
    sv.add_argument("--home", default=os.environ.get("PREFECT_HOME") or "data/prefect",
                    help="PREFECT_HOME: the server's SQLite database and logs (default data/prefect)")
    sv.add_argument("--no-worker", action="store_true", help="do not start a worker")
    sv.set_defaults(func=cmd_serve)

    rp = sub.add_parser("report", help="write a run's self-contained HTML report",
                        description="Render the HTML report of a run from its published tables.")
    rp.add_argument("--db", required=True, help="DuckDB warehouse file")
    rp.add_argument("--run-id", help="run to report (default: the latest completed run)")
    rp.add_argument("--out", help="HTML file to write (default: <db folder>/reports/report_<run_id>.html)")
    rp.set_defaults(func=cmd_report)

    ex = sub.add_parser("export", help="write a run's published tables as CSV (UTF-8 BOM), Parquet and XLSX",
                        description="Export every published table of a run for Excel and other tools.")
    ex.add_argument("--db", required=True, help="DuckDB warehouse file")
    ex.add_argument("--run-id", help="run to export (default: the latest completed run)")
    ex.add_argument("--out", help="folder to write to (default: beside the warehouse)")
    ex.set_defaults(func=cmd_export)

    df = sub.add_parser("diff", help="which figures changed between two runs",
                        description="Compare two runs' result tables by natural key (numbers within a tolerance).")
    df.add_argument("run_a", metavar="RUN_A", help="run id (or a unique prefix)")
    df.add_argument("run_b", metavar="RUN_B", help="run id (or a unique prefix)")
    df.add_argument("--db", required=True)
    df.add_argument("--published", action="store_true", help="compare the published (disclosure-controlled) tables")
    df.add_argument("--tolerance", type=float, default=1e-9, help="absolute and relative tolerance (default 1e-9)")
    df.add_argument("--max-rows", type=_positive_int, default=50, help="changed figures shown per table")
    df.set_defaults(func=cmd_diff)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed a one-line usage error
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        print("edi-recruit: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place errors become one line
        if os.environ.get("EDI_RECRUIT_DEBUG") == "1":
            raise
        print(f"edi-recruit {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED


def _one_line(exc: BaseException) -> str:
    from tasks.ingest.readers import ExtractError

    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, (CliError, ExtractError, FileNotFoundError, ValueError)):
        return msg
    return f"{type(exc).__name__}: {msg}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
