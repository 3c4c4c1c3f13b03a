"""Great Expectations plumbing: the run's file-backed context and the validation frames.

GX 1.x validates pandas DataFrames through its pandas datasource: each staged table's
*validation frame* is built in DuckDB by ``sql/checks/<table>.sql`` (the staged rows
plus helper columns; free text stays in DuckDB), streamed to Arrow and handed to
pandas without a per-value copy (:func:`validation_frame`).  (GX's SQLAlchemy path
to DuckDB is broken upstream, so the frames go through pandas.)

One in-memory context is built per process and reused by every run and backfill month
(:meth:`GXContext.for_run`; each run starts from empty stores).  The run's resolved suites and
validation results are written as JSON to ``<out_dir>/<run_id>/gx/`` and its Data Docs to
``<out_dir>/<run_id>/data_docs/index.html``, rewritten to load nothing from the network
(:mod:`tasks.validation.docs_offline`), so they persist with the run.

This module runs expectations and returns GX's results as they are; it never
decides severities or actions (:mod:`tasks.validation.rules`, :mod:`tasks.validation.gate`)
and never changes the warehouse.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import warnings
from pathlib import Path

from tasks.warehouse.sql import _split_statements, run_sql, sql_text

log = logging.getLogger(__name__)


# First pass (stored, rendered in Data Docs): counts plus up to 20 offending row ids per
# expectation.  The frame's index is _row_id, so GX's index lists are row ids.
SUMMARY_RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 20}


# Second pass, only for row-level expectations that failed: every offending row id (no values)
ROW_IDS_RESULT_FORMAT = {"result_format": "COMPLETE", "exclude_unexpected_values": True}


ROW_ID_FILE_SHIFT = 2 ** 32   # _row_id = file_no * 2^32 + _row_number (sql/checks/row_files.sql)


class GXContext:
    """GX's context for validation: one pandas datasource ("staging") and one Data Docs site ("run").

    Built once per process and reused by every run and backfill month (:meth:`for_run`): building a
    context, its stores and datasource costs about as much as validating a month's small tables.
    Each run starts from empty stores (:meth:`start_run`), so its Data Docs show that run only; the
    resolved suites and the validation results are also written as JSON to ``<run_dir>/gx/``.  The
    context is in memory ("ephemeral"): nothing of one run leaks into the next.  A second run started
    while another thread's run holds the process's context gets a context of its own.
    """

    built = 0   # contexts built in this process (the tests check reuse)

    def __init__(self, run_dir: Path | None = None):
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        self.gx = gx
        # GX fingerprints each in-memory batch (an md5 over every row, kept only as batch
        # metadata) unless the frame exceeds HASH_THRESHOLD bytes; at 1M applications that
        # costs seconds and checks nothing, so it is skipped for every frame
        from great_expectations.execution_engine import pandas_execution_engine

        pandas_execution_engine.HASH_THRESHOLD = 0
        # in-memory stores and no Data Docs site of GX's own (its default makes a temporary folder per process)
        self.ctx = gx.get_context(mode="ephemeral", project_config=DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False)))
        self.ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.source = self.ctx.data_sources.add_or_update_pandas("staging")
        self.root: Path | None = None
        self.docs_dir: Path | None = None
        GXContext.built += 1
        if run_dir is not None:
            self.start_run(run_dir)

    @classmethod
    def for_run(cls, run_dir: Path) -> GXContext:
        """The process's context, emptied and pointed at ``run_dir`` (built on first use)."""
        global _SHARED, _SHARED_OWNER
        me = threading.get_ident()
        with _SHARED_LOCK:
            if _SHARED is None:
                _SHARED = cls()
            alive = {t.ident for t in threading.enumerate()}
            mine = _SHARED_OWNER in (None, me) or _SHARED_OWNER not in alive   # a finished thread's run is over
            if mine:
                _SHARED_OWNER = me
        if not mine:
            log.info("the process's GX context is in use by another run: this run builds its own")
            return cls(run_dir)
        _SHARED.start_run(run_dir)
        return _SHARED

    def release(self) -> None:
        """Hand the process's context back (done by :meth:`build_docs`); other contexts: nothing to do."""
        global _SHARED_OWNER
        with _SHARED_LOCK:
            if self is _SHARED and _SHARED_OWNER == threading.get_ident():
                _SHARED_OWNER = None

    def start_run(self, run_dir: Path) -> None:
        """Empty the stores (suites, validation definitions, results) and send Data Docs to ``run_dir``."""
        self.root = Path(run_dir) / "gx"
        self.docs_dir = Path(run_dir) / "data_docs"
        # a re-run of the same run id starts afresh
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.docs_dir, ignore_errors=True)
        for store in (self.ctx.validation_definition_store, self.ctx.expectations_store,
                      self.ctx.validation_results_store):
            for key in store.list_keys():
                store.remove_key(key)
        self._data_docs_site()

    def _data_docs_site(self) -> None:
        """Data Docs go to ``<run_dir>/data_docs`` only."""
        if "run" in (self.ctx.get_config().data_docs_sites or {}):
            self.ctx.delete_data_docs_site("run")
        self.ctx.add_data_docs_site(site_name="run", site_config={
            "class_name": "SiteBuilder", "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(self.docs_dir.resolve())},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })

    def _record(self, kind: str, name: str, payload: dict) -> None:
        """Keep a run's resolved suite or validation result as JSON in ``<run_dir>/gx/<kind>/<name>.json``."""
        folder = self.root / kind
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.json").write_text(json.dumps(payload, indent=1, default=str), encoding="utf-8")

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
        self._record("expectations", name, suite.to_json_dict())
        self._record("validations", name, res.to_json_dict())
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
        """Build the run's Data Docs for offline reading (:mod:`tasks.validation.docs_offline`) and hand the
        context back; the path of their index page, or None when they could not be built."""
        from tasks.validation.docs_offline import make_offline

        try:
            self.ctx.build_data_docs(site_names=["run"])
            make_offline(self.docs_dir)
        except Exception as exc:  # noqa: BLE001 - docs are a report, not a gate
            first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            log.warning("Data Docs could not be built: %s", first_line)
            return None
        finally:
            self.release()
        index = self.docs_dir / "index.html"
        return str(index) if index.exists() else None


_SHARED: GXContext | None = None      # the process's context (GXContext.for_run)
_SHARED_OWNER: int | None = None      # the thread whose run holds it
_SHARED_LOCK = threading.Lock()


# --------------------------------------------------------------------------
# Validation frames: DuckDB -> Arrow -> pandas
# --------------------------------------------------------------------------
def validation_frame(con, table: str, params: dict):
    """The table's validation frame as Arrow-backed pandas, indexed by _row_id; and file_no -> sha256."""
    import pandas as pd

    files = run_sql(con, "checks/row_files", table=table).fetchall()
    statements = [st for st in _split_statements(sql_text(f"checks/{table}")) if st.strip()]
    for st in statements[:-1]:
        used = {k: v for k, v in params.items() if f"${k}" in st}
        con.execute(st, used) if used else con.execute(st)
    last = statements[-1]
    used = {k: v for k, v in params.items() if f"${k}" in last}
    # streamed to Arrow (no copy of the table in DuckDB); Arrow-backed pandas shares the buffers
    arrow = con.sql(last, params=used or None).to_arrow_table()
    df = to_pandas(arrow)
    df.index = pd.Index(df["_row_id"].to_numpy(dtype="int64"))
    return df, {int(n): sha for n, sha in files}


def to_pandas(arrow):
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


def index_ids(index_list) -> list[int]:
    """Row ids from a GX ``unexpected_index_list`` (plain values or ``{"_row_id": ...}`` dicts)."""
    out = []
    for item in index_list or []:
        v = item.get("_row_id") if isinstance(item, dict) else item
        if v is not None:
            out.append(int(v))
    return out
