"""The Data page's import flow without Streamlit: read uploads, suggest or reuse a mapping, edit it,
preview the contract tables it gives, and import them as a new version with their provenance.

Every step takes plain values ((name, bytes) pairs, TOML text, data frames) so that it is tested
directly (tests/test_page_data_import.py); the page only draws the steps and keeps a `Flow` in the
session.
"""

import dataclasses
import datetime as dt
import json
import logging
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from queries import importer
from queries.contract import TABLES
from queries.importer import ImportFailed
from queries.mapping import (
    EXCLUDE,
    MappingError,
    apply,
    check,
    enumerations,
    load_mapping,
    set_value_map,
    stage_mapped,
)
from queries.readers import (
    HEADER_SCAN,
    SEP,
    Sheet,
    Workbook,
    blank,
    code_text,
    read_source_files,
)
from queries.suggest import suggest_mapping

LOG = logging.getLogger(__name__)
MAPPING_NAME = "mapping.toml"
NOT_MAPPED = "— not mapped —"
CONSTANT = "= a constant value"
PREVIEW_ROWS = 5
MAX_VALUES = 60  # distinct source values offered in a value map editor
RECENT_VERSIONS = 20  # how many earlier versions are looked at for a mapping to reuse


@dataclass
class Flow:
    """One session's import in progress: the files read, the mapping, and the staged preview."""

    files: list[str]  # uploaded file names as given
    book: Workbook | None = None  # the files read for a mapped import
    direct: bool = False  # contract-shaped files: the existing direct import
    text: str = ""  # the mapping (TOML) in use
    mapping_name: str = MAPPING_NAME
    origin: str = "suggested"  # "suggested", "version <id>", "file <name>", "edited"
    previous: dict | None = None  # an earlier version whose mapping fits these files
    generation: int = 0  # bumped whenever the text is replaced: the form's widgets start over
    staged: importer.Staged | None = None
    applied: object = None  # queries.mapping.Applied of the staged preview
    error: list[str] = field(default_factory=list)  # why the mapping or the files cannot be read
    signature: object = None  # the uploader's files this flow was made from
    mapping_signature: object = None  # the uploaded mapping file in use
    cache: dict = field(default_factory=dict)


# Reading the uploads


def read_files(files: list[tuple[str, bytes]], max_mb: float, head: int | None = None) -> Workbook:
    """The uploaded files read for a mapped import (ImportFailed names the file); with `head`, only
    each sheet's first rows, enough to tell contract-shaped files by their headers."""
    return read_source_files(list(files), max_mb, head=head)


def _norm(text: object) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(text).strip().lower()).strip("_")


def contract_shaped(book: Workbook) -> bool:
    """The files are already the contract's tables (one per file or sheet, named after it, with its
    required columns as headers): they go through the existing direct import."""
    if book.redcap or not book.sheets:
        return False
    found = set()
    for sheet in book.sheets:
        if sheet.kind != "table":
            return False
        table = importer.table_for(sheet.name or sheet.file) or (
            importer.table_for(sheet.file) if len(book.sheets_of(sheet.file)) == 1 else None
        )
        if table is None:
            if len(book.sheets_of(sheet.file)) > 1:
                continue  # a notes or dictionary sheet next to the tables (the template has one)
            return False
        have = {_norm(c) for c in sheet.frame.columns}
        if sheet.header_row != 1 or not {c.name for c in TABLES[table].columns
                                         if c.required} <= have:
            return False
        found.add(table)
    return "patients" in found


