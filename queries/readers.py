"""Read a study's own files for a mapped import: spreadsheets, REDCap exports, SPSS and Stata files.

Every reader keeps the cells as they are (numbers, text, Excel dates) and remembers how the user
knows each row (`row 37`, `record 12, event month_6_arm_1, relapse #2`), so that every later
problem can point at the source. Converting cells to the contract's types is the mapping's work
(queries/mapping.py).
"""

import csv
import datetime as dt
import hashlib
import io
import itertools
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from queries import importer
from queries.importer import DEFAULT_MAX_MB, ImportFailed

SEP = " › "
REDCAP_COLUMNS = ("redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance")
DICTIONARY_FIRST = ("variable / field name", "field name", "variable")
TEXT = (".csv", ".txt", ".tsv")
STATS = (".sav", ".zsav", ".dta")
READABLE = (*TEXT, ".xlsx", ".xlsm", *STATS)
MAPPED_COUNT = " (an .xlsx counted as expanded, an SPSS or Stata file twice)"
HEADER_SCAN = 30  # a title block above the header is at most this many rows


class Column(np.ndarray):
    """A column's cells, shared with the frame (no copy); true when it has any, like a list."""

    def __bool__(self) -> bool:
        return len(self) > 0


@dataclass
class Sheet:
    """One table of cells from a file (a CSV, one sheet of a workbook, a .sav or .dta file)."""

    file: str
    name: str | None  # the workbook sheet, None for a single-table file
    kind: str  # "table" (CSV/Excel), "redcap", "spss", "stata"
    frame: pd.DataFrame  # raw cells as read, columns = header texts, index 0..n-1
    rows: list[str]  # how the user knows each row: "row 37"
    header_row: int = 1  # spreadsheet row of the header (1 for single-table files)
    labels: dict[str, str] = field(default_factory=dict)  # column -> variable label
    value_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> code -> label
    # every row as read again from the file's bytes, to move the header (spreadsheets only): the
    # rows are not kept beside the frame, which would double the memory a sheet takes
    reread: Callable[[], list[list]] | None = field(default=None, repr=False, compare=False)
    first_row: int = 1  # spreadsheet row number of the first row reread() gives
    lists: dict[str, Column] = field(default_factory=dict, repr=False, compare=False)

    def values(self, column: str) -> Column:
        """A column's cells, indexed by row (the frame's own array, not a copy)."""
        if column not in self.lists:
            self.lists[column] = self.frame[column].to_numpy().view(Column)
        return self.lists[column]

    @property
    def title(self) -> str:
        """The sheet as the user knows it: `cohort.xlsx › Patients`."""
        return f"{self.file}{SEP}{self.name}" if self.name else self.file

    def with_header(self, row: int) -> "Sheet":
        """The same sheet read with its header on the given spreadsheet row."""
        if self.reread is None:
            raise ImportFailed(f"{self.title}: header_row only applies to CSV and Excel sheets")
        index = row - self.first_row
        cells = self.reread()
        if not 0 <= index < len(cells):
            raise ImportFailed(f"{self.title}: there is no row {row}")
        frame, rows, _ = _frame(cells, index, self.first_row, self.title)
        del cells
        return Sheet(
            self.file,
            self.name,
            self.kind,
            frame,
            rows,
            row,
            reread=self.reread,
            first_row=self.first_row,
        )


@dataclass
class Field:
    """One field of a REDCap data dictionary."""

    name: str
    form: str
    type: str
    label: str
    choices: dict[str, str] = field(default_factory=dict)  # code -> label
    validation: str = ""


