"""Linked tables: every published count cell of a run and the additive relations between them.

Each published table is not protected on its own: a reader holds all of them
at once, and the same people are counted in several (band 8a BME appointed is
a cell of ``funnel_counts``, of ``wres_indicator2`` and, summed over bands, of
``adverse_impact``).  :mod:`tasks.privacy.disclosure.linked` treats every count
cell of every published table as one problem (what tau-ARGUS calls "linked
tables", sdcTable ``protectLinkedTables``); this module states that problem:

* :func:`build_problem` lists every published count cell and every additive
  relation a reader can use: the margins of each table (its ``secondary``
  spec), the order of funnel stages (applied >= shortlisted >= ... ), and the
  identities between tables named in the policy's ``linked`` section (e.g.
  ``funnel_counts[band=b, wres_group=BME].appointed ==
  wres_indicator2[scope=band, scope_value=b].appointed_bme``; the builders are
  :data:`IDENTITIES`).  Relations may use *hidden* cells, counts no table
  publishes (e.g. shortlisted BME applicants who declined an offer), which are
  unknown non-negative numbers to a reader.
* :func:`cell_values` gives the true value of every published cell (and of the
  hidden cells that follow from them); :func:`check_relations` checks every
  relation on the true counts: one that does not hold is dropped with a
  warning (it is not a fact a reader could use).

:func:`published_rows` and :func:`count_columns` say which rows and columns of
a result table are published counts.  Pure functions on polars frames;
docs/disclosure.md explains the rule.
"""
from __future__ import annotations

import itertools
import logging
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

import polars as pl

from tasks.privacy.disclosure.cells import is_missing
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