def start(files: list[tuple[str, bytes]], root: Path, max_mb: float) -> Flow:
    """A new flow for uploaded files: read them, then use the mapping file uploaded with them, else
    reuse an earlier version's mapping that fits them, else suggest one. ImportFailed when a file
    cannot be read or more than one mapping file is given."""
    mappings = [(n, raw) for n, raw in files if Path(n).suffix.lower() == ".toml"]
    if len(mappings) > 1:
        raise ImportFailed(f"{', '.join(n for n, _ in mappings)}: give one mapping file at a time")
    data = [(n, raw) for n, raw in files if (n, raw) not in mappings]
    if not mappings:
        # the headers tell contract-shaped files, which the direct import reads in chunks: only
        # their first rows are read here, and only those are kept (file hashes and headers)
        heads = read_files(data, max_mb, head=HEADER_SCAN)
        if contract_shaped(heads):
            return Flow([name for name, _ in files], heads, direct=True)
        del heads
    book = read_files(data, max_mb)
    flow = Flow([name for name, _ in files], book)
    flow.previous = previous_mapping(book, root)
    if mappings:
        name, raw = mappings[0]
        flow.text, flow.mapping_name = decode_mapping(raw, name), Path(name).name
        flow.origin = f"file {Path(name).name}"
    elif flow.previous:
        flow.text, flow.mapping_name = flow.previous["mapping"], flow.previous["mapping_name"]
        flow.origin = f"version {flow.previous['version']}"
    else:
        flow.text, flow.origin = suggest_mapping(book), "suggested"
    return flow


# Mappings of earlier versions


def sheet_columns(book: Workbook) -> list[dict]:
    """Each sheet's file, name and header: saved with a version to recognise the next export."""
    return [
        {"file": s.file, "sheet": s.name, "columns": [str(c) for c in s.frame.columns]}
        for s in book.sheets
    ]


def _covers(new: list[dict], old: list[dict]) -> bool:
    """Every old sheet is among the new ones (same sheet name) with at least its columns."""
    return all(
        any(str(n.get("sheet")) == str(o.get("sheet")) and set(o["columns"]) <= set(n["columns"])
            for n in new)
        for o in old
    )


def _renamed(text: str, renames: dict[str, str]) -> str:
    for old, new in renames.items():
        for quote in (json.dumps, lambda s: f"'{s}'"):
            text = text.replace(quote(old), json.dumps(new, ensure_ascii=False))
    return text


def previous_mapping(book: Workbook, root: Path) -> dict | None:
    """The newest earlier version whose mapping fits these files: the same file names, or files
    with the same sheets and (at least) the same columns under new names, with the mapping text
    adjusted to the new names. Columns the earlier export did not have are listed."""
    now = sheet_columns(book)
    for version in importer.versions(root)[:RECENT_VERSIONS]:
        prov = version.get("provenance") or {}
        if not isinstance(prov.get("mapping"), str):
            continue
        before = prov.get("sheets") or []
        renames: dict[str, str] = {}
        if set(prov.get("files") or {}) != set(book.files):
            old_files = {s["file"] for s in before}
            for old in old_files:
                mine = [s for s in before if s["file"] == old]
                new = [f for f in book.files if _covers([s for s in now if s["file"] == f], mine)]
                if len(new) == 1:
                    renames[old] = new[0]
            if not old_files or len(renames) != len(old_files):
                continue
        text = _renamed(prov["mapping"], renames)
        name = prov.get("mapping_name") or MAPPING_NAME
        try:
            check(load_mapping(text, name), book)
        except (MappingError, ImportFailed):
            continue
        known = {(renames.get(s["file"], s["file"]), str(s.get("sheet")), c)
                 for s in before for c in s["columns"]}
        added = {}
        for s in now:
            extra = [c for c in s["columns"] if (s["file"], str(s.get("sheet")), c) not in known]
            if extra and before:
                added[SEP.join(str(x) for x in (s["file"], s["sheet"]) if x)] = extra
        return {
            "version": version["id"],
            "imported_at": version.get("imported_at"),
            "imported_by": version.get("imported_by"),
            "mapping": text,
            "mapping_name": name,
            "same_files": prov.get("files") == book.files,
            "renamed": renames,
            "new_columns": added,
        }
    return None


# The mapping as data, and back to TOML


def parse(text: str) -> dict | None:
    """The mapping text as a dict, or None when it is not valid TOML."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def _key(text: str) -> str:
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else json.dumps(text, ensure_ascii=False)


def toml_value(value: object) -> str:
    """One value as TOML (strings quoted, dicts inline)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(str(value), ensure_ascii=False)