@dataclass
class Redcap:
    """A REDCap "export records" raw CSV and (when given) its data dictionary."""

    data: Sheet
    fields: dict[str, Field] = field(default_factory=dict)
    dictionary: str | None = None
    rows_of: dict[str, list[int]] = field(default_factory=dict, repr=False)

    @property
    def record_id(self) -> str:
        return str(self.data.frame.columns[0])

    @property
    def events(self) -> list[str]:
        """The unique event names in the export, in order of appearance."""
        if "redcap_event_name" not in self.data.frame:
            return []
        return list(dict.fromkeys(v for v in self.data.frame["redcap_event_name"] if not blank(v)))

    @property
    def instruments(self) -> list[str]:
        """Forms of the dictionary and repeating instruments seen in the export."""
        found = [f.form for f in self.fields.values()]
        if "redcap_repeat_instrument" in self.data.frame:
            found += [v for v in self.data.frame["redcap_repeat_instrument"] if not blank(v)]
        return list(dict.fromkeys(found))

    def form_columns(self, form: str) -> list[str]:
        """The export's columns of a form's fields (checkboxes as field___code), not the id."""
        names = {f.name for f in self.fields.values() if f.form == form} - {self.record_id}
        return [c for c in self.data.frame.columns if c in names or c.split("___")[0] in names]

    def form_rows(self, form: str) -> list[int]:
        """The rows holding data of a form: its repeats, or rows with any of its fields filled in.

        An unticked checkbox is exported as 0 on rows of every event, so it does not count.
        """
        if form not in self.rows_of:
            data = self.data
            n = len(data.frame)
            repeat = (
                data.values("redcap_repeat_instrument")
                if "redcap_repeat_instrument" in data.frame
                else [None] * n
            )
            columns = [(data.values(c), "___" in c) for c in self.form_columns(form)]
            self.rows_of[form] = [
                i
                for i in range(n)
                if (
                    repeat[i] == form
                    if not blank(repeat[i])
                    else any(
                        not blank(v[i]) and not (box and code_text(v[i]) == "0")
                        for v, box in columns
                    )
                )
            ]
        return self.rows_of[form]


@dataclass
class Workbook:
    """Everything read from the uploaded files, ready for a mapping."""

    sheets: list[Sheet] = field(default_factory=list)
    redcap: dict[str, Redcap] = field(default_factory=dict)  # data file -> project
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    notes: list[str] = field(default_factory=list)

    def sheets_of(self, file: str) -> list[Sheet]:
        """The sheets read from one file."""
        return [s for s in self.sheets if s.file == file]


