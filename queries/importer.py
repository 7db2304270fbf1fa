"""Import CSV, Excel or parquet files as a new, validated, versioned dataset; switch between versions.

Layout of a datasets folder:
    versions/<id>/            one folder per version (parquet per table + version.json), never changed
    active.json               which version is active (replaced atomically)
    history.jsonl             every activation: version, who, when
    .staging-*/               an import in progress; removed when it ends, left over only if killed
"""

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from queries.contract import SUBTYPES, TABLES
from queries.validate import Problem, validate

DEFAULT_MAX_MB = 200
ALIASES = {"ae": "adverse_events", "aes": "adverse_events", "adverse_event": "adverse_events",
           "patient": "patients", "infusion": "infusions", "relapse": "relapses", "lab": "labs",
           "mris": "mri", "contacts": "engagement"}
ARROW = {"string": pa.string(), "date": pa.date32(), "double": pa.float64(), "integer": pa.int64(),
         "boolean": pa.bool_()}
TRUE = {"true", "t", "yes", "y", "1"}
FALSE = {"false", "f", "no", "n", "0"}


class ImportFailed(Exception):
    """An import that cannot go on: the message names the file and what is wrong."""


@dataclass
class Source:
    """One table read from an uploaded file (or one sheet of it), all cells still text."""
    name: str  # file (and sheet) as the user knows it
    table: str
    frame: pd.DataFrame
    first_line: int  # file line number of the frame's first row


@dataclass
class Staged:
    """A dataset written to a staging folder and validated; activate it only without errors."""
    path: Path
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    lines: dict[str, tuple[str, list[int]]] = field(default_factory=dict)  # table -> (file, row numbers)

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


def _decode(raw: bytes, name: str, notes: list[str]) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        notes.append(f"{name}: not UTF-8; read as Windows-1252 (cp1252)")
        return raw.decode("cp1252")


def _read_csv(raw: bytes, name: str, notes: list[str]) -> tuple[pd.DataFrame, bool]:
    """All cells as text; returns the frame and whether decimals are written with commas."""
    text = _decode(raw, name, notes)
    header = text.splitlines()[0] if text.strip() else ""
    delimiter = max([",", ";", "\t"], key=header.count) if header else ","
    if delimiter != ",":
        notes.append(f"{name}: columns separated by {'tab' if delimiter == chr(9) else repr(delimiter)}")
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        raise ImportFailed(f"{name}: the file is empty")
    columns = [c.strip() for c in rows[0]]
    _check_header(columns, name)
    body = [r + [""] * (len(columns) - len(r)) for r in rows[1:]]
    frame = pd.DataFrame([r[: len(columns)] for r in body], columns=columns, dtype=object)
    frame.index = range(2, len(frame) + 2)  # file line numbers
    return frame, delimiter == ";"


def _check_header(columns: list[str], name: str) -> None:
    seen = set()
    for c in columns:
        if c.lower() in seen:
            raise ImportFailed(f"{name}: the column name '{c}' appears twice in the header")
        seen.add(c.lower())


def _read_excel(raw: bytes, name: str, notes: list[str]) -> list[tuple[str, pd.DataFrame]]:
    try:
        sheets = pd.read_excel(io.BytesIO(raw), sheet_name=None, dtype=object, header=None)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ImportFailed(f"{name}: not a readable Excel file ({type(exc).__name__})") from None
    result = []
    for sheet, frame in sheets.items():
        filled = frame.notna().any(axis=1)
        if not filled.any():
            continue
        frame = frame.loc[filled.idxmax():]  # the header is the first row with anything in it
        columns = [str(c).strip() for c in frame.iloc[0]]
        _check_header(columns, f"{name} [{sheet}]")
        body = frame.iloc[1:].copy()
        body.columns = columns
        body.index = body.index + 1  # Excel row numbers (1-based, header on row 1)
        result.append((sheet, body))
    return result


def read_sources(paths: list[Path], notes: list[str], max_mb: float = DEFAULT_MAX_MB) -> list[Source]:
    """Every table found in the given files, folders or zips."""
    files: list[tuple[str, bytes]] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files += [(str(p), _read_limited(p, max_mb)) for p in sorted(path.iterdir()) if p.is_file()]
        elif path.is_file():
            files.append((str(path), _read_limited(path, max_mb)))
        else:
            raise ImportFailed(f"{path}: no such file or folder")
    return read_uploads(files, notes, max_mb)


def _read_limited(path: Path, max_mb: float) -> bytes:
    size = path.stat().st_size
    if size > max_mb * 1024 * 1024:
        raise ImportFailed(f"{path}: {size / 1024 / 1024:.0f} MB is over the {max_mb:g} MB limit")
    return path.read_bytes()


