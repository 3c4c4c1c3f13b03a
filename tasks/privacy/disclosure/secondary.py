"""Complementary (secondary) suppression, with the linear-programming audit.

:func:`complementary_suppression` takes cell values, additive relations
(members and their total) and the primarily suppressed cells, and returns every
cell to suppress so that no suppressed cell can be recovered, or narrowly
bounded, from the totals (docs/methods.md section 5).  :func:`relations_for_spec`
turns a table spec's additive structure (``dims`` or ``partition``) into
row-index relations.  Nothing here formats or rounds a value.
"""
from __future__ import annotations

import logging
from typing import Hashable, Iterable, Sequence

import polars as pl

from tasks.privacy.disclosure.cells import is_missing

log = logging.getLogger(__name__)


Relation = tuple[Sequence[Hashable], Hashable]  # (interior members, their total)


def complementary_suppression(
    values: dict[Hashable, float | None],
    relations: Iterable[Relation],
    primary: Iterable[Hashable],
    min_per_relation: int = 2,
    prefer_nonzero: bool = True,
    min_range: float = 1.0,
) -> set[Hashable]:
    """Suppress extra cells until no suppressed cell can be recovered from the totals.

    Each relation is one additive equation: ``sum(members) == total`` (the
    interior cells of a row or column and that row's or column's total).

    1. Lone cells: a relation with exactly one suppressed cell lets a reader
       recover it by subtraction, so while any relation has between 1 and
       ``min_per_relation - 1`` suppressed cells, its smallest unsuppressed
       cell is suppressed too (non-zero cells first, interior cells before
       totals, then the smallest value; ties in table order).  A complement
       can create a lone cell in a crossing relation, so this repeats.
    2. Audit: step 1 is not enough in general (suppressed cells in different
       rows can be linked through suppressed totals).  An attacker who knows
       every unsuppressed cell exactly solves all the equations by linear
       programming (cells >= 0); every suppressed cell's feasible interval
       must be at least ``min_range`` wide.  While one is not, the smallest
       unsuppressed cell of a relation through it is suppressed and step 1
       runs again.

    Returns the full set of suppressed cells.
    """
    rels = []
    for members, total in relations:
        cells = list(dict.fromkeys(list(members) + [total]))
        if len(cells) >= 2 and all(c in values for c in cells):
            rels.append((list(dict.fromkeys(members)), total, cells))
    total_set = {t for _, t, _ in rels}
    suppressed = {c for c in primary if c in values}
    order = {c: i for i, c in enumerate(values)}

    def key(c: Hashable):
        v = values[c]
        v = float("inf") if is_missing(v) else abs(float(v))
        return ((v == 0) if prefer_nonzero else False, c in total_set, v, order[c])

    def lone_cells() -> None:
        changed = True
        while changed:
            changed = False
            for _, _, cells in rels:
                n_sup = sum(1 for c in cells if c in suppressed)
                while 0 < n_sup < min(min_per_relation, len(cells)):
                    cands = [c for c in cells if c not in suppressed and not is_missing(values[c])]
                    if not cands:
                        break
                    suppressed.add(min(cands, key=key))
                    n_sup += 1
                    changed = True

    while True:
        lone_cells()
        exposed = _exposed_cells(values, rels, suppressed, min_range)
        if not exposed:
            return suppressed
        cands = [
            c for _, _, cells in rels if any(e in cells for e in exposed)
            for c in cells if c not in suppressed and not is_missing(values[c])
        ]
        if not cands:
            log.warning("%d suppressed cells stay narrowly bounded: no cell left to suppress", len(exposed))
            return suppressed
        suppressed.add(min(cands, key=key))


def _exposed_cells(values, rels, suppressed, min_range: float) -> list[Hashable]:
    """Suppressed cells whose feasible interval (given all other cells exactly) is narrower than min_range."""
    eq_rels = [r for r in rels if any(c in suppressed for c in r[2]) and not any(is_missing(values[c]) for c in r[2])]
    unknown = sorted({c for _, _, cells in eq_rels for c in cells if c in suppressed}, key=str)
    if not unknown:
        return []
    from scipy.optimize import linprog

    pos = {c: k for k, c in enumerate(unknown)}
    a_eq, b_eq = [], []
    for members, total, _ in eq_rels:
        row = [0.0] * len(unknown)
        rhs = 0.0
        for m in members:
            if m in pos:
                row[pos[m]] += 1.0
            else:
                rhs -= float(values[m])
        if total in pos:
            row[pos[total]] -= 1.0
        else:
            rhs += float(values[total])
        a_eq.append(row)
        b_eq.append(rhs)
    exposed = []
    bounds = [(0, None)] * len(unknown)
    for c in unknown:
        obj = [0.0] * len(unknown)
        obj[pos[c]] = 1.0
        lo = linprog(obj, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        obj[pos[c]] = -1.0
        hi = linprog(obj, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if lo.status != 0 or hi.status not in (0, 3):  # 3 = unbounded above: safe
            continue
        upper = float("inf") if hi.status == 3 else -hi.fun
        if upper - lo.fun < min_range - 1e-9:
            exposed.append(c)
    return exposed


def relations_for_spec(df: pl.DataFrame, struct: dict) -> tuple[list[Relation], set[int]]:
    """Row-index relations (members, total) and total rows for one additive-structure spec."""
    rels: list[Relation] = []
    totals: set[int] = set()
    by = [c for c in struct.get("by", []) if c in df.columns]
    if "dims" in struct:
        dims = [d for d in struct["dims"] if d in df.columns]
        if len(dims) != len(struct["dims"]):
            return rels, totals
        total = str(struct.get("total", "All"))
        keys = df.select(by + dims).with_columns(pl.all().cast(pl.Utf8)).rows()
        for i, k in enumerate(keys):
            if any(v == total for v in k[len(by):]):
                totals.add(i)
        for di, d in enumerate(dims):
            groups: dict[tuple, list[int]] = {}
            total_row: dict[tuple, int] = {}
            for i, k in enumerate(keys):
                rest = k[: len(by)] + tuple(v for j, v in enumerate(k[len(by):]) if j != di)
                if k[len(by) + di] == total:
                    total_row[rest] = i
                else:
                    groups.setdefault(rest, []).append(i)
            for rest, members in groups.items():
                if rest in total_row:
                    rels.append((members, total_row[rest]))
    elif "partition" in struct:
        part = struct["partition"]
        if part not in df.columns:
            return rels, totals
        total = str(struct.get("total", "overall"))
        keys = df.select(by + [part]).with_columns(pl.all().cast(pl.Utf8)).rows()
        total_rows: dict[tuple, list[int]] = {}
        parts: dict[tuple, dict[str, list[int]]] = {}
        for i, k in enumerate(keys):
            b, p = k[:-1], k[-1]
            if p == total:
                total_rows.setdefault(b, []).append(i)
                totals.add(i)
            else:
                parts.setdefault(b, {}).setdefault(p, []).append(i)
        for b, tr in total_rows.items():
            if len(tr) != 1:
                continue  # ambiguous total: no relation assumed
            for members in parts.get(b, {}).values():
                rels.append((members, tr[0]))
    return rels, totals

