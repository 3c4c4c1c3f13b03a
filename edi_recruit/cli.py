"""The ``edi-recruit`` command line: the parser (one small function per subcommand) and ``main``.

Every subcommand has ``--help``; long work shows a progress display; bad
arguments or missing files print one clear line and exit non-zero, with no
Python traceback (set EDI_RECRUIT_DEBUG=1 to see one).  What each subcommand
does is in edi_recruit/commands.py; run and backfill options map one to one to
the flow parameters (flows/parameters.py) and are resolved by
tasks.core.config.
"""
from __future__ import annotations

import argparse
import os
import sys

from edi_recruit import commands
from edi_recruit import settings as _settings  # noqa: F401  (telemetry off first)
from edi_recruit.commands import CliError

EXIT_USAGE = 2
EXIT_FAILED = 1


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


# ---------------------------------------------------------------- parser
class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (the usage is in --help)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _add_generate(sub, defaults) -> None:
    g = sub.add_parser("generate", help="write a realistic synthetic trust's extracts with planted effects",
                       description="Write a synthetic trust's recruitment and workforce extracts, plus truth.json.")
    g.add_argument("--out", required=True, help="folder to write the extracts to")
    g.add_argument("--seed", type=int, default=7, help="random seed (same seed, byte-identical files)")
    g.add_argument("--applications", type=_positive_int, default=8000, help="number of applications (default 8000)")
    g.add_argument("--effects", help="YAML file overriding planted effects by name (see effects/default.yaml)")
    g.add_argument("--format", default="csv", choices=["csv", "csv-bom", "csv-cp1252", "xlsx", "parquet"])
    g.add_argument("--period-start", type=_month, default=defaults.DEFAULT_PERIOD_START)
    g.add_argument("--period-end", type=_month, default=defaults.DEFAULT_PERIOD_END)
    g.add_argument("--programme-start", type=_month, default=defaults.DEFAULT_PROGRAMME_START)
    g.set_defaults(func=commands.cmd_generate)


def _add_common(sp, defaults, extracts_required: bool = True) -> None:
    """Options shared by ingest, run and backfill."""
    sp.add_argument("--extracts", required=extracts_required, help="folder of extract files")
    sp.add_argument("--db", required=True, help="DuckDB warehouse file (created if missing)")
    sp.add_argument("--mapping", action="append",
                    help="column-mapping YAML (repeatable; default: every file in mappings/)")
    sp.add_argument("--programme-start", type=_month, default=defaults.DEFAULT_PROGRAMME_START)
    sp.add_argument("--redaction-model", help="name or path of an installed trained spaCy pipeline "
                                              "whose PERSON entities are also redacted")


def _add_run_options(sp) -> None:
    """Options of an evaluation (run, backfill): outputs, window, policy, analysis parameters."""
    from tasks.core.run_context import WINDOWS

    sp.add_argument("--out", default="out", help="folder for run outputs (report, exports, Data Docs)")
    sp.add_argument("--window", default=WINDOWS[0], choices=list(WINDOWS))
    sp.add_argument("--policy", help="disclosure-control policy YAML (default: config/disclosure_policy.yaml)")
    sp.add_argument("--no-report", dest="report", action="store_false", help="do not render the HTML report")
    sp.add_argument("--no-exports", dest="exports", action="store_false", help="do not write the exports")
    _add_param_option(sp)


def _add_param_option(sp) -> None:
    from tasks.core.config import ANALYSIS_PARAMS

    sp.add_argument("--param", action="append", metavar="KEY=VALUE",
                    help="analysis parameter (repeatable; docs/runbook.md lists them): " + ", ".join(ANALYSIS_PARAMS))


def _add_ingest(sub, defaults) -> None:
    i = sub.add_parser("ingest", help="land extracts, load raw and staging (then: validate)",
                       description="Land extract files (by content hash), load raw and staging. "
                                   "The validation gate (`validate`) builds the marts.")
    _add_common(i, defaults)
    i.add_argument("--force", action="store_true", help="rebuild staging and marts even if nothing changed")
    i.set_defaults(func=commands.cmd_ingest)


