"""Linked tables: one suppression decision over every published count of a run.

Each published table is not protected on its own: a reader holds all of them
at once, and the same people are counted in several (band 8a BME appointed is
a cell of ``funnel_counts``, of ``wres_indicator2`` and, summed over bands, of
``adverse_impact``).  This module treats every count cell of every published
table as one problem (what tau-ARGUS calls "linked tables", sdcTable
``protectLinkedTables``):

* :func:`build_problem` lists every published count cell and every additive
  relation a reader can use: the margins of each table (its ``secondary``
  spec), the order of funnel stages (applied >= shortlisted >= ... ), and the
  identities between tables named in the policy's ``linked`` section (e.g.
  ``funnel_counts[band=b, wres_group=BME].appointed ==
  wres_indicator2[scope=band, scope_value=b].appointed_bme``).  Relations may
  use *hidden* cells, counts no table publishes (e.g. shortlisted BME
  applicants who declined an offer), which are unknown non-negative numbers
  to a reader.  Every relation is checked on the true counts; one that does
  not hold is dropped with a warning (it is not a fact a reader could use).
* :func:`plan_suppression` starts from primary suppression (counts 1-7) and
  adds complementary suppressions until, for an attacker who knows every
  shown cell EXACTLY and every relation, each suppressed cell's feasible
  interval (a linear program: min and max of the cell subject to all
  relations and non-negativity) is at least the policy's protection width.
  Published cells are rounded to 5, so a real reader knows less: the interval
  only widens.

The result is a set of suppressed cells per table and column, which
:func:`tasks.privacy.disclosure.tables.protect_table` applies (``forced``).
Pure functions on polars frames; docs/disclosure.md explains the rule.
"""
from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

import polars as pl

from tasks.privacy.disclosure.cells import is_missing, is_primary, publish_count
from tasks.privacy.disclosure.policy import Policy
from tasks.privacy.disclosure.secondary import relations_for_spec

log = logging.getLogger(__name__)


Cell = tuple[str, int, str]          # (table, row index after drop_rows, column): a published count cell
Var = Hashable                       # a Cell or a hidden cell ("hidden", ...)