def read_uploads(files: list[tuple[str, bytes]], notes: list[str], max_mb: float = DEFAULT_MAX_MB) -> list[Source]:
    """Every table in uploaded (name, content) pairs: CSV, .xlsx, parquet, or a zip of them."""
    sources: list[Source] = []
    for name, raw in files:
        if len(raw) > max_mb * 1024 * 1024:
            raise ImportFailed(f"{name}: {len(raw) / 1024 / 1024:.0f} MB is over the {max_mb:g} MB limit")
        suffix = Path(name).suffix.lower()
        if suffix == ".zip":
            try:
                with zipfile.ZipFile(io.BytesIO(raw)) as z:
                    inner = [(f"{name}/{i.filename}", z.read(i)) for i in z.infolist()
                             if not i.is_dir() and not Path(i.filename).name.startswith((".", "__"))]
            except zipfile.BadZipFile:
                raise ImportFailed(f"{name}: not a readable zip file") from None
            sources += read_uploads(inner, notes, max_mb)
        elif suffix in (".xlsx", ".xlsm"):
            sheets = _read_excel(raw, name, notes)
            for sheet, frame in sheets:
                table = table_for(sheet) or (table_for(name) if len(sheets) == 1 else None)
                if table is None:
                    notes.append(f"{name} [{sheet}]: no contract table of that name; sheet ignored")
                    continue
                sources.append(Source(f"{name} [{sheet}]", table, frame, 2))
        elif suffix in (".csv", ".txt", ".tsv"):
            table = table_for(name)
            if table is None:
                notes.append(f"{name}: no contract table of that name; file ignored")
                continue
            frame, decimal_comma = _read_csv(raw, name, notes)
            frame.attrs["decimal_comma"] = decimal_comma
            sources.append(Source(name, table, frame, 2))
        elif suffix == ".parquet":
            table = table_for(name)
            if table is None:
                notes.append(f"{name}: no contract table of that name; file ignored")
                continue
            try:
                frame = pq.read_table(io.BytesIO(raw)).to_pandas().astype(object)
            except Exception:
                raise ImportFailed(f"{name}: not a readable parquet file") from None
            frame.index = range(1, len(frame) + 1)
            sources.append(Source(name, table, frame, 1))
        else:
            notes.append(f"{name}: not CSV, Excel (.xlsx), parquet or zip; file ignored")
    return sources


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or (
        isinstance(value, str) and value.strip() == ""
    ) or value is pd.NaT


def _cast(value: object, logical: str, decimal_comma: bool, dayfirst: bool) -> object:
    """One cell cast to the contract's logical type; ValueError when it does not fit."""
    if _blank(value):
        return None
    if logical == "string":
        return str(value).strip()
    if logical == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text.endswith(".0"):
            text = text[:-2]
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise ValueError("not true/false")
    if logical == "date":
        if isinstance(value, (dt.datetime, pd.Timestamp)):
            return pd.Timestamp(value).date()
        if isinstance(value, dt.date):
            return value
        text = str(value).strip()
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}([ T].*)?", text):
            return pd.Timestamp(text).date()
        if re.fullmatch(r"\d{1,2}[./-]\d{1,2}[./-]\d{4}", text):
            return pd.to_datetime(text, dayfirst=dayfirst).date()
        raise ValueError("not a date (YYYY-MM-DD or DD/MM/YYYY)")
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip().replace("\u00a0", "").replace(" ", "")
        if decimal_comma:
            text = text.replace(".", "").replace(",", ".") if "," in text else text
        number = float(text)
    if logical == "integer":
        if number != int(number):
            raise ValueError("not a whole number")
        return int(number)
    return number


def to_table(source: Source, problems: list[Problem], notes: list[str]) -> pa.Table:
    """A source cast to its contract table; cells that do not fit become problems naming row and column."""
    spec = TABLES[source.table]
    frame = source.frame.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    lower = {c.lower(): c for c in frame.columns}
    blank_rows = frame.apply(lambda r: all(_blank(v) for v in r), axis=1)
    if blank_rows.any():
        notes.append(f"{source.name}: {int(blank_rows.sum())} blank row(s) skipped")
        frame = frame[~blank_rows]
    known = {c.name for c in spec.columns}
    ignored = [c for c in frame.columns if c.lower() not in known]
    if ignored:
        notes.append(f"{source.name}: column(s) not in the contract ignored: {', '.join(ignored)}")
    dayfirst = any(
        re.fullmatch(r"\d{1,2}[./-]\d{1,2}[./-]\d{4}", str(v).strip())
        for c in spec.columns if c.type == "date" and c.name in lower
        for v in frame[lower[c.name]].head(50)
    )
    if dayfirst:
        notes.append(f"{source.name}: dates read day first (DD/MM/YYYY)")
    arrays = {}
    for column in spec.columns:
        if column.name not in lower:
            if column.required:
                problems.append(Problem("error", source.table, column.name,
                                        f"required column '{column.name}' is missing", file=source.name))
            continue
        values, bad = [], []
        ids = frame[lower["patient_id"]] if "patient_id" in lower else pd.Series(None, index=frame.index)
        for line, value in frame[lower[column.name]].items():
            try:
                cast = _cast(value, column.type, source.frame.attrs.get("decimal_comma", False), dayfirst)
                if column.name == "subtype" and source.table == "patients" and cast is not None:
                    cast = cast.upper() if cast.upper() in SUBTYPES else cast
                values.append(cast)
            except (ValueError, OverflowError) as exc:
                values.append(None)
                pid = ids.get(line)
                bad.append({"row": int(line), "patient_id": None if _blank(pid) else str(pid),
                            "date": None, "value": str(value), "why": str(exc)})
        if bad:
            problems.append(Problem(
                "error", source.table, column.name,
                f"value is not {column.type} ({bad[0]['why']})", len(bad), bad[:5], source.name,
            ))
        arrays[column.name] = pa.array(values, type=ARROW[column.type])
    source.frame.attrs["lines"] = [int(i) for i in frame.index]
    return pa.table(arrays) if arrays else pa.table({})