def _add_validate(sub, defaults) -> None:
    v = sub.add_parser("validate", help="run the validation gate over the staged tables",
                       description="Validate staged tables with the Great Expectations suites in expectations/: "
                                   "stop on critical failures, quarantine bad rows, report warnings, build Data Docs.")
    v.add_argument("--db", required=True, help="DuckDB warehouse file (after `edi-recruit ingest`)")
    v.add_argument("--as-of", type=_month, required=True, help="month being evaluated, YYYY-MM")
    v.add_argument("--out", default="out", help="folder for run outputs (Data Docs, results parquet)")
    v.add_argument("--mapping", action="append",
                   help="column-mapping YAML the ingest used (repeatable; default: every file in mappings/); "
                        "the unmapped-columns check reads exactly these")
    v.add_argument("--run-id", help="run id (default: validate-<UTC timestamp>)")
    v.add_argument("--unknown-ethnicity-threshold", type=float, default=0.10,
                   help="warn when more than this share of ethnicity is not stated (default 0.10)")
    v.add_argument("--drift-threshold", type=float, default=0.25,
                   help="warn when a table's row count moves more than this share since the last run (default 0.25)")
    v.add_argument("--programme-start", type=_month, default=defaults.DEFAULT_PROGRAMME_START,
                   help="programme start month for the marts' post_programme flag (default %(default)s)")
    v.set_defaults(func=commands.cmd_validate)


def _add_run(sub, defaults) -> None:
    r = sub.add_parser("run", help="run the monthly evaluation for one month",
                       description="Run the monthly evaluation flow (Prefect; local ephemeral API by default).")
    _add_common(r, defaults)
    r.add_argument("--as-of", type=_month, help="month to evaluate, YYYY-MM (default: previous month)")
    _add_run_options(r)
    r.set_defaults(func=commands.cmd_run)


def _add_demo(sub, defaults) -> None:
    d = sub.add_parser("demo", help="generate a synthetic trust and evaluate its latest month",
                       description="Generate a synthetic trust (if not there) and run the evaluation for its latest month.")
    d.add_argument("--workdir", default="data/demo", help="folder for the demo's extracts, warehouse and outputs")
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("--as-of", type=_month, default=None,
                   help="month to evaluate, YYYY-MM (default: the last month of the demo's data)")
    d.add_argument("--regenerate", action="store_true", help="write the synthetic extracts again")
    d.add_argument("--applications", type=int, default=None,
                   help="size of the synthetic trust (default: the demo profile's, sized like the published study's "
                        "trust; a smaller trust is quicker but cannot detect the letter effect)")
    _add_param_option(d)
    d.set_defaults(func=commands.cmd_demo)


def _add_runs(sub, defaults) -> None:
    rs = sub.add_parser("runs", help="list evaluation runs", description="List runs from results.runs.")
    rs.add_argument("--db", required=True)
    rs.add_argument("--as-of", type=_month, help="only runs for this month, YYYY-MM")
    rs.add_argument("--status", choices=["running", "completed", "failed"], help="only runs with this status")
    rs.add_argument("--limit", type=_positive_int, help="show at most this many (newest first)")
    rs.set_defaults(func=commands.cmd_runs)


def _add_backfill(sub, defaults) -> None:
    b = sub.add_parser("backfill", help="evaluate every month of a range (skips unchanged months)",
                       description="Run the monthly evaluation for each month from --start to --end. A month whose "
                                   "last completed run had the same extract set, code version and parameters is "
                                   "skipped unless --force.")
    _add_common(b, defaults)
    b.add_argument("--start", type=_month, required=True, help="first month, YYYY-MM")
    b.add_argument("--end", type=_month, required=True, help="last month, YYYY-MM (inclusive)")
    b.add_argument("--force", action="store_true", help="re-run months even if nothing changed")
    b.add_argument("--concurrency", type=_positive_int, default=2,
                   help="months evaluated at once (default 2, at most 8; DuckDB writes still queue)")
    _add_run_options(b)
    b.set_defaults(func=commands.cmd_backfill)


def _add_serve(sub, defaults) -> None:
    sv = sub.add_parser("serve", help="local Prefect server + deployments + worker (UI on 127.0.0.1:4200)",
                        description="Start a local Prefect server on 127.0.0.1 (SQLite state under --home), register "
                                    "the deployments in prefect.yaml and run a worker until Ctrl-C.")
    sv.add_argument("--port", type=_positive_int, default=4200)
    sv.add_argument("--home", default=os.environ.get("PREFECT_HOME") or "data/prefect",
                    help="PREFECT_HOME: the server's SQLite database and logs (default data/prefect)")
    sv.add_argument("--no-worker", action="store_true", help="do not start a worker")
    sv.add_argument("--db", default="data/edi_recruit.duckdb",
                    help="warehouse whose abandoned runs are marked at start (default data/edi_recruit.duckdb)")
    sv.set_defaults(func=commands.cmd_serve)


