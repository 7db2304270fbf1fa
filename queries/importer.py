"""Import CSV, Excel or parquet files as a new, validated, versioned dataset; switch between versions.

Layout of a datasets folder:
    versions/<id>/            one folder per version (parquet per table + version.json), never changed
    active.json               which version is active (replaced atomically)
    history.jsonl             every activation: version, who, when
    .staging-*/               an import in progress, locked by its process (.owner, flock); removed when
                              the import ends or fails, and at the next start when no process holds it

Hostile input is bounded while it is read: a file over the size limit is never read; a zip is expanded
member by member in chunks, counting declared and actual sizes against the same limit for all members
together, and stops at the limit; a zip inside a zip is refused (no nesting); symbolic links and special
files are refused; a CSV may have at most MAX_COLUMNS columns, MAX_CELL_CHARS characters per cell and
MAX_LINE_CHARS per line; one encoding per file. A CSV or Excel table is read, cast and written to
the staging parquet CHUNK_ROWS rows at a time, so that memory follows the chunk, not the file.
"""

import codecs
import csv
import datetime as dt
import fcntl
import hashlib
import io
import itertools
import json
import math
import os
import re
import shutil
import stat
import tempfile
import time
import uuid
import weakref
import zipfile
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from queries.contract import SUBTYPES, TABLES
from queries.validate import Problem, validate

DEFAULT_MAX_MB = 200
# the mapped import (wide sheets, REDCap, SPSS/Stata) holds every cell as a Python object: its own,
# lower limit keeps its peak memory under twice DEFAULT_MAX_MB (README, "Hostile input")
DEFAULT_MAX_MAPPED_MB = 30
MAX_COLUMNS = 5_000  # wide REDCap exports reach a few thousand fields; the contract needs ten
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
MAX_LINE_CHARS = 1_000_000
MAX_ZIP_MEMBERS = 1_000
CHUNK = 1 << 20
# rows read, cast and written at a time: an import's memory follows this, not the file's size
CHUNK_ROWS = 20_000
ABANDONED_UNLOCKED_S = 600  # a staging folder without an owner file is being created, or was left
INT64 = (-(2**63), 2**63 - 1)
ALIASES = {"ae": "adverse_events", "aes": "adverse_events", "adverse_event": "adverse_events",
           "patient": "patients", "infusion": "infusions", "relapse": "relapses", "lab": "labs",
           "mris": "mri", "contacts": "engagement"}
ARROW = {"string": pa.string(), "date": pa.date32(), "double": pa.float64(), "integer": pa.int64(),
         "boolean": pa.bool_()}
TRUE = {"true", "t", "yes", "y", "1"}
FALSE = {"false", "f", "no", "n", "0"}
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
NON_FINITE = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "∞", "-∞"}
ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})([ T].*)?")
DMY_DATE = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})")
# a well-formed UTF-8 multi-byte sequence: its presence next to a non-UTF-8 byte means mixed encodings
UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)


class ImportFailed(Exception):
    """An import that cannot go on: the message names the file and what is wrong."""


@dataclass
class Source:
    """One table read from an uploaded file (or one sheet of it), cells still as given.

    Empty cells are None or blank text; a float NaN also counts as empty (pandas' marker for a
    missing value) unless ``frame.attrs["nan_is_value"]`` is set, as for parquet, where NaN is a
    value distinct from null and therefore an error.
    """
    name: str  # file (and sheet) as the user knows it
    table: str
    frame: pd.DataFrame
    first_line: int  # file line number of the frame's first row
    # one label per frame row, in frame order, as the user knows the row ("cohort.xlsx › Patients ›
    # row 37"); when set, every problem about the row names it (any sequence: read a row at a time)
    row_labels: Sequence[str] | None = None
    # contract column → the source column its values came from ({"edss": "EDSS 12m"})
    column_labels: dict[str, str] = field(default_factory=dict)
    # the rows, read while staging in frames of CHUNK_ROWS, when `frame` holds only the header (a
    # CSV or Excel file read directly): a large file is never in memory whole
    rows: Iterator[pd.DataFrame] | None = field(default=None, repr=False)

    def chunks(self) -> Iterator[pd.DataFrame]:
        """The source's rows in frames of at most CHUNK_ROWS rows, in order (read once)."""
        if self.rows is not None:
            rows, self.rows = self.rows, iter(())
            yield from rows
            return
        for start in range(0, len(self.frame), CHUNK_ROWS):
            yield self.frame.iloc[start:start + CHUNK_ROWS]


@dataclass
class Segment:
    """Where rows start..start+count-1 (0-based) of a staged table came from."""
    start: int
    name: str
    count: int
    row_labels: Sequence[str] | None
    column_labels: dict[str, str]


class _Picked(Sequence):
    """The labels of the rows kept from a source: their positions among its labels (8 bytes a
    row), not a second list of the labels."""

    def __init__(self, labels: Sequence[str]):
        self.labels = labels
        self.positions = array("q")

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, i: int) -> str:
        return self.labels[self.positions[i]]


class _Lines(Sequence):
    """The file line of every staged row of one table, kept in a file in the staging folder (8 bytes
    a row) rather than in memory; read back only for the few rows that a problem names."""

    def __init__(self, path: Path):
        self.path, self.count = path, 0

    def extend(self, lines: list[int]) -> None:
        with open(self.path, "ab") as f:
            f.write(array("q", lines).tobytes())
        self.count += len(lines)

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> int:  # type: ignore[override]
        if not 0 <= index < self.count:
            raise IndexError(index)
        with open(self.path, "rb") as f:
            f.seek(index * 8)
            return array("q", f.read(8))[0]


class _Rows:
    """A set of row numbers as a bitmap: one bit a row, however many rows are in it."""

    def __init__(self) -> None:
        self.bits = bytearray()

    def add(self, row: int) -> None:
        byte = row >> 3
        if byte >= len(self.bits):
            self.bits.extend(bytes(byte + 1 - len(self.bits)))
        self.bits[byte] |= 1 << (row & 7)

    def __contains__(self, row: object) -> bool:
        if not isinstance(row, int) or row < 0:
            return False
        byte = row >> 3
        return byte < len(self.bits) and bool(self.bits[byte] >> (row & 7) & 1)