def _is_section(key: str, value: object, parent: str) -> bool:
    return isinstance(value, dict) and (
        key == "values" or parent == "values" or any(isinstance(v, dict) for v in value.values())
    )


def _emit(path: list[str], data: dict, lines: list[str]) -> None:
    parent = path[-1] if path else ""
    arrays = {k: v for k, v in data.items() if isinstance(v, list) and v and
              all(isinstance(x, dict) for x in v)}
    sections = {k: v for k, v in data.items() if k not in arrays
                and (_is_section(k, v, parent) or (not path and isinstance(v, dict)))}
    simple = {k: v for k, v in data.items() if k not in arrays and k not in sections}
    if path and (simple or not (arrays or sections)):
        lines += ["", f"[{'.'.join(_key(p) for p in path)}]"]
    lines += [f"{_key(k)} = {toml_value(v)}" for k, v in simple.items()]
    for key, items in arrays.items():
        for item in items:
            lines += ["", f"[[{'.'.join(_key(p) for p in [*path, key])}]]"]
            lines += [f"{_key(k)} = {toml_value(v)}" for k, v in item.items()]
    for key, value in sections.items():
        _emit([*path, key], value, lines)


def to_toml(data: dict) -> str:
    """A mapping dict as TOML text (tomllib reads it back to the same dict)."""
    lines: list[str] = []
    _emit([], data, lines)
    return "\n".join(lines).lstrip("\n") + "\n"


def _without_values(data: dict) -> dict:
    return {k: ({kk: vv for kk, vv in v.items() if kk != "values"} if isinstance(v, dict) else v)
            for k, v in data.items()}


def apply_edits(text: str, before: dict, after: dict) -> str:
    """The mapping text with the form's edits: value map entries added or changed are written into
    the text as it is (its comments and hints kept); any other edit rewrites the text from the form."""
    if _without_values(before) == _without_values(after):
        edited = text
        for table, section in after.items():
            maps = section.get("values", {}) if isinstance(section, dict) else {}
            for column, pairs in maps.items():
                was = before.get(table, {}).get("values", {}).get(column, {})
                for key, target in pairs.items():
                    if was.get(key) != target:
                        edited = set_value_map(edited, table, column, key, target)
        if parse(edited) == after:
            return edited
    return to_toml(after)


# What the form offers# What the form offers


def _sheet_of(source: object, book: Workbook) -> Sheet | None:
    if isinstance(source, str):
        source = {"file": source}
    if not isinstance(source, dict):
        return None
    sheets = book.sheets_of(str(source.get("file")))
    if source.get("sheet") is not None:
        sheets = [s for s in sheets if str(s.name).lower() == str(source["sheet"]).lower()]
    if len(sheets) != 1:
        return None
    sheet = sheets[0]
    row = source.get("header_row")
    if isinstance(row, int) and row != sheet.header_row:
        try:
            sheet = sheet.with_header(row)
        except ImportFailed:
            return None
    return sheet


def sheet_titles(book: Workbook) -> list[str]:
    """Every sheet as the user knows it: `cohort.xlsx › Patients`."""
    return [s.title for s in book.sheets]


def source_title(data: dict, table: str, book: Workbook) -> str | None:
    """The sheet a table is read from, or None when the mapping's source is not one of them."""
    sheet = _sheet_of(data.get(table, {}).get("source"), book)
    return sheet.title if sheet else None


def set_source(data: dict, table: str, title: str, book: Workbook) -> None:
    """Read the table from another sheet (REDCap instrument and event are kept)."""
    sheet = next(s for s in book.sheets if s.title == title)
    old = data.setdefault(table, {}).get("source")
    old = old if isinstance(old, dict) else {}
    new = {"file": sheet.file}
    if sheet.name:
        new["sheet"] = sheet.name
    if sheet.header_row != 1 and sheet.kind == "table":
        new["header_row"] = sheet.header_row
    for key in ("instrument", "event"):
        if key in old and old.get("file") == sheet.file:
            new[key] = old[key]
    data[table] = {"source": new, **{k: v for k, v in data[table].items() if k != "source"}}