def _add_report_and_export(sub, defaults) -> None:
    rp = sub.add_parser("report", help="write a run's self-contained HTML report",
                        description="Render the HTML report of a run from its published tables.")
    rp.add_argument("--db", required=True, help="DuckDB warehouse file")
    rp.add_argument("--run-id", help="run to report (default: the latest completed run)")
    rp.add_argument("--out", help="HTML file to write (default: <db folder>/reports/report_<run_id>.html)")
    rp.set_defaults(func=commands.cmd_report)

    ex = sub.add_parser("export", help="write a run's published tables as CSV (UTF-8 BOM), Parquet and XLSX",
                        description="Export every published table of a run for Excel and other tools.")
    ex.add_argument("--db", required=True, help="DuckDB warehouse file")
    ex.add_argument("--run-id", help="run to export (default: the latest completed run)")
    ex.add_argument("--out", help="folder to write to (default: beside the warehouse)")
    ex.set_defaults(func=commands.cmd_export)


def _add_diff(sub, defaults) -> None:
    df = sub.add_parser("diff", help="which figures changed between two runs",
                        description="Compare two runs' published tables by natural key (numbers within a tolerance); "
                                    "--results compares the unprotected result tables.")
    df.add_argument("run_a", metavar="RUN_A", help="run id (or a unique prefix)")
    df.add_argument("run_b", metavar="RUN_B", help="run id (or a unique prefix)")
    df.add_argument("--db", required=True)
    df.add_argument("--results", action="store_true",
                    help="compare the unprotected result tables (default: the published, disclosure-controlled ones)")
    df.add_argument("--published", action="store_true", help=argparse.SUPPRESS)  # the default; kept for old scripts
    df.add_argument("--tolerance", type=float, default=1e-9, help="absolute and relative tolerance (default 1e-9)")
    df.add_argument("--max-rows", type=_positive_int, default=50, help="changed figures shown per table")
    df.set_defaults(func=commands.cmd_diff)


def _add_rekey(sub, defaults) -> None:
    r = sub.add_parser("rekey", help="rotate the pseudonymisation key deliberately (one transaction)",
                       description="Recompute every pseudonymous ID in staging and the marts from raw under a new "
                                   "key, keeping every link. The new key comes from --new-key-file, else from "
                                   "EDI_RECRUIT_PSEUDONYM_KEY / EDI_RECRUIT_PSEUDONYM_KEY_FILE (docs/runbook.md).")
    r.add_argument("--db", required=True, help="DuckDB warehouse file")
    r.add_argument("--new-key-file", help="file holding the new key; it then replaces <db>.key (0600) "
                                          "unless the key is set through the environment")
    r.add_argument("--mapping", action="append", help="column-mapping YAML (as for ingest)")
    r.set_defaults(func=commands.cmd_rekey)


def _add_retention(sub, defaults) -> None:
    r = sub.add_parser("retention", help="remove the raw layer's personal data after days or runs (counts kept)",
                       description="Null the personal-data columns (names, e-mails, phones) of landed files older "
                                   "than --days or followed by --runs completed runs, redact their raw text and "
                                   "delete their landing copies. Row counts and identifiers are kept. Default: "
                                   "EDI_RECRUIT_RETENTION_DAYS / EDI_RECRUIT_RETENTION_RUNS.")
    r.add_argument("--db", required=True, help="DuckDB warehouse file")
    r.add_argument("--days", type=int, help="remove personal data landed more than this many days ago")
    r.add_argument("--runs", type=int, help="... or followed by this many completed runs")
    r.add_argument("--mapping", action="append", help="column-mapping YAML (as for ingest)")
    r.set_defaults(func=commands.cmd_retention)


def _add_outputs(sub, defaults) -> None:
    o = sub.add_parser("outputs", help="make a completed run's missing report, exports or artifacts again",
                       description="Regenerate a completed run's outputs from its published tables: the ones "
                                   "missing (e.g. after a crash during exports), or all with --all.")
    o.add_argument("run_id", metavar="RUN", help="run id (as in `edi-recruit runs`)")
    o.add_argument("--db", required=True, help="DuckDB warehouse file")
    o.add_argument("--all", action="store_true", help="remake every output, not only the missing ones")
    o.set_defaults(func=commands.cmd_outputs)


def _add_national(sub, defaults) -> None:
    from edi_recruit.national_commands import add_national_subcommands  # generate-national, national

    add_national_subcommands(sub, defaults)


SUBCOMMAND_BUILDERS = (_add_generate, _add_ingest, _add_validate, _add_run, _add_demo, _add_runs, _add_backfill,
                       _add_serve, _add_report_and_export, _add_diff, _add_rekey, _add_retention,
                       _add_outputs, _add_national)


def build_parser() -> argparse.ArgumentParser:
    from tasks.core import vocabulary

    p = _Parser(
        prog="edi-recruit",
        description="Evaluate an NHS trust's inclusive senior-recruitment programme, month by month.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add in SUBCOMMAND_BUILDERS:
        add(sub, vocabulary)
    return p


def main(argv: list[str] | None = None) -> int:
    from tasks.warehouse.files import owner_only_umask

    owner_only_umask()  # the warehouse, landing, keys and Prefect database are created owner-only
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
