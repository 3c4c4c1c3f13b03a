"""SQL files from sql/: loading, identifier quoting, execution.

Every SQL statement lives in ``sql/<layer>/<name>.sql``.  Statements take
named parameters (``$as_of_end``) bound by DuckDB, never string formatting of
values.  Identifiers (table names) are substituted from a fixed allow-list
with ``{{name}}`` placeholders, or as :class:`Fragment` built by the quoting
helpers here.
"""
from __future__ import annotations

import re

import duckdb
import polars as pl

from tasks.core.paths import SQL_DIR

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


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
    """Load ``sql/<name>.sql`` (name like 'models/staging/applications') and substitute ``{{placeholders}}``.

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