def source_columns(data: dict, table: str, book: Workbook) -> list[str]:
    """The columns of the sheet a table is read from."""
    sheet = _sheet_of(data.get(table, {}).get("source"), book)
    return [str(c) for c in sheet.frame.columns] if sheet else []


def choice(spec: object) -> tuple[str, object]:
    """How the form shows a column's spec: ("column", name), ("constant", value), ("none", None) or
    ("advanced", spec) for what only the TOML can say (derived values, options)."""
    if spec is None:
        return "none", None
    if isinstance(spec, str):
        return "column", spec
    if isinstance(spec, dict):
        if set(spec) == {"column"} and isinstance(spec["column"], str):
            return "column", spec["column"]
        if set(spec) == {"value"}:
            return "constant", spec["value"]
        return "advanced", spec
    return "constant", spec


def constant(text: str, table: str, column: str) -> object:
    """A constant typed in the form, as the column's type when it reads as one."""
    logical = TABLES[table].column(column).type
    text = text.strip()
    try:
        if logical == "integer":
            return int(text)
        if logical == "double":
            return float(text.replace(",", "."))
    except ValueError:
        return text
    if logical == "boolean" and text.lower() in ("true", "false", "yes", "no"):
        return text.lower() in ("true", "yes")
    return text


def set_column(data: dict, table: str, column: str, kind: str, value: object) -> None:
    """Fill a contract column from a source column or a constant, or leave it out."""
    section = data.setdefault(table, {})
    if kind == "none":
        section.pop(column, None)
    elif kind == "column":
        section[column] = str(value)
    elif kind == "constant":
        section[column] = {"value": value}


def _spec_text(spec: object) -> str | None:
    return None if spec is None else spec if isinstance(spec, str) else toml_value(spec)


def repeat_rows(data: dict, table: str) -> pd.DataFrame | None:
    """The table's groups of repeated columns, one row per group (each gives one row of the
    table): the source column of each contract column, or its rule as TOML. None without groups."""
    groups = [g for g in data.get(table, {}).get("repeat", []) if isinstance(g, dict)]
    if not groups:
        return None
    columns = [c.name for c in TABLES[table].columns if any(c.name in g for g in groups)]
    return pd.DataFrame([{c: _spec_text(g.get(c)) for c in columns} for g in groups],
                        columns=columns, dtype=object)


def set_repeat(data: dict, table: str, rows: pd.DataFrame) -> None:
    """Write edited groups back; a cell written as { … } is a rule (e.g. months_after_first_dose)."""
    groups = []
    for row in rows.to_dict("records"):
        group: dict[str, object] = {}
        for column, cell in row.items():
            if cell is None or blank(cell):
                continue
            text = str(cell).strip()
            try:
                group[column] = tomllib.loads(f"x = {text}")["x"] if text.startswith("{") else text
            except tomllib.TOMLDecodeError:
                group[column] = text  # then reported by the mapping as a column not in the sheet
        if group:
            groups.append(group)
    if groups:
        data[table]["repeat"] = groups
    else:
        data[table].pop("repeat", None)


def enumerated(data: dict) -> list[tuple[str, str]]:
    """The (table, column) pairs of the mapping with a fixed set of contract values."""
    return [(t, c) for (t, c) in enumerations() if t in data and value_columns(data, t, c)]


def value_columns(data: dict, table: str, column: str) -> list[str]:
    """The source columns a contract column is read from (one per repeat group)."""
    section = data.get(table, {})
    specs = [section.get(column)] + [g.get(column) for g in section.get("repeat", [])
                                     if isinstance(g, dict)]
    return [n for kind, n in (choice(s) for s in specs if s is not None) if kind == "column"]