@dataclass
class Staged:
    """A dataset written to a staging folder and validated; activate it only without errors."""
    path: Path
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    lines: dict[str, tuple[str, Sequence[int]]] = field(default_factory=dict)  # table -> (file, lines)
    segments: dict[str, list[Segment]] = field(default_factory=dict)
    lock: "_Lock | None" = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


@dataclass
class ImportResult:
    version: str | None
    problems: list[Problem]
    notes: list[str]


def table_for(name: str) -> str | None:
    """The contract table a file or sheet name stands for ('Adverse events.csv' → adverse_events)."""
    key = re.sub(r"[^a-z0-9]+", "_", Path(name).stem.lower()).strip("_")
    key = ALIASES.get(key, key)
    return key if key in TABLES else None


def _mb(size: float) -> str:
    return f"{size / 1024 / 1024:.1f}" if size < 10 * 1024 * 1024 else f"{size / 1024 / 1024:.0f}"


def default_max_mb() -> float:
    """The size limit in MB: RCE_MAX_UPLOAD_MB when it is a positive finite number, else 200."""
    try:
        value = float(os.environ.get("RCE_MAX_UPLOAD_MB", DEFAULT_MAX_MB))
    except ValueError:
        return DEFAULT_MAX_MB
    return value if math.isfinite(value) and value > 0 else DEFAULT_MAX_MB


def default_max_mapped_mb() -> float:
    """The mapped import's size limit in MB, all files together: RCE_MAX_MAPPED_MB when it is a
    positive finite number, else 30."""
    try:
        value = float(os.environ.get("RCE_MAX_MAPPED_MB", DEFAULT_MAX_MAPPED_MB))
    except ValueError:
        return DEFAULT_MAX_MAPPED_MB
    return value if math.isfinite(value) and value > 0 else DEFAULT_MAX_MAPPED_MB


def check_mapped_size(name: str, size: int, max_mb: float, counted: str = "") -> None:
    """Refuse files for the mapped import over its own limit (before they are parsed); `counted`
    says how the size was counted when it is not the bytes of the file."""
    if size > max_mb * 1024 * 1024:
        raise ImportFailed(
            f"{name}: {_mb(size)} MB{counted} is over the {max_mb:g} MB limit for a study's own files read "
            "through a mapping (REDCap, wide sheets, SPSS, Stata); split the export (by records "
            "or by form) or ask the administrator to raise the limit (RCE_MAX_MAPPED_MB)"
        )


def check_size(name: str, size: int, max_mb: float) -> None:
    """Refuse a file (or expanded content) over the size limit."""
    if size > max_mb * 1024 * 1024:
        raise ImportFailed(
            f"{name}: {_mb(size)} MB is over the {max_mb:g} MB limit; split the export or ask the "
            "administrator to raise the limit (RCE_MAX_UPLOAD_MB)"
        )


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def _encoding(raw: bytes, name: str, notes: list[str]) -> str:
    """The one encoding the whole file is in: UTF-8 (with or without BOM), UTF-16 with a BOM, or
    else Windows-1252 (with a note). A file mixing UTF-8 and another encoding is refused, naming the
    first line that is not UTF-8."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            raw.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportFailed(f"{name}: starts as UTF-16 but is not valid UTF-16; save it again as "
                               "UTF-8 and import it again") from None
        notes.append(f"{name}: read as UTF-16")
        return "utf-16"
    error = _decode_error(raw, "utf-8-sig")  # checked, not kept: decoded line by line later
    if error is None:
        return "utf-8-sig"
    bad = _line_of(raw, error.start)
    utf8 = UTF8_MULTIBYTE.search(raw)
    if utf8:
        raise ImportFailed(
            f"{name}: line {bad} is not UTF-8 but line {_line_of(raw, utf8.start())} is: the file mixes "
            "two encodings (often from pasting text from another program). Save it again as UTF-8 "
            "(in Excel: 'CSV UTF-8') and import it again"
        )
    error = _decode_error(raw, "cp1252")
    if error is not None:
        raise ImportFailed(
            f"{name}: line {_line_of(raw, error.start)} holds a byte (0x{raw[error.start]:02X}) that "
            "is neither UTF-8 nor Windows-1252 text; save the file again as UTF-8 and import it again"
        )
    notes.append(f"{name}: not UTF-8; read as Windows-1252 (cp1252)")
    return "cp1252"


def _decode_error(raw: bytes, encoding: str) -> UnicodeDecodeError | None:
    """The first decoding error of the file (offsets in the file), decoded in CHUNK-sized pieces
    so that the whole text is never in memory at once."""
    decoder = codecs.getincrementaldecoder(encoding)()
    for start in range(0, len(raw), CHUNK):
        pending = len(decoder.getstate()[0])  # bytes of a character cut by the previous piece
        try:
            decoder.decode(raw[start:start + CHUNK], final=start + CHUNK >= len(raw))
        except UnicodeDecodeError as exc:
            exc.start, exc.end = exc.start + start - pending, exc.end + start - pending
            return exc
    return None


def decode_text(raw: bytes, name: str, notes: list[str]) -> str:
    """The file as text in one encoding (see _encoding); ImportFailed for mixed encodings."""
    return raw.decode(_encoding(raw, name, notes))


def _lines(raw: bytes, encoding: str) -> Iterator[str]:
    """The file's lines, decoded one at a time from the bytes (never the whole text at once)."""
    if encoding == "utf-16":
        yield from io.StringIO(raw.decode(encoding), newline="")
        return
    view = memoryview(raw)
    start = 3 if encoding == "utf-8-sig" and raw.startswith(b"\xef\xbb\xbf") else 0
    newline = b"\n" if b"\n" in raw or b"\r" not in raw else b"\r"  # old Mac files end lines with CR
    while start < len(raw):
        end = raw.find(newline, start)
        end = len(raw) if end < 0 else end + 1
        yield str(view[start:end], "utf-8" if encoding == "utf-8-sig" else encoding)
        start = end


