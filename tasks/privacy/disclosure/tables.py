"""Table protection: the policy applied to one result table.

:func:`protect_table` takes a result table's name, a polars frame and a
:class:`~tasks.privacy.disclosure.policy.Policy`, and returns the publishable frame
(counts as text, rates from rounded figures, derived statistics withheld where
an input was, small-event flags in ``sdc_flags``) and an :class:`SdcReport`.
Column roles come from the table's spec in the policy, with conservative
defaults (docs/methods.md section 5).  It is pure: it never reads or writes the
warehouse (:mod:`tasks.publish.writer` applies it to every result table).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import polars as pl

from tasks.privacy.disclosure.cells import is_missing, is_primary, publish_count, publish_rate
from tasks.privacy.disclosure.policy import Policy
from tasks.privacy.disclosure.secondary import complementary_suppression, relations_for_spec

SDC_FLAGS_COLUMN = "sdc_flags"


FLAG_WITHHELD = "withheld_inputs_suppressed"


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
    base_rates = spec.get("rates", {}) or {}
    base_derived = spec.get("derived", {}) or {}
    out["rates"] = {k: v for k, v in base_rates.items() if k not in named} | (case.get("rates") or {})
    out["derived"] = {k: v for k, v in base_derived.items() if k not in named} | (case.get("derived") or {})
    out["estimates"] = [c for c in spec.get("estimates", []) if c not in named] + list(case.get("estimates", []))
    if "secondary" in case:
        out["secondary"] = case["secondary"]
    if "events" in case:
        out["events"] = case["events"]
    return out


def protect_table(name: str, df: pl.DataFrame, policy: Policy,
                  forced: dict[str, set[int]] | None = None) -> tuple[pl.DataFrame, SdcReport]:
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

    ``forced`` (count column -> row indices, counted after ``drop_rows``) are cells suppressed by the
    decision over all linked tables of the run (:func:`tasks.privacy.disclosure.linked.plan_suppression`):
    they are suppressed whatever their value, and rates, ratios and derived columns treat them as
    suppressed.
    """
    spec = policy.table_spec(name)
    report = SdcReport(table=name, rows=df.height)
    for col, vals in (spec.get("drop_rows", {}) or {}).items():
        if col in df.columns:
            df = df.filter(~_where_mask(df, {col: vals}))
    roles = column_roles(name, df, policy, spec)
    report.columns = dict(roles)
    df = _flatten_nested(df.drop([c for c, r in roles.items() if r == "drop"]))
    df = df.with_row_index("_sdc_row")
    cases = spec.get("cases", []) or []
    if not cases:
        out = _protect_part(df, spec, roles, policy, report, forced).drop("_sdc_row")
        out = _ratios_from_shown(out, spec, policy, df)
        report.rows = out.height
        return out, report
    taken = pl.Series([False] * df.height)
    parts = []
    for case in cases:
        mask = _where_mask(df, case.get("where", {})) & ~taken
        taken = taken | mask
        sub = df.filter(mask)
        if sub.height:
            parts.append(_protect_part(sub, _merge_case(spec, case), roles, policy, report, forced))
    rest = df.filter(~taken)
    if rest.height:
        parts.append(_protect_part(rest, spec, roles, policy, report, forced))
    out = pl.concat(parts, how="diagonal_relaxed").sort("_sdc_row").drop("_sdc_row") if parts else df.drop("_sdc_row")
    out = _ratios_from_shown(out, spec, policy, df)
    report.rows = out.height
    return out, report


