"""Helpers of the disclosure tests (not collected: no test_ prefix).

:func:`build_run` makes a published run of a warehouse without Prefect (every analysis, one publish
transaction, report and exports), as tests/outputs/test_output_scan.py does.  :func:`attack` is the
attacker: one linear program over every published count cell of the run, knowing each shown cell only
as published (a rounded r means r-2..r+2, 0 means 0) and every additive relation between cells.
"""
from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import polars as pl

from tasks.privacy.disclosure import load_policy

POLICY = load_policy()


def build_run(db_src: Path, out: Path, run_id: str = "attack-run", as_of: str = "2024-01") -> dict:
    """Copy the warehouse, run the validation gate and every analysis, publish, render the report and the
    exports (the monthly flow's steps, without Prefect)."""
    from tasks import analyses
    from tasks.core.run_context import RunContext
    from tasks.outputs.export import export_run
    from tasks.outputs.published import load_run
    from tasks.outputs.report.page import render_report
    from tasks.publish import registry
    from tasks.publish.results_store import write_tables
    from tasks.publish.writer import publish_run
    from tasks.warehouse.connection import connect

    out.mkdir(parents=True, exist_ok=True)
    db = out / "w.duckdb"
    shutil.copy(db_src, db)
    key = Path(str(db_src) + ".key")
    if key.exists():
        shutil.copy(key, str(db) + ".key")
    ctx = RunContext(db_path=str(db), run_id=run_id, as_of=as_of, out_dir=str(out / "runs"))
    from tasks.marts import build_marts
    from tasks.validation.gate import validate

    # the gate's tables (validation, quarantine_summary) are published with the analyses' tables; an
    # earlier validated run first, so that the row-count drift checks run too (as in a monthly series)
    validate(str(db), f"{run_id}-previous", as_of=as_of, out_dir=str(out / "previous"), data_docs=False)
    paths: dict[str, str] = dict(validate(str(db), run_id, as_of=as_of, out_dir=str(out / "runs"),
                                          data_docs=False).result_paths)
    build_marts(db)
    for name in analyses.ANALYSES:
        paths.update(write_tables(ctx, analyses.ANALYSES[name](ctx)))
    con = connect(db)
    try:
        registry.start_run(con, run_id=run_id, flow="test", as_of=as_of, params={}, version="attack")
        con.execute("BEGIN TRANSACTION")
        summary = publish_run(con, run_id, paths, POLICY, own_transaction=False)
        registry.finish_run(con, run_id, "completed")
        con.execute("COMMIT")
    finally:
        con.close()
    report = render_report(db, run_id, out / "report.html")
    exports = export_run(db, run_id, out / "exports")
    _, _, published, _ = load_run(db, run_id)
    results = {n: pl.read_parquet(p) for n, p in paths.items()}
    from tasks.outputs.artifacts import build_run_artifacts, load_published

    artifacts = build_run_artifacts(as_of, run_id, load_published(str(db), run_id), db=str(db), report=str(report),
                                    exports=exports["dir"])
    return {"db": db, "run_id": run_id, "published": published, "results": results, "summary": summary,
            "report": report.read_text(encoding="utf-8"), "exports": exports, "artifacts": artifacts}