@dataclass
class LinkedProblem:
    """Published count cells, hidden cells and the additive relations between them (sum(coef * x) == 0)."""

    cells: list[Cell] = field(default_factory=list)
    equations: list[dict[Var, float]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    totals: set[Var] = field(default_factory=set)   # cells that are the total of a margin (suppressed last)

    def add(self, coefs: dict[Var, float], label: str, total: Var | None = None) -> None:
        coefs = {k: v for k, v in coefs.items() if v}
        if len(coefs) >= 2:
            self.equations.append(coefs)
            self.labels.append(label)
            if total is not None and len(coefs) >= 3:
                self.totals.add(total)

    def hidden(self) -> set[Var]:
        cells = set(self.cells)
        return {v for eq in self.equations for v in eq if v not in cells}


# --------------------------------------------------------------------------
# Which rows a table publishes and which of its columns are counts
# --------------------------------------------------------------------------
def published_rows(name: str, df: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """The rows of a result table that are published (the spec's ``drop_rows`` removed), in order."""
    from tasks.privacy.disclosure.tables import _where_mask

    for col, vals in (policy.table_spec(name).get("drop_rows", {}) or {}).items():
        if col in df.columns:
            df = df.filter(~_where_mask(df, {col: vals}))
    return df


def count_columns(name: str, df: pl.DataFrame, policy: Policy) -> list[str]:
    from tasks.privacy.disclosure.tables import column_roles

    return [c for c, r in column_roles(name, df, policy).items() if r == "count"]


def _key(df: pl.DataFrame, cols: list[str]) -> list[tuple]:
    return df.select([pl.col(c).cast(pl.Utf8) for c in cols]).rows() if all(c in df.columns for c in cols) else []


def _index(df: pl.DataFrame, cols: list[str]) -> dict[tuple, int]:
    """Row index by the values of ``cols`` (as text); keys that occur twice are left out (ambiguous)."""
    seen: dict[tuple, int] = {}
    dup: set[tuple] = set()
    for i, k in enumerate(_key(df, cols)):
        if k in seen:
            dup.add(k)
        seen[k] = i
    return {k: i for k, i in seen.items() if k not in dup}


# --------------------------------------------------------------------------
# Building the problem
# --------------------------------------------------------------------------
def build_problem(frames: dict[str, pl.DataFrame], policy: Policy) -> LinkedProblem:
    """Every count cell of every table in ``frames`` (published rows only) and every relation between them.

    ``frames`` maps a table name to its rows as published (``drop_rows`` already applied, see
    :func:`published_rows`); counts may be numbers or published text: only the keys are read.
    """
    prob = LinkedProblem()
    counts = {n: [c for c in count_columns(n, df, policy)] for n, df in frames.items()}
    for n, df in frames.items():
        for c in counts[n]:
            prob.cells += [(n, i, c) for i in range(df.height)]
        # 1. the table's own margins
        for struct in policy.table_spec(n).get("secondary", []) or []:
            rels, _ = relations_for_spec(df, struct)
            for c in counts[n]:
                for members, total in rels:
                    coefs: dict[Var, float] = {}
                    for m in members:
                        coefs[(n, m, c)] = coefs.get((n, m, c), 0.0) + 1.0
                    coefs[(n, total, c)] = coefs.get((n, total, c), 0.0) - 1.0
                    prob.add(coefs, f"{n}: margin of {c}", total=(n, total, c))
    linked = policy.raw.get("linked", {}) or {}
    # 2. ordered columns within a row: a >= b >= c ... (a = b + hidden)
    for n, chains in (linked.get("chains", {}) or {}).items():
        df = frames.get(n)
        if df is None:
            continue
        for chain in chains:
            chain = [c for c in chain if c in df.columns]
            for i in range(df.height):
                for a, b in itertools.pairwise(chain):
                    prob.add({(n, i, a): 1.0, (n, i, b): -1.0, ("hidden", n, i, a, b): -1.0}, f"{n}: {a} >= {b}")
    # 3. groupings of one table that partition the same population (hidden total per block)
    for spec in linked.get("groupings", []) or []:
        _groupings(prob, frames, spec)
    # 4. identities between tables
    _identities(prob, frames, linked.get("identities", []) or [])
    return prob


def _groupings(prob: LinkedProblem, frames: dict[str, pl.DataFrame], spec: dict) -> None:
    """Rows of each grouping (``grouping`` column) in a block sum to one hidden total; nested groupings
    sum to their parent group (``nest: {child_grouping: {parent_grouping: mapping}}``)."""
    n = spec["table"]
    df = frames.get(n)
    if df is None or spec["grouping_column"] not in df.columns:
        return
    gcol, vcol, block = spec["grouping_column"], spec["group_column"], list(spec.get("block", []))
    cols = [c for c in spec["columns"] if c in df.columns]
    keys = _key(df, block + [gcol, vcol])
    rows_by: dict[tuple, dict[str, dict[str, int]]] = {}
    for i, k in enumerate(keys):
        b, g, v = k[: len(block)], k[len(block)], k[len(block) + 1]
        rows_by.setdefault(b, {}).setdefault(g, {})[v] = i
    for b, groupings in rows_by.items():
        for g, members in groupings.items():
            for c in cols:
                coefs: dict[Var, float] = {(n, i, c): 1.0 for i in members.values()}
                coefs[("hidden", n, "total", b, c)] = -1.0
                prob.add(coefs, f"{n}: {g} groups sum to the total of {b}")
        for child, parents in (spec.get("nest", {}) or {}).items():
            for parent, how in parents.items():
                if child not in groupings or parent not in groupings:
                    continue
                for pv, pi in groupings[parent].items():
                    kids = [i for cv, i in groupings[child].items() if _parent_of(cv, how) == pv]
                    if not kids:
                        continue
                    for c in cols:
                        coefs = {(n, i, c): 1.0 for i in kids}
                        coefs[(n, pi, c)] = coefs.get((n, pi, c), 0.0) - 1.0
                        prob.add(coefs, f"{n}: {child} within {parent} {pv}", total=(n, pi, c))
    # periods: pre + post = all (for each stage, grouping and group)
    pcol = spec.get("period_column")
    if pcol and pcol in df.columns:
        parts, total = spec["period_parts"], spec["period_total"]
        other = [c for c in block if c != pcol] + [gcol, vcol]
        idx = _index(df, other + [pcol])
        for k in {k[:-1] for k in idx}:
            tot = idx.get(k + (total,))
            mem = [idx.get(k + (p,)) for p in parts]
            if tot is None or any(m is None for m in mem):
                continue
            for c in cols:
                coefs = {(n, m, c): 1.0 for m in mem}
                coefs[(n, tot, c)] = -1.0
                prob.add(coefs, f"{n}: {'+'.join(parts)} = {total}", total=(n, tot, c))


def _parent_of(value: str, how) -> str | None:
    """The parent group of a child group: a vocabulary function name or the text before ', '."""
    if how == "census_group":
        from tasks.core import vocabulary as V

        if value in V.CENSUS_GROUPS:
            return value
        return V.census_group(value) or "Not stated"
    if how == "wres_of_census":
        return {"White": "White", "Not stated": "Unknown"}.get(value, "BME")
    if how == "before_comma":
        return value.split(", ")[0]
    if how == "after_comma":
        return value.split(", ")[-1] if ", " in value else None
    return None


def _identities(prob: LinkedProblem, frames: dict[str, pl.DataFrame], names: Iterable[str]) -> None:
    for name in names:
        if name not in IDENTITIES:
            raise ValueError(f"disclosure policy: unknown linked identity {name!r} (known: {sorted(IDENTITIES)})")
        IDENTITIES[name](prob, frames)


def _eq(prob: LinkedProblem, label: str, left: list[Var], right: list[Var]) -> None:
    """sum(left) == sum(right)."""
    coefs: dict[Var, float] = {}
    for v in left:
        coefs[v] = coefs.get(v, 0.0) + 1.0
    for v in right:
        coefs[v] = coefs.get(v, 0.0) - 1.0
    prob.add(coefs, label)


def _funnel_vs_wres(prob: LinkedProblem, frames: dict[str, pl.DataFrame]) -> None:
    from tasks.core.vocabulary import TOTAL_LABEL

    f, w = frames.get("funnel_counts"), frames.get("wres_indicator2")
    if f is None or w is None:
        return
    fi = _index(f, ["band", "wres_group"])
    wi = _index(w, ["scope", "scope_value"])
    for band in dict.fromkeys(k[0] for k in fi):
        wr = wi.get(("overall", "all") if band == TOTAL_LABEL else ("band", band))
        fw, fb, fu = fi.get((band, "White")), fi.get((band, "BME")), fi.get((band, "Unknown"))
        if wr is None:
            continue
        lab = "funnel_vs_wres"
        F, W = "funnel_counts", "wres_indicator2"
        dw, db = ("hidden", lab, band, "declined_white"), ("hidden", lab, band, "declined_bme")
        if fw is not None:
            _eq(prob, f"{lab}: appointed White", [(F, fw, "appointed")], [(W, wr, "appointed_white")])
            _eq(prob, f"{lab}: shortlisted White", [(F, fw, "shortlisted")], [(W, wr, "shortlisted_white"), dw])
        if fb is not None:
            _eq(prob, f"{lab}: appointed BME", [(F, fb, "appointed")], [(W, wr, "appointed_bme")])
            _eq(prob, f"{lab}: shortlisted BME", [(F, fb, "shortlisted")], [(W, wr, "shortlisted_bme"), db])
        if fw is not None and fb is not None:
            _eq(prob, f"{lab}: declined offers", [(W, wr, "excluded_declined_offer")], [dw, db])
        if fu is not None:
            _eq(prob, f"{lab}: shortlisted Unknown", [(F, fu, "shortlisted")], [(W, wr, "excluded_unknown_ethnicity")])


_PERIOD_SCOPES = {"all": ("overall", "all"), "pre_programme": ("programme_period", "pre_programme"),
                  "post_programme": ("programme_period", "post_programme")}


def _wres_vs_adverse(prob: LinkedProblem, frames: dict[str, pl.DataFrame]) -> None:
    w, a = frames.get("wres_indicator2"), frames.get("adverse_impact")
    if w is None or a is None:
        return
    wi = _index(w, ["scope", "scope_value"])
    ai = _index(a, ["stage", "period", "grouping", "group"])
    W, A, lab = "wres_indicator2", "adverse_impact", "wres_vs_adverse_impact"
    for period, scope in _PERIOD_SCOPES.items():
        wr = wi.get(scope)
        if wr is None:
            continue
        for group, n_col, s_col in (("White", "shortlisted_white", "appointed_white"),
                                    ("BME", "shortlisted_bme", "appointed_bme"),
                                    ("Unknown", "excluded_unknown_ethnicity", None)):
            ar = ai.get(("appoint_from_shortlist", period, "wres_group", group))
            if ar is None:
                continue
            if s_col:
                _eq(prob, f"{lab}: n {group}", [(A, ar, "n")], [(W, wr, n_col)])
                _eq(prob, f"{lab}: selected {group}", [(A, ar, "selected")], [(W, wr, s_col)])
            else:
                # WRES excludes every shortlisted Unknown (declined an offer or not); adverse impact drops every
                # candidate who declined: the declined Unknown are a count no table publishes (hidden, >= 0)
                _eq(prob, f"{lab}: n {group}", [(W, wr, n_col)],
                    [(A, ar, "n"), ("hidden", lab, period, "declined_unknown")])


def _funnel_vs_adverse(prob: LinkedProblem, frames: dict[str, pl.DataFrame]) -> None:
    from tasks.core.vocabulary import TOTAL_LABEL

    f, a = frames.get("funnel_counts"), frames.get("adverse_impact")
    if f is None or a is None:
        return
    fi = _index(f, ["band", "wres_group"])
    ai = _index(a, ["stage", "period", "grouping", "group"])
    F, A, lab = "funnel_counts", "adverse_impact", "funnel_vs_adverse_impact"
    for group in ("White", "BME", "Unknown"):
        fr, ar = fi.get((TOTAL_LABEL, group)), ai.get(("shortlist", "all", "wres_group", group))
        if fr is None or ar is None:
            continue
        _eq(prob, f"{lab}: applications >= n", [(F, fr, "applications")], [(A, ar, "n"), ("hidden", lab, group, "n")])
        _eq(prob, f"{lab}: shortlisted >= selected", [(F, fr, "shortlisted")],
            [(A, ar, "selected"), ("hidden", lab, group, "selected")])


IDENTITIES = {
    "funnel_vs_wres": _funnel_vs_wres,
    "wres_vs_adverse_impact": _wres_vs_adverse,
    "funnel_vs_adverse_impact": _funnel_vs_adverse,
}


# --------------------------------------------------------------------------
# True values and the check of each relation
# --------------------------------------------------------------------------
def cell_values(frames: dict[str, pl.DataFrame], prob: LinkedProblem) -> dict[Var, float | None]:
    """True values of the published cells (from the result frames) and, where they follow, of hidden cells."""
    cols: dict[tuple[str, str], list] = {}
    vals: dict[Var, float | None] = {}
    for t, i, c in prob.cells:
        if (t, c) not in cols:
            cols[(t, c)] = frames[t][c].cast(pl.Float64, strict=False).to_list()
        v = cols[(t, c)][i]
        vals[(t, i, c)] = None if is_missing(v) else float(v)
    changed = True
    while changed:
        changed = False
        for eq in prob.equations:
            unknown = [v for v in eq if v not in vals]
            if len(unknown) == 1 and all(vals.get(v) is not None for v in eq if v != unknown[0]):
                h = unknown[0]
                vals[h] = -sum(c * vals[v] for v, c in eq.items() if v != h) / eq[h]
                changed = True
    return vals


def check_relations(prob: LinkedProblem, vals: dict[Var, float | None]) -> LinkedProblem:
    """The problem without relations that fail on the true counts (or use a missing cell)."""
    out = LinkedProblem(cells=list(prob.cells))
    bad: dict[str, int] = {}
    for eq, label in zip(prob.equations, prob.labels):
        if any(vals.get(v) is None for v in eq):
            continue
        hidden_negative = any(isinstance(v, tuple) and v[:1] == ("hidden",) and vals[v] < -1e-9 for v in eq)
        if abs(sum(c * vals[v] for v, c in eq.items())) > 1e-6 or hidden_negative:
            bad[label] = bad.get(label, 0) + 1
            continue
        out.equations.append(eq)
        out.labels.append(label)
    for label, k in bad.items():
        log.warning("disclosure: relation %r does not hold on %d row(s) of this run: not used", label, k)
    return out


# --------------------------------------------------------------------------
# Intervals (the attacker's linear programs) and the suppression plan
# --------------------------------------------------------------------------
class _Lp:
    """min / max of one variable at a time over {A x = b, bounds}: one HiGHS model per component, re-solved
    from the previous basis for each objective (scipy's bundled HiGHS); scipy.optimize.linprog otherwise."""

    def __init__(self, a, b, bounds):
        import numpy as np

        self.a, self.b, self.bounds = a, b, bounds
        self.n = a.shape[1]
        self.h = None
        self.last = None
        try:
            from scipy.optimize._highspy import _core
        except ImportError:  # pragma: no cover - older or newer scipy: the public API
            return
        csc = a.tocsc()
        lp = _core.HighsLp()
        lp.num_col_, lp.num_row_ = csc.shape[1], csc.shape[0]
        lp.col_cost_ = np.zeros(self.n)
        inf = _core.kHighsInf
        lp.col_lower_ = np.array([lo for lo, _ in bounds], dtype=float)
        lp.col_upper_ = np.array([inf if hi is None or hi == float("inf") else hi for _, hi in bounds], dtype=float)
        lp.row_lower_ = np.asarray(b, dtype=float)
        lp.row_upper_ = np.asarray(b, dtype=float)
        lp.a_matrix_.format_ = _core.MatrixFormat.kColwise
        lp.a_matrix_.start_ = csc.indptr
        lp.a_matrix_.index_ = csc.indices
        lp.a_matrix_.value_ = csc.data
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = csc.shape[1], csc.shape[0]
        h = _core._Highs()
        h.setOptionValue("output_flag", False)
        h.passModel(lp)
        self.h, self.core = h, _core

    def extreme(self, j: int, *, maximise: bool) -> float:
        """The largest (or smallest) feasible value of variable j (inf when unbounded)."""
        if self.h is None:
            return self._linprog(j, maximise)
        if self.last is not None and self.last != j:
            self.h.changeColCost(self.last, 0.0)
        self.h.changeColCost(j, -1.0 if maximise else 1.0)
        self.last = j
        self.h.run()
        status = self.h.modelStatusToString(self.h.getModelStatus())
        if status == "Optimal":
            v = self.h.getInfo().objective_function_value
            return -v if maximise else v
        if status in ("Unbounded", "Primal unbounded") or "nbounded" in status:
            return float("inf") if maximise else 0.0
        if "nfeasible" in status:
            raise ValueError("disclosure: the relations are infeasible")
        return self._linprog(j, maximise)  # anything else: the public solver decides

    def _linprog(self, j: int, maximise: bool) -> float:
        import numpy as np
        from scipy.optimize import linprog

        obj = np.zeros(self.n)
        obj[j] = -1.0 if maximise else 1.0
        res = linprog(obj, A_eq=self.a, b_eq=self.b, bounds=self.bounds, method="highs")
        if res.status == 2:
            raise ValueError("disclosure: the relations are infeasible")
        if res.status == 3:
            return float("inf") if maximise else 0.0
        return -res.fun if maximise else res.fun


def feasible_intervals(
    equations: list[dict[Var, float]],
    known: dict[Var, tuple[float, float]],
    targets: Iterable[Var],
    width: dict[Var, tuple[float, float]] | None = None,
) -> dict[Var, tuple[float, float]]:
    """For each target, its smallest and largest value subject to every equation, non-negativity and
    each known cell lying in its interval (``known[cell] = (low, high)``; low == high for exact knowledge).

    The equations are split into connected components over the unknown cells; one LP pair per target.
    Returns (low, high) per target (high = inf when unbounded).  ``width`` (target -> (true value,
    required width)) allows a shortcut: when the maximum is already ``width`` above the true value the
    minimum is not computed (reported as the true value: the interval is wide enough either way).
    """
    import numpy as np
    from scipy.sparse import csr_matrix

    targets = list(dict.fromkeys(targets))
    # variables: every cell in an equation with a target-connected unknown; known cells are variables with bounds
    exact = {v: lo for v, (lo, hi) in known.items() if lo == hi}
    reduced: list[tuple[dict[Var, float], float]] = []
    for eq in equations:
        rhs = -sum(c * exact[v] for v, c in eq.items() if v in exact)
        rest = {v: c for v, c in eq.items() if v not in exact}
        if rest:
            reduced.append((rest, rhs))
    parent: dict[Var, Var] = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for rest, _ in reduced:
        vs = list(rest)
        for v in vs[1:]:
            ra, rb = find(vs[0]), find(v)
            if ra != rb:
                parent[ra] = rb
    comp_eqs: dict[Var, list[int]] = {}
    for k, (rest, _) in enumerate(reduced):
        comp_eqs.setdefault(find(next(iter(rest))), []).append(k)
    out: dict[Var, tuple[float, float]] = {}
    by_comp: dict[Var, list[Var]] = {}
    for t in targets:
        if t in exact:
            out[t] = (exact[t], exact[t])
        elif t not in parent:
            lo, hi = known.get(t, (0.0, float("inf")))
            out[t] = (max(lo, 0.0), hi)
        else:
            by_comp.setdefault(find(t), []).append(t)
    for root, ts in by_comp.items():
        ks = comp_eqs.get(root, [])
        vs = list(dict.fromkeys(v for k in ks for v in reduced[k][0]))
        if len(ks) == 1 and not any(v in known for v in vs):  # one equation over free cells >= 0: by hand
            rest, rhs = reduced[ks[0]]
            for t in ts:
                ratio = {v: c / rest[t] for v, c in rest.items() if v != t}
                value = rhs / rest[t]
                # x_t = value - sum(ratio_v * x_v), x_v >= 0
                out[t] = (0.0 if any(r > 0 for r in ratio.values()) else max(value, 0.0),
                          float("inf") if any(r < 0 for r in ratio.values()) else value)
            continue
        pos = {v: j for j, v in enumerate(vs)}
        rows, colz, data, b = [], [], [], []
        for r, k in enumerate(ks):
            rest, rhs = reduced[k]
            for v, c in rest.items():
                rows.append(r)
                colz.append(pos[v])
                data.append(c)
            b.append(rhs)
        a = csr_matrix((data, (rows, colz)), shape=(len(ks), len(vs)))
        bounds = [(max(known[v][0], 0.0), known[v][1]) if v in known else (0.0, None) for v in vs]
        lp = _Lp(a, np.asarray(b, dtype=float), bounds)
        for t in ts:
            high = lp.extreme(pos[t], maximise=True)
            if width and t in width and high - width[t][0] >= width[t][1] - 1e-9:
                out[t] = (width[t][0], high)
                continue
            out[t] = (lp.extreme(pos[t], maximise=False), high)
    return out


def binding_cells(
    equations: list[dict[Var, float]],
    known: dict[Var, float],
    target: Var,
) -> dict[Var, float]:
    """Shown cells whose exact values pin ``target``: the sensitivity of its largest and smallest
    feasible value to each shown cell (from the dual values of the two LPs); non-zero entries only."""
    import numpy as np
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix

    # the component of the target over the unknown cells
    unknown_eqs: dict[Var, list[int]] = {}
    for k, eq in enumerate(equations):
        for v in eq:
            if v not in known:
                unknown_eqs.setdefault(v, []).append(k)
    seen, todo, ks = {target}, [target], set()
    while todo:
        v = todo.pop()
        for k in unknown_eqs.get(v, []):
            if k in ks:
                continue
            ks.add(k)
            for u in equations[k]:
                if u not in known and u not in seen:
                    seen.add(u)
                    todo.append(u)
    ks = sorted(ks)
    vs = list(dict.fromkeys(v for k in ks for v in equations[k] if v not in known))
    pos = {v: j for j, v in enumerate(vs)}
    rows, colz, data, b = [], [], [], []
    for r, k in enumerate(ks):
        b.append(-sum(c * known[v] for v, c in equations[k].items() if v in known))
        for v, c in equations[k].items():
            if v in pos:
                rows.append(r)
                colz.append(pos[v])
                data.append(c)
    if not ks:
        return {}
    a = csr_matrix((data, (rows, colz)), shape=(len(ks), len(vs)))
    sens: dict[Var, float] = {}
    for sign in (-1.0, 1.0):
        obj = np.zeros(len(vs))
        obj[pos[target]] = sign
        res = linprog(obj, A_eq=a, b_eq=b, bounds=[(0, None)] * len(vs), method="highs")
        if res.status != 0:
            continue
        y = res.eqlin.marginals
        for r, k in enumerate(ks):
            if abs(y[r]) < 1e-12:
                continue
            for v, c in equations[k].items():
                if v in known:
                    sens[v] = sens.get(v, 0.0) + abs(y[r] * c)
    return {v: x for v, x in sens.items() if x > 1e-9}


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

    ``frames``: result tables (true counts), published rows only (:func:`published_rows`).
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


def shown_interval(text, policy: Policy) -> tuple[float, float] | None:
    """What a reader knows of a shown count: '0' -> exactly 0; a rounded r -> [r - base/2, r + base/2] within the
    values that are not suppressed (above suppress_max).  None for a suppressed or missing cell."""
    if text is None or text == policy.symbol or text == "":
        return None
    r = float(text)
    if r == 0:
        return (0.0, 0.0)
    import math

    half = policy.round_to / 2  # integer counts: x rounds (half up) to r iff r - half <= x < r + half
    return (max(math.ceil(r - half), policy.suppress_max + 1), math.ceil(r + half) - 1)