def _protect_part(df: pl.DataFrame, spec: dict, roles: dict[str, str], policy: Policy,
                  report: SdcReport, forced: dict[str, set[int]] | None = None) -> pl.DataFrame:
    """One row subset under one spec: counts suppressed and rounded, rates, derived, small-event flags."""
    count_cols = [c for c, r in roles.items() if r == "count" and c in df.columns]
    local: dict[str, set[int]] | None = None
    if forced is not None:  # original row numbers (column _sdc_row) -> positions in this subset
        where = {r: i for i, r in enumerate(df["_sdc_row"].to_list())}
        local = {c: {where[r] for r in rows if r in where} for c, rows in forced.items()}
    part = _Part(df, policy, report, _suppress_counts(df, spec, count_cols, policy, report, local))
    flags = part.incoming_flags()
    withheld_by_col: dict[str, set[int]] = dict(part.suppressed)
    new_cols: dict[str, pl.Series] = {}
    # rates: from rounded figures; a list denominator is a sum of count columns
    for c, rs in (spec.get("rates", {}) or {}).items():
        if c in df.columns:
            new_cols[c], withheld_by_col[c] = _rate_column(part, c, rs or {})
    # derived statistics: withheld where an input count or rate was withheld
    for c, deps in (spec.get("derived", {}) or {}).items():
        if c in df.columns:
            new_cols[c] = _derived_column(part, c, deps, withheld_by_col, flags)
    _flag_small_events(part, spec, flags)
    # counts last (rates and derived use the true values above)
    for c in count_cols:
        vals = part.as_floats(c)
        new_cols[c] = pl.Series(c, [publish_count(v, i in part.suppressed[c], policy) for i, v in enumerate(vals)],
                                dtype=pl.Utf8)
    out = df.with_columns(list(new_cols.values())) if new_cols else df
    flag_text = [";".join(dict.fromkeys(f)) if f else None for f in flags]
    return out.with_columns(pl.Series(SDC_FLAGS_COLUMN, flag_text, dtype=pl.Utf8))


@dataclass
class _Part:
    """One row subset being protected, with the cells suppressed in each count column."""

    df: pl.DataFrame
    policy: Policy
    report: SdcReport
    suppressed: dict[str, set[int]]

    @property
    def n(self) -> int:
        return self.df.height

    def as_floats(self, col: str) -> list:
        return self.df[col].cast(pl.Float64, strict=False).to_list() if col in self.df.columns else [None] * self.n

    def sup_of(self, col: str, vals: list) -> set[int]:
        """Suppressed rows of a count column (primary only for a column that is not a count)."""
        return self.suppressed.get(col, {i for i, v in enumerate(vals) if is_primary(v, self.policy)})

    def incoming_flags(self) -> list[list[str]]:
        """The flags the frame already carries in ``sdc_flags``, one list per row."""
        flags: list[list[str]] = [[] for _ in range(self.n)]
        if SDC_FLAGS_COLUMN in self.df.columns:
            for i, v in enumerate(self.df[SDC_FLAGS_COLUMN].to_list()):
                if v:
                    flags[i].extend(str(v).split(";"))
        return flags


def _suppress_counts(df: pl.DataFrame, spec: dict, count_cols: list[str], policy: Policy,
                     report: SdcReport, forced: dict[str, set[int]] | None = None) -> dict[str, set[int]]:
    """Primary + secondary suppression, per count column: the suppressed row indices."""
    suppressed: dict[str, set[int]] = {}
    structures = spec.get("secondary", []) or []
    rel_sets = [relations_for_spec(df, s) for s in structures]
    rels = [r for rs, _ in rel_sets for r in rs]
    for c in count_cols:
        vals = df[c].cast(pl.Float64, strict=False).to_list()
        values = dict(enumerate(vals))
        primary = {i for i, v in values.items() if is_primary(v, policy)}
        if forced is not None:  # decided over all linked tables at once: suppressing more here could expose
            sup = primary | forced.get(c, set())  # the new cell through a table this function cannot see
        else:
            sup = complementary_suppression(
                values, rels, primary, policy.min_suppressed_per_relation, policy.prefer_nonzero, policy.min_range
            )
        suppressed[c] = sup
        report.count_cells += sum(1 for v in vals if not is_missing(v))
        report.primary += len(primary)
        report.secondary += len(sup - primary)
    return suppressed


def _rate_column(part: _Part, c: str, rs: dict) -> tuple[pl.Series, set[int]]:
    """A rate recomputed from the rounded numerator and denominator; and the rows where it is withheld."""
    n = part.n
    num_c, den_c = rs.get("numerator"), rs.get("denominator")
    rates = part.as_floats(c)
    den_cols = den_c if isinstance(den_c, list) else ([den_c] if den_c else [])
    if den_cols and all(d in part.df.columns for d in den_cols):
        parts = [part.as_floats(d) for d in den_cols]
        dens = [None if any(is_missing(p[i]) for p in parts) else sum(p[i] for p in parts) for i in range(n)]
        den_sup = set().union(*[part.sup_of(d, part.as_floats(d)) for d in den_cols])
    else:
        dens, den_sup = [None] * n, set()
    if num_c in part.df.columns:
        nums = part.as_floats(num_c)
        num_sup = part.sup_of(num_c, nums)
    else:  # implied numerator: the rate times the denominator
        nums = [None if is_missing(a) or is_missing(b) else round(a * b, 6) for a, b in zip(rates, dens)]
        num_sup = {i for i, v in enumerate(nums) if v is not None and is_primary(round(v), part.policy)}
    out, withheld = [], set()
    for i in range(n):
        v = publish_rate(nums[i], dens[i], i in num_sup, i in den_sup, part.policy)
        if v is None and not is_missing(rates[i]):
            part.report.rates_withheld += 1
            withheld.add(i)
        out.append(v)
    return pl.Series(c, out, dtype=pl.Float64), withheld