def blank(value: object) -> bool:
    """A cell with nothing in it (None, NaN, NaT, empty or white-space text)."""
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def code_text(value: object) -> str:
    """A cell as the text a user would type for it: 1.0 → "1", dates as YYYY-MM-DD."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        stamp = pd.Timestamp(value)
        return str(stamp.date()) if stamp == stamp.normalize() else str(stamp)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def read_source_files(
    items: list,
    max_mb: float = DEFAULT_MAX_MB,
    mapped_mb: float | None = None,
    head: int | None = None,
) -> Workbook:
    """Read uploaded (name, bytes) pairs or paths (files, folders, zips) into one Workbook.

    The files read (after unzipping) may hold at most `mapped_mb` MB together (default
    RCE_MAX_MAPPED_MB or 30; see _mapped_size): every cell becomes a Python object, about twelve
    times the file.
    With `head`, only the first `head` rows of each sheet are read (SPSS/Stata: no rows), to see
    the files' headers; the mapped limit does not apply then."""
    mapped_mb = importer.default_max_mapped_mb() if mapped_mb is None else mapped_mb
    if head is not None:
        mapped_mb = math.inf
    files: list[tuple[str, bytes]] = []
    for item in items:
        if isinstance(item, tuple):
            files.append(item)
            continue
        path = Path(item)
        if path.is_dir():
            # a folder may hold the mapping and notes next to the study's files
            files += [
                (p.name, _read_file(p, max_mb, mapped_mb))
                for p in sorted(path.iterdir())
                if p.is_file()
                and not p.name.startswith(".")
                and p.suffix.lower() not in (".toml", ".md")
            ]
        elif path.is_file():
            files.append((path.name, _read_file(path, max_mb, mapped_mb)))
        else:
            raise ImportFailed(f"{path}: no such file or folder")
    book = Workbook()
    unpacked = []
    for name, raw in files:
        _check_size(name, len(raw), max_mb)
        if name.lower().endswith(".zip"):
            unpacked += _unzip(name, raw, max_mb)
        else:
            unpacked.append((name, raw))
    readable = [(n, _mapped_size(n, raw)) for n, raw in unpacked if _suffix(n) in READABLE]
    if readable and head is None:
        importer.check_mapped_size(
            readable[0][0] if len(readable) == 1 else "the files together",
            sum(size for _, size in readable),
            mapped_mb,
            "" if all(_suffix(n) in TEXT for n, _ in readable) else MAPPED_COUNT,
        )
    dictionaries: list[tuple[str, list[Field]]] = []
    for name, raw in unpacked:
        name = Path(name).name
        if name in book.files:
            raise ImportFailed(f"{name}: two files have this name; rename one of them")
        book.files[name] = hashlib.sha256(raw).hexdigest()
        suffix = Path(name).suffix.lower()
        if suffix in (".csv", ".txt", ".tsv"):
            rows = _csv_records(raw, name, book.notes)
            if head is not None:
                rows = itertools.islice(rows, head)
            first = next(rows, None)
            if first is not None and _is_dictionary(first):
                dictionaries.append((name, _dictionary([first, *rows], name)))
            else:
                records = [] if first is None else itertools.chain([first], rows)
                book.sheets.append(
                    _sheet(records, name, None, book.notes, _csv_again(raw, name))
                )
        elif suffix in (".xlsx", ".xlsm"):
            book.sheets += _excel(raw, name, book.notes, head)
        elif suffix in (".sav", ".zsav", ".dta"):
            book.sheets.append(_stats_file(raw, name, head is not None))
        else:
            book.notes.append(
                f"{name}: not CSV, Excel (.xlsx), SPSS (.sav), Stata (.dta) or zip; ignored"
            )
    _pair_redcap(book, dictionaries)
    return book


def _suffix(name: str) -> str:
    return Path(name).suffix.lower()


