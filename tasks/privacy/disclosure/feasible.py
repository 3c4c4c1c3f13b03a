"""The attacker's feasible intervals: linear programs over the relations of the linked tables.

For an attacker who knows every shown cell (exactly, or within an interval) and
every relation of :class:`tasks.privacy.disclosure.relations.LinkedProblem`,
the feasible interval of a suppressed cell is the min and max of the cell
subject to all relations and non-negativity (a linear program):

* :func:`feasible_intervals`: (low, high) per target cell, one LP pair per
  target over the connected component of its unknown cells;
* :func:`binding_cells`: the shown cells whose exact values pin a target (from
  the dual values of its two LPs), candidates for complementary suppression;
* :func:`shown_interval`: what a reader knows of a shown count.  Published
  cells are rounded to 5, so a real reader knows less than an attacker who
  knows shown cells exactly: the interval only widens.

:func:`tasks.privacy.disclosure.linked.plan_suppression` uses these to decide
the complementary suppressions; docs/disclosure.md explains the rule.
"""
from __future__ import annotations

from collections.abc import Iterable

from tasks.privacy.disclosure.policy import Policy
from tasks.privacy.disclosure.relations import Var


# --------------------------------------------------------------------------
# Intervals (the attacker's linear programs)
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
    root, comp_eqs = _components(reduced)
    out: dict[Var, tuple[float, float]] = {}
    by_comp: dict[Var, list[Var]] = {}
    for t in targets:
        if t in exact:
            out[t] = (exact[t], exact[t])
        elif t not in root:
            lo, hi = known.get(t, (0.0, float("inf")))
            out[t] = (max(lo, 0.0), hi)
        else:
            by_comp.setdefault(root[t], []).append(t)
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


def _components(reduced: list[tuple[dict[Var, float], float]]) -> tuple[dict[Var, Var], dict[Var, list[int]]]:
    """Connected components of the unknown cells of ``reduced`` (union-find): the root of every cell in an
    equation, and the indices of the equations of each component (by root, in equation order)."""
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
    return {v: find(v) for v in list(parent)}, comp_eqs


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
