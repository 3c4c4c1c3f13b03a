"""DuckDB access: SQL files from sql/, read-only reads for analyses, one writer.

Every SQL statement lives in ``sql/<layer>/<name>.sql``.  Statements take
named parameters (``$as_of_end``) bound by DuckDB, never string formatting of
values.  Identifiers (table names) are substituted from a fixed allow-list
with ``{{name}}`` placeholders.
"""
from __future__ import annotations

import contextlib
import os
import re
import time
from datetime import date
from pathlib import Path
from typing import Iterator

import duckdb
import polars as pl

from tasks.vocabulary import SCHEMAS, SQL_DIR

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
DUCKDB_SETTINGS = {
    # never download extensions at run time
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "false",
}


class WarehouseBusy(RuntimeError):
    """Another process holds the DuckDB file for writing."""


class Fragment(str):
    """A piece of SQL built only by :func:`quoted` / :func:`column_list` / :func:`aliased_list`
    from identifiers (quoted, with embedded quotes doubled): safe to substitute into sql/ files."""


def quoted(name: str) -> str:
    """A quoted SQL identifier, e.g. an export header ``Date Applied`` -> ``"Date Applied"``."""
    return '"' + str(name).replace('"', '""') + '"'


def column_list(names, suffix: str = "") -> Fragment:
    """``"a" <suffix>, "b" <suffix>`` for data-driven column lists (suffix: a type such as VARCHAR)."""
    if suffix and not re.fullmatch(r"[A-Z ]+", suffix):
        raise ValueError(f"unsafe column suffix {suffix!r}")
    return Fragment(", ".join(f"{quoted(n)}{' ' + suffix if suffix else ''}" for n in names))


def aliased_list(pairs) -> Fragment:
    """``"source header" AS alias, ...``; aliases must be plain identifiers."""
    out = []
    for src, alias in pairs:
        if not _IDENT.match(alias):
            raise ValueError(f"unsafe SQL alias {alias!r}")
        out.append(f"{quoted(src)} AS {alias}")
    return Fragment(", ".join(out))


def sql_text(name: str, **identifiers: str) -> str:
    """Load ``sql/<name>.sql`` (name like 'staging/applications') and substitute ``{{placeholders}}``.

    A placeholder takes a plain identifier (checked) or a :class:`Fragment`.  Values
    are never substituted: they are bound as ``$parameters``.
    """
    path = SQL_DIR / f"{name}.sql"
    if not path.exists():
        raise FileNotFoundError(f"no SQL file {path.relative_to(SQL_DIR.parent)}")
    text = path.read_text(encoding="utf-8")
    for key, value in identifiers.items():
        if isinstance(value, Fragment):
            text = text.replace("{{" + key + "}}", value)
            continue
        if not _IDENT.match(value):
            raise ValueError(f"unsafe SQL identifier {value!r}")
        text = text.replace("{{" + key + "}}", value)
    if "{{" in text:
        missing = sorted(set(re.findall(r"\{\{(\w+)\}\}", text)))
        raise ValueError(f"sql/{name}.sql needs identifiers: {', '.join(missing)}")
    return text


def _config() -> dict:
    cfg = dict(DUCKDB_SETTINGS)
    threads = os.environ.get("EDI_RECRUIT_DUCKDB_THREADS")
    if threads:
        cfg["threads"] = threads
    # DuckDB's own default is 80% of RAM; bound it so a large ingest spills to disk
    # instead of crowding out the rest of the pipeline (override with the env var).
    cfg["memory_limit"] = os.environ.get("EDI_RECRUIT_DUCKDB_MEMORY_LIMIT", "4GB")
    return cfg