def _mapped_size(name: str, raw: bytes) -> int:
    """What a file counts against the mapped import's limit, in proportion to the memory it takes
    once read (README, "Hostile input"): an .xlsx its expanded size, an SPSS or Stata file twice
    its size (a number of 8 bytes becomes a Python object), a text file its size."""
    suffix = _suffix(name)
    if suffix in STATS:
        return 2 * len(raw)
    if suffix in (".xlsx", ".xlsm"):
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as z:
                return sum(i.file_size for i in z.infolist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return len(raw)  # reading it names it a damaged Excel file
    return len(raw)


def _read_file(path: Path, max_mb: float, mapped_mb: float) -> bytes:
    size = path.stat().st_size
    _check_size(path.name, size, max_mb)
    if _suffix(path.name) in TEXT:  # refused before its bytes are read
        importer.check_mapped_size(path.name, size, mapped_mb)
    return path.read_bytes()


def _check_size(name: str, size: int, max_mb: float) -> None:
    importer.check_size(name, size, max_mb)


def _unzip(name: str, raw: bytes, max_mb: float) -> list[tuple[str, bytes]]:
    return importer.unpack([(name, raw)], max_mb)


def _csv_again(raw: bytes, name: str) -> Callable[[], list[list]]:
    return lambda: list(_csv_records(raw, name, []))


def _csv_records(raw: bytes, name: str, notes: list[str]) -> Iterable[list[str]]:
    """Every record of a CSV file as text cells, within the importer's column and cell limits.

    The file is decoded a line at a time (never the whole text at once, nor a copy of it), and the
    records are given one at a time."""
    encoding = importer._encoding(raw, name, notes)  # one encoding for the file, as decode_text
    head = [line for line in itertools.islice(importer._lines(raw, encoding), HEADER_SCAN)
            if line.strip()]
    counts = {d: max((line.count(d) for line in head), default=0) for d in (",", ";", "\t")}
    delimiter = max(counts, key=counts.get)
    if delimiter != "," and counts[delimiter]:
        notes.append(
            f"{name}: columns separated by {'tab' if delimiter == chr(9) else repr(delimiter)}"
        )
    # a value repeated down a column (a code, an event name, a date) is kept once, not per cell
    seen: dict[str, str] = {}
    try:
        for number, row in enumerate(
            csv.reader(importer._lines(raw, encoding), delimiter=delimiter), 1
        ):
            if len(row) > importer.MAX_COLUMNS:
                raise ImportFailed(
                    f"{name}: row {number} has {len(row):,} cells; at most "
                    f"{importer.MAX_COLUMNS:,} columns are read"
                )
            if any(len(cell) > importer.MAX_CELL_CHARS for cell in row):
                raise ImportFailed(
                    f"{name}: row {number} has a cell longer than "
                    f"{importer.MAX_CELL_CHARS:,} characters; is a quotation mark "
                    "left open?"
                )
            yield [seen.setdefault(cell, cell) for cell in row]
    except csv.Error as exc:
        raise ImportFailed(
            f"{name}: not a readable CSV file ({exc}); is a quotation mark left open?"
        ) from None


def _excel(raw: bytes, name: str, notes: list[str], head: int | None = None) -> list[Sheet]:
    if zipfile.is_zipfile(io.BytesIO(raw)):  # an .xlsx is a zip: bound what it expands to
        importer._expand(raw, name, DEFAULT_MAX_MB, keep=False)
    book = _open_excel(raw, name)
    sheets = []
    for ws in book.worksheets:
        if ws.max_column and ws.max_column > importer.MAX_COLUMNS:
            raise ImportFailed(
                f"{name}{SEP}{ws.title}: {ws.max_column:,} columns; at most "
                f"{importer.MAX_COLUMNS:,} are read"
            )
        rows = [list(r) for r in ws.iter_rows(min_row=1, max_row=head, values_only=True)]
        if any(not blank(v) for r in rows for v in r):
            sheets.append(_sheet(rows, name, ws.title, notes, _excel_again(raw, name, ws.title)))
        del rows
    book.close()
    return sheets


def _excel_again(raw: bytes, name: str, title: str) -> Callable[[], list[list]]:
    def rows() -> list[list]:
        book = _open_excel(raw, name)
        try:
            return [list(r) for r in book[title].iter_rows(min_row=1, values_only=True)]
        finally:
            book.close()

    return rows


def _open_excel(raw: bytes, name: str) -> object:
    """The workbook in openpyxl's read-only mode; ImportFailed when it is damaged."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 -- openpyxl raises many kinds for a damaged file
        raise ImportFailed(f"{name}: not a readable Excel file ({type(exc).__name__})") from None
    return book


def _sheet(
    rows: Iterable[list],
    file: str,
    sheet: str | None,
    notes: list[str],
    reread: Callable[[], list[list]],
) -> Sheet:
    """A spreadsheet table whose header is the first row that looks like one (titles skipped)."""
    title = f"{file}{SEP}{sheet}" if sheet else file
    rows = iter(rows)
    head = list(itertools.islice(rows, HEADER_SCAN))
    filled = [sum(not blank(v) for v in r) for r in head]
    if not any(filled):
        raise ImportFailed(f"{title}: the sheet is empty")
    widest = max(filled)
    # a title or a note above the header fills one or two cells; the header fills most of the width
    index = next(i for i, n in enumerate(filled) if n >= max(1, math.ceil(widest * 0.6)))
    frame, labels, found = _frame(itertools.chain(head, rows), index, 1, title)
    notes += found
    if index > 0:
        notes.append(f"{title}: header read on row {index + 1} (the rows above it are a title)")
    return Sheet(file, sheet, "table", frame, labels, index + 1, reread=reread, first_row=1)


def _frame(
    rows: Iterable[list], index: int, first_row: int, title: str
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The rows below the header as a frame; empty rows dropped; row labels as spreadsheet rows.

    The cells go into one list per column as the rows come (no row is kept), then into the
    frame's one array column by column, each list freed once copied."""
    notes = []
    rows = iter(rows)
    header = next(itertools.islice(rows, index, None))
    width = len(header)
    data: list[list] = []  # the cells of each column position
    labels = []
    for offset, row in enumerate(rows, start=index + 1):
        width = max(width, len(row))
        if all(blank(v) for v in row):
            continue
        if len(row) > len(data):
            data += [[None] * len(labels) for _ in range(len(row) - len(data))]
        for cells, value in zip(data, row):
            cells.append(value)
        for cells in data[len(row) :]:
            cells.append(None)
        labels.append(f"row {first_row + offset}")
    data += [[None] * len(labels) for _ in range(width - len(data))]
    columns, seen = [], {}
    for i in range(width):
        text = code_text(header[i]) if i < len(header) and not blank(header[i]) else ""
        text = re.sub(r"\s+", " ", text) or f"column {_letters(i)}"
        key = text.lower()
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            notes.append(
                f'{title}: the column name "{text}" appears more than once; '
                f'the next one is called "{text} ({seen[key]})"'
            )
            text = f"{text} ({seen[key]})"
        columns.append(text)
    if labels:
        cells = np.empty((len(labels), width), dtype=object)
        for i in range(width):
            cells[:, i] = np.array(data[i], dtype=object)
            data[i] = []
        frame = pd.DataFrame(cells, columns=columns, copy=False)
    else:
        frame = pd.DataFrame(columns=columns, dtype=object)
    unnamed = [c for c in columns if c.startswith("column ") and frame[c].map(blank).all()]
    if unnamed:
        frame = frame.drop(columns=unnamed)
    return frame, labels, notes


def _letters(i: int) -> str:
    """Spreadsheet column letters: 0 → A, 26 → AA."""
    text = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        text = chr(65 + r) + text
    return text


def _stats_file(raw: bytes, name: str, header_only: bool = False) -> Sheet:
    """An SPSS .sav or Stata .dta file with its variable labels and value labels (pyreadstat)."""
    import pyreadstat

    suffix = Path(name).suffix.lower()
    reader = pyreadstat.read_dta if suffix == ".dta" else pyreadstat.read_sav
    handle, path = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(raw)
        frame, meta = reader(path, metadataonly=header_only)
    except Exception as exc:  # noqa: BLE001 -- pyreadstat raises its own error types for a damaged file
        raise ImportFailed(f"{name}: not a readable {suffix} file ({type(exc).__name__})") from None
    finally:
        os.unlink(path)
    frame = _as_cells(frame.reset_index(drop=True))
    value_labels = {
        column: {code_text(code): str(label) for code, label in labels.items()}
        for column, labels in meta.variable_value_labels.items()
    }
    labels = {c: str(v) for c, v in meta.column_names_to_labels.items() if v}
    kind = "stata" if suffix == ".dta" else "spss"
    rows = [f"row {i + 1}" for i in range(len(frame))]
    return Sheet(name, None, kind, frame, rows, labels=labels, value_labels=value_labels)


def _as_cells(read: pd.DataFrame) -> pd.DataFrame:
    """pyreadstat's typed columns as plain Python cells (None for missing), one column at a time
    into one array: a whole-frame conversion held three copies of every cell at once."""
    if any(kind == "M" for kind in read.dtypes.map(lambda d: d.kind)):  # not what pyreadstat gives
        whole = read.astype(object).where(read.notna(), None)
        return whole.map(lambda v: v.item() if hasattr(v, "item") and not isinstance(v, str) else v)
    cells = np.empty(read.shape, dtype=object)
    columns = read.columns
    for i, column in enumerate(list(columns)):
        part = read[[column]]
        read = read.drop(columns=[column])
        part = part.astype(object).where(part.notna(), None)
        part = part.map(lambda v: v.item() if hasattr(v, "item") and not isinstance(v, str) else v)
        cells[:, i] = part[column].to_numpy()
    return pd.DataFrame(cells, columns=columns, copy=False)


def _is_dictionary(header: list[str]) -> bool:
    return (
        bool(header)
        and header[0].strip().lower().lstrip("\ufeff") in DICTIONARY_FIRST
        and any("form" in h.lower() for h in header[1:3])
    )


def _dictionary(rows: list[list[str]], name: str) -> list[Field]:
    """The fields of a REDCap data dictionary CSV (columns in REDCap's fixed order)."""
    fields = []
    for line, row in enumerate(rows[1:], start=2):
        if not row or not row[0].strip():
            continue
        cells = row + [""] * (18 - len(row))
        kind = cells[3].strip().lower()
        choices = {}
        if kind in ("radio", "dropdown", "checkbox"):
            for part in cells[5].split("|"):
                code, sep, label = part.partition(",")
                if not sep:
                    raise ImportFailed(
                        f"{name} line {line}: choice '{part.strip()}' of field "
                        f"{cells[0].strip()} is not 'code, label'"
                    )
                choices[code.strip()] = label.strip()
        elif kind == "yesno":
            choices = {"1": "Yes", "0": "No"}
        elif kind == "truefalse":
            choices = {"1": "True", "0": "False"}
        fields.append(
            Field(
                cells[0].strip(),
                cells[1].strip(),
                kind,
                cells[4].strip(),
                choices,
                cells[7].strip(),
            )
        )
    return fields


def _pair_redcap(book: Workbook, dictionaries: list[tuple[str, list[Field]]]) -> None:
    """Recognise REDCap exports and attach the data dictionary whose fields they hold."""
    for sheet in book.sheets:
        columns = list(sheet.frame.columns)
        if sheet.kind != "table" or sheet.name is not None or not columns:
            continue
        match = next(((n, f) for n, f in dictionaries if f and f[0].name == columns[0]), None)
        if match is None and not any(c in columns for c in REDCAP_COLUMNS):
            continue
        if sheet.header_row != 1:
            continue
        sheet.kind = "redcap"
        project = Redcap(sheet)
        if match is not None:
            project.dictionary = match[0]
            project.fields = {f.name: f for f in match[1]}
            for column in columns:
                base, _, code = column.partition("___")
                f = project.fields.get(base)
                if f is None:
                    continue
                if code and f.type == "checkbox":
                    label = next(
                        (
                            lab
                            for c, lab in f.choices.items()
                            if re.sub(r"[^0-9A-Za-z]", "_", c) == code
                        ),
                        code,
                    )
                    sheet.labels[column] = f"{f.label}: {label}"
                    sheet.value_labels[column] = {"1": "Checked", "0": "Unchecked"}
                else:
                    sheet.labels[column] = f.label
                    if f.choices:
                        sheet.value_labels[column] = dict(f.choices)
        sheet.rows = [_redcap_label(project, i) for i in range(len(sheet.frame))]
        book.redcap[sheet.file] = project
    paired = {p.dictionary for p in book.redcap.values()}
    for name, _ in dictionaries:
        if name not in paired:
            book.notes.append(
                f"{name}: a REDCap data dictionary with no export records file "
                "whose first column is its first field; ignored"
            )


def _redcap_label(project: Redcap, i: int) -> str:
    """`record 12, event month_6_arm_1, relapse #2`: the row as REDCap shows it."""
    data = project.data

    def cell(column: str) -> object:
        return data.values(column)[i] if column in data.frame else None

    parts = [f"record {code_text(cell(project.record_id))}"]
    if not blank(cell("redcap_event_name")):
        parts.append(f"event {cell('redcap_event_name')}")
    instance = cell("redcap_repeat_instance")
    if not blank(instance):
        what = cell("redcap_repeat_instrument")
        parts.append(f"{'' if blank(what) else what + ' '}#{code_text(instance)}")
    return ", ".join(parts)