def value_rows(data: dict, table: str, column: str, book: Workbook) -> pd.DataFrame:
    """The value map editor's rows: each source value (with its label), how often it occurs, and the
    contract value it becomes (None where the mapping does not say and it is not one already)."""
    allowed = enumerations()[(table, column)]
    sheet = _sheet_of(data.get(table, {}).get("source"), book)
    settings = data.get("settings", {})
    tokens = _as_list(settings.get("missing")) + _as_list(data.get(table, {}).get("missing"))
    missing = {code_text(v).lower() for v in tokens}
    counts: dict[str, int] = {}
    labels: dict[str, str] = {}
    if sheet is not None:
        for name in value_columns(data, table, column):
            if name not in sheet.frame.columns:
                continue
            for raw in sheet.frame[name]:
                if blank(raw) or code_text(raw).lower() in missing:
                    continue
                text = code_text(raw)
                counts[text] = counts.get(text, 0) + 1
                label = sheet.value_labels.get(name, {}).get(text)
                if label:
                    labels[text] = label
    given = data.get(table, {}).get("values", {}).get(column, {})
    given = given if isinstance(given, dict) else {}
    lower = {str(k).strip().lower(): v for k, v in given.items()}
    rows = []
    for text, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))[:MAX_VALUES]:
        label = labels.get(text)
        target = lower.get(text.lower(), lower.get(label.lower()) if label else None)
        if target is None:
            target = next((a for a in allowed for c in (text, label) if c and a.lower() == c.lower()),
                          None)
        rows.append({"source value": text, "label": label or "", "rows": n,
                     "contract value": _target(target, allowed)})
    rows.sort(key=lambda r: r["contract value"] is not None)  # values still to map come first
    seen = {r["source value"].lower() for r in rows} | {r["label"].lower() for r in rows}
    for key, target in given.items():
        if str(key).strip().lower() not in seen:
            rows.append({"source value": str(key), "label": "", "rows": 0,
                         "contract value": _target(target, allowed)})
    return pd.DataFrame(rows, columns=["source value", "label", "rows", "contract value"])


def _as_list(value: object) -> list:
    return [] if value is None else value if isinstance(value, list) else [value]


def _target(target: object, allowed: tuple[str, ...]) -> str | None:
    if target is None:
        return None
    text = str(target)
    if text.lower() == EXCLUDE:
        return EXCLUDE
    return next((a for a in allowed if a.lower() == text.lower()), text)


def target_options(table: str, column: str) -> list[str]:
    """What a source value may become: the contract's values, or exclude (the patient is left out)."""
    return [*enumerations()[(table, column)], EXCLUDE]


def set_values(data: dict, table: str, column: str, rows: pd.DataFrame) -> None:
    """Write the edited value map back: only the values that are not the contract's value already."""
    given = data.get(table, {}).get("values", {}).get(column, {})
    spelled = {str(k).strip().lower(): k for k in (given if isinstance(given, dict) else {})}
    pairs: dict[str, object] = {}
    for row in rows.to_dict("records"):
        source, target = str(row.get("source value") or "").strip(), row.get("contract value")
        if not source or target is None or blank(target):
            continue
        target = str(target)
        label = str(row.get("label") or "")
        if target.lower() in (source.lower(), label.lower()) and target != EXCLUDE:
            continue
        if source.lower() not in spelled and label.lower() in spelled:
            source = spelled[label.lower()]  # the mapping names this value by its label
        pairs[spelled.get(source.lower(), source)] = target
    values = data.setdefault(table, {}).setdefault("values", {})
    if pairs:
        values[column] = pairs
    else:
        values.pop(column, None)
    if not values:
        data[table].pop("values")


# Preview and import


@dataclass
class Preview:
    """The contract tables a mapping gives, as staged: rows, first rows, problems."""

    rows: dict[str, int]
    heads: dict[str, pd.DataFrame]
    problems: pd.DataFrame
    notes: list[str]
    ok: bool


