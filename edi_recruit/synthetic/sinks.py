"""Output sinks: the raw-export files of a trust (csv, csv-bom, csv-cp1252, xlsx, parquet) and the truth CSVs.

Reads mappings/trac.yaml and mappings/esr.yaml for the raw header of every
canonical field.  Writes one file per table of :data:`TRUST_TABLES` plus
truth_pii.csv and truth_documents.csv, streaming (bounded memory), with
byte-identical output for identical input ("Determinism" in
docs/synthetic-data.md).  It never draws a random number and never decides
a value: callers hand it finished columns keyed by canonical field name.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

from tasks.core.paths import MAPPINGS_DIR

FORMATS: dict[str, str] = {"csv": "csv", "csv-bom": "csv", "csv-cp1252": "csv", "xlsx": "xlsx", "parquet": "parquet"}


XLSX_MAX_ROWS = 1_048_575


PARQUET_ROW_GROUP = 262_144


TRUST_TABLES: tuple[str, ...] = (
    "vacancies", "hiring_managers", "panel_members", "applications",
    "interview_scores", "assessments", "ceo_letters", "workforce",
)


PII_HEADER = ["document_type", "document_ref", "pii_type", "value"]


DOCUMENTS_HEADER = ["document_type", "document_ref", "dominant_theme", "n_sentences", "n_positive_sentences"]


class Sink:
    """One streamed output file: header row first, then ``write`` per chunk, then ``close``."""

    def __init__(self, path: Path, fmt: str, headers: list[str], numeric: set[str], table: str):
        self.path, self.fmt, self.headers, self.table = path, fmt, headers, table
        self.rows = 0
        self.schema = pa.schema([(h, pa.int64() if h in numeric else pa.string()) for h in headers])
        self._buf: list[pa.Table] = []
        self._buffered = 0
        if FORMATS[fmt] == "csv":
            self._fh = path.open("wb")
            if fmt == "csv-bom":
                self._fh.write(b"\xef\xbb\xbf")
            sio = io.StringIO()
            csv.writer(sio, lineterminator="\n").writerow(headers)
            self._write_text(sio.getvalue())
        elif fmt == "parquet":
            self._pw = pq.ParquetWriter(path, self.schema, compression="zstd", use_dictionary=True)
        else:
            import xlsxwriter
            self._wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                                       "strings_to_formulas": False, "strings_to_urls": False})
            self._wb.set_properties({"title": table, "author": "edi-recruit synthetic generator",
                                     "created": datetime(2024, 1, 1, 0, 0, 0)})
            self._ws = self._wb.add_worksheet(table)
            self._ws.write_row(0, 0, headers)

    def _write_text(self, text: str) -> None:
        if self.fmt == "csv-cp1252":
            try:
                self._fh.write(text.encode("cp1252"))
            except UnicodeEncodeError as exc:  # pragma: no cover - the generator only emits cp1252 text
                raise ValueError(f"{self.table}: text not representable in cp1252: {exc}") from None
        else:
            self._fh.write(text.encode("utf-8"))

    def write(self, cols: dict[str, pa.Array]) -> None:
        if set(cols) != set(self.headers):
            raise RuntimeError(f"{self.table}: columns {sorted(set(cols) ^ set(self.headers))} mismatch")
        t = pa.table([cols[h] for h in self.headers], schema=self.schema)
        if t.num_rows == 0:
            return
        self.rows += t.num_rows
        if self.fmt == "xlsx" and self.rows > XLSX_MAX_ROWS:
            raise ValueError(f"xlsx cannot hold table {self.table!r}: more than {XLSX_MAX_ROWS:,} rows; "
                             f"use --format parquet or csv, or fewer applications")
        if FORMATS[self.fmt] == "csv":
            buf = io.BytesIO()
            pacsv.write_csv(t, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
            data = buf.getvalue()
            if self.fmt == "csv-cp1252":
                self._write_text(data.decode("utf-8"))
            else:
                self._fh.write(data)
        elif self.fmt == "parquet":
            self._buf.append(t)
            self._buffered += t.num_rows
            if self._buffered >= PARQUET_ROW_GROUP:
                self._flush(final=False)
        else:
            r0 = self.rows - t.num_rows + 1
            cols_py = [c.to_pylist() for c in t.columns]
            for i, row in enumerate(zip(*cols_py)):
                self._ws.write_row(r0 + i, 0, row)

    def _flush(self, final: bool = True) -> None:
        if self._buf:
            t = pa.concat_tables(self._buf)
            self._buf, self._buffered = [], 0
            off = 0
            while t.num_rows - off >= PARQUET_ROW_GROUP or (final and off < t.num_rows):
                self._pw.write_table(t.slice(off, PARQUET_ROW_GROUP), row_group_size=PARQUET_ROW_GROUP)
                off += PARQUET_ROW_GROUP
            if off < t.num_rows:
                self._buf, self._buffered = [t.slice(off)], t.num_rows - off

    def close(self) -> None:
        if FORMATS[self.fmt] == "csv":
            self._fh.close()
        elif self.fmt == "parquet":
            self._flush()
            self._pw.close()
        else:
            self._wb.close()


def _load_mapping(name: str) -> dict:
    with (MAPPINGS_DIR / f"{name}.yaml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def export_headers() -> dict[str, list[str]]:
    """Raw export header names of each table, from mappings/trac.yaml and mappings/esr.yaml."""
    out: dict[str, list[str]] = {}
    for src in ("trac", "esr"):
        for table, spec in _load_mapping(src)["tables"].items():
            out[table] = list(spec["columns"]) + list(spec.get("personal_data") or {})
    return out


def header_by_canonical() -> dict[str, dict[str, str]]:
    """table -> canonical/personal field name -> raw header."""
    out: dict[str, dict[str, str]] = {}
    for src in ("trac", "esr"):
        for table, spec in _load_mapping(src)["tables"].items():
            d = {v: k for k, v in (spec.get("personal_data") or {}).items()}
            d.update({v: k for k, v in spec["columns"].items()})
            out[table] = d
    return out


class TrustWriter:
    """Every output file of one trust: a :class:`Sink` per table and the two truth CSVs.

    ``write(table, columns)`` takes columns keyed by canonical field name and
    renames them to the raw headers of the mapping files.
    """

    def __init__(self, out: Path, fmt: str):
        self.out, self.fmt = out, fmt
        self.hdr = header_by_canonical()
        headers = export_headers()
        ext = FORMATS[fmt]
        out.mkdir(parents=True, exist_ok=True)
        numeric = {self.hdr["vacancies"]["posts"], self.hdr["interview_scores"]["score"],
                   self.hdr["interview_scores"]["max_score"]}
        self.sinks: dict[str, Sink] = {}
        self._pii_fh = self._doc_fh = None
        try:
            for t in TRUST_TABLES:
                self.sinks[t] = Sink(out / f"{t}.{ext}", fmt, headers[t], numeric, t)
            self._pii_fh = (out / "truth_pii.csv").open("w", encoding="utf-8", newline="")
            self._doc_fh = (out / "truth_documents.csv").open("w", encoding="utf-8", newline="")
        except BaseException:
            self.close()
            raise
        self._pii_w = csv.writer(self._pii_fh, lineterminator="\n")
        self._doc_w = csv.writer(self._doc_fh, lineterminator="\n")
        self._pii_w.writerow(PII_HEADER)
        self._doc_w.writerow(DOCUMENTS_HEADER)

    def files(self) -> dict[str, Path]:
        ext = FORMATS[self.fmt]
        return {t: self.out / f"{t}.{ext}" for t in TRUST_TABLES}

    def row_counts(self) -> dict[str, int]:
        return {t: self.sinks[t].rows for t in TRUST_TABLES}

    def write(self, table: str, canon: dict[str, pa.Array]) -> None:
        h = self.hdr[table]
        self.sinks[table].write({h[k]: v for k, v in canon.items()})

    def write_truth_rows(self, pii_rows: list[tuple], document_rows: list[tuple]) -> None:
        """Rows of truth_pii.csv and truth_documents.csv (see :data:`PII_HEADER`, :data:`DOCUMENTS_HEADER`)."""
        self._pii_w.writerows(pii_rows)
        self._doc_w.writerows(document_rows)

    def close(self) -> None:
        for s in self.sinks.values():
            s.close()
        for fh in (self._pii_fh, self._doc_fh):
            if fh is not None:
                fh.close()
