"""Which figures changed between two runs ("why does March differ now?").

Every result table carries ``run_id``.  By default the PUBLISHED (disclosure-controlled)
tables are compared, the figures a reader saw; ``edi-recruit diff --results`` opts in to
the unprotected result tables.  For each table present in both runs,
rows are matched on the table's natural key (:data:`NATURAL_KEYS`; for an
unknown table, its text, boolean and date columns) and each numeric column is
compared with a tolerance (absolute OR relative).  Text value columns
(``flags``) are compared exactly.  Pure comparison in :func:`diff_frames`;
:func:`diff_runs` reads the warehouse.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import polars as pl

META_COLUMNS = frozenset({"run_id", "run_as_of", "published_at", "policy_sha256", "policy_version"})


NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "odds_ratios": ("analysis", "stage", "model", "term"),
    "wres_indicator2": ("scope", "scope_value"),
    "adverse_impact": ("stage", "period", "grouping", "group"),
    "funnel_counts": ("band", "wres_group"),
    "disclosure_log": ("table_name",),
}


ABS_TOL = 1e-9


REL_TOL = 1e-9


_KEY_TYPES = (pl.String, pl.Boolean, pl.Date, pl.Datetime, pl.Categorical)


@dataclass
class TableDiff:
    table: str
    key: tuple[str, ...]
    rows_a: int
    rows_b: int
    only_in_a: list[dict] = field(default_factory=list)
    only_in_b: list[dict] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)   # key..., column, a, b, delta

    @property
    def identical(self) -> bool:
        return not (self.only_in_a or self.only_in_b or self.changed)


@dataclass
class RunDiff:
    run_a: str
    run_b: str
    tables: dict[str, TableDiff]
    only_in_a: list[str] = field(default_factory=list)   # tables
    only_in_b: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.only_in_a and not self.only_in_b and all(t.identical for t in self.tables.values())

    def changed_figures(self) -> int:
        return sum(len(t.changed) for t in self.tables.values())


def _published_value_columns(name: str) -> frozenset[str]:
    """Columns that are values, not keys, of a published table: its counts are text there ('*', '10')."""
    from tasks.privacy.disclosure import SDC_FLAGS_COLUMN, load_policy

    spec = load_policy().table_spec(name)
    return frozenset(spec.get("counts", [])) | {SDC_FLAGS_COLUMN}


def natural_key(name: str, df: pl.DataFrame) -> tuple[str, ...]:
    known = NATURAL_KEYS.get(name)
    if known and all(c in df.columns for c in known):
        return known
    values = _published_value_columns(name)
    return tuple(c for c, t in df.schema.items()
                 if c not in META_COLUMNS and c != "flags" and c not in values and isinstance(t, _KEY_TYPES))


def _close(a, b, abs_tol: float, rel_tol: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        fa, fb = float(a), float(b)
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return math.isclose(fa, fb, rel_tol=rel_tol, abs_tol=abs_tol)
    return a == b


def _with_occurrence(df: pl.DataFrame, key: tuple[str, ...]) -> pl.DataFrame:
    # duplicate keys (should not happen) are matched in order of appearance
    return df.with_columns(pl.int_range(pl.len()).over(list(key) or None).alias("_occ")) if key else \
        df.with_row_index("_occ")


def diff_frames(name: str, a: pl.DataFrame, b: pl.DataFrame, *, abs_tol: float = ABS_TOL,
                rel_tol: float = REL_TOL) -> TableDiff:
    """Compare two runs' rows of one table (run metadata columns ignored)."""
    a = a.drop([c for c in a.columns if c in META_COLUMNS])
    b = b.drop([c for c in b.columns if c in META_COLUMNS])
    key = natural_key(name, a if a.height else b)
    key = tuple(c for c in key if c in a.columns and c in b.columns)
    td = TableDiff(name, key, a.height, b.height)
    ka, kb = _with_occurrence(a, key), _with_occurrence(b, key)
    jk = [*key, "_occ"]
    # join keys must have the same type on both sides
    for c in jk:
        if c in ka.columns and c in kb.columns and ka.schema[c] != kb.schema[c]:
            ka = ka.with_columns(pl.col(c).cast(pl.String))
            kb = kb.with_columns(pl.col(c).cast(pl.String))
    ka = ka.with_columns(pl.lit(True).alias("_in_a"))
    kb = kb.with_columns(pl.lit(True).alias("_in_b"))
    joined = ka.join(kb, on=jk, how="full", coalesce=True, suffix="__b", nulls_equal=True)
    values = [c for c in a.columns if c not in key]
    for r in joined.iter_rows(named=True):
        k = {c: r[c] for c in key}
        if not r["_in_b"]:
            td.only_in_a.append(k)
            continue
        if not r["_in_a"]:
            td.only_in_b.append(k)
            continue
        for c in values:
            va = r.get(c)
            vb = r.get(f"{c}__b") if f"{c}__b" in r else None
            if c not in b.columns:
                vb = None
            if not _close(va, vb, abs_tol, rel_tol):
                delta = (vb - va) if isinstance(va, (int, float)) and isinstance(vb, (int, float)) \
                    and not isinstance(va, bool) and not isinstance(vb, bool) else None
                td.changed.append({**k, "column": c, "a": va, "b": vb, "delta": delta})
    for c in b.columns:
        if c not in a.columns and c not in key:
            td.changed.append({"column": c, "a": "(column absent)", "b": "(column present)", "delta": None})
    return td