def connect(db_path: str | Path, read_only: bool = False, wait_seconds: float = 0.0,
            create_schemas: bool | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse.  A write connection creates the schemas.

    When another process holds the file, retry for ``wait_seconds`` and then
    raise :class:`WarehouseBusy` with a clear message.
    """
    db_path = str(db_path)
    if read_only and not Path(db_path).exists():
        raise FileNotFoundError(f"no warehouse at {db_path}: run `edi-recruit ingest` or `edi-recruit run` first")
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con = duckdb.connect(db_path, read_only=read_only, config=_config())
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"the warehouse {db_path} is in use by another process; wait for it to finish"
                ) from exc
            time.sleep(0.5)
    if create_schemas if create_schemas is not None else not read_only:
        for schema in SCHEMAS:
            con.execute(sql_text("meta/create_schema", schema=schema))
    return con


@contextlib.contextmanager
def reading(db_path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection for reading.

    It is opened with the same configuration as writers so that, inside one
    process, readers and the single writer share one DuckDB instance (DuckDB
    refuses a read-only and a read-write instance of one file in a process).
    Readers never write; writers hold tasks.locks.writer_lock.
    """
    if not Path(str(db_path)).exists():
        raise FileNotFoundError(f"no warehouse at {db_path}: run `edi-recruit ingest` or `edi-recruit run` first")
    con = connect(db_path, read_only=False, wait_seconds=60, create_schemas=False)
    try:
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def writing(db_path: str | Path, wait_seconds: float = 1800) -> Iterator[duckdb.DuckDBPyConnection]:
    """The single writer: holds the writer lock for the file while connected."""
    from tasks.locks import writer_lock

    with writer_lock(db_path, timeout=wait_seconds):
        con = connect(db_path, read_only=False, wait_seconds=wait_seconds)
        try:
            yield con
        finally:
            con.close()


def run_sql(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None, **identifiers: str):
    """Execute every statement of ``sql/<name>.sql``; return the last relation's result as a polars frame if any."""
    text = sql_text(name, **identifiers)
    statements = [s for s in _split_statements(text) if s.strip()]
    result = None
    for stmt in statements:
        used = {k: v for k, v in (params or {}).items() if f"${k}" in stmt}
        result = con.execute(stmt, used) if used else con.execute(stmt)
    return result


def to_polars(result) -> pl.DataFrame:
    """The current result of an executed statement as a polars frame (DuckDB 2 has no .pl() on connections)."""
    import warnings

    with warnings.catch_warnings():  # small results: the extra copy DuckDB warns about is harmless
        warnings.simplefilter("ignore", UserWarning)
        return pl.from_arrow(result.to_arrow_table())


def query(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None, **identifiers: str) -> pl.DataFrame:
    res = run_sql(con, name, params, **identifiers)
    return to_polars(res) if res is not None else pl.DataFrame()


def _split_statements(text: str) -> list[str]:
    # statements are separated by a semicolon at the end of a line; SQL files
    # here never put semicolons inside string literals at line ends.
    lines, out, buf = text.splitlines(), [], []
    for line in lines:
        stripped = line.split("--", 1)[0].rstrip()
        buf.append(line)
        if stripped.endswith(";"):
            out.append("\n".join(buf))
            buf = []
    if "".join(buf).strip():
        out.append("\n".join(buf))
    return out


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, _, table = qualified.partition(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


# --------------------------------------------------------------------------
# Point-in-time reads of the marts for analyses
# --------------------------------------------------------------------------
MART_DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    # a record is visible to a run for as_of=M if all these dates are <= end of M
    "application_funnel": ("advert_date", "applied_date"),
    "score_sheets": ("advert_date", "applied_date"),
    "assessment_texts": ("advert_date", "written_date"),
    "ceo_letter_texts": ("advert_date", "written_date"),
    "panel_members": ("advert_date",),
    "vacancy_features": ("advert_date",),
    "workforce": ("snapshot_month",),
}
# Natural keys: every read is ordered by them, so analyses see rows in the same
# order on every run and in every warehouse built from the same extracts.
MART_KEYS: dict[str, tuple[str, ...]] = {
    "application_funnel": ("application_id",),
    "score_sheets": ("application_id", "member_id"),
    "assessment_texts": ("application_id", "author_id"),
    "ceo_letter_texts": ("vacancy_id",),
    "panel_members": ("vacancy_id", "member_id"),
    "vacancy_features": ("vacancy_id",),
    "workforce": ("snapshot_month", "staff_id"),
}
MART_WINDOW_COLUMN: dict[str, str] = {
    "application_funnel": "advert_date", "score_sheets": "advert_date",
    "assessment_texts": "advert_date", "ceo_letter_texts": "advert_date",
    "panel_members": "advert_date", "vacancy_features": "advert_date",
    "workforce": "snapshot_month",
}


def load_mart(ctx, name: str, columns: list[str] | None = None, window: bool = False) -> pl.DataFrame:
    """Read ``marts.<name>`` as of ``ctx.as_of`` (records dated after the month end are excluded).

    ``window=True`` also applies the run's analysis window (``ctx.window_start``).
    """
    if name not in MART_DATE_COLUMNS:
        raise ValueError(f"unknown mart {name!r}; known: {', '.join(sorted(MART_DATE_COLUMNS))}")
    params: dict = {"as_of_end": ctx.as_of_end}
    as_of_filter = Fragment(" AND ".join(f"{quoted(c)} <= $as_of_end" for c in MART_DATE_COLUMNS[name]))
    window_filter = Fragment("TRUE")
    if window and ctx.window_start is not None:
        window_filter = Fragment(f"{quoted(MART_WINDOW_COLUMN[name])} >= $window_start")
        params["window_start"] = ctx.window_start
    sql = sql_text("marts/as_of", mart=name, columns=column_list(columns) if columns else Fragment("*"),
                   as_of_filter=as_of_filter, window_filter=window_filter,
                   order_by=column_list(MART_KEYS[name]))
    with reading(ctx.db_path) as con:
        return pl.from_arrow(con.sql(sql, params=params).to_arrow_table())


def as_date(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
