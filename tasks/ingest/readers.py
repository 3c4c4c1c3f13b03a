"""Reading extract files (CSV in any common encoding, XLSX, Parquet) as text.

Every value is read as text exactly as received; typing happens in SQL
(sql/models/staging/).  Files are streamed in chunks to Parquet so memory stays
bounded at any size.  Malformed rows (wrong number of fields, e.g. a
truncated last line) are kept, flagged in ``_malformed``, and quarantined
later: nothing is lost.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

CHUNK_ROWS = 200_000


FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".parquet": "parquet"}


csv.field_size_limit(64 * 1024 * 1024)


class ExtractError(Exception):
    """A problem with an extract that stops ingest (critical).  The message is one clear line."""


@dataclass
class ReadResult:
    headers: list[str]
    row_count: int
    encoding: str | None
    header_row: int | None
    parquet_path: Path
    malformed_rows: int = 0
    notes: list[str] = field(default_factory=list)


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ExtractError(f"{path.name}: unsupported file type {path.suffix!r} (use .csv, .xlsx or .parquet)")
    return fmt


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


MIXED_ENCODING = "utf-8+cp1252"  # UTF-8 with stray Windows-1252 bytes (e.g. a pasted curly quote)


def _cp1252_fallback(exc: UnicodeDecodeError):
    """Decode the bytes that are not UTF-8 as Windows-1252 (unmapped bytes become U+FFFD)."""
    bad = exc.object[exc.start:exc.end]
    return bad.decode("cp1252", errors="replace"), exc.end


codecs.register_error("edi_cp1252_fallback", _cp1252_fallback)


UTF16_WITHOUT_BOM = ("{name}: the file looks like UTF-16 text without a byte-order mark (NUL bytes between "
                     "its characters); save it as UTF-8, or as UTF-16 with a byte-order mark")


def detect_encoding(path: Path) -> str:
    """utf-8-sig or utf-16 when a byte-order mark says so; utf-8 when the bytes decode; cp1252 when no
    non-ASCII byte forms valid UTF-8; else UTF-8 with stray cp1252 bytes (MIXED_ENCODING).
    UTF-16 without a byte-order mark (NUL bytes in the first line) is an :class:`ExtractError`."""
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        fh.seek(0)
        first = fh.read(512)
        if first.count(b"\x00") * 4 >= len(first) > 0:
            raise ExtractError(UTF16_WITHOUT_BOM.format(name=path.name))
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for block in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
        # some bytes are not UTF-8: is any multi-byte UTF-8 sequence present at all?
        fh.seek(0)
        utf8_seq = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
        tail = b""
        for block in iter(lambda: fh.read(1 << 20), b""):
            if utf8_seq.search(tail + block):
                return MIXED_ENCODING
            tail = block[-3:]
        return "cp1252"


def _open_text(path: Path, encoding: str):
    if encoding == MIXED_ENCODING:
        return path.open("r", encoding="utf-8", errors="edi_cp1252_fallback", newline="")
    return path.open("r", encoding=encoding, newline="")


def _text(value) -> str | None:
    """A cell value from XLSX/Parquet as the text an export would show."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return text if text != "" else None


class _ChunkWriter:
    def __init__(self, headers: list[str], out: Path):
        self.headers = headers
        self.names = headers + ["_row_number", "_malformed"]
        self.schema = pa.schema([pa.field(n, pa.string()) for n in headers]
                                + [pa.field("_row_number", pa.int64()), pa.field("_malformed", pa.string())])
        self.writer = pq.ParquetWriter(out, self.schema, compression="zstd")
        self.cols: list[list] = [[] for _ in self.names]
        self.n = 0
        self.malformed = 0

    def add(self, values: list, row_number: int, malformed: str | None) -> None:
        width = len(self.headers)
        if malformed:
            self.malformed += 1
        vals = list(values[:width]) + [None] * max(0, width - len(values))
        for i, v in enumerate(vals):
            self.cols[i].append(v if v != "" else None)
        self.cols[width].append(row_number)
        self.cols[width + 1].append(malformed)
        self.n += 1
        if len(self.cols[0] if width else self.cols[width]) >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.cols[len(self.headers)]:
            self.writer.write_table(pa.table(self.cols, schema=self.schema))
            self.cols = [[] for _ in self.names]

    def close(self) -> None:
        self.flush()
        self.writer.close()