def problems_table(problems: list) -> pd.DataFrame:
    """One row per problem example, pointing at the source: file › sheet › row › column."""
    rows = []
    for p in problems:
        examples = p.examples or [{}]
        for i, ex in enumerate(examples):
            where = ex.get("source") or SEP.join(
                str(x) for x in (ex.get("file") or p.file,
                                 f"row {ex['row']}" if ex.get("row") else None, p.column) if x
            )
            more = p.count - len(p.examples) if i == len(examples) - 1 else 0
            rows.append({
                "severity": p.severity,
                "where": where,
                "value": None if ex.get("value") is None else str(ex.get("value")),
                "problem": f"{p.table}.{p.column}: {p.rule}" if p.column else f"{p.table}: {p.rule}",
                "more like it": more if more > 0 else None,
            })
    return pd.DataFrame(rows, columns=["severity", "where", "value", "problem", "more like it"])


def run_preview(flow: Flow, root: Path) -> None:
    """Apply the flow's mapping and stage the result (the previous staged preview is discarded);
    a mapping or file that cannot be used leaves flow.error and no staged dataset."""
    discard(flow)
    flow.error = []
    try:
        mapping = load_mapping(flow.text, flow.mapping_name)
        applied = apply(mapping, flow.book)
        staged = stage_mapped(applied, Path(root))
    except MappingError as exc:
        flow.error = list(exc.problems)
        return
    except ImportFailed as exc:
        flow.error = [str(exc)]
        return
    except Exception as exc:  # a cell or file no rule foresaw: a message, never a traceback
        LOG.exception("mapped import preview failed")
        flow.error = [(f"the files could not be read through this mapping ({type(exc).__name__}); "
                       "check the mapping's sources and columns, or send the mapping and a sample "
                       "of the file (without patient data) to the dashboard's maintainers")]
        return
    # the staged parquet holds the tables now: the session keeps the provenance, not a second copy
    flow.staged, flow.applied = staged, dataclasses.replace(applied, sources=[])
    flow.cache["preview"] = preview_of(staged)


def preview_of(staged: importer.Staged) -> Preview:
    """What the staged dataset holds: rows and first rows per table, and its problems."""
    heads = {}
    for table in TABLES:
        path = staged.path / f"{table}.parquet"
        if path.exists():
            heads[table] = pd.read_parquet(path).head(PREVIEW_ROWS)
    return Preview(dict(staged.rows), heads, problems_table(staged.problems), list(staged.notes),
                   staged.ok)


def discard(flow: Flow) -> None:
    """Remove this session's staged preview (never another user's)."""
    if flow.staged is not None:
        importer.discard(flow.staged)
    flow.staged, flow.applied = None, None
    flow.cache.pop("preview", None)


def provenance(flow: Flow) -> dict:
    """What is saved with the version: source files and their sha256, the mapping, derived values,
    exclusions, notes, and each sheet's header so that the next export is recognised."""
    prov = dict(flow.applied.provenance)
    prov["mapping"] = flow.text
    prov["mapping_name"] = flow.mapping_name
    prov["mapping_origin"] = flow.origin
    prov["sheets"] = sheet_columns(flow.book)
    return prov


def import_version(flow: Flow, root: Path, user: str) -> str:
    """Activate the staged preview as a new version with its provenance; returns the version id."""
    if flow.staged is None or not flow.staged.ok:
        raise ImportFailed("the preview has errors; fix them before importing")
    version = importer.activate_staged(flow.staged, Path(root), user, provenance=provenance(flow))
    flow.staged, flow.applied = None, None
    flow.cache.pop("preview", None)
    return version


def use_text(flow: Flow, text: str, origin: str, name: str = MAPPING_NAME) -> None:
    """Replace the mapping (the form's widgets start over)."""
    flow.text, flow.origin, flow.mapping_name = text, origin, name
    flow.generation += 1


def use_suggestion(flow: Flow) -> None:
    """Replace the mapping with one suggested from the files."""
    use_text(flow, suggest_mapping(flow.book), "suggested")


def decode_mapping(raw: bytes, name: str) -> str:
    """An uploaded mapping file's text (UTF-8); ImportFailed when it is not text."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFailed(f"{name}: not a UTF-8 text file; save the mapping as UTF-8") from None
