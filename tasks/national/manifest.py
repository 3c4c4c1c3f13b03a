"""The manifest of a national run: which trusts, where their extracts and warehouses are, and the month.

Reads a YAML file (``as_of:`` and a ``trusts:`` list of mappings) or a CSV file
(one row per trust, an optional ``as_of`` column that must hold one value).
Each trust has:

==========================  =====================================================================
``trust_code``              the only name of the trust in national outputs (unique, letters/digits)
``region``                  its NHS England region (:data:`tasks.core.vocabulary.NHS_REGIONS`)
``extracts``                folder of its extract files
``db``                      its own DuckDB warehouse (a different file for every trust)
``out_dir``                 optional: its run outputs (default ``<db folder>/out``)
``key_file``                optional: its own pseudonymisation key file (default: the warehouse's
                            ``<db>.key``, made on the first run; never shared between trusts)
``adopts_<rule>``           optional: yes/no per programme rule (``letter_to_ceo``, ``diverse_panel``)
==========================  =====================================================================

Relative paths are resolved against the manifest's folder.  Returns a frozen
:class:`Manifest`; every problem raises :class:`ManifestError` with one line
naming the row and the field.  Never reads the extracts or the warehouses.
"""
from __future__ import annotations

import csv
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from tasks.core.months import parse_month
from tasks.core.vocabulary import NHS_REGIONS, TERM_DIVERSE_PANEL, TERM_LETTER_TO_CEO

RULES: tuple[str, ...] = (TERM_LETTER_TO_CEO, TERM_DIVERSE_PANEL)


REQUIRED = ("trust_code", "region", "extracts", "db")


OPTIONAL = ("out_dir", "key_file") + tuple(f"adopts_{r}" for r in RULES)


TRUST_CODE = re.compile(r"^[A-Z0-9]{2,10}$")


_YES, _NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0", ""}


class ManifestError(ValueError):
    """A manifest that cannot be run: one line naming the row and field."""


@dataclass(frozen=True)
class TrustEntry:
    """One trust of a national run (paths absolute, as text so the entry crosses process boundaries)."""

    trust_code: str
    region: str
    extracts: str
    db: str
    out_dir: str
    key_file: str | None
    adopts: dict

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Manifest:
    path: str
    as_of: str | None
    trusts: tuple[TrustEntry, ...]

    def codes(self) -> list[str]:
        return [t.trust_code for t in self.trusts]


def _flag(value, where: str) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return None if text == "" else False
    raise ManifestError(f"{where}: expected yes or no, got {value!r}")


def _path(base: Path, value) -> str:
    p = Path(str(value)).expanduser()
    return str((p if p.is_absolute() else base / p).resolve())


def _entry(row: dict, index: int, base: Path) -> TrustEntry:
    where = f"trust {index + 1}"
    missing = [k for k in REQUIRED if not str(row.get(k) or "").strip()]
    if missing:
        raise ManifestError(f"{where}: missing {', '.join(missing)}")
    code = str(row["trust_code"]).strip()
    where = f"trust {code}"
    if not TRUST_CODE.match(code):
        raise ManifestError(f"{where}: trust_code must be 2-10 capital letters or digits")
    region = str(row["region"]).strip()
    if region not in NHS_REGIONS:
        raise ManifestError(f"{where}: unknown region {region!r} (one of: {', '.join(NHS_REGIONS)})")
    unknown = sorted(set(row) - set(REQUIRED) - set(OPTIONAL) - {"as_of"})
    if unknown:
        raise ManifestError(f"{where}: unknown field(s) {', '.join(unknown)}")
    db = _path(base, row["db"])
    out_dir = _path(base, row["out_dir"]) if row.get("out_dir") else str(Path(db).parent / "out")
    key_file = _path(base, row["key_file"]) if row.get("key_file") else None
    adopts = {r: _flag(row.get(f"adopts_{r}"), f"{where}: adopts_{r}") for r in RULES}
    return TrustEntry(code, region, _path(base, row["extracts"]), db, out_dir, key_file, adopts)


def _rows(path: Path) -> tuple[str | None, list[dict]]:
    if path.suffix.lower() in (".yaml", ".yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict) or not isinstance(data.get("trusts"), list):
            raise ManifestError(f"{path}: a YAML manifest needs a 'trusts:' list")
        as_of = data.get("as_of")
        return (str(as_of) if as_of else None), [dict(r or {}) for r in data["trusts"]]
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = [{k.strip(): (v or "").strip() for k, v in r.items() if k} for r in csv.DictReader(fh)]
        months = {r.get("as_of") for r in rows if r.get("as_of")}
        if len(months) > 1:
            raise ManifestError(f"{path}: one as_of for every trust, got {', '.join(sorted(months))}")
        return (months.pop() if months else None), [{k: v for k, v in r.items() if v != ""} for r in rows]
    raise ManifestError(f"{path}: a manifest is .yaml, .yml or .csv")


def read_manifest(path: str | Path, *, as_of: str | None = None) -> Manifest:
    """The manifest at ``path``; ``as_of`` (e.g. from the command line) overrides the file's month."""
    p = Path(path)
    if not p.is_file():
        raise ManifestError(f"manifest not found: {p}")
    file_as_of, rows = _rows(p)
    if not rows:
        raise ManifestError(f"{p}: no trusts")
    month = as_of or file_as_of
    if month:
        try:
            parse_month(str(month))
        except Exception as exc:
            raise ManifestError(f"{p}: as_of must be YYYY-MM, got {month!r}") from exc
    base = p.parent.resolve()
    trusts = tuple(_entry(r, i, base) for i, r in enumerate(rows))
    for field in ("trust_code", "db", "extracts"):
        values = [getattr(t, field) for t in trusts]
        dupes = sorted({v for v in values if values.count(v) > 1})
        if dupes:
            raise ManifestError(f"{p}: {field} must differ between trusts; repeated: {', '.join(dupes)}")
    keys = [t.key_file for t in trusts if t.key_file]
    if len(keys) != len(set(keys)):
        raise ManifestError(f"{p}: key_file must differ between trusts (each trust keeps its own key)")
    return Manifest(str(p.resolve()), str(month) if month else None, trusts)


def write_manifest(path: str | Path, *, as_of: str, trusts: list[dict]) -> Path:
    """Write a YAML manifest (paths as given; relative ones are read against the manifest's folder)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(yaml.safe_dump({"as_of": as_of, "trusts": trusts}, sort_keys=False), encoding="utf-8")
    return p