def _dedupe_headers(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, h in enumerate(headers):
        h = (h or "").strip() or f"column_{i + 1}"
        if h in seen:
            seen[h] += 1
            h = f"{h}__{seen[h]}"
        else:
            seen[h] = 1
        out.append(h)
    return out


def _ends_inside_quotes(path: Path, encoding: str) -> bool:
    """True when the file stops inside a quoted value: its last line was cut off.

    Only files without a final line break are parsed a second time (strictly).
    """
    with path.open("rb") as fh:
        fh.seek(0, 2)
        if fh.tell() == 0:
            return False
        fh.seek(-1, 2)
        if fh.read(1) in (b"\n", b"\r"):
            return False
    with _open_text(path, encoding) as fh:
        try:
            for _ in csv.reader(fh, strict=True):
                pass
        except csv.Error as exc:
            return "unexpected end of data" in str(exc)
    return False


def read_csv(path: Path, out: Path) -> ReadResult:
    encoding = detect_encoding(path)
    cut_off = _ends_inside_quotes(path, encoding)
    with _open_text(path, encoding) as fh:
        reader = csv.reader(fh)
        try:
            headers = next(reader)
        except StopIteration:
            raise ExtractError(f"{path.name}: the file is empty (no header row)") from None
        headers = _dedupe_headers(headers)
        writer = _ChunkWriter(headers, out)
        pending = None  # the last row is held back: it may be the truncated one
        try:
            n = 0
            for values in reader:
                if not values or (len(values) == 1 and values[0] == ""):
                    continue  # blank line
                n += 1
                bad = None
                if len(values) != len(headers):
                    bad = f"expected {len(headers)} fields, found {len(values)}"
                if pending is not None:
                    writer.add(*pending)
                pending = (values, n, bad)
        except csv.Error as exc:
            writer.close()
            raise ExtractError(f"{path.name}: unreadable CSV near data row {n + 1}: {exc}") from None
        if pending is not None:
            values, n_last, bad = pending
            if cut_off:
                bad = "the file ends inside a quoted value: the last line is truncated" + (f" ({bad})" if bad else "")
            writer.add(values, n_last, bad)
        writer.close()
    notes = [f"encoding {encoding} detected"] if encoding in ("cp1252", MIXED_ENCODING, "utf-16") else []
    if cut_off:
        notes.append("the last line is truncated")
    return ReadResult(headers, writer.n, encoding, 1, out, writer.malformed, notes)


def read_xlsx(path: Path, out: Path, expected_headers: set[str]) -> ReadResult:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        sheet = wb.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # noqa: BLE001 - calamine raises many types
        raise ExtractError(f"{path.name}: not a readable Excel workbook ({type(exc).__name__})") from None
    if not rows:
        raise ExtractError(f"{path.name}: the workbook's first sheet is empty")
    uncached = formula_cells_without_value(path)
    # Find the header row: title rows above the header are common in exports.
    header_idx, best = 0, -1
    for i, row in enumerate(rows[:30]):
        cells = {str(c).strip() for c in row if c not in (None, "")}
        score = len(cells & expected_headers)
        if score > best:
            header_idx, best = i, score
    if best <= 0:
        header_idx = next((i for i, r in enumerate(rows) if any(c not in (None, "") for c in r)), 0)
    headers_raw = [_text(c) or "" for c in rows[header_idx]]
    while headers_raw and headers_raw[-1] == "":
        headers_raw.pop()
    headers = _dedupe_headers(headers_raw)
    if uncached:
        raise ExtractError(_uncached_message(path.name, uncached, headers))
    writer = _ChunkWriter(headers, out)
    n = 0
    for row in rows[header_idx + 1:]:
        values = [_text(c) for c in row]
        if all(v is None for v in values):
            continue
        n += 1
        extra = [v for v in values[len(headers):] if v is not None]
        writer.add(values[: len(headers)], n, f"{len(extra)} values beyond the header" if extra else None)
    writer.close()
    notes = [f"header found on sheet row {header_idx + 1}"] if header_idx else []
    return ReadResult(headers, n, None, header_idx + 1, out, writer.malformed, notes)


_CELL = re.compile(r"([A-Z]+)(\d+)")
_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def formula_cells_without_value(path: Path) -> list[str]:
    """Cells of the workbook's first sheet holding a formula with no saved (cached) value, e.g. ``["C5"]``.

    Excel saves each formula's last value; files written by some tools (openpyxl,
    scripts) keep only the formula, which every reader then sees as blank.
    """
    import xml.etree.ElementTree as ET
    import zipfile

    rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    with zipfile.ZipFile(path) as zf:
        sheet = ET.fromstring(zf.read("xl/workbook.xml")).find(f"{_SHEET_NS}sheets/{_SHEET_NS}sheet")
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        rid = sheet.get(f"{rel_ns}id") if sheet is not None else None
        target = next((r.get("Target") for r in rels if r.get("Id") == rid), "worksheets/sheet1.xml")
        target = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        out = []
        with zf.open(target) as fh:
            for _, el in ET.iterparse(fh):
                if el.tag == f"{_SHEET_NS}c":
                    v = el.find(f"{_SHEET_NS}v")
                    if el.find(f"{_SHEET_NS}f") is not None and (v is None or not (v.text or "").strip()):
                        out.append(el.get("r"))
                    el.clear()
    return out


def _uncached_message(file_name: str, cells: list[str], headers: list[str]) -> str:
    def where(ref: str) -> str:
        letters, row = _CELL.fullmatch(ref).groups()
        i = 0
        for ch in letters:
            i = i * 26 + ord(ch) - 64
        column = headers[i - 1] if 0 < i <= len(headers) else f"column {letters}"
        return f"{ref} (column {column!r}, sheet row {row})"

    shown = ", ".join(where(c) for c in cells[:5]) + (f" and {len(cells) - 5} more" if len(cells) > 5 else "")
    return (f"{file_name}: {len(cells)} formula cell(s) with no saved value: {shown}; the workbook was saved "
            "without calculated values: open it in Excel and save it again, or paste the values")


def read_parquet(path: Path, out: Path) -> ReadResult:
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001
        raise ExtractError(f"{path.name}: not a readable Parquet file ({type(exc).__name__})") from None
    import pyarrow.compute as pc

    headers = _dedupe_headers(list(pf.schema_arrow.names))
    schema = pa.schema([pa.field(n, pa.string()) for n in headers]
                       + [pa.field("_row_number", pa.int64()), pa.field("_malformed", pa.string())])
    writer = pq.ParquetWriter(out, schema, compression="zstd")
    n = 0
    for batch in pf.iter_batches(batch_size=CHUNK_ROWS):
        cols = []
        for i in range(batch.num_columns):
            col = batch.column(i)
            if pa.types.is_boolean(col.type):
                col = pc.if_else(col, "true", "false")
            elif pa.types.is_timestamp(col.type):
                col = pc.strftime(col, format="%Y-%m-%d")
            elif not pa.types.is_string(col.type):
                col = pc.cast(col, pa.string())
            cols.append(pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col))
        rows = pa.array(range(n + 1, n + batch.num_rows + 1), pa.int64())
        cols += [rows, pa.nulls(batch.num_rows, pa.string())]
        writer.write_table(pa.table(cols, schema=schema))
        n += batch.num_rows
    writer.close()
    return ReadResult(headers, n, None, None, out, 0, [])


def read_extract(path: Path, out: Path, expected_headers: set[str]) -> ReadResult:
    fmt = file_format(path)
    if path.stat().st_size == 0:
        raise ExtractError(f"{path.name}: the file is empty (0 bytes)")
    if fmt == "csv":
        return read_csv(path, out)
    if fmt == "xlsx":
        return read_xlsx(path, out, expected_headers)
    return read_parquet(path, out)


def iter_files(directory: Path) -> Iterator[Path]:
    for p in sorted(directory.iterdir()):
        if p.is_file() and not p.name.startswith((".", "~$")):
            yield p