def _check_header_bytes(raw: bytes, name: str) -> None:
    """Refuse an over-long or over-wide header before the file is decoded (bounded memory)."""
    end = raw.find(b"\n", 0, MAX_LINE_CHARS * 4 + 1)
    header = raw[: end if end >= 0 else MAX_LINE_CHARS * 4 + 1]
    if len(header) > MAX_LINE_CHARS:
        raise ImportFailed(f"{name}: line 1 (the header) is longer than {MAX_LINE_CHARS:,} characters; "
                           "is this a CSV export of the study table?")
    columns = max(header.count(d) for d in (b",", b";", b"\t")) + 1
    if columns > MAX_COLUMNS:
        raise ImportFailed(f"{name}: the header has {columns:,} columns; at most {MAX_COLUMNS:,} are "
                           "read. Export only the study's fields")


def _csv_rows(raw: bytes, name: str, notes: list[str]
              ) -> tuple[list[str], bool, Iterator[tuple[int, list[str]]]]:
    """The header, whether decimals are written with commas (the delimiter is ';'), and the data
    rows as (file line, cells), read lazily one record at a time. The header is read and checked
    here; the column, cell and line limits are enforced on every record as it is read."""
    _check_header_bytes(raw, name)
    encoding = _encoding(raw, name, notes)
    header = next(_lines(raw, encoding), "")
    delimiter = max([",", ";", "\t"], key=header.count) if header.strip() else ","
    if delimiter != ",":
        notes.append(f"{name}: columns separated by {'tab' if delimiter == chr(9) else repr(delimiter)}")
    reader = csv.reader(_lines(raw, encoding), delimiter=delimiter)

    def records() -> Iterator[tuple[int, list[str]]]:
        first: list[str] | None = None
        line = 1
        try:
            for row in reader:
                if len(row) > MAX_COLUMNS:
                    raise ImportFailed(f"{name}: line {line} has {len(row):,} cells; at most "
                                       f"{MAX_COLUMNS:,} columns are read")
                longest = max(map(len, row), default=0)
                if longest > MAX_CELL_CHARS:
                    column = first[row.index(max(row, key=len))] if first else "the header"
                    raise ImportFailed(f"{name}: line {line}, column {_short(column)}: a cell of "
                                       f"{longest:,} characters (at most {MAX_CELL_CHARS:,}); is a "
                                       "quotation mark left open?")
                if sum(map(len, row)) > MAX_LINE_CHARS:
                    raise ImportFailed(f"{name}: line {line} is longer than {MAX_LINE_CHARS:,} "
                                       "characters")
                first = row if first is None else first
                yield line, row
                line = reader.line_num + 1
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise ImportFailed(f"{name}: line {line}: a cell longer than {MAX_CELL_CHARS:,} "
                                   "characters; is a quotation mark left open?") from None
            raise ImportFailed(f"{name}: line {line} cannot be read as CSV ({exc})") from None

    rows = records()
    found = next(rows, None)
    if found is None:
        raise ImportFailed(f"{name}: the file is empty")
    columns = [c.strip() for c in found[1]]
    _check_header(columns, name)
    width = len(columns)
    body = ((line, row[:width] + [""] * (width - len(row))) for line, row in rows)
    return columns, delimiter == ";", body


def _frames(columns: list[str], rows: Iterator[tuple[int, list]], size: int | None = None
            ) -> Iterator[pd.DataFrame]:
    """(line, cells) records as frames of at most `size` rows (CHUNK_ROWS), indexed by line; a
    short row is padded with empty cells (`columns` may grow while the rows are read)."""
    size = size or CHUNK_ROWS
    while True:
        block = list(itertools.islice(rows, size))
        if not block:
            return
        width = len(columns)
        cells = [row if len(row) == width else row + [None] * (width - len(row)) for _, row in block]
        frame = pd.DataFrame(cells, columns=list(columns), dtype=object)
        frame.index = [line for line, _ in block]
        yield frame


def read_csv_cells(raw: bytes, name: str, notes: list[str]) -> tuple[pd.DataFrame, bool]:
    """All cells as text, indexed by file line number; returns the frame and whether decimals are
    written with commas (the delimiter is ';'). Enforces the column, cell and line limits."""
    columns, decimal_comma, rows = _csv_rows(raw, name, notes)
    frames = list(_frames(columns, rows, size=1 << 62))
    return (frames[0] if frames else pd.DataFrame(columns=columns, dtype=object)), decimal_comma


_decode = decode_text  # old private names, kept while other modules move over
_read_csv = read_csv_cells


def _clip(value: object, limit: int = 200) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _short(value: object, limit: int = 60) -> str:
    return repr(_clip(value, limit))


def _check_header(columns: list[str], name: str) -> None:
    if len(columns) > MAX_COLUMNS:
        raise ImportFailed(f"{name}: {len(columns):,} columns; at most {MAX_COLUMNS:,} are read")
    seen = set()
    for c in columns:
        if len(c) > 1000:
            raise ImportFailed(f"{name}: a column name of {len(c):,} characters in the header")
        if c.lower() in seen:
            raise ImportFailed(f"{name}: the column name '{c}' appears twice in the header")
        seen.add(c.lower())


def _zip_members(raw: bytes, name: str) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        infos = z.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        raise ImportFailed(f"{name}: {len(infos):,} entries; at most {MAX_ZIP_MEMBERS:,} are read")
    return infos