def stage(sources: list[Source], root: Path, notes: list[str] | None = None) -> Staged:
    """Cast and write the sources as parquet in a new staging folder under root, then validate it."""
    notes = list(notes or [])
    root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
    path.chmod(0o755)
    staged = Staged(path, notes=notes)
    seen: dict[str, str] = {}
    for source in sources:
        if source.table in seen:
            raise ImportFailed(f"{source.name}: table '{source.table}' was already given by {seen[source.table]}")
        seen[source.table] = source.name
    cast_problems: list[Problem] = []
    for source in sources:
        table = to_table(source, cast_problems, staged.notes)
        staged.rows[source.table] = table.num_rows
        staged.lines[source.table] = (source.name, source.frame.attrs["lines"])
        if table.num_columns:
            pq.write_table(table, path / f"{source.table}.parquet")
    missing = [t for t, spec in TABLES.items() if spec.required and t not in seen]
    if missing:
        staged.notes.append(f"required table(s) not given: {', '.join(missing)}")
    # a cell that failed to cast is reported once, by the cast, not again as a null by validation
    cast_columns = {(p.table, p.column) for p in cast_problems}
    checked = [
        p for p in validate(path) if (p.table, p.column) not in cast_columns or p.severity == "warning"
    ]
    staged.problems = cast_problems + [_in_source_rows(p, staged) for p in checked]
    return staged


def _in_source_rows(problem: Problem, staged: Staged) -> Problem:
    """Renumber a validation problem's rows as rows of the file the user gave."""
    problem.rule = problem.rule.replace(f"{staged.path}{os.sep}", "")
    if problem.table not in staged.lines:
        return problem
    name, lines = staged.lines[problem.table]
    for ex in problem.examples:
        if ex.get("row") and ex["row"] <= len(lines):
            ex["row"] = lines[ex["row"] - 1]
    problem.file = name
    return problem


def content_hash(folder: Path) -> str:
    """The version id: a hash of the tables' parquet files."""
    h = hashlib.sha256()
    for f in sorted(folder.glob("*.parquet")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def activate_staged(staged: Staged, root: Path, user: str, notes: list[str] | None = None) -> str:
    """Move a valid staged dataset into versions/<id> and make it active; returns the id."""
    if not staged.ok:
        raise ImportFailed("the dataset has errors; fix them before activating")
    version = content_hash(staged.path)
    target = root / "versions" / version
    if target.exists():
        shutil.rmtree(staged.path, ignore_errors=True)
    else:
        meta = {"id": version, "imported_by": user, "imported_at": _now(), "rows": staged.rows,
                "notes": staged.notes}
        (staged.path / "version.json").write_text(json.dumps(meta, indent=2))
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged.path, target)  # atomic on one file system: the version appears whole or not at all
    activate(root, version, user)
    return version


def activate(root: Path, version: str, user: str) -> None:
    """Make an existing version the active one (atomic replace of active.json) and log it."""
    if not (root / "versions" / version / "patients.parquet").exists():
        raise ImportFailed(f"{root}: no version {version}")
    record = {"version": version, "activated_by": user, "activated_at": _now()}
    tmp = root / f".active-{uuid.uuid4().hex}.json"
    tmp.write_text(json.dumps(record))
    os.replace(tmp, root / "active.json")
    with open(root / "history.jsonl", "a") as log:
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
    """Every imported version's metadata, newest first."""
    found = []
    for meta in Path(root).glob("versions/*/version.json"):
        try:
            found.append(json.loads(meta.read_text()))
        except json.JSONDecodeError:
            continue
    return sorted(found, key=lambda m: m.get("imported_at", ""), reverse=True)


def clean_staging(root: Path) -> None:
    """Remove staging folders left by imports that were interrupted."""
    for leftover in Path(root).glob(".staging-*"):
        shutil.rmtree(leftover, ignore_errors=True)


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
        if staged.path.exists():
            shutil.rmtree(staged.path, ignore_errors=True)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