def published_frames(published: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The published tables that carry counts (the disclosure log is metadata)."""
    return {n: df for n, df in published.items() if n != "disclosure_log" and POLICY.table_spec(n).get("counts")}


def _shown_bounds(text) -> tuple[float, float] | None:
    """A reader's knowledge of a shown count: None when suppressed ('*') or missing."""
    if text is None or text == POLICY.symbol or text == "":
        return None
    r = float(text)
    if r == 0:
        return (0.0, 0.0)
    half = POLICY.round_to / 2
    return (max(math.ceil(r - half), POLICY.suppress_max + 1), math.ceil(r + half) - 1)


def _components(equations: list[dict], unknown) -> list[tuple[list, list[int]]]:
    """Connected components (variables, equation indices) of the equations over the unknown variables."""
    parent: dict = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for eq in equations:
        vs = [v for v in eq if unknown(v)]
        for v in vs[1:]:
            ra, rb = find(vs[0]), find(v)
            if ra != rb:
                parent[ra] = rb
    comps: dict = {}
    for k, eq in enumerate(equations):
        vs = [v for v in eq if unknown(v)]
        if vs:
            comps.setdefault(find(vs[0]), ([], []))[1].append(k)
    for vs, ks in comps.values():
        vs.extend(dict.fromkeys(v for k in ks for v in equations[k] if unknown(v)))
    return list(comps.values())


def _lp_intervals(equations, ks, variables, bounds_of, fixed, targets, need=None):
    """min and max of each target over one component (``fixed``: exact values moved to the right side)."""
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix

    pos = {v: j for j, v in enumerate(variables)}
    rows, cols, data, b = [], [], [], []
    for r, k in enumerate(ks):
        b.append(-sum(c * fixed[v] for v, c in equations[k].items() if v in fixed))
        for v, c in equations[k].items():
            if v in pos:
                rows.append(r)
                cols.append(pos[v])
                data.append(c)
    a = csr_matrix((data, (rows, cols)), shape=(len(ks), len(variables)))
    bounds = [bounds_of(v) for v in variables]
    out = {}
    for t in targets:
        obj = np.zeros(len(variables))
        obj[pos[t]] = -1.0
        hi = linprog(obj, A_eq=a, b_eq=b, bounds=bounds, method="highs")
        assert hi.status in (0, 3), f"the published tables contradict the relations ({hi.message})"
        high = math.inf if hi.status == 3 else -hi.fun
        if need is not None and high - need[t][0] >= need[t][1]:
            out[t] = (need[t][0], high)  # already wide enough above the true value
            continue
        obj[pos[t]] = 1.0
        lo = linprog(obj, A_eq=a, b_eq=b, bounds=bounds, method="highs")
        assert lo.status == 0, f"the published tables contradict the relations ({lo.message})"
        out[t] = (lo.fun, high)
    return out


def attack(published: dict[str, pl.DataFrame], results: dict[str, pl.DataFrame] | None = None) -> dict:
    """Feasible interval of every suppressed cell, from one LP over every published table at once.

    Variables: every count cell of every published table and every hidden cell of the relations;
    constraints: every relation of :func:`tasks.privacy.disclosure.relations.build_problem` (the
    tables' margins, stage order, groupings and identities between tables), each shown cell within
    its rounding interval, everything >= 0.  Returns {cell: (low, high)} for suppressed cells.

    With ``results`` (the run's true tables) a cheaper proof runs first: the interval for a reader
    who knew every shown cell EXACTLY is contained in the real reader's, so a cell wide enough
    there is wide enough; only the others get the full LP (one connected component at a time).
    """
    from tasks.privacy.disclosure.relations import build_problem, published_rows

    frames = published_frames(published)
    prob = build_problem(frames, POLICY)
    text = {(t, i, c): frames[t][c][i] for t, i, c in prob.cells}
    cellset = set(prob.cells)
    suppressed = [v for v in prob.cells if text[v] == POLICY.symbol]
    sup = set(suppressed)
    bounds: dict = {}
    for v in prob.cells:
        bounds[v] = (0, None) if v in sup else _shown_bounds(text[v])

    def bounds_of(v):
        return bounds.get(v) or (0, None)

    width = POLICY.min_range
    out: dict = {}
    todo = list(suppressed)
    if results is not None:
        truth = {}
        for t in frames:
            df = published_rows(t, results[t], POLICY)
            assert df.height == frames[t].height, t
            for c in {c for tt, _, c in prob.cells if tt == t}:
                truth[(t, c)] = df[c].cast(pl.Float64).to_list()
        fixed = {v: truth[(v[0], v[2])][v[1]] for v in prob.cells if v not in sup and bounds[v] is not None}
        need = {v: (truth[(v[0], v[2])][v[1]], width) for v in suppressed}
        for vs, ks in _components(prob.equations, lambda v: v not in fixed):
            ts = [v for v in vs if v in sup]
            if ts:
                out.update(_lp_intervals(prob.equations, ks, vs, bounds_of, fixed, ts, need))
        todo = [v for v in suppressed if v in out and out[v][1] - out[v][0] < width - 1e-9]
    for v in suppressed:
        out.setdefault(v, (0.0, math.inf))  # in no relation: anything >= 0
    if todo:
        for vs, ks in _components(prob.equations, lambda v: v not in cellset or bounds[v] != (0.0, 0.0)):
            ts = [v for v in vs if v in todo]
            if ts:
                out.update(_lp_intervals(prob.equations, ks, vs, bounds_of, {v: 0.0 for v in cellset
                                                                             if bounds[v] == (0.0, 0.0)}, ts))
    return {"intervals": out, "cells": len(prob.cells), "relations": len(prob.equations),
            "labels": set(prob.labels), "suppressed": len(suppressed), "full_lp": len(todo)}