def _special(info: zipfile.ZipInfo) -> str | None:
    """What a zip entry is when it is not a plain file or folder (symbolic link, device, …)."""
    mode = info.external_attr >> 16
    if info.create_system != 3 or stat.S_IFMT(mode) in (0, stat.S_IFREG, stat.S_IFDIR):
        return None  # not written on Unix, no file type given, or a plain file or folder
    return "a symbolic link" if stat.S_ISLNK(mode) else "a special file (device, pipe or socket)"


def _expand(raw: bytes, name: str, max_mb: float, keep: bool, kind: str = "zip file"
            ) -> list[tuple[str, bytes]]:
    """The files of a zip, read in chunks; stops as soon as the declared or actual total of all
    members passes the limit. With keep=False only counts (to check an .xlsx before parsing it)."""
    limit = max_mb * 1024 * 1024
    total = 0
    found: list[tuple[str, bytes]] = []
    try:
        infos = _zip_members(raw, name)
        declared = sum(i.file_size for i in infos)
        if declared > limit:
            raise ImportFailed(f"{name}: expands to {_mb(declared)} MB, over the {max_mb:g} MB limit")
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            for info in infos:
                member = f"{name}/{info.filename}"
                if info.is_dir() or (keep and _hidden(info.filename)):
                    continue
                special = _special(info) if keep else None
                if special:
                    raise ImportFailed(f"{member}: is {special}; an import reads plain files only")
                if keep and Path(info.filename).suffix.lower() == ".zip":
                    raise ImportFailed(f"{member}: a zip inside a zip is not read; unpack it and "
                                       "upload its files (or one zip of them)")
                content = bytearray()
                with z.open(info) as stream:
                    while chunk := stream.read(CHUNK):
                        total += len(chunk)
                        if total > limit:
                            raise ImportFailed(f"{name}: expands to more than the {max_mb:g} MB limit "
                                               f"(stopped while reading {info.filename})")
                        if keep:
                            content += chunk
                if keep:
                    found.append((member, bytes(content)))
    except ImportFailed:
        raise
    except Exception as exc:  # noqa: BLE001 -- zipfile, zlib, lzma, bz2 raise many kinds when damaged
        again = "make the zip again from the original files" if keep else "save it again from Excel"
        raise ImportFailed(f"{name}: not a readable {kind} ({_reason(exc)}); {again}") from None
    return found


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__


def _hidden(member: str) -> bool:
    return any(part.startswith((".", "__")) for part in Path(member).parts)


def unpack(files: list[tuple[str, bytes]], max_mb: float) -> list[tuple[str, bytes]]:
    """Uploaded (name, content) pairs with every zip replaced by its files: the expansion is bounded
    while reading (all members of one zip together at most max_mb), and a zip inside a zip is refused."""
    result: list[tuple[str, bytes]] = []
    for name, raw in files:
        check_size(name, len(raw), max_mb)
        if Path(name).suffix.lower() == ".zip":
            result += _expand(raw, name, max_mb, keep=True)
        else:
            result.append((name, raw))
    return result


def check_expansion(raw: bytes, name: str, max_mb: float) -> None:
    """Refuse a zip-based document (.xlsx) whose parts expand beyond the limit, counted while
    reading in chunks and never kept."""
    _expand(raw, name, max_mb, keep=False, kind="Excel file")


def _read_excel(raw: bytes, name: str, notes: list[str], max_mb: float = DEFAULT_MAX_MB
                ) -> list[tuple[str, pd.DataFrame, Iterator[pd.DataFrame]]]:
    """Every sheet with anything in it: (sheet, its header as an empty frame, its rows in frames of
    CHUNK_ROWS read while staging). The header is the first row with anything in it; rows are
    numbered as in Excel. openpyxl reads the sheets row by row (read-only mode), never whole."""
    check_expansion(raw, name, max_mb)  # an .xlsx is a zip: bound what openpyxl would expand
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True,
                                      keep_links=False)
    except Exception as exc:  # noqa: BLE001 -- openpyxl raises many kinds for a damaged file
        raise ImportFailed(_unreadable_excel(name, exc)) from None
    for ws in book.worksheets:  # a sheet wider than MAX_COLUMNS, from its declared size
        if (ws.max_column or 0) > MAX_COLUMNS:
            raise ImportFailed(f"{name} [{ws.title}]: {ws.max_column:,} columns; at most "
                               f"{MAX_COLUMNS:,} are read")
    result = []
    for ws in book.worksheets:
        where = f"{name} [{ws.title}]"
        ws.reset_dimensions()  # the declared size may be wrong: read every row there is
        rows = _excel_rows(ws, name)
        header = next((values for _, values, _ in rows if any(v is not None for v in values)), None)
        if header is None:
            continue
        columns = [str(c).strip() if not _blank(c) else "" for c in header]
        _check_header(columns, where)
        result.append((ws.title, pd.DataFrame(columns=columns, dtype=object),
                       _frames(columns, _excel_body(rows, columns, where))))
    return result


# the words pandas' Excel reader read as an empty cell: kept so that a workbook reads as before
EXCEL_MISSING = frozenset({"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
                           "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a",
                           "nan", "null"})


def _unreadable_excel(name: str, exc: Exception) -> str:
    return (f"{name}: not a readable Excel file ({type(exc).__name__}); save it again from Excel "
            "as .xlsx")


def _excel_rows(ws: object, name: str) -> Iterator[tuple[int, list, bool]]:
    """(Excel row number, cells, whether the row has no cell at all) for every row of a sheet.

    Cells are read as pandas' Excel reader gave them: an error cell (#DIV/0!) or a missing-value
    word (NA, NULL, …) is None, a whole number an int; trailing empty cells are left out.
    """
    try:
        for number, row in enumerate(ws.iter_rows(), start=1):  # type: ignore[attr-defined]
            width = len(row)
            while width and (row[width - 1].value is None or row[width - 1].value == ""):
                width -= 1
            values = []
            for cell in row[:width]:
                value = cell.value
                if value is None or cell.data_type == "e" or (
                        isinstance(value, str) and value in EXCEL_MISSING):
                    values.append(None)
                elif cell.data_type == "n":
                    whole = int(value)
                    values.append(whole if whole == value else float(value))
                else:
                    values.append(value)
            yield number, values, width == 0
    except ImportFailed:
        raise
    except Exception as exc:  # noqa: BLE001 -- a damaged sheet may only show while it is read
        raise ImportFailed(_unreadable_excel(name, exc)) from None