def diff_tables(tables_a: dict[str, pl.DataFrame], tables_b: dict[str, pl.DataFrame], run_a: str = "A",
                run_b: str = "B", **tol) -> RunDiff:
    common = sorted(set(tables_a) & set(tables_b))
    return RunDiff(run_a, run_b, {n: diff_frames(n, tables_a[n], tables_b[n], **tol) for n in common},
                   only_in_a=sorted(set(tables_a) - set(tables_b)),
                   only_in_b=sorted(set(tables_b) - set(tables_a)))


def run_tables(con, run_id: str, schema: str = "results") -> dict[str, pl.DataFrame]:
    """Every table of ``schema`` with a run_id column, restricted to one run (empty tables left out).

    Published tables are read through :func:`tasks.outputs.published.published_tables`, the one
    reader of ``published.*``; ``results.*`` tables (never shown to readers) are read here.
    """
    from tasks.warehouse.sql import run_sql, to_polars

    if schema == "published":
        from tasks.outputs.published import published_tables

        tables = published_tables(con, run_id)
    else:
        names = [r[0] for r in run_sql(con, "queries/diff_run_tables", {"schema": schema}).fetchall()]
        tables = {name: to_polars(run_sql(con, "queries/run_rows", {"run_id": run_id}, table=f"{schema}.{name}"))
                  for name in names}
    return {name: df for name, df in tables.items() if df.height}


def resolve_run_id(known: list[str], given: str, db: str = "") -> str:
    """A full run id from itself or a unique prefix (as `edi-recruit runs` shows them)."""
    if given in known:
        return given
    matches = [k for k in known if k.startswith(given)]
    if len(matches) == 1:
        return matches[0]
    hint = f" (see `edi-recruit runs --db {db}`)" if db else ""
    if not matches:
        raise ValueError(f"no run {given!r} in results.runs{hint}")
    raise ValueError(f"run id prefix {given!r} matches {len(matches)} runs; give more characters{hint}")


def diff_runs(db: str, run_a: str, run_b: str, schema: str = "published", **tol) -> RunDiff:
    """Compare two runs' tables: the published (disclosure-controlled) ones by default; ``schema="results"``
    compares the unprotected result tables (restricted: `edi-recruit diff --results`)."""
    from tasks.warehouse.connection import reading
    from tasks.warehouse.sql import run_sql

    with reading(db) as con:
        known = [r[0] for r in run_sql(con, "queries/runs_list").fetchall()]
        run_a, run_b = resolve_run_id(known, run_a, db), resolve_run_id(known, run_b, db)
        return diff_tables(run_tables(con, run_a, schema), run_tables(con, run_b, schema), run_a, run_b, **tol)


def format_diff(d: RunDiff, max_rows: int = 50) -> str:
    """Plain-text summary for the CLI."""
    lines = [f"Runs {d.run_a} -> {d.run_b}: "
             + ("identical figures" if d.identical else f"{d.changed_figures()} figure(s) changed")]
    for n in d.only_in_a:
        lines.append(f"  table {n}: only in {d.run_a}")
    for n in d.only_in_b:
        lines.append(f"  table {n}: only in {d.run_b}")
    for name, t in d.tables.items():
        if t.identical:
            lines.append(f"  {name}: identical ({t.rows_a} rows)")
            continue
        lines.append(f"  {name}: {len(t.changed)} changed, {len(t.only_in_a)} rows only in A, "
                     f"{len(t.only_in_b)} rows only in B (key: {', '.join(t.key) or 'row order'})")
        for ch in t.changed[:max_rows]:
            k = " ".join(f"{c}={ch[c]}" for c in t.key if c in ch)
            delta = f" (Δ {ch['delta']:+.4g})" if isinstance(ch.get("delta"), (int, float)) else ""
            lines.append(f"      {k}  {ch['column']}: {ch['a']} -> {ch['b']}{delta}")
        if len(t.changed) > max_rows:
            lines.append(f"      … {len(t.changed) - max_rows} more")
        for k in t.only_in_a[:10]:
            lines.append(f"      only in A: {k}")
        for k in t.only_in_b[:10]:
            lines.append(f"      only in B: {k}")
    return "\n".join(lines)
