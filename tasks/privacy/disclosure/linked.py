"""Linked tables: one suppression decision over every published count of a run.

Each published table is not protected on its own: a reader holds all of them
at once, and the same people are counted in several (band 8a BME appointed is
a cell of ``funnel_counts``, of ``wres_indicator2`` and, summed over bands, of
``adverse_impact``).  This module treats every count cell of every published
table as one problem (what tau-ARGUS calls "linked tables", sdcTable
``protectLinkedTables``):

* :func:`~tasks.privacy.disclosure.relations.build_problem` lists every
  published count cell and every additive relation a reader can use: the
  margins of each table (its ``secondary`` spec), the order of funnel stages
  (applied >= shortlisted >= ... ), and the identities between tables named in
  the policy's ``linked`` section (e.g. ``funnel_counts[band=b,
  wres_group=BME].appointed == wres_indicator2[scope=band,
  scope_value=b].appointed_bme``).  Relations may use *hidden* cells, counts
  no table publishes (e.g. shortlisted BME applicants who declined an offer),
  which are unknown non-negative numbers to a reader.  Every relation is
  checked on the true counts; one that does not hold is dropped with a warning
  (it is not a fact a reader could use).  See
  :mod:`tasks.privacy.disclosure.relations`.
* :func:`plan_suppression` (this module) starts from primary suppression
  (counts 1-7) and adds complementary suppressions until, for an attacker who
  knows every shown cell EXACTLY and every relation, each suppressed cell's
  feasible interval (a linear program: min and max of the cell subject to all
  relations and non-negativity,
  :func:`~tasks.privacy.disclosure.feasible.feasible_intervals`) is at least
  the policy's protection width.  Published cells are rounded to 5, so a real
  reader knows less: the interval only widens.  See
  :mod:`tasks.privacy.disclosure.feasible`.

The result (:class:`Plan`) is a set of suppressed cells per table and column,
which :func:`tasks.privacy.disclosure.tables.protect_table` applies
(``forced``).  Pure functions on polars frames; docs/disclosure.md explains
the rule.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import polars as pl

from tasks.privacy.disclosure.cells import is_primary, publish_count
from tasks.privacy.disclosure.feasible import binding_cells, feasible_intervals, shown_interval
from tasks.privacy.disclosure.policy import Policy
from tasks.privacy.disclosure.relations import (
    Cell,
    LinkedProblem,
    Var,
    build_problem,
    cell_values,
    check_relations,
)

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------
# The suppression plan
# --------------------------------------------------------------------------
@dataclass
class Plan:
    """Suppressed cells by table and column (row indices), and what the planning did."""

    suppressed: dict[str, dict[str, set[int]]]
    primary: int
    secondary: int
    relations: int
    hidden: int
    rounds: int
    seconds: float
    min_width: float

    def forced(self, table: str) -> dict[str, set[int]]:
        return self.suppressed.get(table, {})


def plan_suppression(frames: dict[str, pl.DataFrame], policy: Policy, *, max_rounds: int = 200) -> Plan:
    """Primary and complementary suppression over every count cell of every table at once.

    ``frames``: result tables (true counts), published rows only
    (:func:`~tasks.privacy.disclosure.relations.published_rows`).
    Stops when every suppressed cell's interval for an attacker knowing every other shown cell
    exactly is at least ``policy.min_range`` wide (or no candidate is left: logged).
    """
    t0 = time.perf_counter()
    prob = build_problem(frames, policy)
    vals = cell_values(frames, prob)
    prob = check_relations(prob, vals)
    cells = [c for c in prob.cells if vals.get(c) is not None]
    primary = {c for c in cells if is_primary(vals[c], policy)}
    suppressed = set(primary)
    hidden = prob.hidden()
    width = policy.min_range
    order = {c: k for k, c in enumerate(prob.cells)}
    touching: dict[Var, list[int]] = {}
    for k, eq in enumerate(prob.equations):
        for v in eq:
            touching.setdefault(v, []).append(k)

    def key(c: Cell):
        v = abs(vals[c])
        return ((v == 0) if policy.prefer_nonzero else False, c in prob.totals, v, order[c])

    rounds = 0
    safe: set[Cell] = set()  # suppressing more cells only widens an interval: a safe cell stays safe
    times_exposed: dict[Cell, int] = {}
    while rounds < max_rounds:
        rounds += 1
        _lone_cells(prob, vals, suppressed, hidden, key)
        known = {c: (vals[c], vals[c]) for c in cells if c not in suppressed}
        targets = [c for c in suppressed if touching.get(c) and c not in safe]
        need = {c: (vals[c], width) for c in targets}
        # 1. an attacker who knew every shown cell exactly (small LPs): safe here is safe anyway
        iv = feasible_intervals(prob.equations, known, targets, width=need)
        narrow = [c for c, (lo, hi) in iv.items() if hi - lo < width - 1e-9]
        safe |= set(iv) - set(narrow)
        # 2. the real reader: shown cells are known only as published (rounded to round_to)
        if narrow:
            shown = {c: shown_interval(publish_count(vals[c], False, policy), policy) for c in known}
            iv = feasible_intervals(prob.equations, shown, narrow, width=need)
        exposed = sorted((c for c in narrow if iv[c][1] - iv[c][0] < width - 1e-9), key=order.get)
        safe |= set(narrow) - set(exposed)
        log.debug("disclosure: round %d: %d checked, %d exposed %s", rounds, len(iv), len(exposed),
                  [(e, vals[e], iv[e]) for e in exposed[:3]])
        if not exposed:
            break
        added = False
        for e in exposed:
            times_exposed[e] = times_exposed.get(e, 0) + 1
            cands = _candidates(e, prob, touching, suppressed, hidden, vals) if times_exposed[e] < 2 else []
            if not cands:  # what pins it is further away: the shown cells the LP's optimum depends on
                pins = binding_cells(prob.equations, {c: v for c, (v, _) in known.items()}, e)
                cands = [c for c in pins if vals.get(c)]
            if cands:
                suppressed.add(min(cands, key=key))
                added = True
        if not added:
            log.warning("disclosure: %d suppressed cells stay narrowly bounded: no cell left to suppress", len(exposed))
            break
    out: dict[str, dict[str, set[int]]] = {}
    for t, i, c in suppressed:
        out.setdefault(t, {}).setdefault(c, set()).add(i)
    plan = Plan(out, len(primary), len(suppressed - primary), len(prob.equations), len(hidden), rounds,
                time.perf_counter() - t0, width)
    log.info("disclosure: linked suppression over %d cells, %d relations: %d primary, %d secondary (%.2f s)",
             len(cells), plan.relations, plan.primary, plan.secondary, plan.seconds)
    return plan


def _lone_cells(prob: LinkedProblem, vals, suppressed: set, hidden: set, key) -> None:
    """Cheap first pass: a relation whose only unknown is one suppressed cell gives it away exactly."""
    changed = True
    while changed:
        changed = False
        for eq in prob.equations:
            unknown = [v for v in eq if v in suppressed or v in hidden]
            if len(unknown) == 1 and unknown[0] in suppressed:
                cands = [v for v in eq if v not in suppressed and v not in hidden and vals.get(v) is not None]
                if cands:
                    suppressed.add(min(cands, key=key))
                    changed = True


def _candidates(e: Cell, prob: LinkedProblem, touching, suppressed, hidden, vals) -> list[Cell]:
    """Shown non-zero cells of the relation through ``e`` with the fewest unknown cells (the one that pins it
    most), else of the relations through the hidden cells of those relations."""
    def shown(eq):  # a zero complement protects little (its own upper bound is often pinned): never chosen
        return [v for v in eq if v not in suppressed and v not in hidden and vals.get(v)]

    eqs = sorted((prob.equations[k] for k in touching.get(e, [])),
                 key=lambda eq: sum(1 for v in eq if v in suppressed or v in hidden))
    for eq in eqs:
        if shown(eq):
            return shown(eq)
    far = [prob.equations[k] for eq in eqs for h in eq if h in hidden for k in touching.get(h, [])]
    return [v for eq in far for v in shown(eq)]