def _excel_body(rows: Iterator[tuple[int, list, bool]], columns: list[str], where: str
                ) -> Iterator[tuple[int, list]]:
    """The rows below the header, as wide as the widest row (an unnamed column each beyond the
    header, as before); empty rows at the end of the sheet are left out, those inside kept."""
    empty_from, empty = 0, 0  # a run of empty rows, kept only when a row with cells follows
    for number, values, nothing in rows:
        if nothing:
            empty_from, empty = (empty_from, empty + 1) if empty else (number, 1)
            continue
        if len(values) > len(columns):
            if len(values) > MAX_COLUMNS:
                raise ImportFailed(f"{where}: {len(values):,} columns; at most {MAX_COLUMNS:,} "
                                   "are read")
            columns += [""] * (len(values) - len(columns))  # the frames read the new width
            _check_header(columns, where)
        for line in range(empty_from, empty_from + empty):
            yield line, []
        empty = 0
        yield number, values


def _read_parquet(raw: bytes, name: str, max_mb: float) -> pd.DataFrame:
    """A parquet file as Python values (None for null, NaN kept as a value), size-checked first."""
    try:
        meta = pq.ParquetFile(pa.BufferReader(raw)).metadata
        expanded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if meta.num_columns > MAX_COLUMNS:
            raise ImportFailed(f"{name}: {meta.num_columns:,} columns; at most {MAX_COLUMNS:,} are read")
        # run-length encoding can make a few kilobytes hold millions of rows: bound the expanded size
        check_size(f"{name} (expanded)", max(expanded, meta.num_rows * meta.num_columns * 8), max_mb)
        table = pq.read_table(pa.BufferReader(raw))
    except ImportFailed:
        raise
    except Exception:  # noqa: BLE001 -- pyarrow raises many kinds for a damaged file
        raise ImportFailed(f"{name}: not a readable parquet file") from None
    columns = {}
    for column_name, column in zip(table.column_names, table.columns):
        try:
            columns[column_name] = column.to_pylist()
        except (ValueError, OverflowError, pa.ArrowException) as exc:
            raise ImportFailed(f"{name}: column {_short(column_name)} holds values that cannot be read "
                               f"({_reason(exc)}), e.g. a date outside the years 1–9999") from None
    frame = pd.DataFrame(columns, dtype=object) if columns else pd.DataFrame()
    _check_header([str(c) for c in frame.columns], name)
    frame.index = range(1, len(frame) + 1)
    frame.attrs["nan_is_value"] = True
    return frame


