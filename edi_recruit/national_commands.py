"""The national subcommands of ``edi-recruit``: their parsers and what they do (issue 16).

* ``edi-recruit generate-national --out DIR --trusts N``: a national set of synthetic trusts
  (edi_recruit/synthetic/national.py) with its manifest and national truth.json;
* ``edi-recruit national --manifest FILE``: the national evaluation flow
  (flows/national_evaluation.py) on a LocalCluster, or on an existing Dask cluster with
  ``--dask-address tcp://host:8786``.

Registered by edi_recruit/cli.py like every other subcommand; a user-facing problem is a
one-line :class:`edi_recruit.commands.CliError`.
"""
from __future__ import annotations

import time
from pathlib import Path

from edi_recruit.commands import CliError, prefect_api, progress_display


def _add_generate_national(sub, defaults) -> None:
    from edi_recruit.cli import _month, _positive_int

    g = sub.add_parser("generate-national", help="write a national set of synthetic trusts, a manifest and truth.json",
                       description="Write N synthetic trusts whose planted effects vary between trusts (tau), "
                                   "with the national run's manifest.yaml and the national truth.json.")
    g.add_argument("--out", required=True, help="folder for the trusts, manifest.yaml and truth.json")
    g.add_argument("--trusts", type=_positive_int, default=10, help="number of trusts (default 10)")
    g.add_argument("--seed", type=int, default=1, help="random seed (same seed, identical files)")
    g.add_argument("--applications", type=_positive_int, default=8000,
                   help="mean applications per trust (default 8000; sizes vary lognormally, --size-sd)")
    g.add_argument("--size-sd", type=float, default=0.5, help="SD of log trust size (default 0.5)")
    g.add_argument("--as-of", type=_month, default=defaults.DEFAULT_PERIOD_END, help="the manifest's month")
    g.set_defaults(func=cmd_generate_national)


def _add_national(sub, defaults) -> None:
    from edi_recruit.cli import _month, _positive_int

    n = sub.add_parser("national", help="evaluate every trust of a manifest on a Dask cluster and pool them",
                       description="Run each trust's monthly evaluation on a Dask cluster (a LocalCluster sized to "
                                   "this machine, or --dask-address), then the national pooled analysis, report "
                                   "and workbook.  A trust that fails is listed with its reason; the others go on.")
    n.add_argument("--manifest", required=True, help="YAML or CSV manifest of trusts (docs/runbook.md)")
    n.add_argument("--as-of", type=_month, default=None, help="month YYYY-MM (default: the manifest's as_of)")
    n.add_argument("--national-db", default="data/national/national.duckdb", help="the national warehouse")
    n.add_argument("--out", default="data/national/out", help="folder for the national report and workbook")
    n.add_argument("--dask-address", default=None, help="existing Dask scheduler, e.g. tcp://host:8786")
    n.add_argument("--workers", type=_positive_int, default=None,
                   help="LocalCluster worker processes (default: sized to the machine)")
    n.add_argument("--trust-report", action="store_true", help="also write each trust's own report and exports")
    n.set_defaults(func=cmd_national)


SUBCOMMAND_BUILDERS = (_add_generate_national, _add_national)


def add_national_subcommands(sub, defaults) -> None:
    """Register both national subcommands (called from edi_recruit/cli.py)."""
    for add in SUBCOMMAND_BUILDERS:
        add(sub, defaults)


def cmd_generate_national(args) -> int:
    from edi_recruit.synthetic.national import generate_national

    with progress_display("generate-national") as cb:
        t0 = time.perf_counter()
        summary = generate_national(args.out, trusts=args.trusts, seed=args.seed, applications=args.applications,
                                    size_sd=args.size_sd, as_of=args.as_of,
                                    progress=lambda d, t: cb("synthetic trusts", d, t))
    print(f"Generated {summary.trusts} synthetic trusts ({summary.applications:,} applications) "
          f"in {time.perf_counter() - t0:.1f}s")
    print(f"Manifest: {summary.manifest.resolve()}  (answer key: {summary.truth.resolve()}, never read by the pipeline)")
    return 0


def cmd_national(args) -> int:
    from flows.national_evaluation import national_evaluation
    from tasks.national.manifest import ManifestError, read_manifest

    try:
        manifest = read_manifest(args.manifest, as_of=args.as_of)
    except ManifestError as exc:
        raise CliError(str(exc)) from None
    if not manifest.as_of:
        raise CliError("no month: give --as-of or put as_of in the manifest")
    with prefect_api():
        result = national_evaluation(manifest=manifest.path, as_of=manifest.as_of, national_db=args.national_db,
                                     out_dir=args.out, dask_address=args.dask_address, n_workers=args.workers,
                                     trust_report=args.trust_report)
    trusts = result["trusts"]
    done = [t for t in trusts if t["status"] == "completed"]
    print(f"National run {result['run_id']} for {result['as_of']}: {len(done)} of {len(trusts)} trusts completed.")
    for t in trusts:
        if t["status"] != "completed":
            print(f"  FAILED {t['trust_code']}: {t['reason']}")
    print(f"  national warehouse: {Path(result['national_db']).resolve()}  (national_results.* tables)")
    for key, where in (result.get("outputs") or {}).items():
        print(f"  {key:<19} {Path(where).resolve()}")
    return 0
