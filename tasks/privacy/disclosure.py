"""Statistical disclosure control (SDC) for published tables.

The policy is a versioned YAML file (``config/disclosure_policy.yaml``).  Its
default follows NHS Digital's HES/ECDS method (September 2018): below national
level, counts of 1-7 are shown as ``*``; other counts are rounded to the
nearest 5; rates are computed from the rounded figures and shown only where
the rounded denominator passes a threshold; complementary ("secondary")
suppression ensures that row and column totals cannot reveal a suppressed
cell; regression estimates and confidence intervals are not suppressed but
are flagged when based on fewer than 10 events.

Each result table has a spec in the policy (``tables:``) naming its count,
rate, estimate and derived columns and its additive structure (which rows are
totals of which).  Columns a spec does not name fall back to conservative
defaults: integers are treated as counts, floats as estimates.

The public entry point is :func:`protect_table`, a pure function on a polars
frame; :mod:`tasks.publish` applies it to every result table of a run.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Hashable, Iterable, Sequence

import polars as pl
import yaml

from tasks.core.paths import CONFIG_DIR

log = logging.getLogger(__name__)


DEFAULT_POLICY_PATH = CONFIG_DIR / "disclosure_policy.yaml"


SDC_FLAGS_COLUMN = "sdc_flags"


FLAG_WITHHELD = "withheld_inputs_suppressed"


# --------------------------------------------------------------------------
# Policy
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Policy:
    """A loaded disclosure-control policy."""

    raw: dict
    version: str
    sha256: str
    path: str = ""

    # counts
    @property
    def suppress_min(self) -> float:
        return float(self.raw["counts"]["suppress_min"])

    @property
    def suppress_max(self) -> float:
        return float(self.raw["counts"]["suppress_max"])

    @property
    def symbol(self) -> str:
        return str(self.raw["counts"]["symbol"])

    @property
    def round_to(self) -> int:
        return int(self.raw["counts"]["round_to"])

    @property
    def rounding(self) -> str:
        return str(self.raw["counts"].get("rounding", "half_up"))

    # rates
    @property
    def min_denominator(self) -> float:
        return float(self.raw["rates"]["min_denominator"])

    @property
    def rate_decimals(self) -> int:
        return int(self.raw["rates"].get("decimals", 3))

    # secondary
    @property
    def min_suppressed_per_relation(self) -> int:
        return int(self.raw.get("secondary", {}).get("min_suppressed_per_relation", 2))

    @property
    def min_range(self) -> float:
        return float(self.raw.get("secondary", {}).get("min_range", 1))

    @property
    def prefer_nonzero(self) -> bool:
        return bool(self.raw.get("secondary", {}).get("prefer_nonzero", True))

    # estimates
    @property
    def min_events(self) -> float:
        return float(self.raw["estimates"]["min_events"])

    @property
    def small_events_flag(self) -> str:
        return str(self.raw["estimates"].get("flag", "small_n_events"))

    @property
    def withhold_derived(self) -> bool:
        return bool(self.raw.get("derived", {}).get("withhold_if_input_suppressed", True))

    @property
    def passthrough(self) -> frozenset[str]:
        return frozenset(self.raw.get("defaults", {}).get("passthrough", []))

    @property
    def drop(self) -> frozenset[str]:
        return frozenset(self.raw.get("defaults", {}).get("drop", []))

    @property
    def restricted_tables(self) -> frozenset[str]:
        """Result tables never published (document-level rows)."""
        return frozenset(self.raw.get("restricted_tables", []) or [])

    def table_spec(self, name: str) -> dict:
        return dict(self.raw.get("tables", {}).get(name) or {})

    def summary(self) -> str:
        """One line describing the rules, for the report and the disclosure log."""
        return (
            f"counts {self.suppress_min:g}-{self.suppress_max:g} shown as '{self.symbol}'; "
            f"other counts rounded to the nearest {self.round_to} ({self.rounding}); "
            f"rates from rounded figures where the rounded denominator >= {self.min_denominator:g}; "
            f"complementary suppression (>= {self.min_suppressed_per_relation} suppressed per total); "
            f"estimates flagged when events < {self.min_events:g}"
        )


def load_policy(path: str | Path | None = None) -> Policy:
    """Read and check a policy YAML (default ``config/disclosure_policy.yaml``)."""
    p = Path(path) if path else DEFAULT_POLICY_PATH
    text = p.read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    return policy_from_dict(raw, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), path=str(p))


def policy_from_dict(raw: dict, sha256: str | None = None, path: str = "") -> Policy:
    for section, keys in {
        "counts": ("suppress_min", "suppress_max", "symbol", "round_to"),
        "rates": ("min_denominator",),
        "estimates": ("min_events",),
    }.items():
        if section not in raw:
            raise ValueError(f"disclosure policy lacks the '{section}' section")
        for key in keys:
            if key not in raw[section]:
                raise ValueError(f"disclosure policy lacks {section}.{key}")
    if "policy_version" not in raw:
        raise ValueError("disclosure policy lacks policy_version")
    if raw["counts"].get("rounding", "half_up") not in ("half_up", "half_even"):
        raise ValueError("counts.rounding must be half_up or half_even")
    if int(raw["counts"]["round_to"]) < 1:
        raise ValueError("counts.round_to must be >= 1")
    if sha256 is None:
        sha256 = hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()
    return Policy(raw=raw, version=str(raw["policy_version"]), sha256=sha256, path=path)


# --------------------------------------------------------------------------
# Cell rules
# --------------------------------------------------------------------------
def _is_missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def round_count(x: float | int | None, base: int = 5, mode: str = "half_up") -> int | None:
    """Round to the nearest multiple of ``base``.

    ``half_up`` sends exact halves away from zero (12.5 -> 15, 17.5 -> 20);
    ``half_even`` is banker's rounding of the multiple (12.5 -> 10, 17.5 -> 20).
    Integers never tie for base 5.  Decimal arithmetic avoids float artefacts.
    """
    if _is_missing(x):
        return None
    q = Decimal(str(x)) / Decimal(base)
    rounding = ROUND_HALF_UP if mode == "half_up" else ROUND_HALF_EVEN
    return int(q.quantize(Decimal(1), rounding=rounding)) * base


def is_primary(x: float | int | None, policy: Policy) -> bool:
    """A count that must be suppressed on its own (1..7 by default; 0 is shown)."""
    if _is_missing(x):
        return False
    return policy.suppress_min <= abs(float(x)) <= policy.suppress_max or (
        0 < abs(float(x)) < policy.suppress_min
    )


def publish_count(x: float | int | None, suppressed: bool, policy: Policy) -> str | None:
    """The text a published count cell shows: '*', a rounded integer, or None (missing)."""
    if _is_missing(x):
        return None
    if suppressed:
        return policy.symbol
    return str(round_count(x, policy.round_to, policy.rounding))


def round_rate(x: float | None, decimals: int) -> float | None:
    if _is_missing(x):
        return None
    return float(Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def publish_rate(
    numerator: float | None,
    denominator: float | None,
    num_suppressed: bool,
    den_suppressed: bool,
    policy: Policy,
) -> float | None:
    """A rate computed from the rounded figures, or None when it must be withheld."""
    if _is_missing(numerator) or _is_missing(denominator) or num_suppressed or den_suppressed:
        return None
    rn = round_count(numerator, policy.round_to, policy.rounding)
    rd = round_count(denominator, policy.round_to, policy.rounding)
    if rd is None or rd <= 0 or rd < policy.min_denominator:
        return None
    return round_rate(rn / rd, policy.rate_decimals)


# --------------------------------------------------------------------------
# Complementary (secondary) suppression
# --------------------------------------------------------------------------
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
        v = float("inf") if _is_missing(v) else abs(float(v))
        return ((v == 0) if prefer_nonzero else False, c in total_set, v, order[c])

    def lone_cells() -> None:
        changed = True
        while changed:
            changed = False
            for _, _, cells in rels:
                n_sup = sum(1 for c in cells if c in suppressed)
                while 0 < n_sup < min(min_per_relation, len(cells)):
                    cands = [c for c in cells if c not in suppressed and not _is_missing(values[c])]
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
            for c in cells if c not in suppressed and not _is_missing(values[c])
        ]
        if not cands:
            log.warning("%d suppressed cells stay narrowly bounded: no cell left to suppress", len(exposed))
            return suppressed
        suppressed.add(min(cands, key=key))


def _exposed_cells(values, rels, suppressed, min_range: float) -> list[Hashable]:
    """Suppressed cells whose feasible interval (given all other cells exactly) is narrower than min_range."""
    eq_rels = [r for r in rels if any(c in suppressed for c in r[2]) and not any(_is_missing(values[c]) for c in r[2])]
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


def _relations_for_spec(df: pl.DataFrame, struct: dict) -> tuple[list[Relation], set[int]]:
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


# --------------------------------------------------------------------------
# Table protection
# --------------------------------------------------------------------------
@dataclass
class SdcReport:
    table: str
    rows: int = 0
    count_cells: int = 0
    primary: int = 0
    secondary: int = 0
    rates_withheld: int = 0
    derived_withheld: int = 0
    estimates_flagged: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # column -> role

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


def column_roles(name: str, df: pl.DataFrame, policy: Policy, spec: dict | None = None) -> dict[str, str]:
    """Role of every column: count, rate, estimate, derived, pass or drop."""
    spec = policy.table_spec(name) if spec is None else spec
    roles: dict[str, str] = {}
    named: dict[str, str] = {}
    for c in spec.get("counts", []):
        named[c] = "count"
    for c in spec.get("estimates", []):
        named[c] = "estimate"
    for c in spec.get("derived", {}) or {}:
        named[c] = "derived"
    for c in spec.get("rates", {}) or {}:
        named[c] = "rate"
    for c in spec.get("passthrough", []) + spec.get("passthrough_int", []):
        named[c] = "pass"
    for c in spec.get("drop", []):
        named[c] = "drop"
    for case in spec.get("cases", []) or []:
        for c in list(case.get("rates", {}) or {}) + list(case.get("derived", {}) or {}) + case.get("estimates", []):
            named.setdefault(c, "estimate")
    for c, dtype in df.schema.items():
        if c in named:
            roles[c] = named[c]
        elif c in policy.drop:
            roles[c] = "drop"
        elif c in policy.passthrough or c == SDC_FLAGS_COLUMN:
            roles[c] = "pass"
        elif dtype.is_integer():
            roles[c] = "count"
        elif dtype.is_float():
            roles[c] = "estimate"
        else:
            roles[c] = "pass"
    return roles


def _flatten_nested(df: pl.DataFrame) -> pl.DataFrame:
    """Lists become '; '-joined text and structs JSON text (Excel cannot hold them)."""
    out = []
    for c, dtype in df.schema.items():
        if isinstance(dtype, (pl.List, pl.Array)):
            out.append(pl.col(c).cast(pl.List(pl.Utf8)).list.join("; ").alias(c))
        elif isinstance(dtype, pl.Struct):
            out.append(pl.col(c).map_elements(lambda s: json.dumps(s, default=str), return_dtype=pl.Utf8).alias(c))
    return df.with_columns(out) if out else df


def _where_mask(df: pl.DataFrame, where: dict) -> pl.Series:
    mask = pl.Series([True] * df.height)
    for col, val in (where or {}).items():
        vals = val if isinstance(val, list) else [val]
        if col not in df.columns:
            return pl.Series([False] * df.height)
        mask = mask & df[col].cast(pl.Utf8).is_in([str(v) for v in vals]).fill_null(False)
    return mask


def _merge_case(spec: dict, case: dict) -> dict:
    """A case's roles override the base spec's for the columns it names."""
    out = {k: v for k, v in spec.items() if k != "cases"}
    named = set(case.get("rates", {}) or {}) | set(case.get("derived", {}) or {}) | set(case.get("estimates", []))
    out["rates"] = {k: v for k, v in (spec.get("rates", {}) or {}).items() if k not in named} | (case.get("rates") or {})
    out["derived"] = {k: v for k, v in (spec.get("derived", {}) or {}).items() if k not in named} | (case.get("derived") or {})
    out["estimates"] = [c for c in spec.get("estimates", []) if c not in named] + list(case.get("estimates", []))
    if "secondary" in case:
        out["secondary"] = case["secondary"]
    if "events" in case:
        out["events"] = case["events"]
    return out


def protect_table(name: str, df: pl.DataFrame, policy: Policy) -> tuple[pl.DataFrame, SdcReport]:
    """Apply the policy to one result table; return the publishable frame and a report.

    Count columns become text ('*', '0', '10', ...), rates are recomputed from
    the rounded figures (float, null when withheld), derived statistics are
    withheld when an input count or rate is withheld, estimates are kept and
    flagged in the ``sdc_flags`` column when events < the policy minimum.

    A spec may drop rows (``drop_rows: {column: [values]}``: e.g. statistics
    about single named staff) and give ``cases``: row subsets (``where``)
    whose rate/derived/estimate roles differ (a ``value`` column that is a
    share in some rows and a mean in others).  Additive structures
    (``secondary``) apply within each subset.
    """
    spec = policy.table_spec(name)
    report = SdcReport(table=name, rows=df.height)
    for col, vals in (spec.get("drop_rows", {}) or {}).items():
        if col in df.columns:
            df = df.filter(~_where_mask(df, {col: vals}))
    roles = column_roles(name, df, policy, spec)
    report.columns = dict(roles)
    df = _flatten_nested(df.drop([c for c, r in roles.items() if r == "drop"]))
    cases = spec.get("cases", []) or []
    if not cases:
        out = _protect_part(df, spec, roles, policy, report)
        report.rows = out.height
        return out, report
    df = df.with_row_index("_sdc_row")
    taken = pl.Series([False] * df.height)
    parts = []
    for case in cases:
        mask = _where_mask(df, case.get("where", {})) & ~taken
        taken = taken | mask
        sub = df.filter(mask)
        if sub.height:
            parts.append(_protect_part(sub, _merge_case(spec, case), roles, policy, report))
    rest = df.filter(~taken)
    if rest.height:
        parts.append(_protect_part(rest, spec, roles, policy, report))
    out = pl.concat(parts, how="diagonal_relaxed").sort("_sdc_row").drop("_sdc_row") if parts else df.drop("_sdc_row")
    report.rows = out.height
    return out, report


def _protect_part(df: pl.DataFrame, spec: dict, roles: dict[str, str], policy: Policy, report: SdcReport) -> pl.DataFrame:
    n = df.height
    count_cols = [c for c, r in roles.items() if r == "count" and c in df.columns]

    # primary + secondary suppression, per count column
    suppressed: dict[str, set[int]] = {}
    structures = spec.get("secondary", []) or []
    rel_sets = [_relations_for_spec(df, s) for s in structures]
    rels = [r for rs, _ in rel_sets for r in rs]
    for c in count_cols:
        vals = df[c].cast(pl.Float64, strict=False).to_list()
        values = dict(enumerate(vals))
        primary = {i for i, v in values.items() if is_primary(v, policy)}
        sup = complementary_suppression(
            values, rels, primary, policy.min_suppressed_per_relation, policy.prefer_nonzero, policy.min_range
        )
        suppressed[c] = sup
        report.count_cells += sum(1 for v in vals if not _is_missing(v))
        report.primary += len(primary)
        report.secondary += len(sup - primary)

    flags: list[list[str]] = [[] for _ in range(n)]
    if SDC_FLAGS_COLUMN in df.columns:
        for i, v in enumerate(df[SDC_FLAGS_COLUMN].to_list()):
            if v:
                flags[i].extend(str(v).split(";"))

    def as_floats(col: str) -> list:
        return df[col].cast(pl.Float64, strict=False).to_list() if col in df.columns else [None] * n

    def sup_of(col: str, vals: list) -> set[int]:
        return suppressed.get(col, {i for i, v in enumerate(vals) if is_primary(v, policy)})

    new_cols: dict[str, pl.Series] = {}
    withheld_by_col: dict[str, set[int]] = dict(suppressed)
    # rates: from rounded figures; a list denominator is a sum of count columns
    for c, rs in (spec.get("rates", {}) or {}).items():
        if c not in df.columns:
            continue
        rs = rs or {}
        num_c, den_c = rs.get("numerator"), rs.get("denominator")
        rates = as_floats(c)
        den_cols = den_c if isinstance(den_c, list) else ([den_c] if den_c else [])
        if den_cols and all(d in df.columns for d in den_cols):
            parts = [as_floats(d) for d in den_cols]
            dens = [None if any(_is_missing(p[i]) for p in parts) else sum(p[i] for p in parts) for i in range(n)]
            den_sup = set().union(*[sup_of(d, as_floats(d)) for d in den_cols])
        else:
            dens, den_sup = [None] * n, set()
        if num_c in df.columns:
            nums = as_floats(num_c)
            num_sup = sup_of(num_c, nums)
        else:  # implied numerator: the rate times the denominator
            nums = [None if _is_missing(a) or _is_missing(b) else round(a * b, 6) for a, b in zip(rates, dens)]
            num_sup = {i for i, v in enumerate(nums) if v is not None and is_primary(round(v), policy)}
        out, withheld = [], set()
        for i in range(n):
            v = publish_rate(nums[i], dens[i], i in num_sup, i in den_sup, policy)
            if v is None and not _is_missing(rates[i]):
                report.rates_withheld += 1
                withheld.add(i)
            out.append(v)
        withheld_by_col[c] = withheld
        new_cols[c] = pl.Series(c, out, dtype=pl.Float64)

    # derived statistics: withheld where an input count or rate was withheld
    for c, deps in (spec.get("derived", {}) or {}).items():
        if c not in df.columns:
            continue
        withheld: set[int] = set()
        if policy.withhold_derived:
            for d in deps:
                withheld |= withheld_by_col.get(d, set())
        col = df[c]
        if withheld:
            mask = pl.Series([i in withheld for i in range(n)])
            report.derived_withheld += sum(1 for i in withheld if col[i] is not None)
            col = pl.select(pl.when(mask).then(None).otherwise(col).alias(c)).to_series()
            for i in withheld:
                if FLAG_WITHHELD not in flags[i]:
                    flags[i].append(FLAG_WITHHELD)
        new_cols[c] = col

    # estimates: flag small event counts
    ev_cols = [c for c in spec.get("events", []) if c in df.columns]
    if ev_cols:
        ev = df.select(pl.min_horizontal([pl.col(c).cast(pl.Float64, strict=False) for c in ev_cols])).to_series()
        for i, v in enumerate(ev.to_list()):
            if v is not None and v < policy.min_events:
                flags[i].append(policy.small_events_flag)
                report.estimates_flagged += 1

    # counts last (rates and derived use the true values above)
    for c in count_cols:
        vals = as_floats(c)
        new_cols[c] = pl.Series(c, [publish_count(v, i in suppressed[c], policy) for i, v in enumerate(vals)],
                                dtype=pl.Utf8)

    out = df.with_columns(list(new_cols.values())) if new_cols else df
    flag_text = [";".join(dict.fromkeys(f)) if f else None for f in flags]
    return out.with_columns(pl.Series(SDC_FLAGS_COLUMN, flag_text, dtype=pl.Utf8))


def shown_counts(df: pl.DataFrame, name: str, policy: Policy) -> list[tuple[str, int, str]]:
    """Every (column, row, text) of a published frame's count columns, for scans and tests."""
    roles = policy.table_spec(name).get("counts", [])
    out = []
    for c in roles:
        if c in df.columns:
            for i, v in enumerate(df[c].to_list()):
                out.append((c, i, v))
    return out