def _open_regular(path: Path, max_mb: float) -> bytes:
    """A file's bytes; a symbolic link, device, pipe or socket is refused, and the size is checked
    on the open file before anything is read (and again while reading, in case it grows)."""
    if path.is_symlink():
        raise ImportFailed(f"{path}: is a symbolic link; give the file itself")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ImportFailed(f"{path}: no such file or folder") from None
    except OSError as exc:
        raise ImportFailed(f"{path}: cannot be opened ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ImportFailed(f"{path}: not a plain file (a device, pipe or socket); give the file itself")
        check_size(str(path), info.st_size, max_mb)
        raw = f.read(int(max_mb * 1024 * 1024) + 1)
    check_size(str(path), len(raw), max_mb)
    return raw


def read_sources(paths: list[Path], notes: list[str], max_mb: float = DEFAULT_MAX_MB) -> list[Source]:
    """Every table found in the given files, folders or zips."""
    files: list[tuple[str, bytes]] = []
    for path in paths:
        path = Path(path)
        if path.is_dir() and not path.is_symlink():
            for entry in sorted(path.iterdir()):
                if entry.name.startswith((".", "__")):
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    notes.append(f"{entry}: a folder inside the import folder; not read")
                    continue
                files.append((str(entry), _open_regular(entry, max_mb)))
        else:
            files.append((str(path), _open_regular(path, max_mb)))
    return read_uploads(files, notes, max_mb)


def read_uploads(files: list[tuple[str, bytes]], notes: list[str], max_mb: float = DEFAULT_MAX_MB) -> list[Source]:
    """Every table in uploaded (name, content) pairs: CSV, .xlsx, parquet, or a zip of them."""
    sources: list[Source] = []
    for name, raw in unpack(files, max_mb):
        suffix = Path(name).suffix.lower()
        if suffix in (".xlsx", ".xlsm"):
            sheets = _read_excel(raw, name, notes, max_mb)
            for sheet, header, rows in sheets:
                table = table_for(sheet) or (table_for(name) if len(sheets) == 1 else None)
                if table is None:
                    notes.append(f"{name} [{sheet}]: no contract table of that name; sheet ignored")
                    continue
                sources.append(Source(f"{name} [{sheet}]", table, header, 2, rows=rows))
        elif suffix in (".csv", ".txt", ".tsv"):
            table = table_for(name)
            if table is None:
                notes.append(f"{name}: no contract table of that name; file ignored")
                continue
            columns, decimal_comma, rows = _csv_rows(raw, name, notes)
            header = pd.DataFrame(columns=columns, dtype=object)
            header.attrs["decimal_comma"] = decimal_comma
            sources.append(Source(name, table, header, 2, rows=_frames(columns, rows)))
        elif suffix == ".parquet":
            table = table_for(name)
            if table is None:
                notes.append(f"{name}: no contract table of that name; file ignored")
                continue
            sources.append(Source(name, table, _read_parquet(raw, name, max_mb), 1))
        else:
            notes.append(f"{name}: not CSV, Excel (.xlsx), parquet or zip; file ignored")
    return sources


def _blank(value: object, nan_is_value: bool = False) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    return isinstance(value, float) and math.isnan(value) and not nan_is_value


def _number(value: object, decimal_comma: bool) -> Decimal | float:
    """A cell as a finite number (Decimal for text, so that long integers keep every digit)."""
    if isinstance(value, bool):
        raise ValueError("not a number")  # noqa: TRY004 -- a cell that does not fit, not a bug
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("not a finite number (NaN or infinity); leave the cell empty when the value "
                             "is missing")
        return value
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if text.lower() in NON_FINITE:
        raise ValueError("not a finite number (NaN or infinity); leave the cell empty when the value "
                         "is missing")
    if decimal_comma and "," in text:
        text = text.replace(".", "").replace(",", ".")
    if not NUMBER.fullmatch(text):
        raise ValueError("not a number")
    number = Decimal(text)
    if not number.is_finite() or abs(number) > Decimal("1e300"):
        raise ValueError("too large a number")
    return number


def _date(value: object, dayfirst: bool) -> dt.date:
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return pd.Timestamp(value).date() if isinstance(value, pd.Timestamp) else value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    iso = ISO_DATE.fullmatch(text)
    dmy = DMY_DATE.fullmatch(text)
    try:
        if iso:
            return dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
        if dmy:
            day, month = (int(dmy[1]), int(dmy[2])) if dayfirst else (int(dmy[2]), int(dmy[1]))
            return dt.date(int(dmy[3]), month, day)
    except ValueError:
        raise ValueError("no such day in the calendar") from None
    raise ValueError("not a date (YYYY-MM-DD or DD/MM/YYYY)")


def _cast(value: object, logical: str, decimal_comma: bool, dayfirst: bool, nan_is_value: bool = False) -> object:
    """One cell cast to the contract's logical type; ValueError when it does not fit."""
    if _blank(value, nan_is_value):
        return None
    if logical == "string":
        if isinstance(value, float) and value.is_integer():
            return str(int(value))  # 1001.0 from a spreadsheet → '1001'
        return str(value).strip()
    if logical == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        text = text.removesuffix(".0")
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise ValueError("not true/false")
    if logical == "date":
        return _date(value, dayfirst)
    number = _number(value, decimal_comma)
    if logical == "integer":
        if number != int(number):
            raise ValueError("not a whole number")
        whole = int(number)
        if not INT64[0] <= whole <= INT64[1]:
            raise ValueError("too large a number")
        return whole
    return float(number)


class _Cast:
    """Casts one source to its contract table a chunk of rows at a time, keeping only what the
    problems and notes need (counts and the first examples), never the rows themselves."""

    def __init__(self, source: Source):
        self.source = source
        self.spec = TABLES[source.table]
        self.nan_is_value = bool(source.frame.attrs.get("nan_is_value"))
        self.decimal_comma = bool(source.frame.attrs.get("decimal_comma"))
        header = [str(c).strip() for c in source.frame.columns]
        self.columns = dict.fromkeys(header)  # every column seen, for the note on ignored ones
        self.lower = {c.lower(): c for c in header}
        labels = source.row_labels
        if labels is not None and len(labels) != len(source.frame):
            raise ValueError(f"{source.name}: {len(labels)} row labels for {len(source.frame)} rows")
        self.labels = labels
        self.index = source.frame.index  # a row's label is at its position in the frame
        self.kept_labels = _Picked(labels) if labels is not None else None
        self.kept = 0  # rows cast so far (blank rows left out)
        self.blank = 0
        self.dayfirst = False
        self.bad: dict[str, tuple[list[int], list[dict]]] = {}  # column → ([count], first examples)
        self.schema = pa.schema([(c.name, ARROW[c.type]) for c in self.spec.columns
                                 if c.name in self.lower])

    def cast(self, frame: pd.DataFrame, failed: Callable[[str, int], None]
             ) -> tuple[pa.Table, list[int]]:
        """One chunk cast (blank rows left out) and the file lines of its rows; `failed` is told
        the column and the source row (0-based, kept rows) of every cell that does not fit."""
        frame = frame.set_axis([str(c).strip() for c in frame.columns], axis=1)
        self.columns.update(dict.fromkeys(frame.columns))
        keep = [not all(_blank(v, self.nan_is_value) for v in row)
                for row in frame.to_numpy(dtype=object)]
        if not all(keep):
            self.blank += keep.count(False)
            frame = frame[keep]
        lower = self.lower
        self.dayfirst = self.dayfirst or any(
            DMY_DATE.fullmatch(str(v).strip())
            for c in self.spec.columns if c.type == "date" and c.name in lower
            for v in frame[lower[c.name]]
        )
        lines = [int(i) for i in frame.index]
        ids = frame[lower["patient_id"]].tolist() if "patient_id" in lower else [None] * len(frame)
        arrays = {}
        for column in self.spec.columns:
            if column.name not in lower:
                continue
            values = []
            for position, value in enumerate(frame[lower[column.name]].tolist()):
                try:
                    # a D/M/Y date is read day first: it is the contract's form (noted once)
                    cast = _cast(value, column.type, self.decimal_comma, True, self.nan_is_value)
                    if column.name == "subtype" and self.source.table == "patients" and cast is not None:
                        cast = cast.upper() if cast.upper() in SUBTYPES else cast
                    values.append(cast)
                except (ValueError, OverflowError, InvalidOperation) as exc:
                    values.append(None)
                    failed(column.name, self.kept + position)
                    count, examples = self.bad.setdefault(column.name, ([0], []))
                    count[0] += 1
                    if len(examples) < 5:
                        examples.append(self._example(column.name, lines[position], ids[position],
                                                      value, exc))
            arrays[column.name] = pa.array(values, type=ARROW[column.type])
        if self.kept_labels is not None:
            self.kept_labels.positions.extend(self.index.get_indexer(frame.index).tolist())
        self.kept += len(frame)
        return (pa.table(arrays) if arrays else pa.table({})), lines

    def _example(self, column: str, line: int, pid: object, value: object, exc: Exception) -> dict:
        example = {"row": line, "patient_id": None if _blank(pid) else str(pid), "date": None,
                   "value": _clip(value), "why": str(exc)}
        if self.labels is not None:
            example["source"] = (f"{self.labels[self.index.get_loc(line)]} › "
                                 f"{self.source.column_labels.get(column, column)}")
        return example

    def finish(self, problems: list[Problem], notes: list[str]) -> None:
        """The source's notes and its problems (a missing column, cells that did not fit)."""
        source = self.source
        if self.blank:
            notes.append(f"{source.name}: {self.blank} blank row(s) skipped")
        known = {c.name for c in self.spec.columns}
        ignored = [c for c in self.columns if c.lower() not in known]
        if ignored and not source.column_labels:
            notes.append(f"{source.name}: column(s) not in the contract ignored: {', '.join(ignored)}")
        if self.dayfirst:
            notes.append(f"{source.name}: dates read day first (DD/MM/YYYY)")
        for column in self.spec.columns:
            if column.name not in self.lower:
                if column.required:
                    problems.append(Problem("error", source.table, column.name,
                                            f"required column '{column.name}' is missing",
                                            file=source.name))
            elif column.name in self.bad:
                (count,), examples = self.bad[column.name]
                problems.append(Problem("error", source.table, column.name,
                                        f"value is not {column.type} ({examples[0]['why']})",
                                        count, examples, source.name))


def to_table(source: Source, problems: list[Problem], notes: list[str]) -> pa.Table:
    """A source cast to its contract table in memory; cells that do not fit become problems naming
    row and column. (Staging casts chunk by chunk instead; this is for a small source.)"""
    cast = _Cast(source)
    tables = [cast.cast(chunk, lambda column, row: None)[0] for chunk in source.chunks()]
    cast.finish(problems, notes)
    tables = [t for t in tables if t.num_columns] or [cast.schema.empty_table()]
    return pa.concat_tables(tables) if cast.schema else pa.table({})


def _process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (tells a reused pid apart), if known."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


class _Lock:
    """An exclusive flock on a staging folder's owner file, held for as long as the import lives;
    the kernel drops it when the process dies, which is how a later start tells a leftover."""

    def __init__(self, path: Path):
        self.fd: int | None = os.open(path / ".owner", os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        owner = {"pid": os.getpid(), "process_start": _process_start(os.getpid()), "created": _now()}
        os.write(self.fd, json.dumps(owner).encode())

    def release(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)


def _remove(path: Path, lock: _Lock | None) -> None:
    shutil.rmtree(path, ignore_errors=True)
    if lock is not None:
        lock.release()


def discard(staged: Staged) -> None:
    """Remove this staged import's folder (its patient data) and release its lock."""
    _remove(staged.path, staged.lock)


def stage(sources: list[Source], root: Path, notes: list[str] | None = None) -> Staged:
    """Cast and write the sources as parquet in a new staging folder under root, then validate it.

    Several sources for one table are concatenated in order. The folder is removed when anything
    fails (nothing of the upload is left behind), and when the Staged object is dropped.
    """
    notes = list(notes or [])
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
    staged = Staged(path, notes=notes)
    try:
        staged.lock = _Lock(path)
        # a session that ends without discarding its import (tab closed) still leaves nothing behind
        weakref.finalize(staged, _remove, path, staged.lock)
        path.chmod(0o755)
        _write_staged(staged, sources)
    except BaseException:
        discard(staged)
        raise
    return staged


def _write_staged(staged: Staged, sources: list[Source]) -> None:
    by_table: dict[str, list[Source]] = {}
    for source in sources:
        by_table.setdefault(source.table, []).append(source)
    cast_problems: list[Problem] = []
    uncast: dict[tuple[str, str], _Rows] = {}  # (table, column) → staged rows left null by a cast
    for name, group in by_table.items():
        casts = [_Cast(source) for source in group]
        # several sources for one table: every column any of them has, in order of appearance
        schema = pa.schema(list({f.name: f for c in casts for f in c.schema}.values()))
        lines = _Lines(staged.path / f".lines-{name}")
        segments, start = [], 0
        writer = pq.ParquetWriter(staged.path / f"{name}.parquet", schema) if len(schema) else None
        try:
            for source, cast in zip(group, casts, strict=True):
                def failed(column: str, row: int, table: str = name, start: int = start) -> None:
                    uncast.setdefault((table, column), _Rows()).add(start + row + 1)

                for chunk in source.chunks():
                    table, kept = cast.cast(chunk, failed)
                    lines.extend(kept)
                    if writer is not None and kept:
                        writer.write_table(_aligned(table, schema, len(kept)))
                cast.finish(cast_problems, staged.notes)
                segments.append(Segment(start, source.name, cast.kept, cast.kept_labels,
                                        dict(source.column_labels)))
                start += cast.kept
            if writer is not None and not start:
                writer.write_table(schema.empty_table())  # a table without rows, as one row group
        finally:
            if writer is not None:
                writer.close()
        staged.rows[name] = start
        staged.segments[name] = segments
        staged.lines[name] = (group[0].name, lines)
    missing = [t for t, spec in TABLES.items() if spec.required and t not in by_table]
    if missing:
        staged.notes.append(f"required table(s) not given: {', '.join(missing)}")
    # a cell that failed to cast is reported once, by the cast, not again as a null by validation
    checked = []
    for p in validate(staged.path):
        failed_rows = uncast.get((p.table, p.column))
        kept = [ex for ex in p.examples if failed_rows is None or ex.get("row") not in failed_rows]
        if p.examples and not kept:
            continue
        p.count -= len(p.examples) - len(kept)
        p.examples = kept
        checked.append(p)
    staged.problems = cast_problems + [_in_source_rows(p, staged) for p in checked]


def _aligned(table: pa.Table, schema: pa.Schema, rows: int) -> pa.Table:
    """A chunk with the table's columns in order; a column its source lacks is empty (null)."""
    return pa.table([table.column(f.name) if f.name in table.column_names else pa.nulls(rows, f.type)
                     for f in schema], schema=schema)


def _in_source_rows(problem: Problem, staged: Staged) -> Problem:
    """Renumber a validation problem's rows as rows of the file the user gave."""
    problem.rule = problem.rule.replace(f"{staged.path}{os.sep}", "")
    segments = staged.segments.get(problem.table)
    if not segments:
        return problem
    problem.file = segments[0].name
    for ex in problem.examples:
        row = ex.get("row")
        if not row:
            continue
        index = row - 1
        segment = next((s for s in reversed(segments) if s.start <= index), None)
        if segment is None or index - segment.start >= segment.count:
            continue
        offset = index - segment.start
        ex["row"] = staged.lines[problem.table][1][index]
        if len(segments) > 1:
            ex["file"] = segment.name
        if segment.row_labels is not None:
            column = segment.column_labels.get(problem.column, problem.column)
            ex["source"] = f"{segment.row_labels[offset]} › {column}"
    if len(segments) > 1 and problem.examples:
        problem.file = problem.examples[0].get("file", problem.file)
    return problem


def content_hash(folder: Path) -> str:
    """The version id: a hash of the tables' parquet files."""
    h = hashlib.sha256()
    for f in sorted(folder.glob("*.parquet")):
        h.update(f.name.encode())
        with open(f, "rb") as stream:
            while block := stream.read(CHUNK):
                h.update(block)
    return h.hexdigest()[:12]


def activate_staged(staged: Staged, root: Path, user: str, provenance: dict | None = None) -> str:
    """Move a valid staged dataset into versions/<id> and make it active; returns the id.

    ``provenance`` (source files with sha256, the mapping, notes, …) is kept in version.json.
    """
    if not staged.ok:
        raise ImportFailed("the dataset has errors; fix them before activating")
    root = Path(root)
    version = content_hash(staged.path)
    target = root / "versions" / version
    if target.exists():
        discard(staged)
    else:
        meta = {"id": version, "imported_by": user, "imported_at": _now(), "rows": staged.rows,
                "notes": staged.notes}
        if provenance is not None:
            meta["provenance"] = provenance
        (staged.path / "version.json").write_text(json.dumps(meta, indent=2, default=str))
        (staged.path / ".owner").unlink(missing_ok=True)
        for lines in staged.path.glob(".lines-*"):  # where problems' rows came from: staging only
            lines.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged.path, target)  # atomic on one file system: the version appears whole or not at all
        discard(staged)  # releases the lock; the folder has moved
    activate(root, version, user)
    return version


def activate(root: Path, version: str, user: str) -> None:
    """Make an existing version the active one (atomic replace of active.json) and log it."""
    if not re.fullmatch(r"[0-9a-f]{12}", str(version)) or not (
        Path(root) / "versions" / version / "patients.parquet"
    ).exists():
        raise ImportFailed(f"{root}: no version {version}")
    record = {"version": version, "activated_by": user, "activated_at": _now()}
    tmp = Path(root) / f".active-{uuid.uuid4().hex}.json"
    tmp.write_text(json.dumps(record))
    os.replace(tmp, Path(root) / "active.json")
    with open(Path(root) / "history.jsonl", "a") as log:
        log.write(json.dumps(record) + "\n")


def active(root: Path) -> dict | None:
    """The active version's record (version, activated_by, activated_at), or None."""
    try:
        return json.loads((Path(root) / "active.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def active_location(root: Path) -> Path | None:
    """The active version's folder, or None when nothing was imported yet."""
    record = active(root)
    return Path(root) / "versions" / record["version"] if record else None


def versions(root: Path) -> list[dict]:
    """Every imported version's metadata (with its provenance when given), newest first."""
    found = []
    for meta in Path(root).glob("versions/*/version.json"):
        try:
            found.append(json.loads(meta.read_text()))
        except json.JSONDecodeError:
            continue
    return sorted(found, key=lambda m: m.get("imported_at", ""), reverse=True)


def _abandoned(folder: Path) -> bool:
    """Whether a staging folder belongs to no running import: nobody holds its owner lock."""
    owner = folder / ".owner"
    try:
        fd = os.open(owner, os.O_RDWR | os.O_NOFOLLOW)
    except FileNotFoundError:  # being created right now, or left by a kill before the lock
        try:
            return time.time() - folder.stat().st_mtime > ABANDONED_UNLOCKED_S
        except OSError:
            return False
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # an import in progress (this process or another) holds it
    finally:
        os.close(fd)
    return True


def clean_staging(root: Path) -> list[Path]:
    """Remove staging folders left by imports that were interrupted or killed; never a folder that a
    running import (of any user, in any process) still holds. Returns the folders removed."""
    removed = []
    for leftover in Path(root).glob(".staging-*"):
        if leftover.is_dir() and not leftover.is_symlink() and _abandoned(leftover):
            shutil.rmtree(leftover, ignore_errors=True)
            removed.append(leftover)
    for temp in Path(root).glob(".active-*.json"):
        if time.time() - temp.stat().st_mtime > ABANDONED_UNLOCKED_S:
            temp.unlink(missing_ok=True)
    return removed


def import_files(paths: list[str | Path], root: str | Path, user: str, max_mb: float = DEFAULT_MAX_MB) -> ImportResult:
    """Read, cast, validate and (without errors) activate files as a new version under root."""
    root = Path(root)
    notes: list[str] = []
    sources = read_sources([Path(p) for p in paths], notes, max_mb)
    if not sources:
        raise ImportFailed("no file named after a contract table (patients, infusions, relapses, ...)")
    staged = stage(sources, root, notes)
    try:
        if not staged.ok:
            return ImportResult(None, staged.problems, staged.notes)
        return ImportResult(activate_staged(staged, root, user), staged.problems, staged.notes)
    finally:
        discard(staged)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