def _derived_column(part: _Part, c: str, deps, withheld_by_col: dict[str, set[int]],
                    flags: list[list[str]]) -> pl.Series:
    """A derived statistic, withheld (and flagged) where one of its inputs was withheld."""
    withheld: set[int] = set()
    if part.policy.withhold_derived:
        for d in deps:
            withheld |= withheld_by_col.get(d, set())
    col = part.df[c]
    if withheld:
        mask = pl.Series([i in withheld for i in range(part.n)])
        part.report.derived_withheld += sum(1 for i in withheld if col[i] is not None)
        col = pl.select(pl.when(mask).then(None).otherwise(col).alias(c)).to_series()
        for i in withheld:
            if FLAG_WITHHELD not in flags[i]:
                flags[i].append(FLAG_WITHHELD)
    return col


def _flag_small_events(part: _Part, spec: dict, flags: list[list[str]]) -> None:
    """Estimates: flag rows whose smallest event count is below the policy minimum."""
    ev_cols = [c for c in spec.get("events", []) if c in part.df.columns]
    if not ev_cols:
        return
    ev = part.df.select(pl.min_horizontal([pl.col(c).cast(pl.Float64, strict=False) for c in ev_cols])).to_series()
    for i, v in enumerate(ev.to_list()):
        if v is not None and v < part.policy.min_events:
            flags[i].append(part.policy.small_events_flag)
            part.report.estimates_flagged += 1


# --------------------------------------------------------------------------
# Ratios beside counts, recomputed from the counts as shown
# --------------------------------------------------------------------------
def _shown(v) -> float | None:
    """A published count cell as a number, None when suppressed or missing."""
    try:
        return None if v is None else float(v)
    except ValueError:
        return None


def _ratios_from_shown(df: pl.DataFrame, spec: dict, policy: Policy, true: pl.DataFrame | None = None) -> pl.DataFrame:
    """Ratios the spec names under ``ratios_from_shown`` recomputed from the published (rounded) counts,
    so a reader who recomputes them from the page gets the same figure (docs/disclosure.md)."""
    kinds = spec.get("ratios_from_shown", {}) or {}
    if "relative_likelihood" in kinds:
        df = _relative_likelihood_from_shown(df, kinds["relative_likelihood"])
    if "impact_ratio" in kinds:
        df = _impact_ratio_from_shown(df, kinds["impact_ratio"], policy, true)
    return df


def relative_likelihood_from_counts(aw: float, sw: float, ab: float, sb: float) -> tuple[float, float, float] | None:
    """WRES indicator 2 (RL, 95% CI low, high) from four counts, with the WRES table's zero-cell rule
    (0.5 added to each of the four cells when one is 0); None when a group has nobody shortlisted."""
    from tasks.stats.intervals import katz_interval, log_ratio_std_error

    if not sw or not sb:
        return None
    a_w, n_w, a_b, n_b = aw, sw - aw, ab, sb - ab
    if min(a_w, n_w, a_b, n_b) < 0:
        return None
    if min(a_w, n_w, a_b, n_b) == 0:
        a_w, n_w, a_b, n_b = a_w + 0.5, n_w + 0.5, a_b + 0.5, n_b + 0.5
    rl = (a_w / (a_w + n_w)) / (a_b / (a_b + n_b))
    se = log_ratio_std_error(events_a=a_w, trials_a=a_w + n_w, events_b=a_b, trials_b=a_b + n_b)
    lo, hi = katz_interval(ratio=rl, std_error=se)
    return rl, lo, hi


