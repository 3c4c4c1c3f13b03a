"""The validation gate: Great Expectations suites over the staged tables.

Runs after ingest and before the marts (see :func:`validate`).  For every
staged table, in dependency order (hiring managers, vacancies, panels,
applications, then scores, assessments, letters and the workforce):

1. ``sql/checks/<table>.sql`` builds a *validation frame*: the
   staged rows plus helper columns for the checks that need other tables or
   run parameters (referential integrity, stage logic, date windows, the
   landing date of the row's file, exact copies and key conflicts).  Free text
   stays in DuckDB; only its length and flags go to the frame.
2. The frame is pulled into pandas and validated by GX 1.x through its pandas
   datasource against ``expectations/<table>.json``.  The context is
   file-backed and lives in the run's folder, ``<out_dir>/<run_id>/gx``, so
   the resolved suites, validation results and Data Docs
   (``<out_dir>/<run_id>/data_docs/index.html``) persist with the run.
3. Each expectation's ``meta.severity`` decides what a failure does:

   * ``critical``: the run stops before any analysis: :class:`ValidationCritical`
     (one line: file, column, count, a few pseudonymous IDs).  A row-level
     expectation failed by more than ``systemic_share`` of a table's rows is
     escalated to critical (a wrong mapping or a broken export, not bad rows);
     so is a table where ingest could not parse that share of rows.
   * ``row-level``: the offending rows move to ``quarantine.<table>`` with
     their raw values (:func:`tasks.ingest.quarantine`); the rest proceed.
     Children of a quarantined row fail their referential check next and
     follow it (their reason says so).
   * ``warning``: reported, nothing stopped.

4. Reconciliation: raw = staged + quarantined for every table; a mismatch is
   critical.

Everything the gate changes happens in one DuckDB transaction: a critical stop
rolls back the quarantine moves, so staging is as ingest left it.  The gate's
results (``validation`` and ``quarantine_summary``) are returned as polars
frames and written under ``<out_dir>/<run_id>/results/`` for publish; on a
critical stop they are also written straight to ``results.validation`` so a
failed run keeps its reasons.  Row-count drift compares with the staged
counts of the previous validated run (``meta.validation_row_counts``).
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sys
import time
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from tasks.core import vocabulary as V
from tasks.core.months import month_end, parse_month
from tasks.core.paths import EXPECTATIONS_DIR
from tasks.core.run_context import RunContext
from tasks.core.vocabulary import CANONICAL_TABLES, TABLE_KEYS
from tasks.warehouse.sql import query

log = logging.getLogger(__name__)


SEVERITIES: tuple[str, ...] = ("critical", "row-level", "warning")


# dependency order: a parent is validated (and its bad rows quarantined) before its children
VALIDATION_ORDER: tuple[str, ...] = (
    "hiring_managers", "vacancies", "panel_members", "applications",
    "interview_scores", "assessments", "ceo_letters", "workforce",
)


INGEST_EXPECTATIONS = {
    "row_well_formed": "malformed line (wrong number of fields, e.g. a truncated last line)",
    "values_parse": "a value could not be parsed as its type (date, number, Y/N)",
}


# a leading =, +, - or @ makes a spreadsheet treat text as a formula
FORMULA_PATTERN = r"^\s*[=+@]|^\s*-[A-Za-z0-9_.+*/-]*[(|!]"


DEFAULT_WINDOW_START = "2000-01"


# expectations on an aggregate of a 0/1 helper column: observed_value is a share
AGGREGATE_TYPES = ("expect_column_mean_to_be_between",)


SAMPLE_IDS = 5


VALIDATION_COLUMNS = {
    "suite": pl.Utf8, "expectation": pl.Utf8, "expectation_type": pl.Utf8, "column_name": pl.Utf8,
    "severity": pl.Utf8, "success": pl.Boolean, "element_count": pl.Int64, "unexpected_count": pl.Int64,
    "unexpected_percent": pl.Float64, "action_taken": pl.Utf8, "file_names": pl.Utf8, "sample_ids": pl.Utf8,
    "reason": pl.Utf8,
}


QUARANTINE_SUMMARY_COLUMNS = {"table_name": pl.Utf8, "expectation": pl.Utf8, "reason": pl.Utf8, "rows": pl.Int64}


# pandas dtypes a DuckDB type can arrive as (see _to_pandas)
_PANDAS_TYPES = {
    "VARCHAR": ["str", "string", "object", "StringDtype"],
    "DATE": ["datetime64[us]", "datetime64[ns]", "datetime64[ms]", "datetime64[s]", "date32[day][pyarrow]"],
    "BOOLEAN": ["bool", "boolean", "BooleanDtype", "bool[pyarrow]"],
    "DOUBLE": ["float64", "Float64", "float32", "double[pyarrow]"],
    "INTEGER": ["int32", "Int32", "int64", "Int64", "float64", "int32[pyarrow]", "int64[pyarrow]"],
}


# First pass (stored, rendered in Data Docs): counts plus up to 20 offending row ids per
# expectation.  The frame's index is _row_id, so GX's index lists are row ids.
SUMMARY_RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 20}


# Second pass, only for row-level expectations that failed: every offending row id (no values)
ROW_IDS_RESULT_FORMAT = {"result_format": "COMPLETE", "exclude_unexpected_values": True}


ROW_ID_FILE_SHIFT = 2 ** 32   # _row_id = file_no * 2^32 + _row_number (sql/checks/row_files.sql)


class ValidationCritical(Exception):
    """A critical validation failure: the run stops before analysis.  ``str()`` is one line."""

    def __init__(self, message: str, results: pl.DataFrame | None = None, data_docs_path: str | None = None):
        super().__init__(message.replace("\n", " "))
        self.results = results
        self.data_docs_path = data_docs_path


@dataclass
class ValidationOutcome:
    run_id: str
    as_of: str
    tables: dict[str, pl.DataFrame]
    result_paths: dict[str, str]
    data_docs_path: str | None
    summary: str
    reconciliation: list[dict] = field(default_factory=list)
    quarantined_rows: dict[str, int] = field(default_factory=dict)
    newly_quarantined: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def warnings(self) -> pl.DataFrame:
        v = self.tables["validation"]
        return v.filter((pl.col("severity") == "warning") & ~pl.col("success"))


# --------------------------------------------------------------------------
# Suites: expectations/<table>.json with placeholders resolved
# --------------------------------------------------------------------------
def suite_path(table: str) -> Path:
    return EXPECTATIONS_DIR / f"{table}.json"


def load_suite_file(table: str) -> dict:
    path = suite_path(table)
    if not path.exists():
        raise ValidationCritical(f"no expectation suite for {table}: {path} is missing")
    return json.loads(path.read_text(encoding="utf-8"))


def frame_columns(table: str) -> list[str]:
    """Canonical columns present in the validation frame (free text stays in DuckDB)."""
    return [c for c in CANONICAL_TABLES[table] if not (table in V.TEXT_TABLES and c == "text")]


class _Unresolved(Exception):
    pass


def _resolve(value: Any, table: str, params: dict) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (k, v), = value.items()
        if k == "$vocabulary":
            out = getattr(V, v)
            return list(out) if isinstance(out, (tuple, list)) else out
        if k == "$param":
            if params.get(v) is None:
                raise _Unresolved(v)
            return params[v]
        if k == "$columns":
            return frame_columns(v)
        if k == "$pandas_types":
            return list(_PANDAS_TYPES[v])
    if isinstance(value, dict):
        return {k: _resolve(v, table, params) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, table, params) for v in value]
    return value


def resolve_suite(doc: dict, params: dict) -> tuple[list[dict], list[str]]:
    """Expectation configs with placeholders filled; and names skipped for lack of a parameter."""
    table = doc["name"]
    out, skipped = [], []
    for exp in doc["expectations"]:
        try:
            kwargs = _resolve(exp["kwargs"], table, params)
        except _Unresolved:
            skipped.append(exp["meta"]["name"])
            continue
        out.append({"type": exp["type"], "kwargs": kwargs, "meta": dict(exp["meta"])})
    return out, skipped


# --------------------------------------------------------------------------
# Great Expectations (file-backed context in the run folder)
# --------------------------------------------------------------------------
class _GX:
    def __init__(self, run_dir: Path):
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.gx = gx
        # GX fingerprints each in-memory batch (an md5 over every row, kept only as batch
        # metadata) unless the frame exceeds HASH_THRESHOLD bytes; at 1M applications that
        # costs seconds and checks nothing, so it is skipped for every frame
        from great_expectations.execution_engine import pandas_execution_engine

        pandas_execution_engine.HASH_THRESHOLD = 0
        self.root = run_dir / "gx"
        self.docs_dir = run_dir / "data_docs"
        # one context per run: a re-run of the same run id starts afresh
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.docs_dir, ignore_errors=True)
        self.ctx = gx.get_context(mode="file", project_root_dir=str(self.root))
        self.ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.ctx.variables.save()
        sites = self.ctx.get_config().data_docs_sites or {}
        if "run" not in sites:
            self.ctx.add_data_docs_site(site_name="run", site_config={
                "class_name": "SiteBuilder", "show_how_to_buttons": False,
                "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                  "base_directory": str(self.docs_dir.resolve())},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            })
        if "local_site" in sites:
            self.ctx.delete_data_docs_site("local_site")
        self.source = self.ctx.data_sources.add_or_update_pandas("staging")

    def run(self, name: str, configs: list[dict], df, result_format: dict) -> list:
        """Validate ``df`` against the suite; the results are stored in the run's context (Data Docs)."""
        from great_expectations.core.expectation_suite import ExpectationSuite
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        batch_def = self._batch_definition(name)
        suite = ExpectationSuite(name=name, expectations=[ExpectationConfiguration(**c) for c in configs],
                                 meta={"source": f"expectations/{name.split('.')[0]}.json"})
        suite = self.ctx.suites.add(suite)
        vd = self.ctx.validation_definitions.add(
            self.gx.ValidationDefinition(data=batch_def, suite=suite, name=name))
        with warnings.catch_warnings():
            # pandas warns that ETHNIC_CODE_PATTERN has groups (str.contains): harmless
            warnings.simplefilter("ignore", UserWarning)
            res = vd.run(batch_parameters={"dataframe": df}, result_format=result_format)
        return list(res.results)

    def offending_rows(self, name: str, configs: list[dict], df) -> list:
        """Re-run failed row-level expectations with the COMPLETE result format to list every
        offending row.  Not stored: the run's stored results and Data Docs keep the summary."""
        from great_expectations.core.expectation_suite import ExpectationSuite
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        batch = self._batch_definition(name).get_batch(batch_parameters={"dataframe": df})
        suite = ExpectationSuite(name=f"{name}.offending_rows",
                                 expectations=[ExpectationConfiguration(**c) for c in configs])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            res = batch.validate(suite, result_format=ROW_IDS_RESULT_FORMAT)
        return list(res.results)

    def _batch_definition(self, name: str):
        try:
            asset = self.source.get_asset(name)
        except LookupError:
            asset = self.source.add_dataframe_asset(name=name)
        try:
            return asset.get_batch_definition("whole")
        except (KeyError, LookupError, ValueError):
            return asset.add_batch_definition_whole_dataframe("whole")

    def build_docs(self) -> str | None:
        try:
            self.ctx.build_data_docs(site_names=["run"])
        except Exception as exc:  # noqa: BLE001 - docs are a report, not a gate
            log.warning("Data Docs could not be built: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            return None
        index = self.docs_dir / "index.html"
        return str(index) if index.exists() else None


# --------------------------------------------------------------------------
# One checked expectation
# --------------------------------------------------------------------------
@dataclass
class Check:
    table: str
    name: str
    type: str
    severity: str
    column: str | None
    success: bool
    element_count: int
    unexpected_count: int
    reason: str
    action: str
    row_ids: list[int] = field(default_factory=list)
    sample_ids: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    observed: str = ""
    action_taken: str = "none"

    @property
    def unexpected_percent(self) -> float:
        return 100.0 * self.unexpected_count / self.element_count if self.element_count else 0.0

    def row(self) -> dict:
        return {
            "suite": self.table, "expectation": self.name, "expectation_type": self.type,
            "column_name": self.column or "", "severity": self.severity, "success": self.success,
            "element_count": self.element_count, "unexpected_count": self.unexpected_count,
            "unexpected_percent": round(self.unexpected_percent, 4), "action_taken": self.action_taken,
            "file_names": ", ".join(self.files), "sample_ids": ", ".join(self.sample_ids[:SAMPLE_IDS]),
            "reason": self.reason,
        }

    def message(self) -> str:
        where = ", ".join(self.files) or f"the {self.table} extract"
        col = f"column {self.column}" if self.column else f"table {self.table}"
        count = (f"{self.unexpected_count:,} of {self.element_count:,} rows ({self.unexpected_percent:.0f}%)"
                 if self.element_count else f"{self.unexpected_count:,} rows")
        if self.type.startswith("expect_table_") or self.name.endswith("_type"):
            count = self.observed or "failed"
        eg = f"; e.g. {', '.join(self.sample_ids[:SAMPLE_IDS])}" if self.sample_ids else ""
        return f"{where}: {col}: {count}: {self.reason} [{self.table}.{self.name}]{eg}"


def _index_ids(result: dict) -> list[int]:
    out = []
    for item in result.get("unexpected_index_list") or []:
        if isinstance(item, dict):
            v = item.get("_row_id")
        else:
            v = item
        if v is not None:
            out.append(int(v))
    return out


def _column_of(cfg) -> str | None:
    kw = cfg.kwargs
    col = kw.get("column") or kw.get("column_A") or (", ".join(kw["column_list"]) if kw.get("column_list") else None)
    if col and col.startswith("_"):
        return None
    return col


def _helper_column(cfg) -> str | None:
    col = cfg.kwargs.get("column")
    return col if col and col.startswith("_") else None


# --------------------------------------------------------------------------
# The gate
# --------------------------------------------------------------------------
def validate(
    db_path: str,
    run_id: str,
    *,
    as_of: str,
    out_dir: str,
    unknown_ethnicity_threshold: float = 0.10,
    drift_threshold: float = 0.25,
    window_start: str = DEFAULT_WINDOW_START,
    systemic_share: float = 0.5,
    systemic_min_rows: int = 20,
    data_docs: bool = True,
) -> ValidationOutcome:
    """Validate the staged tables, quarantine row-level failures, reconcile; stop on critical.

    Call after :func:`tasks.ingest.ingest_extracts` and before :func:`tasks.ingest.build_marts`.
    Raises :class:`ValidationCritical` (one-line message) when the run must stop.
    ``data_docs=False`` skips building Data Docs (tests; the GX results are still stored).
    """
    from tasks.ingest.quarantine import quarantine, reconcile
    from tasks.warehouse.connection import table_exists, writing
    from tasks.warehouse.sql import run_sql

    t0 = time.perf_counter()
    as_of_end = month_end(parse_month(as_of))
    start = parse_month(window_start)
    run_dir = Path(out_dir) / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    if not Path(str(db_path)).exists():
        raise ValidationCritical(f"no warehouse at {db_path}: run `edi-recruit ingest` first")
    gxr = _GX(run_dir)
    checks: list[Check] = []
    before: dict[str, int] = {}
    with writing(db_path) as con:
        if not table_exists(con, "meta.extract_set"):
            raise ValidationCritical(f"nothing staged in {db_path}: run `edi-recruit ingest` first")
        files = query(con, "checks/files")
        tables = [t for t in VALIDATION_ORDER if t in set(files["table_name"].to_list())
                  and table_exists(con, f"staging.{t}")]
        if not tables:
            raise ValidationCritical(f"nothing staged in {db_path}: run `edi-recruit ingest` first")
        file_of = {r["sha256"]: r["file_name"] for r in files.iter_rows(named=True)}
        run_sql(con, "checks/row_counts")
        prev = {r["table_name"]: int(r["row_count"])
                for r in query(con, "checks/previous_counts", {"run_id": run_id}).iter_rows(named=True)}
        for t in tables:
            run_sql(con, "ops/quarantine/create", table=t)
            before[t] = run_sql(con, "queries/count_rows", table=f"quarantine.{t}").fetchone()[0]
        checks += _file_checks(con, files, tables)
        con.execute("BEGIN TRANSACTION")
        committed = False
        try:
            counts: dict[str, int] = {}
            for t in tables:
                checks += _ingest_checks(con, t, files, systemic_share, systemic_min_rows)
                n_rows = run_sql(con, "queries/count_rows", table=f"staging.{t}").fetchone()[0]
                counts[t] = n_rows
                params = {
                    "unknown_ethnicity_threshold": unknown_ethnicity_threshold,
                    # "at most threshold unknown" == "at least 1 - threshold known" (GX `mostly`)
                    "known_ethnicity_min_share": 1.0 - unknown_ethnicity_threshold,
                    "row_count_min": int(prev[t] * (1 - drift_threshold)) if t in prev else None,
                    "row_count_max": int(prev[t] * (1 + drift_threshold) + 0.999) if t in prev else None,
                    "previous_row_count": prev.get(t),
                }
                table_files = sorted(files.filter(pl.col("table_name") == t)["file_name"].to_list())
                table_checks = _validate_table(con, gxr, t, params, file_of, table_files, start, as_of_end,
                                               systemic_share, systemic_min_rows, quarantine)
                checks += table_checks
            critical = [c for c in checks if c.severity == "critical" and not c.success]
            recon = reconcile(con, tables)
            bad = [r for r in recon if not r["balanced"]]
            for r in bad:
                checks.append(Check(r["table_name"], "reconciliation", "python", "critical", None, False,
                                    r["raw_rows"], abs(r["raw_rows"] - r["staged_rows"] - r["quarantined_rows"]),
                                    f"raw {r['raw_rows']} != staged {r['staged_rows']} + quarantined "
                                    f"{r['quarantined_rows']}", "A bug: report it with the run id.",
                                    files=sorted(files.filter(pl.col("table_name") == r["table_name"])["file_name"].to_list()),
                                    observed="rows lost or duplicated between raw, staging and quarantine"))
            critical = [c for c in checks if c.severity == "critical" and not c.success]
            if critical:
                con.execute("ROLLBACK")
                for c in checks:
                    if c.action_taken == "quarantined":
                        c.action_taken = "would quarantine (run stopped)"
                for c in critical:
                    c.action_taken = "stopped the run"
            else:
                for t, n in counts.items():
                    run_sql(con, "checks/record_counts", {
                        "run_id": run_id, "table_name": t, "row_count": n, "validated_at": datetime.now()})
                con.execute("COMMIT")
                committed = True
        except ValidationCritical:
            raise
        except Exception:
            if not committed:
                try:
                    con.execute("ROLLBACK")
                except Exception:  # noqa: BLE001
                    pass
            raise
        validation = _validation_frame(checks)
        if critical:
            _write_results_directly(con, run_id, validation)
        else:
            recon = reconcile(con, tables)
        qsum = _quarantine_summary(con, tables)
        after = {t: run_sql(con, "queries/count_rows", table=f"quarantine.{t}").fetchone()[0] for t in tables}
    docs = gxr.build_docs() if data_docs else None
    if critical:
        first = critical[0]
        more = f" (+{len(critical) - 1} more critical)" if len(critical) > 1 else ""
        docs_note = f"; details: {docs}" if docs else ""
        raise ValidationCritical(f"validation stopped the run: {first.message()}{more}{docs_note}",
                                 results=validation, data_docs_path=docs)
    ctx = RunContext(db_path=str(db_path), run_id=run_id, as_of=as_of, out_dir=str(out_dir))
    from tasks.publish.results_store import write_tables

    out_tables = {"validation": validation, "quarantine_summary": qsum}
    paths = write_tables(ctx, out_tables)
    outcome = ValidationOutcome(
        run_id=run_id, as_of=as_of, tables=out_tables, result_paths=paths, data_docs_path=docs, summary="",
        reconciliation=recon, quarantined_rows=after,
        newly_quarantined={t: after[t] - before.get(t, 0) for t in tables},
        seconds=time.perf_counter() - t0,
    )
    outcome.summary = summarise(outcome)
    log.info("validation: %s", outcome.summary.splitlines()[0])
    return outcome


def _frame(con, table: str, params: dict):
    """The table's validation frame as Arrow-backed pandas, indexed by _row_id; and file_no -> sha256."""
    import pandas as pd

    from tasks.warehouse.sql import _split_statements, run_sql, sql_text

    files = run_sql(con, "checks/row_files", table=table).fetchall()
    statements = [st for st in _split_statements(sql_text(f"checks/{table}")) if st.strip()]
    for st in statements[:-1]:
        used = {k: v for k, v in params.items() if f"${k}" in st}
        con.execute(st, used) if used else con.execute(st)
    last = statements[-1]
    used = {k: v for k, v in params.items() if f"${k}" in last}
    # streamed to Arrow (no copy of the table in DuckDB); Arrow-backed pandas shares the buffers
    arrow = con.sql(last, params=used or None).to_arrow_table()
    df = _to_pandas(arrow)
    df.index = pd.Index(df["_row_id"].to_numpy(dtype="int64"))
    return df, {int(n): sha for n, sha in files}


def _to_pandas(arrow):
    """Arrow -> pandas without per-value Python objects.

    Strings stay in their Arrow buffers (pandas' pyarrow-backed ``str`` dtype, what DuckDB's
    ``.df()`` ends up with after building a Python object per value).  Dates become datetime64;
    booleans and integers are numpy when they have no nulls and pandas' nullable dtypes when they
    do (as ``.df()``), so the type expectations read the same.  (Categoricals were tried: cheaper
    for GX's per-expectation filtering, but encoding them costs more than it saves.)"""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    def mapper(t):
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            return pd.StringDtype("pyarrow", na_value=np.nan)
        if pa.types.is_boolean(t):
            return pd.BooleanDtype()
        if pa.types.is_int32(t):
            return pd.Int32Dtype()
        if pa.types.is_int64(t):
            return pd.Int64Dtype()
        return None

    df = arrow.to_pandas(types_mapper=mapper, date_as_object=False)
    for name, col in zip(arrow.column_names, arrow.columns):
        if col.null_count == 0 and (pa.types.is_boolean(col.type) or pa.types.is_int32(col.type)
                                    or pa.types.is_int64(col.type)):
            df[name] = df[name].to_numpy(dtype=col.type.to_pandas_dtype())
    return df


def _validate_table(con, gxr: _GX, table: str, params: dict, file_of: dict, table_files: list[str],
                    start: date, as_of_end: date, systemic_share: float, systemic_min_rows: int, quarantine) -> list[Check]:
    from tasks.warehouse.sql import run_sql

    t0 = time.perf_counter()
    doc = load_suite_file(table)
    configs, skipped = resolve_suite(doc, params)
    if skipped:
        log.info("%s: skipped %s (no previous run to compare with)", table, ", ".join(skipped))
    df, sha_of_file = _frame(con, table, {
        "window_start": start, "as_of_end": as_of_end, "unknown_codes": list(V.UNKNOWN_CODES),
        "formula_pattern": FORMULA_PATTERN,
    })
    t_frame = time.perf_counter()
    results = gxr.run(table, configs, df, SUMMARY_RESULT_FORMAT)
    t_gx = time.perf_counter()
    key = TABLE_KEYS[table]
    checks: list[Check] = []
    for r in results:
        cfg = r.expectation_config
        meta = cfg.meta or {}
        res = r.result or {}
        exc = r.exception_info or {}
        raised = bool(exc.get("raised_exception")) if isinstance(exc, dict) and "raised_exception" in exc else any(
            isinstance(v, dict) and v.get("raised_exception") for v in (exc.values() if isinstance(exc, dict) else []))
        severity = meta.get("severity", "warning")
        element_count = int(res.get("element_count") or len(df))
        unexpected = int(res.get("unexpected_count") or 0)
        c = Check(table, meta.get("name", cfg.type), cfg.type, severity, _column_of(cfg), bool(r.success),
                  element_count, unexpected, meta.get("reason", ""), meta.get("action", ""))
        if raised:
            c.success, c.severity = False, "critical"
            c.observed = "the expectation could not be evaluated (schema changed?)"
            c.reason = f"{c.reason}; GX could not evaluate it"
        elif cfg.type.startswith("expect_table_") or cfg.type in AGGREGATE_TYPES:
            obs = res.get("observed_value")
            c.element_count = len(df)
            if cfg.type == "expect_table_columns_to_match_set" and not r.success:
                missing = sorted(set(cfg.kwargs.get("column_set") or []) - set(obs or []))
                c.observed = f"missing {', '.join(missing)}"
            elif cfg.type in AGGREGATE_TYPES and obs is not None:
                c.observed = f"observed share {float(obs):.1%}"
                c.unexpected_count = int(round(float(obs) * len(df)))
                if not r.success:
                    c.reason = f"{c.reason} ({c.observed}, threshold {cfg.kwargs.get('max_value'):.0%})"
            else:
                c.observed = f"observed {obs}"
                if c.name == "row_count_drift":
                    c.reason = _drift_reason(table, c.reason, r.success, obs, cfg.kwargs, params)
        elif cfg.type == "expect_column_values_to_be_in_type_list":
            c.observed = f"observed {res.get('observed_value')}"
        elif cfg.kwargs.get("mostly") is not None:
            # a share check on a 0/1 helper column (unknown ethnicity): the offending rows are
            # counted, not quarantined; observed share = offending / rows
            share = c.unexpected_count / c.element_count if c.element_count else 0.0
            c.observed = f"observed share {share:.1%}"
            if not r.success:
                c.reason = f"{c.reason} ({c.observed}, threshold {1 - float(cfg.kwargs['mostly']):.0%})"
        # the summary holds up to 20 offending row ids: enough for a sample and the file names
        c.row_ids = sorted(_index_ids({"unexpected_index_list": res.get("partial_unexpected_index_list")})) \
            if not r.success else []
        if not c.success and c.severity == "row-level":
            share = c.unexpected_count / c.element_count if c.element_count else 0.0
            if c.element_count >= systemic_min_rows and share > systemic_share:
                c.severity = "critical"
                c.reason = (f"{c.reason} (systemic: more than {systemic_share:.0%} of rows; "
                            "check the mapping and the export)")
        checks.append(c)
    # every offending row of the row-level failures that are not systemic: a second GX pass over
    # just those expectations, with complete index lists
    need_rows = [c for c in checks if not c.success and c.severity == "row-level" and c.type != "ingest"]
    if need_rows:
        by_name = {c.name: c for c in need_rows}
        full = gxr.offending_rows(table, [cfg for cfg in configs if cfg["meta"].get("name") in by_name], df)
        for r in full:
            c = by_name.get((r.expectation_config.meta or {}).get("name"))
            if c is not None:
                c.row_ids = sorted(_index_ids(r.result or {}))
    for c in checks:
        if c.row_ids:
            sample = df.loc[c.row_ids[:SAMPLE_IDS]]
            c.sample_ids = [
                (str(v) if v is not None and str(v) not in ("", "nan", "NaT", "<NA>") else f"row_id {rid}")
                for rid, v in zip(sample["_row_id"].tolist(), sample[key[0]].tolist())
            ]
            nos = {rid // ROW_ID_FILE_SHIFT for rid in c.row_ids}
            c.files = sorted({file_of.get(sha_of_file.get(n, ""), sha_of_file.get(n, "?")[:12]) for n in nos})
        elif not c.success:
            c.files = list(table_files)
        if not c.success and c.severity == "row-level" and not c.row_ids:
            c.severity = "critical"
            c.reason = f"{c.reason} (offending rows could not be identified)"
    # move row-level failures to quarantine: the first failing expectation (suite order) names the row
    rows: dict[int, tuple[str, str]] = {}
    for c in checks:
        if c.severity == "row-level" and not c.success:
            c.action_taken = "quarantined"
            for rid in c.row_ids:
                rows.setdefault(rid, (c.name, c.reason))
        elif not c.success:
            c.action_taken = {"critical": "stopped the run", "warning": "reported"}[c.severity]
    if rows:
        import pyarrow as pa

        rel = pa.table({"_row_id": pa.array(list(rows), pa.int64()),
                        "expectation": [v[0] for v in rows.values()],
                        "reason": [v[1] for v in rows.values()]})
        con.register("validation_failed_rows", rel)
        try:
            run_sql(con, "checks/quarantine_rows", rows="validation_failed_rows")
        finally:
            con.unregister("validation_failed_rows")
        quarantine(con, table, "validation_quarantine")
        log.info("%s: %d row(s) quarantined", table, len(rows))
    log.info("%s: %d rows, %d checks: frame %.1fs, GX %.1fs, rest %.1fs", table, len(df), len(checks),
             t_frame - t0, t_gx - t_frame, time.perf_counter() - t_gx)
    return checks


def _drift_reason(table: str, reason: str, success: bool, observed, kwargs: dict, params: dict) -> str:
    """The recorded reason of the row-count drift check describes what happened on this run."""
    prev = params.get("previous_row_count")
    lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
    was = f"{prev:,} in the previous validated run" if prev is not None else f"expected {lo:,}..{hi:,}"
    if success:
        return (f"{observed:,} {table} rows, within the drift threshold of the previous validated run "
                f"({was}; allowed {lo:,}..{hi:,})")
    return f"{reason} ({observed:,} rows; {was}; allowed {lo:,}..{hi:,})"


def _ingest_checks(con, table: str, files: pl.DataFrame, systemic_share: float, systemic_min_rows: int) -> list[Check]:
    """Rows ingest could not stage (malformed lines, unparseable values), reported as row-level results."""
    raw_n = con.execute(
        f"SELECT count(*) FROM raw.{table} WHERE _sha256 IN (SELECT sha256 FROM meta.extract_set WHERE table_name = ?)",
        [table]).fetchone()[0]
    got = {r["expectation"]: r for r in query(con, "checks/ingest_rejects",
                                              {"table_name": table}, table=table).iter_rows(named=True)}
    out = []
    for name, reason in INGEST_EXPECTATIONS.items():
        r = got.get(name)
        n = int(r["n"]) if r else 0
        c = Check(table, name, "ingest", "row-level", None, n == 0, raw_n, n, reason,
                  "Correct the rows in the source system and re-export; they wait in quarantine with their raw values.")
        if r:
            c.files = sorted(r["files"])
            c.sample_ids = [f"row {x}" for x in r["sample_rows"]]
            c.reason = f"{reason}: {r['example_reason']}" if r["example_reason"] else reason
            c.action_taken = "quarantined"
            m = re.search(r"could not parse (\w+)", r["example_reason"] or "")
            c.column = m.group(1) if m else None
            if raw_n >= systemic_min_rows and n / raw_n > systemic_share:
                c.severity, c.action_taken = "critical", "stopped the run"
                c.reason += f" (systemic: more than {systemic_share:.0%} of rows; check the mapping and the export)"
        out.append(c)
    return out


def _file_checks(con, files: pl.DataFrame, tables: list[str]) -> list[Check]:
    """File-level warnings: not UTF-8, and unmapped extra columns (kept in raw, ignored)."""
    from tasks.ingest.mappings import load_mappings
    from tasks.warehouse.sql import run_sql

    out = []
    try:
        mappings = load_mappings()
    except Exception:  # noqa: BLE001 - custom mappings given to ingest: skip the header check
        mappings = {}
    for r in files.iter_rows(named=True):
        t = r["table_name"]
        if t not in tables:
            continue
        enc = r["encoding"]
        utf8 = enc in (None, "utf-8", "utf-8-sig")
        out.append(Check(t, "file_is_utf8", "file", "warning", None, utf8, 1, 0 if utf8 else 1,
                         f"{r['file_name']} is not valid UTF-8; decoded as {enc}" if not utf8 else "file is UTF-8",
                         "Ask for UTF-8 exports; check names and text in the file read correctly.",
                         files=[r["file_name"]], action_taken="reported" if not utf8 else "none"))
        m = mappings.get(t)
        row = run_sql(con, "ops/meta/get_setting", {"name": f"headers:{r['sha256']}"}).fetchone()
        if m is None or row is None:
            continue
        headers = json.loads(row[0])
        extra = [h for h in headers if h not in m.columns and h not in m.personal_data]
        out.append(Check(t, "no_unmapped_columns", "file", "warning", ", ".join(extra) or None, not extra, 1,
                         len(extra),
                         f"{len(extra)} column(s) not in the mapping, kept in raw and ignored: {', '.join(extra)}"
                         if extra else "every column is mapped",
                         "Nothing to do unless a column was renamed: then add it to mappings/.",
                         files=[r["file_name"]], action_taken="reported" if extra else "none"))
    return out


def _validation_frame(checks: list[Check]) -> pl.DataFrame:
    rows = [c.row() for c in checks]
    if not rows:
        return pl.DataFrame(schema=VALIDATION_COLUMNS)
    return pl.DataFrame(rows, schema=VALIDATION_COLUMNS)


def _quarantine_summary(con, tables: list[str]) -> pl.DataFrame:
    frames = [query(con, "checks/quarantine_summary", {"table_name": t}, table=t) for t in tables]
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame(schema=QUARANTINE_SUMMARY_COLUMNS)
    return pl.concat(frames).cast(QUARANTINE_SUMMARY_COLUMNS)


def _write_results_directly(con, run_id: str, validation: pl.DataFrame) -> None:
    """A failed run keeps its reasons: results.validation written here (publish never runs)."""
    from tasks.warehouse.sql import run_sql

    df = validation.select(pl.lit(run_id, dtype=pl.Utf8).alias("run_id"), pl.all())
    con.register("validation_results_frame", df.to_arrow())
    try:
        con.execute("BEGIN TRANSACTION")
        run_sql(con, "ops/validation/create", frame="validation_results_frame")
        run_sql(con, "ops/validation/replace", {"run_id": run_id}, frame="validation_results_frame")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("validation_results_frame")


# --------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------
def summarise(outcome: ValidationOutcome) -> str:
    v = outcome.tables["validation"]
    failed = v.filter(~pl.col("success"))
    n_row = failed.filter(pl.col("severity") == "row-level").height
    warn = failed.filter(pl.col("severity") == "warning")
    new_q = sum(outcome.newly_quarantined.values())
    total_q = sum(outcome.quarantined_rows.values())
    status = "PASSED" if failed.height == 0 else "PASSED with quarantine/warnings"
    lines = [
        f"Validation {status} for run {outcome.run_id} (as of {outcome.as_of}) in {outcome.seconds:.1f}s: "
        f"{v.height} checks; critical 0, row-level failures {n_row}, warnings {warn.height}.",
    ]
    q = outcome.tables["quarantine_summary"]
    if q.height:
        by_table = q.group_by("table_name").agg(pl.col("rows").sum()).sort("table_name")
        lines.append(f"  quarantined rows: {total_q:,} ({new_q:,} new this run): " + "; ".join(
            f"{r['table_name']} {r['rows']:,}" for r in by_table.iter_rows(named=True)))
        for r in q.sort("rows", descending=True).head(8).iter_rows(named=True):
            lines.append(f"    {r['table_name']}.{r['expectation']}: {r['rows']:,}  ({r['reason'][:90]})")
    for r in warn.iter_rows(named=True):
        what = f"{r['unexpected_count']:,} rows" if r["expectation_type"] not in ("file",) else r["reason"][:90]
        if r["expectation"] in ("unknown_ethnicity_share", "row_count_drift"):
            what = r["reason"][:120]
        lines.append(f"  warning {r['suite']}.{r['expectation']}: {what}")
    ok = all(r["balanced"] for r in outcome.reconciliation)
    lines.append(f"  reconciliation: raw = staged + quarantined for {len(outcome.reconciliation)} tables"
                 if ok else "  reconciliation: MISMATCH")
    if outcome.data_docs_path:
        lines.append(f"  Data Docs: {outcome.data_docs_path}")
    return "\n".join(lines)


def print_summary(outcome: ValidationOutcome | str, file=None) -> None:
    """Print the end-of-run summary (no Prefect needed)."""
    text = outcome if isinstance(outcome, str) else outcome.summary
    print(text, file=file or sys.stdout)
