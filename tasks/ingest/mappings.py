"""Column mappings (``mappings/*.yaml``) and matching extract files to canonical tables.

:func:`load_mappings` reads the given YAML files (default: every file in
``mappings/``) and returns one :class:`TableMapping` per canonical table: export
header -> canonical column, personal-data headers, date format and Y/N words.
It refuses unknown tables, unknown columns and unmapped canonical columns
(:class:`~tasks.ingest.readers.ExtractError`, one line).  :func:`discover`
matches the files of an extracts folder to tables by ``file_pattern``, one file
per table (two files for one table, e.g. ``vacancies.csv`` and ``vacancies.xlsx``,
stop with one line naming both).  The
format is documented in docs/data-contract.md.  Nothing here reads a file's rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from tasks.core.paths import MAPPINGS_DIR
from tasks.core.vocabulary import CANONICAL_TABLES, OPTIONAL_COLUMNS
from tasks.ingest.readers import ExtractError, file_format, iter_files

IGNORED_PREFIXES = ("truth",)  # the generator's answer key is never read

TWO_FILES = ("two files for table {table} in {folder}: {files}; an extract holds one file per table "
             "(it would be staged twice): keep one and move the other out of the folder")


# --------------------------------------------------------------------------
# Mappings
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class TableMapping:
    table: str
    source_system: str
    file_pattern: str
    columns: dict[str, str]            # export header -> canonical column
    personal_data: dict[str, str]      # export header -> forename/surname/email/phone
    date_format: str
    trues: tuple[str, ...]
    falses: tuple[str, ...]


def load_mappings(paths: list[Path] | None = None) -> dict[str, TableMapping]:
    """table -> mapping, from the given YAML files (default: every mappings/*.yaml)."""
    paths = paths or sorted(MAPPINGS_DIR.glob("*.yaml"))
    out: dict[str, TableMapping] = {}
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise ExtractError(f"mapping file not found: {path}")
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ExtractError(f"{path.name}: not valid YAML ({exc.__class__.__name__})") from None
        for table, spec in (doc.get("tables") or {}).items():
            if table not in CANONICAL_TABLES:
                raise ExtractError(
                    f"{path.name}: unknown table {table!r}; canonical tables: {', '.join(CANONICAL_TABLES)}")
            cols = {str(k): str(v) for k, v in (spec.get("columns") or {}).items()}
            unknown = sorted(set(cols.values()) - set(CANONICAL_TABLES[table]))
            if unknown:
                raise ExtractError(f"{path.name}: {table} maps to unknown columns {', '.join(unknown)}")
            missing = [c for c in CANONICAL_TABLES[table] if c not in cols.values()
                       and not (table == "applications" and c == "staff_id")
                       and c not in OPTIONAL_COLUMNS.get(table, ())]
            if missing:
                raise ExtractError(f"{path.name}: {table} has no mapping for {', '.join(missing)}")
            out[table] = TableMapping(
                table=table, source_system=str(doc.get("source_system", path.stem)),
                file_pattern=str(spec.get("file_pattern", f"{table}*")), columns=cols,
                personal_data={str(k): str(v) for k, v in (spec.get("personal_data") or {}).items()},
                date_format=str(doc.get("date_format", "%Y-%m-%d")),
                trues=tuple(str(x) for x in doc.get("boolean_true", ["Y", "Yes", "TRUE", "1"])),
                falses=tuple(str(x) for x in doc.get("boolean_false", ["N", "No", "FALSE", "0"])),
            )
    return out


# --------------------------------------------------------------------------
# Discovery
# --------------------------------------------------------------------------
@dataclass
class ExtractFile:
    table: str
    path: Path
    fmt: str
    source_system: str


def discover(extracts_dir: Path, mappings: dict[str, TableMapping]) -> tuple[list[ExtractFile], list[str]]:
    """Match files to tables by each mapping's file_pattern.  Returns (files, ignored file names)."""
    import fnmatch

    extracts_dir = Path(extracts_dir)
    if not extracts_dir.exists():
        raise ExtractError(f"extracts folder not found: {extracts_dir}")
    if not extracts_dir.is_dir():
        raise ExtractError(f"not a folder: {extracts_dir}")
    files: list[ExtractFile] = []
    ignored: list[str] = []
    for path in iter_files(extracts_dir):
        if path.name.lower().startswith(IGNORED_PREFIXES):
            continue
        stem = path.name.rsplit(".", 1)[0]
        matches = [m for m in mappings.values() if fnmatch.fnmatch(stem.lower(), m.file_pattern.lower())]
        if not matches:
            ignored.append(path.name)
            continue
        if len(matches) > 1:  # most specific pattern wins
            matches.sort(key=lambda m: -len(m.file_pattern))
        m = matches[0]
        try:
            fmt = file_format(path)
        except ExtractError:
            ignored.append(path.name)
            continue
        files.append(ExtractFile(m.table, path, fmt, m.source_system))
    for table in dict.fromkeys(f.table for f in files):
        names = [f.path.name for f in files if f.table == table]
        if len(names) > 1:
            raise ExtractError(TWO_FILES.format(table=table, files=" and ".join(names), folder=extracts_dir))
    found = {f.table for f in files}
    missing = [t for t in mappings if t not in found]
    if missing:
        raise ExtractError(
            f"no file for table(s) {', '.join(missing)} in {extracts_dir} "
            f"(expected names matching {', '.join(mappings[t].file_pattern for t in missing)})"
        )
    return files, ignored