def _relative_likelihood_from_shown(df: pl.DataFrame, cfg: dict) -> pl.DataFrame:
    aw_c, sw_c, ab_c, sb_c = cfg["counts"]
    if not all(c in df.columns for c in (aw_c, sw_c, ab_c, sb_c, "relative_likelihood")):
        return df
    low, high = cfg.get("band", [0.8, 1.25])
    rl, lo, hi, inband = [], [], [], []
    for r in df.iter_rows(named=True):
        counts = [_shown(r[c]) for c in (aw_c, sw_c, ab_c, sb_c)]
        res = None if any(v is None for v in counts) or r["relative_likelihood"] is None else \
            relative_likelihood_from_counts(*counts)
        rl.append(res[0] if res else None)
        lo.append(res[1] if res else None)
        hi.append(res[2] if res else None)
        inband.append(bool(low <= res[0] <= high) if res else None)
    cols = [pl.Series("relative_likelihood", rl, dtype=pl.Float64)]
    for name, vals, dtype in (("ci_low", lo, pl.Float64), ("ci_high", hi, pl.Float64),
                              ("in_non_adverse_band", inband, pl.Boolean)):
        if name in df.columns:
            cols.append(pl.Series(name, vals, dtype=dtype))
    return df.with_columns(cols)


def _impact_ratio_from_shown(df: pl.DataFrame, cfg: dict, policy: Policy,
                             true: pl.DataFrame | None = None) -> pl.DataFrame:
    """Selection rate / the reference group's selection rate, both from shown counts, in each block; a group's
    ``share`` of its grouping is its shown n over the grouping's total rounded like a count (an exact share
    would give away exact counts)."""
    from tasks.privacy.disclosure.cells import round_count, round_rate

    block = [c for c in cfg.get("block", []) if c in df.columns]
    need = ["group", "reference_group", "n", "selected", "impact_ratio"]
    if not all(c in df.columns for c in need):
        return df
    threshold = float(cfg.get("threshold", 0.8))
    rows = df.select(block + need).rows(named=True)
    ref_counts: dict[tuple, tuple[float | None, float | None]] = {}
    for r in rows:
        ref_counts[tuple(r[c] for c in block) + (r["group"],)] = (_shown(r["n"]), _shown(r["selected"]))
    ir, rr, flag, short = [], [], [], []
    for r in rows:
        n, s = _shown(r["n"]), _shown(r["selected"])
        rn, rs = ref_counts.get(tuple(r[c] for c in block) + (r["reference_group"],), (None, None))
        ok = (r["impact_ratio"] is not None and None not in (n, s, rn, rs) and n >= policy.min_denominator
              and rn >= policy.min_denominator and rs > 0)
        ref_rate = rs / rn if ok else None
        ratio = (s / n) / ref_rate if ok else None
        ir.append(ratio)
        rr.append(round_rate(ref_rate, policy.rate_decimals) if ok else None)
        flag.append(bool(ratio < threshold) if ok else None)
        short.append(max(0.0, n * ref_rate - s) if ok else None)
    cols = [pl.Series("impact_ratio", ir, dtype=pl.Float64)]
    if "share" in df.columns and true is not None and "n" in true.columns and "grouping" in df.columns:
        keys = block + (["grouping"] if "grouping" not in block else [])
        totals: dict[tuple, float] = {}
        for r in true.select(keys + ["n"]).rows(named=True):
            k = tuple(r[c] for c in keys)
            totals[k] = totals.get(k, 0.0) + float(r["n"] or 0)
        share = []
        for r, cur in zip(df.select(keys + ["n"]).rows(named=True), df["share"].to_list()):
            n, tot = _shown(r["n"]), round_count(totals.get(tuple(r[c] for c in keys)), policy.round_to, policy.rounding)
            share.append(None if cur is None or n is None or not tot else n / tot)
        cols.append(pl.Series("share", share, dtype=pl.Float64))
        if "small_group" in df.columns:  # from the shown n and share, like every figure beside them
            small_n, small_share = cfg.get("small_group", [10, 0.02])
            cur = df["small_group"].to_list()
            cols.append(pl.Series("small_group", [
                None if c is None or sh is None else bool(_shown(nv) < small_n or sh < small_share)
                for c, sh, nv in zip(cur, share, df["n"].to_list())], dtype=pl.Boolean))
    for name, vals, dtype in (("reference_rate", rr, pl.Float64), ("four_fifths_flag", flag, pl.Boolean),
                              ("shortfall", short, pl.Float64)):
        if name in df.columns:
            cols.append(pl.Series(name, vals, dtype=dtype))
    return df.with_columns(cols)
