"""A mapping file (TOML) that turns a study's own files into the contract's tables.

`load_mapping` parses and checks the file on its own, `apply` reads the sources through it and
returns one importer `Source` per table (one per group of repeated columns), the problems that point
at the source cells, and the provenance saved with the dataset version. The format is documented for
study coordinators in docs/mapping.md.

The Data page's flow (every step raises ImportFailed or MappingError with messages for the user):
    book = read_source_files([(name, bytes), ...])          # queries.readers
    text = saved_mapping(root) or suggest_mapping(book)     # queries.suggest; saved = (name, text)
    applied = apply(load_mapping(text, "mapping.toml"), book)
    staged = stage_mapped(applied, root)                    # staged.problems, staged.ok
    applied.tables()                                        # the preview, one frame per table
    applied.unmapped, set_value_map(text, table, column, value, target)   # fix a value map
    importer.activate_staged(staged, root, user, provenance=applied.provenance)
    (or importer.discard(staged) when the user leaves)
"""

import datetime as dt
import difflib
import json
import math
import re
import shutil
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from queries import contract, importer
from queries.contract import DAYS_PER_MONTH, DAYS_PER_YEAR, TABLES
from queries.importer import ImportFailed, Source
from queries.readers import SEP, Redcap, Sheet, Workbook, blank, code_text, read_source_files
from queries.validate import Problem

EXCLUDE = "exclude"
TABLE_KEYS = ("source", "repeat", "values", "missing", "date_format", "skip_when_blank", "convert")
SOURCE_KEYS = ("file", "sheet", "header_row", "instrument", "event")
SETTINGS_KEYS = ("missing", "date_format")
# what a contract column is filled from: exactly one of these per column
FROM_KEYS = (
    "column",
    "value",
    "birth_date",
    "count_ticked",
    "count_filled",
    "count_listed",
    "earliest_infusion",
    "months_after_first_dose",
    "last_edss_before_first_dose",
)
OPTION_KEYS = ("event", "factor", "date_format", "missing")
DERIVED_ONLY = {  # derived values and the contract column each may fill
    "birth_date": ("patients", "age_at_first_dose"),
    "earliest_infusion": ("patients", "first_dose_date"),
    "last_edss_before_first_dose": ("patients", "baseline_edss"),
}
TICKED = {"1", "yes", "y", "true", "t", "x", "checked", "ticked"}
NONE_LISTED = {"none", "no", "nil", "0"}  # a list of earlier treatments that is empty
LIST_SEPARATORS = re.compile(r"[;,/+\n]")
TRUE = {"true", "t", "yes", "y", "1"}
FALSE = {"false", "f", "no", "n", "0"}
STORED_UNITS = {"igg": ("IgG", "g/L"), "platelets": ("platelets", "10^9/L")}
DEFAULT_DATE_FORMAT = "dd/mm/yyyy"
ORDER = ("infusions", "patients", "relapses", "edss", "mri", "labs", "adverse_events", "engagement")


def enumerations() -> dict[tuple[str, str], tuple[str, ...]]:
    """Contract columns with a fixed set of values (compared case-insensitively on import)."""
    return {
        ("patients", "subtype"): contract.SUBTYPES,
        ("patients", "sex"): contract.SEXES,
        ("relapses", "severity"): contract.SEVERITIES,
        ("adverse_events", "relation"): contract.RELATIONS,
        ("adverse_events", "outcome"): contract.AE_OUTCOMES,
    }


class MappingError(Exception):
    """A mapping that cannot be used: every problem, each naming its line or the source."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Spec:
    """How one contract column is filled."""

    target: str
    how: str  # one of FROM_KEYS
    arg: object  # the source column(s), the constant, or the number of months
    line: int | None
    event: list[str] | None = None
    factor: float | None = None
    date_format: str | None = None
    missing: list[str] = field(default_factory=list)
    birth_date: str | None = None  # an age column checked against this date of birth

    def source_columns(self) -> list[str]:
        """The source columns this spec reads (not the checkbox group's expansion)."""
        names = [self.birth_date] if self.birth_date else []
        if self.how in ("column", "birth_date", "count_filled", "count_ticked", "count_listed"):
            names += [self.arg] if isinstance(self.arg, str) else list(self.arg)
        return names


@dataclass
class TableMap:
    """One contract table's part of the mapping."""

    table: str
    line: int | None
    file: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    instrument: str | None = None
    event: list[str] | None = None
    columns: dict[str, Spec] = field(default_factory=dict)
    repeat: list[dict[str, Spec]] = field(default_factory=list)
    values: dict[str, dict[str, object]] = field(
        default_factory=dict
    )  # column -> lower key -> value
    missing: list[str] = field(default_factory=list)
    date_format: str | None = None
    skip_when_blank: list[str] = field(default_factory=list)
    convert: list[dict] = field(default_factory=list)  # labs unit conversions


@dataclass
class Mapping:
    """A parsed mapping file."""

    name: str
    text: str
    tables: dict[str, TableMap]
    missing: list[str] = field(default_factory=list)
    date_format: str = DEFAULT_DATE_FORMAT
    lines: "Lines | None" = None

    def where(self, *path: object) -> str:
        """`mapping.toml line 14` for a key path, or just the file name."""
        line = self.lines.find(*path) if self.lines else None
        return f"{self.name} line {line}" if line else self.name


@dataclass
class Applied:
    """The contract tables made from the sources, before staging."""

    sources: list[Source]
    problems: list[Problem]
    notes: list[str]
    provenance: dict
    failed: set[tuple[str, str, str]] = field(default_factory=set)  # (table, column, row label)
    # (table, column) → source values (labels where the file has them) that need a value map
    unmapped: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Each contract table as it will be written (pieces of one table put together)."""
        out: dict[str, list[pd.DataFrame]] = {}
        for s in self.sources:
            out.setdefault(s.table, []).append(s.frame)
        return {t: pd.concat(f, ignore_index=True) for t, f in out.items()}


@dataclass
class MappedResult:
    """What a mapped import did: the new version (None when not activated), problems, notes."""

    version: str | None
    problems: list[Problem]
    notes: list[str]
    provenance: dict


class Lines:
    """Where each key and section of a TOML text is, so that problems can name the line."""

    HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    KEY = re.compile(r"""^\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_.\- ]+?)\s*=""")

    def __init__(self, text: str):
        self.keys: dict[tuple, int] = {}
        self.headers: dict[tuple, int] = {}
        section: tuple = ()
        counts: dict[tuple, int] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            header = self.HEADER.match(line)
            if header:
                path = tuple(_unquote(p) for p in _split_dotted(header.group(2)))
                if header.group(1) == "[[":
                    counts[path] = counts.get(path, -1) + 1
                    path = (*path, counts[path])
                section = path
                self.headers.setdefault(section, number)
                continue
            key = self.KEY.match(line)
            if key:
                parts = tuple(_unquote(p) for p in _split_dotted(key.group(1)))
                self.keys.setdefault((*section, *[p.lower() for p in parts]), number)

    def find(self, *path: object) -> int | None:
        """The line of a key path (the nearest enclosing key or section when it has no line)."""
        path = tuple(p.lower() if isinstance(p, str) else p for p in path)
        for n in range(len(path), 0, -1):
            head = path[:n]
            if head in self.keys:
                return self.keys[head]
            lowered = tuple(p.lower() if isinstance(p, str) else p for p in head)
            for key, line in self.headers.items():
                if tuple(k.lower() if isinstance(k, str) else k for k in key) == lowered:
                    return line
        return None


def _split_dotted(text: str) -> list[str]:
    return [p.strip() for p in re.findall(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'|[^.]+', text)]


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def _did_you_mean(word: str, choices: list[str]) -> str:
    """` (did you mean "Gender (F/M)"?)` when a choice is close enough, else ""."""
    lower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(lower), n=1, cutoff=0.6)
    if not close:
        close = [c for c in lower if word.lower() in c or (len(c) > 2 and c in word.lower())][:1]
    return f' (did you mean "{lower[close[0]]}"?)' if close else ""


def _date_pattern(text: str) -> str:
    """A date format as people write it (dd/mm/yyyy) as a strptime pattern."""
    if "%" in text:
        return text
    pattern = text.lower()
    for human, code in (
        ("yyyy", "%Y"),
        ("yy", "%y"),
        ("dd", "%d"),
        ("mm", "%m"),
        ("d", "%d"),
        ("m", "%m"),
    ):
        pattern = re.sub(rf"(?<![%a-z]){human}(?![a-z])", code, pattern)
    return pattern


def _check_date_format(text: object) -> str | None:
    if not isinstance(text, str):
        return 'a date format is text such as "dd/mm/yyyy"'
    pattern = _date_pattern(text)
    if not all(code in pattern for code in ("%d", "%m")) or not re.search("%[Yy]", pattern):
        return f'date format "{text}" needs a day (dd), a month (mm) and a year (yyyy)'
    return None


def _tokens(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [code_text(v).lower() for v in items]


def load_mapping(text: str, name: str = "mapping.toml") -> Mapping:
    """Parse a mapping file; MappingError lists every problem with its line number."""
    text = text.removeprefix("\ufeff")  # saved by Windows Notepad
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        what = re.sub(r"\s*\(at line.*\)", "", str(exc))
        at = f" line {where.group(1)}" if where else ""
        message = (
            f"{name}{at}: not valid TOML: {what} (check quotes, = signs and [section] headers)"
        )
        raise MappingError([message]) from None
    mapping = Mapping(name, text, {}, lines=Lines(text))
    problems: list[str] = []
    for key, value in data.items():
        if key == "settings":
            _settings(mapping, value, problems)
        elif key in TABLES:
            if not isinstance(value, dict):
                problems.append(f"{mapping.where(key)}: {key} must be a [section]")
                continue
            mapping.tables[key] = _table(mapping, key, value, problems)
        else:
            hint = _did_you_mean(key, [*TABLES, "settings"])
            problems.append(
                f'{mapping.where(key)}: "{key}" is not a table of the data contract'
                f"{hint}; the tables are {', '.join(TABLES)}"
            )
    for table in ("patients", "infusions"):
        if table not in mapping.tables:
            problems.append(f"{name}: no [{table}] section; the {table} table is required")
    if problems:
        raise MappingError(problems)
    return mapping


def _settings(mapping: Mapping, value: object, problems: list[str]) -> None:
    if not isinstance(value, dict):
        problems.append(f"{mapping.where('settings')}: settings must be a [settings] section")
        return
    for key, item in value.items():
        where = mapping.where("settings", key)
        if key == "missing":
            mapping.missing = _tokens(item)
        elif key == "date_format":
            error = _check_date_format(item)
            if error:
                problems.append(f"{where}: {error}")
            else:
                mapping.date_format = item
        else:
            problems.append(
                f'{where}: unknown setting "{key}"{_did_you_mean(key, list(SETTINGS_KEYS))}'
                f"; settings are {', '.join(SETTINGS_KEYS)}"
            )


def _table(mapping: Mapping, table: str, data: dict, problems: list[str]) -> TableMap:
    tmap = TableMap(table, mapping.lines.find(table))
    columns = [c.name for c in TABLES[table].columns]
    for key, value in data.items():
        where = mapping.where(table, key)
        if key == "source":
            _source(mapping, tmap, value, problems)
        elif key == "repeat":
            groups = value if isinstance(value, list) else [value]
            for i, group in enumerate(groups):
                if not isinstance(group, dict):
                    problems.append(f"{where}: each [[{table}.repeat]] is a group of columns")
                    continue
                specs = {}
                for column, spec in group.items():
                    parsed = _spec(
                        mapping, (table, "repeat", i, column), table, column, spec, problems
                    )
                    if parsed:
                        specs[column] = parsed
                tmap.repeat.append(specs)
        elif key == "values":
            _values(mapping, tmap, value, problems)
        elif key == "missing":
            tmap.missing = _tokens(value)
        elif key == "date_format":
            error = _check_date_format(value)
            if error:
                problems.append(f"{where}: {error}")
            tmap.date_format = value
        elif key == "skip_when_blank":
            tmap.skip_when_blank = value if isinstance(value, list) else [value]
            for column in tmap.skip_when_blank:
                if column not in columns:
                    problems.append(
                        f'{where}: "{column}" is not a column of {table}'
                        f"{_did_you_mean(str(column), columns)}"
                    )
        elif key == "convert":
            _conversions(mapping, tmap, value, problems)
        else:
            parsed = _spec(mapping, (table, key), table, key, value, problems)
            if parsed:
                tmap.columns[key] = parsed
    given = set(tmap.columns) | {c for g in tmap.repeat for c in g}
    if tmap.file is None:
        problems.append(
            f"{mapping.where(table)}: [{table}] has no source; add "
            'source = { file = "…", sheet = "…" }'
        )
    for column in TABLES[table].columns:
        auto = table == "adverse_events" and column.name == "course"
        if not column.required or auto or column.name in tmap.columns:
            continue
        if tmap.repeat and all(column.name in g for g in tmap.repeat):
            continue
        if column.name in given:
            problems.append(
                f"{mapping.where(table, 'repeat')}: {table}.{column.name} is given in "
                "some repeat groups but not in all of them (or once above them)"
            )
        else:
            problems.append(
                f"{mapping.where(table)}: [{table}] does not say where {column.name} "
                f'comes from (a required column); add {column.name} = "<source column>"'
            )
    return tmap


def _source(mapping: Mapping, tmap: TableMap, value: object, problems: list[str]) -> None:
    where = mapping.where(tmap.table, "source")
    if isinstance(value, str):
        value = {"file": value}
    if not isinstance(value, dict):
        problems.append(f'{where}: source is a file name or {{ file = "…", sheet = "…" }}')
        return
    for key, item in value.items():
        if key not in SOURCE_KEYS:
            problems.append(
                f'{where}: unknown source key "{key}"{_did_you_mean(key, list(SOURCE_KEYS))}'
                f"; a source has {', '.join(SOURCE_KEYS)}"
            )
        elif key == "header_row" and (not isinstance(item, int) or item < 1):
            problems.append(f"{where}: header_row is a row number (1, 2, 3, …)")
        elif key == "event":
            tmap.event = [str(e) for e in (item if isinstance(item, list) else [item])]
        else:
            setattr(tmap, key, item if key == "header_row" else str(item))


def _spec(
    mapping: Mapping, path: tuple, table: str, column: str, value: object, problems: list[str]
) -> Spec | None:
    where = mapping.where(*path)
    names = [c.name for c in TABLES[table].columns]
    if column not in names:
        problems.append(
            f'{where}: "{column}" is not a column of {table}'
            f"{_did_you_mean(column, names + list(TABLE_KEYS))}; its columns are "
            f"{', '.join(names)}"
        )
        return None
    line = mapping.lines.find(*path)
    if isinstance(value, str):
        return Spec(column, "column", value, line)
    if not isinstance(value, dict):
        problems.append(
            f'{where}: write {column} = "<your column>", or {column} = {{ value = … }} for the '
            "same value on every row"
        )
        return None
    if "value" in value and not isinstance(value["value"], (str, int, float, bool, dt.date)):
        problems.append(f"{where}: a constant is one value: {column} = {{ value = … }}")
        return None
    unknown = [k for k in value if k not in FROM_KEYS + OPTION_KEYS]
    for key in unknown:
        problems.append(
            f'{where}: unknown key "{key}" for {table}.{column}'
            f"{_did_you_mean(key, list(FROM_KEYS + OPTION_KEYS))}"
        )
    how = [k for k in FROM_KEYS if k in value]
    checked_age = (table, column) == ("patients", "age_at_first_dose") and set(how) == {
        "column",
        "birth_date",
    }
    if checked_age:  # an age given and a date of birth to check it against
        how = ["column"]
    if len(how) != 1:
        problems.append(
            f"{where}: {table}.{column} needs exactly one of column, value, birth_date, "
            "count_ticked, count_filled, count_listed, earliest_infusion, months_after_first_dose, "
            "last_edss_before_first_dose"
        )
        return None
    kind = how[0]
    if kind in DERIVED_ONLY and DERIVED_ONLY[kind] != (table, column):
        t, c = DERIVED_ONLY[kind]
        problems.append(f"{where}: {kind} fills {t}.{c} only")
        return None
    if kind == "months_after_first_dose" and (
        isinstance(value[kind], bool) or not isinstance(value[kind], (int, float))
    ):
        problems.append(f"{where}: months_after_first_dose is a number of months, e.g. 6")
        return None
    if kind in ("count_filled",) and not isinstance(value[kind], list):
        problems.append(f'{where}: count_filled is a list of columns, e.g. ["DMT 1", "DMT 2"]')
        return None
    arg = value[kind]
    names = arg if isinstance(arg, list) else [arg]
    if kind in ("column", "birth_date", "count_ticked", "count_listed", "count_filled") and (
        not names
        or not all(isinstance(n, str) for n in names)
        or (isinstance(arg, list) and kind not in ("count_ticked", "count_filled"))
    ):
        problems.append(f'{where}: {kind} names a column of your file, in quotes: {kind} = "…"')
        return None
    if checked_age and not isinstance(value["birth_date"], str):
        problems.append(f'{where}: birth_date names a column of your file: birth_date = "…"')
        return None
    spec = Spec(column, kind, arg, line)
    if checked_age:
        spec.birth_date = str(value["birth_date"])
    if "event" in value:
        spec.event = [
            str(e)
            for e in (value["event"] if isinstance(value["event"], list) else [value["event"]])
        ]
    if "factor" in value:
        if isinstance(value["factor"], bool) or not isinstance(value["factor"], (int, float)):
            problems.append(f"{where}: factor is a number, e.g. 0.01 for mg/dL to g/L")
        else:
            spec.factor = float(value["factor"])
    if "date_format" in value:
        error = _check_date_format(value["date_format"])
        if error:
            problems.append(f"{where}: {error}")
        spec.date_format = value["date_format"]
    if "missing" in value:
        spec.missing = _tokens(value["missing"])
    return spec


def _values(mapping: Mapping, tmap: TableMap, value: object, problems: list[str]) -> None:
    table = tmap.table
    if not isinstance(value, dict):
        problems.append(
            f"{mapping.where(table, 'values')}: values are [{table}.values.<column>] sections"
        )
        return
    names = [c.name for c in TABLES[table].columns]
    enums = enumerations()
    for column, pairs in value.items():
        where = mapping.where(table, "values", column)
        if column not in names:
            problems.append(
                f'{where}: "{column}" is not a column of {table}{_did_you_mean(column, names)}'
            )
            continue
        if not isinstance(pairs, dict):
            problems.append(f'{where}: a value map is lines of "source value" = "contract value"')
            continue
        logical = TABLES[table].column(column).type
        clean: dict[str, object] = {}
        for key, target in pairs.items():
            at = mapping.where(table, "values", column, key)
            if not isinstance(target, (str, int, float, bool, dt.date)):
                problems.append(f'{at}: map a value to one value, e.g. "{key}" = "…"')
                continue
            allowed = enums.get((table, column))
            if isinstance(target, str) and target.strip().lower() == EXCLUDE:
                if column == "patient_id":
                    problems.append(f"{at}: exclude is for a value of another column")
                clean[_value_key(key)] = EXCLUDE
                continue
            if allowed and str(target).lower() not in {a.lower() for a in allowed}:
                problems.append(
                    f'{at}: "{target}" is not a {column} of the data contract '
                    f'({", ".join(allowed)}, or "exclude" to leave the patient out)'
                    f"{_did_you_mean(str(target), list(allowed))}"
                )
                continue
            if logical in ("double", "integer") and (
                isinstance(target, bool) or not isinstance(target, (int, float))
            ):
                problems.append(f"{at}: {column} is a number; map to a number, e.g. {key} = 1")
                continue
            if logical == "boolean" and not isinstance(target, bool):
                problems.append(f"{at}: {column} is true or false; map to true or false")
                continue
            clean[_value_key(key)] = target
        tmap.values[column] = clean


def _value_key(key: str) -> str:
    """A value map's key as cells are looked up: trimmed, lower case, "1.0" as "1"."""
    key = key.strip().lower()
    return key.split(".")[0] if re.fullmatch(r"[+-]?\d+\.0+", key) else key


def _conversions(mapping: Mapping, tmap: TableMap, value: object, problems: list[str]) -> None:
    where = mapping.where(tmap.table, "convert")
    if tmap.table != "labs":
        problems.append(
            f"{where}: [[{tmap.table}.convert]] applies to labs only; use factor = … on a column"
        )
        return
    for i, rule in enumerate(value if isinstance(value, list) else [value]):
        at = mapping.where("labs", "convert", i)
        if (
            not isinstance(rule, dict)
            or not {"test", "from", "factor"} <= set(rule)
            or isinstance(rule.get("factor"), bool)
            or not isinstance(rule.get("factor"), (int, float))
        ):
            problems.append(
                f'{at}: a conversion is test = "IgG", from = "mg/dL", factor = 0.01 '
                '(and to = "g/L" for tests other than IgG and platelets)'
            )
            continue
        stored = STORED_UNITS.get(str(rule["test"]).lower())
        to = rule.get("to") or (stored[1] if stored else None)
        if to is None:
            problems.append(f'{at}: say which unit {rule["test"]} is converted to: to = "…"')
            continue
        tmap.convert.append(
            {
                "test": str(rule["test"]).lower(),
                "from": str(rule["from"]).lower(),
                "to": str(to),
                "factor": float(rule["factor"]),
            }
        )


# Checking a mapping against the files


def _sheet_for(
    mapping: Mapping, tmap: TableMap, book: Workbook, problems: list[str]
) -> Sheet | None:
    where = mapping.where(tmap.table, "source")
    if tmap.file not in book.files:
        lower = {f.lower(): f for f in book.files}
        if tmap.file and tmap.file.lower() in lower:
            tmap.file = lower[tmap.file.lower()]
        else:
            hint = _did_you_mean(tmap.file or "", list(book.files))
            problems.append(
                f'{where}: file "{tmap.file}" was not uploaded{hint}; the files are '
                f"{', '.join(book.files) or 'none'}"
            )
            return None
    sheets = book.sheets_of(tmap.file)
    if not sheets:
        problems.append(f"{where}: {tmap.file} holds no table that can be read")
        return None
    if tmap.sheet is None:
        if len(sheets) > 1:
            problems.append(
                f"{where}: {tmap.file} has several sheets; say which one: sheet = "
                f'"{sheets[0].name}" ({", ".join(str(s.name) for s in sheets)})'
            )
            return None
        sheet = sheets[0]
    else:
        sheet = next((s for s in sheets if str(s.name).lower() == tmap.sheet.lower()), None)
        if sheet is None:
            names = [str(s.name) for s in sheets]
            problems.append(
                f'{where}: no sheet "{tmap.sheet}" in {tmap.file}'
                f"{_did_you_mean(tmap.sheet, names)}; its sheets are {', '.join(names)}"
            )
            return None
    if tmap.header_row and tmap.header_row != sheet.header_row:
        try:
            sheet = sheet.with_header(tmap.header_row)
        except ImportFailed as exc:
            problems.append(f"{where}: {exc}")
            return None
    project = book.redcap.get(tmap.file)
    if project is None and (tmap.instrument or tmap.event):
        problems.append(
            f"{where}: instrument and event apply to a REDCap export; {tmap.file} is not one"
        )
    if project is not None:
        if tmap.instrument and tmap.instrument not in project.instruments:
            problems.append(
                f'{where}: no instrument "{tmap.instrument}" in {tmap.file}'
                f"{_did_you_mean(tmap.instrument, project.instruments)}; its instruments "
                f"are {', '.join(project.instruments) or 'not known (no data dictionary)'}"
            )
        for event in tmap.event or []:
            if event not in project.events:
                problems.append(
                    f'{where}: no event "{event}" in {tmap.file}'
                    f"{_did_you_mean(event, project.events)}; its events are "
                    f"{', '.join(project.events) or 'none (not longitudinal)'}"
                )
    return sheet


def _check_columns(
    mapping: Mapping, tmap: TableMap, sheet: Sheet, book: Workbook, problems: list[str]
) -> None:
    names = [str(c) for c in sheet.frame.columns]
    project = book.redcap.get(sheet.file)
    groups = [(tmap.table, None, tmap.columns)] + [
        (tmap.table, i, g) for i, g in enumerate(tmap.repeat)
    ]
    for table, i, specs in groups:
        for column, spec in specs.items():
            path = (table, column) if i is None else (table, "repeat", i, column)
            where = mapping.where(*path)
            for name in spec.source_columns():
                checkbox = spec.how == "count_ticked" and _ticked_columns(names, name)
                if name not in names and not checkbox:
                    place = f"sheet {sheet.name}" if sheet.name else sheet.file
                    problems.append(
                        f'{where}: column "{name}" not in {place}{_did_you_mean(name, names)}'
                    )
            if spec.event:
                if project is None:
                    problems.append(f"{where}: event applies to a REDCap export")
                else:
                    for event in spec.event:
                        if event not in project.events:
                            problems.append(
                                f'{where}: no event "{event}" in {sheet.file}'
                                f"{_did_you_mean(event, project.events)}"
                            )
            if spec.how == "earliest_infusion" and "infusions" not in mapping.tables:
                problems.append(f"{where}: earliest_infusion needs an [infusions] section")
            if spec.how == "last_edss_before_first_dose" and "edss" not in mapping.tables:
                problems.append(f"{where}: last_edss_before_first_dose needs an [edss] section")


def _ticked_columns(names: list[str], stem: str) -> list[str]:
    """A checkbox group's columns: REDCap's field___1, field___2, …"""
    return [n for n in names if n.startswith(f"{stem}___")]


def check(mapping: Mapping, book: Workbook) -> dict[str, Sheet]:
    """The sheet behind each table; MappingError lists every mapping problem against the files."""
    problems: list[str] = []
    sheets = {}
    for table, tmap in mapping.tables.items():
        sheet = _sheet_for(mapping, tmap, book, problems)
        if sheet is not None:
            sheets[table] = sheet
            _check_columns(mapping, tmap, sheet, book, problems)
    if problems:
        raise MappingError(problems)
    return sheets


# Applying a mapping


@dataclass
class _Piece:
    """Rows of one table from one sheet (one group of repeated columns): typed cells and labels."""

    table: str
    name: str
    sheet: Sheet
    rows: list[dict]  # contract column -> value; "_label", "_dob", "_months" kept aside
    columns: dict[str, str]  # contract column -> source column as the user knows it


class _Cells:
    """Converts source cells to the contract's types, collecting problems that name the cell."""

    def __init__(self, mapping: Mapping):
        self.mapping = mapping
        self.problems: dict[tuple, Problem] = {}
        self.excluded: dict[str, list[str]] = {}  # patient -> reasons
        self.notes: list[str] = []
        self.failed: set[tuple[str, str, str]] = set()
        self.unmapped: dict[tuple[str, str], list[str]] = {}
        self.enums = enumerations()
        self.types = {(t.name, c.name): c.type for t in TABLES.values() for c in t.columns}
        self.missing: dict[tuple, set[str]] = {}  # (table, column's own tokens) → "no value" tokens

    def problem(
        self,
        table: str,
        column: str,
        rule: str,
        where: str,
        source: str,
        pid: object,
        value: object,
        file: str,
    ) -> None:
        key = (table, column, rule, file)
        self.failed.add((table, column, f"{file}{SEP}{where}"))
        p = self.problems.setdefault(key, Problem("error", table, column, rule, 0, [], file))
        p.count += 1
        if len(p.examples) < 5:
            p.examples.append(
                {
                    "row": where,
                    "patient_id": pid,
                    "date": None,
                    "value": code_text(value),
                    "source": source,
                }
            )

    def convert(
        self,
        raw: object,
        tmap: TableMap,
        spec: Spec,
        sheet: Sheet,
        source_col: str,
        where: str,
        pid: object,
    ) -> object:
        """One cell as the contract's type; None for missing; problems recorded."""
        table, column = tmap.table, spec.target
        key = (table, tuple(spec.missing))
        missing = self.missing.get(key)
        if missing is None:
            missing = set(self.mapping.missing) | set(tmap.missing) | set(spec.missing)
            self.missing[key] = missing
        if blank(raw):
            return None
        text = code_text(raw)
        if text.lower() in missing:
            return None
        label = sheet.value_labels.get(source_col, {}).get(text) if sheet.value_labels else None
        source = f"{sheet.title}{SEP}{where}{SEP}{source_col}"
        vmap = tmap.values.get(column)
        value = raw
        if vmap is not None:
            shown = label or text
            whole = text.split(".")[0] if re.fullmatch(r"[+-]?\d+\.0+", text) else None  # "1.0"
            for key in (text.lower(), whole, label.lower() if label else None):
                if key is not None and key in vmap:
                    value, label = vmap[key], None
                    break
            if isinstance(value, str) and value == EXCLUDE:
                self.excluded.setdefault(str(pid), []).append(
                    f'{table}.{column} = "{shown}" ({source})'
                )
                return None
        allowed = self.enums.get((table, column))
        logical = self.types[(table, column)]
        if allowed:
            for candidate in ([label] if label else []) + [code_text(value)]:
                hit = next((a for a in allowed if a.lower() == candidate.lower()), None)
                if hit:
                    return hit
            shown = f"{text} ({label})" if label else text
            found = self.unmapped.setdefault((table, column), [])
            if (label or text) not in found:
                found.append(label or text)
            self.problem(
                table,
                column,
                f"has no value map: add it under [{table}.values.{column}] "
                f'in {self.mapping.name} (allowed: {", ".join(allowed)}, or "exclude")',
                where,
                source,
                pid,
                shown,
                sheet.title,
            )
            return None
        try:
            return self._typed(value, label, logical, column, spec, tmap, sheet)
        except ValueError as exc:
            self.problem(table, column, str(exc), where, source, pid, raw, sheet.title)
            return None

    def _typed(
        self,
        value: object,
        label: str | None,
        logical: str,
        column: str,
        spec: Spec,
        tmap: TableMap,
        sheet: Sheet,
    ) -> object:
        if logical == "string":
            if column == "patient_id":
                return patient_id(value)
            return label if label else code_text(value)
        if logical == "date":
            fmt = spec.date_format or tmap.date_format or self.mapping.date_format
            return parse_date(value, fmt, sheet.kind == "table")
        if logical == "boolean":
            if isinstance(value, bool):
                return value
            text = (label or code_text(value)).lower()
            if text in TRUE or code_text(value).lower() in TRUE:
                return True
            if text in FALSE or code_text(value).lower() in FALSE:
                return False
            raise ValueError("is not yes/no (true/false, 1/0)")
        number = parse_number(value)
        if label is not None:
            # a coded choice whose label is the number the user sees (REDCap "2, 1.5")
            try:
                number = parse_number(label)
            except ValueError:
                pass
        if spec.factor is not None:
            number = _scaled(number, spec.factor)
        if logical == "integer":
            if not float(number).is_integer():
                raise ValueError("is not a whole number")
            return int(number)
        return float(number)


def _scaled(number: float, factor: float) -> float:
    """A unit conversion without floating-point noise (1110 mg/dL × 0.01 is 11.1 g/L)."""
    return float(f"{number * factor:.12g}")


def patient_id(value: object) -> str:
    """A patient number as text: integral numbers lose their decimal part (1001.0 → "1001")."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = code_text(value)
    if re.fullmatch(r"[+-]?\d+\.0+", text):
        return text.split(".")[0]
    return text


def parse_number(value: object) -> float:
    """A number from a cell: numbers as they are, text with a decimal point or comma."""
    if isinstance(value, bool):
        raise ValueError("is not a number")  # noqa: TRY004 -- a cell that does not fit, not a bug
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip().replace("\u00a0", "").replace(" ", "")
        if re.fullmatch(r"[+-]?\d+,\d+", text):
            text = text.replace(",", ".")
        if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
            raise ValueError("is not a number")
        number = float(text)
    if not math.isfinite(number):
        raise ValueError("is not a finite number")
    return number


EXCEL_EPOCH = dt.date(1899, 12, 30)


def parse_date(value: object, fmt: str, excel: bool) -> dt.date:
    """A date from a cell: a spreadsheet date, YYYY-MM-DD text, or text in the mapping's format."""
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return pd.Timestamp(value).date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # a spreadsheet date stored as its serial number (days since 1899-12-30)
        if excel and float(value).is_integer() and 1 <= value <= 2958465:
            return EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise ValueError("is not a date")
    text = str(value).strip()
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T][0-9:.]+)?", text)
    try:
        if iso:
            return dt.date(*(int(g) for g in iso.groups()))
        pattern = _date_pattern(fmt)
        separator = re.search(r"%[dmyY]([./\- ])%", pattern)
        if separator:  # 05.03.2020 and 05-03-2020 read like 05/03/2020 in a dd/mm/yyyy column
            text = re.sub(r"(?<=\d)[./\-](?=\d)", separator.group(1), text)
        # a time after the date (05/03/2020 14:30) is not part of it
        text = re.sub(r"\s+\d{1,2}:\d{2}(:\d{2})?$", "", text)
        return dt.datetime.strptime(text, pattern).date()
    except ValueError:
        raise ValueError(f"is not a date ({fmt} or YYYY-MM-DD)") from None


def _rows(tmap: TableMap, sheet: Sheet, project: Redcap | None) -> list[int]:
    """The sheet rows that are rows of this table (a REDCap instrument's or event's rows)."""
    n = len(sheet.frame)
    if project is None:
        return list(range(n))
    events = _column_or_none(sheet, "redcap_event_name")
    repeats = _column_or_none(sheet, "redcap_repeat_instrument")
    if tmap.instrument:
        rows = project.form_rows(tmap.instrument)
    else:
        rows = [i for i in range(n) if blank(repeats[i])]
    return [i for i in rows if not tmap.event or events[i] in tmap.event]


def _column_or_none(sheet: Sheet, column: str) -> list:
    return sheet.values(column) if column in sheet.frame else [None] * len(sheet.frame)


def _record_lookup(project: Redcap) -> dict[tuple[str, str], int]:
    """(record, event) → the row holding that event's non-repeating fields."""
    sheet = project.data
    ids = sheet.values(project.record_id)
    events = _column_or_none(sheet, "redcap_event_name")
    repeats = _column_or_none(sheet, "redcap_repeat_instrument")
    lookup: dict[tuple[str, str], int] = {}
    for i in range(len(ids)):
        if blank(repeats[i]):
            lookup.setdefault((code_text(ids[i]), events[i] or ""), i)
    return lookup


def _extract(
    mapping: Mapping, tmap: TableMap, sheet: Sheet, book: Workbook, cells: _Cells
) -> list[_Piece]:
    """The table's rows from its sheet: one piece, or one per group of repeated columns."""
    project = book.redcap.get(sheet.file)
    rows = _rows(tmap, sheet, project)
    lookup = _record_lookup(project) if project else {}
    frame = sheet.frame
    groups = tmap.repeat or [{}]
    pieces = []
    skipped = 0
    id_spec = tmap.columns.get("patient_id") or groups[0].get("patient_id")
    for group in groups:
        specs = {**tmap.columns, **group}
        described = [s.arg for c, s in group.items() if s.how == "column"]
        name = sheet.title + (f" ({', '.join(map(str, described))})" if group and described else "")
        columns = {c: _column_label(s) for c, s in specs.items()}
        out = []
        for i in rows:
            where = sheet.rows[i]
            pid_raw = _cell(frame, i, id_spec, lookup, sheet) if id_spec else (None, where)
            pid = patient_id(pid_raw[0]) if not blank(pid_raw[0]) else None
            if tmap.table != "patients" and _all_blank(
                frame, i, specs, mapping, tmap, lookup, sheet
            ):
                skipped += not tmap.repeat  # an empty group of repeated columns is expected
                continue
            row = {"_label": where, "_row": i}
            for column, spec in specs.items():
                row[column] = _fill(frame, i, spec, tmap, sheet, lookup, cells, pid, row)
            if any(row.get(c) is None for c in tmap.skip_when_blank):
                skipped += 1
                continue
            out.append(row)
        pieces.append(_Piece(tmap.table, name, sheet, out, columns))
    if skipped:
        cells.notes.append(
            f"{tmap.table}: {skipped} row(s) of {sheet.title} with nothing to import were skipped"
        )
    return pieces


def _column_label(spec: Spec) -> str:
    if spec.how == "column":
        return str(spec.arg)
    if spec.how == "value":
        return f"constant {spec.arg!r}"
    if spec.how in ("birth_date", "count_ticked", "count_listed"):
        return f"{spec.how.replace('_', ' ')} {spec.arg}"
    if spec.how == "count_filled":
        return "count of " + ", ".join(spec.arg)
    return spec.how.replace("_", " ")


def _cell(
    frame: pd.DataFrame, i: int, spec: Spec, lookup: dict, sheet: Sheet
) -> tuple[object, str]:
    """A spec's source cell for row i (from another REDCap event when the spec names one)."""
    if spec.how != "column":
        return (spec.arg if spec.how == "value" else None), sheet.rows[i]
    if spec.event:
        record = code_text(sheet.values(str(frame.columns[0]))[i])
        cells = sheet.values(spec.arg)
        for event in spec.event:
            j = lookup.get((record, event))
            if j is not None and not blank(cells[j]):
                return cells[j], sheet.rows[j]
        return None, sheet.rows[i]
    return sheet.values(spec.arg)[i], sheet.rows[i]


def _all_blank(
    frame: pd.DataFrame,
    i: int,
    specs: dict[str, Spec],
    mapping: Mapping,
    tmap: TableMap,
    lookup: dict,
    sheet: Sheet,
) -> bool:
    """No cell this row would fill a column from (other than the patient) holds anything."""
    missing = set(mapping.missing) | set(tmap.missing)
    for column, spec in specs.items():
        if column == "patient_id" or spec.how not in ("column", "count_filled"):
            continue
        names = [spec.arg] if spec.how == "column" else spec.arg
        for name in names:
            value = _cell(frame, i, Spec(column, "column", name, None, spec.event), lookup, sheet)[
                0
            ]
            if not blank(value) and code_text(value).lower() not in missing | set(spec.missing):
                return False
    return True


def _fill(
    frame: pd.DataFrame,
    i: int,
    spec: Spec,
    tmap: TableMap,
    sheet: Sheet,
    lookup: dict,
    cells: _Cells,
    pid: str | None,
    row: dict,
) -> object:
    """One contract cell of row i; derived values that need other tables are left for later."""
    if spec.how == "column":
        raw, where = _cell(frame, i, spec, lookup, sheet)
        if spec.birth_date:
            row["_dob_check"] = _birth_date(spec.birth_date, spec, tmap, sheet, i, cells, pid)
        return cells.convert(raw, tmap, spec, sheet, spec.arg, where, pid)
    if spec.how == "value":
        constant = Spec(spec.target, "value", spec.arg, spec.line, factor=None)
        return cells.convert(
            spec.arg, tmap, constant, sheet, f"constant in {cells.mapping.name}", sheet.rows[i], pid
        )
    if spec.how == "birth_date":
        row["_dob"] = _birth_date(spec.arg, spec, tmap, sheet, i, cells, pid)
        return None
    if spec.how == "count_listed":
        missing = set(cells.mapping.missing) | set(tmap.missing) | set(spec.missing)
        text = sheet.values(spec.arg)[i]
        if blank(text) or code_text(text).lower() in missing:
            return None
        items = [x.strip() for x in LIST_SEPARATORS.split(code_text(text)) if x.strip()]
        return 0 if len(items) == 1 and items[0].lower() in NONE_LISTED else len(items)
    if spec.how in ("count_ticked", "count_filled"):
        names = (
            spec.arg
            if isinstance(spec.arg, list)
            else (
                [spec.arg]
                if spec.arg in frame.columns
                else _ticked_columns(list(frame.columns), spec.arg)
            )
        )
        missing = set(cells.mapping.missing) | set(tmap.missing) | set(spec.missing)
        values = [sheet.values(n)[i] for n in names]
        present = [v for v in values if not blank(v) and code_text(v).lower() not in missing]
        if spec.how == "count_filled":
            return len(present)
        return sum(code_text(v).lower() in TICKED for v in present)
    if spec.how == "months_after_first_dose":
        row["_months"] = float(spec.arg)
        return None
    return None  # earliest_infusion, last_edss_before_first_dose: filled once the others are read


def _birth_date(
    column: str, spec: Spec, tmap: TableMap, sheet: Sheet, i: int, cells: _Cells, pid: str | None
) -> tuple[dt.date, str, object] | None:
    """A date of birth read from its column, with where it came from (for problems)."""
    date_spec = Spec(
        "first_dose_date",
        "column",
        column,
        spec.line,
        date_format=spec.date_format,
        missing=spec.missing,
    )
    raw = sheet.values(column)[i]
    born = cells.convert(raw, tmap, date_spec, sheet, column, sheet.rows[i], pid)
    return None if born is None else (born, f"{sheet.title}{SEP}{sheet.rows[i]}", raw)


def apply(mapping: Mapping, book: Workbook) -> Applied:
    """Read every table of the mapping from the sources; the problems name the source cells."""
    sheets = check(mapping, book)
    cells = _Cells(mapping)
    pieces: dict[str, list[_Piece]] = {}
    for table in ORDER:
        if table in mapping.tables:
            pieces[table] = _extract(mapping, mapping.tables[table], sheets[table], book, cells)
    provenance: dict = {
        "files": dict(book.files),
        "mapping_name": mapping.name,
        "mapping": mapping.text,
        "derived": [],
        "approximate_dates": [],
    }
    _derive(mapping, pieces, cells, provenance)
    notes = list(book.notes) + cells.notes
    excluded = _exclude(pieces, cells)
    if excluded:
        notes.append(
            f"{len(excluded)} patient(s) excluded by the mapping's value maps: "
            + "; ".join(f"{p}: {r[0]}" for p, r in list(excluded.items())[:5])
            + (" …" if len(excluded) > 5 else "")
        )
    provenance["excluded"] = {"count": len(excluded), "patients": excluded}
    sources = []
    for table in ORDER:
        for piece in pieces.get(table, []):
            sources.append(_source_of(piece))
            piece.rows = []  # the source's frame holds them now: one copy of the rows at a time
    for table in ("relapses", "edss", "adverse_events"):
        if table not in mapping.tables:
            notes.append(f"warning: the mapping has no source for {table}; written empty")
            provenance.setdefault("empty_tables", []).append(table)
            sources.append(_empty_source(table))
    provenance["notes"] = notes
    problems = list(cells.problems.values())
    return Applied(sources, problems, notes, provenance, cells.failed, cells.unmapped)


def _by_patient(pieces: list[_Piece], column: str) -> dict[str, list[tuple]]:
    found: dict[str, list[tuple]] = {}
    for piece in pieces:
        for row in piece.rows:
            if row.get("patient_id") is not None and row.get(column) is not None:
                found.setdefault(row["patient_id"], []).append((row[column], row))
    return found


def _derive(
    mapping: Mapping, pieces: dict[str, list[_Piece]], cells: _Cells, provenance: dict
) -> None:
    """Values computed across tables, in the contract's Import conventions."""
    doses = _by_patient(pieces.get("infusions", []), "dose_date")
    pmap = mapping.tables["patients"]
    specs = pmap.columns
    for piece in pieces.get("patients", []):
        for row in piece.rows:
            pid = row.get("patient_id")
            if "first_dose_date" in specs and specs["first_dose_date"].how == "earliest_infusion":
                row["first_dose_date"] = min((d for d, _ in doses.get(pid, [])), default=None)
            first = row.get("first_dose_date")
            if row.get("_dob") is not None and first is not None:
                row["age_at_first_dose"] = (first - row["_dob"][0]).days / DAYS_PER_YEAR
            _check_age(row, specs.get("age_at_first_dose"), cells)
    for column, spec in specs.items():
        if spec.how not in ("column", "value"):
            provenance["derived"].append(f"patients.{column}: {_column_label(spec)}")
    first = {
        r["patient_id"]: r.get("first_dose_date")
        for p in pieces.get("patients", [])
        for r in p.rows
        if r.get("patient_id")
    }
    for table, table_pieces in pieces.items():
        date = TABLES[table].date_column
        for piece in table_pieces:
            approximate = [r for r in piece.rows if "_months" in r]
            for row in approximate:
                start = first.get(row.get("patient_id"))
                row[date] = (
                    None
                    if start is None
                    else start + dt.timedelta(days=round(row["_months"] * DAYS_PER_MONTH))
                )
            if approximate:
                months = approximate[0]["_months"]
                provenance["approximate_dates"].append(
                    {
                        "table": table,
                        "source": piece.name,
                        "rows": len(approximate),
                        "rule": f"{date} = first_dose_date + {months:g} months ({months:g} × "
                        f"{DAYS_PER_MONTH} days, rounded to the day)",
                    }
                )
    if "edss" in pieces:
        _baseline_edss(pieces, specs, first, cells, provenance)
    if "adverse_events" in pieces and "course" not in _given(mapping.tables["adverse_events"]):
        _ae_course(pieces, provenance)
    if "labs" in pieces:
        _lab_units(mapping.tables["labs"], pieces["labs"], cells, provenance)
    if "prior_treatments" in specs and specs["prior_treatments"].how.startswith("count_"):
        provenance["derived"].append("prior_treatments counted from the listed earlier treatments")


def _check_age(row: dict, spec: Spec | None, cells: _Cells) -> None:
    """An age given beside a date of birth must agree with it (contract v2): within a year, so
    that an age in completed years and a rounded age both agree."""
    age, born, first = (
        row.get("age_at_first_dose"),
        row.get("_dob_check"),
        row.get("first_dose_date"),
    )
    if spec is None or age is None or born is None or first is None:
        return
    exact = (first - born[0]).days / DAYS_PER_YEAR
    if abs(age - exact) >= 1:
        cells.problem(
            "patients",
            "age_at_first_dose",
            f"does not agree with the date of birth in {spec.birth_date} ({born[0]}: "
            f"{exact:.1f} years at the first dose)",
            row["_label"],
            f"{born[1]}{SEP}{spec.arg}",
            row.get("patient_id"),
            age,
            born[1].rsplit(SEP, 1)[0],
        )


def _given(tmap: TableMap) -> set[str]:
    return set(tmap.columns) | {c for g in tmap.repeat for c in g}


def _baseline_edss(
    pieces: dict, specs: dict[str, Spec], first: dict, cells: _Cells, provenance: dict
) -> None:
    """Assessments on or before the first dose are baselines, not follow-up (contract)."""
    before: dict[str, list] = {}
    dropped = 0
    for piece in pieces["edss"]:
        kept = []
        for row in piece.rows:
            start = first.get(row.get("patient_id"))
            date = row.get("assessment_date")
            if start is not None and date is not None and date <= start:
                before.setdefault(row["patient_id"], []).append((date, row.get("edss")))
                dropped += 1
            else:
                kept.append(row)
        piece.rows = kept
    if dropped:
        cells.notes.append(
            f"edss: {dropped} assessment(s) on or before the first dose are baseline "
            "values, not follow-up; left out of the edss table"
        )
    spec = specs.get("baseline_edss")
    if spec is not None and spec.how == "last_edss_before_first_dose":
        for piece in pieces["patients"]:
            for row in piece.rows:
                found = sorted(before.get(row.get("patient_id"), []), key=lambda x: x[0])
                row["baseline_edss"] = found[-1][1] if found else None
        provenance["derived"].append(
            "patients.baseline_edss: the last EDSS on or before the first dose"
        )


def _ae_course(pieces: dict, provenance: dict) -> None:
    """An adverse event's course, when not given: the course of the last dose on or before onset."""
    doses = _by_patient(pieces.get("infusions", []), "dose_date")
    for piece in pieces["adverse_events"]:
        piece.columns["course"] = "course of the last dose on or before onset"
        for row in piece.rows:
            earlier = [
                (d, r.get("course"))
                for d, r in doses.get(row.get("patient_id"), [])
                if row.get("onset_date") is not None and d <= row["onset_date"]
            ]
            row["course"] = max(earlier, key=lambda x: x[0])[1] if earlier else None
    provenance["derived"].append(
        "adverse_events.course: the course of the last dose on or before the onset"
    )


def _lab_units(tmap: TableMap, pieces: list[_Piece], cells: _Cells, provenance: dict) -> None:
    """Convert units the mapping names; IgG must end in g/L and platelets in 10^9/L."""
    for piece in pieces:
        for row in piece.rows:
            test, unit = str(row.get("test") or ""), str(row.get("unit") or "")
            stored = STORED_UNITS.get(test.lower())
            if stored:
                row["test"] = stored[0]
            for rule in tmap.convert:
                if rule["test"] == test.lower() and rule["from"] == unit.lower():
                    if row.get("value") is not None:
                        row["value"] = _scaled(row["value"], rule["factor"])
                    row["unit"] = unit = rule["to"]
            if stored and unit and unit.lower() != stored[1].lower():
                cells.problem(
                    "labs",
                    "unit",
                    f"is not {stored[1]}, the unit {stored[0]} is stored in; add a "
                    f'[[labs.convert]] rule (test = "{stored[0]}", from = "{unit}", '
                    "factor = …)",
                    row["_label"],
                    f"{piece.sheet.title}{SEP}{row['_label']}",
                    row.get("patient_id"),
                    unit,
                    piece.sheet.title,
                )
            elif stored:
                row["unit"] = stored[1]
    for rule in tmap.convert:
        provenance["derived"].append(
            f"labs: {rule['test']} in {rule['from']} × {rule['factor']:g} → {rule['to']}"
        )


def _exclude(pieces: dict[str, list[_Piece]], cells: _Cells) -> dict[str, list[str]]:
    """Drop every row of the patients a value map excluded."""
    excluded = {p: r for p, r in cells.excluded.items() if p not in ("None", "")}
    for table_pieces in pieces.values():
        for piece in table_pieces:
            piece.rows = [r for r in piece.rows if r.get("patient_id") not in excluded]
    return excluded


def _source_of(piece: _Piece) -> Source:
    columns = [c.name for c in TABLES[piece.table].columns if c.name in piece.columns]
    # built a column at a time: a second dict per row would double the piece while it is framed
    frame = pd.DataFrame(
        {c: [r.get(c) for r in piece.rows] for c in columns}, columns=columns, dtype=object
    )
    frame.index = range(1, len(frame) + 1)
    return _make_source(
        piece.name,
        piece.table,
        frame,
        _Labels(f"{piece.sheet.title}{SEP}", [r["_label"] for r in piece.rows]),
        dict(piece.columns),
    )


class _Labels(Sequence):
    """`cohort.xlsx › Patients › row 37` for each row, made when a problem names the row: the
    sheet's row labels are shared, not copied with the sheet's title into a new text per row."""

    def __init__(self, prefix: str, labels: list[str]):
        self.prefix, self.labels = prefix, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> str:
        return self.prefix + self.labels[i]


def _empty_source(table: str) -> Source:
    columns = [c.name for c in TABLES[table].columns if c.required]
    return _make_source(
        f"(no source: {table})", table, pd.DataFrame(columns=columns, dtype=object), [], {}
    )


def _make_source(
    name: str, table: str, frame: pd.DataFrame, labels: Sequence[str], columns: dict[str, str]
) -> Source:
    return Source(name, table, frame, 1, row_labels=labels, column_labels=columns)


# End to end


def read_mapping(path: str | Path) -> Mapping:
    """Load a mapping file from disk."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise MappingError([f"{path}: no such mapping file"]) from None
    except UnicodeDecodeError:
        raise MappingError([f"{path.name}: not a UTF-8 text file"]) from None
    return load_mapping(text, path.name)


def set_value_map(text: str, table: str, column: str, source_value: str, target: object) -> str:
    """The mapping text with `"source value" = target` under [table.values.column] (added or
    replaced, comments and the rest kept as written)."""
    key = json.dumps(str(source_value), ensure_ascii=False)
    line = f"{key} = {json.dumps(target, ensure_ascii=False, default=str)}"
    lines = text.splitlines()
    header = f"[{table}.values.{column}]"
    start = next((i for i, x in enumerate(lines) if x.split("#")[0].strip() == header), None)
    if start is None:
        return text.rstrip("\n") + f"\n\n{header}\n{line}\n"
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines)
    )
    wanted = _value_key(str(source_value))
    for i in range(start + 1, end):
        written = Lines.KEY.match(lines[i].lstrip("# "))
        if written and _value_key(_unquote(written.group(1))) == wanted:
            lines[i] = line
            return "\n".join(lines) + "\n"
    lines.insert(start + 1, line)
    return "\n".join(lines) + "\n"


def saved_mapping(root: str | Path) -> tuple[str, str] | None:
    """(name, text) of the mapping kept with the active version, else the newest that has one."""
    active = (importer.active(Path(root)) or {}).get("version")
    found = sorted(importer.versions(Path(root)), key=lambda m: m.get("id") != active)
    for meta in found:
        provenance = meta.get("provenance") or {}
        if provenance.get("mapping"):
            return provenance.get("mapping_name", "mapping.toml"), provenance["mapping"]
    return None


def stage_mapped(applied: Applied, root: Path) -> importer.Staged:
    """Stage the applied mapping with the existing importer; the mapping's problems come first."""
    staged = importer.stage(applied.sources, Path(root), applied.notes)
    checked = []
    # a cell the mapping could not read is reported once, by the mapping, not again as a null
    for p in staged.problems:
        kept = [
            ex
            for ex in p.examples
            if (p.table, p.column, str(ex.get("source")).rsplit(SEP, 1)[0]) not in applied.failed
        ]
        if p.examples and not kept:
            continue
        p.count -= len(p.examples) - len(kept)
        p.examples = kept
        checked.append(p)
    staged.problems = applied.problems + checked
    return staged


def problem_lines(problems: list[Problem]) -> list[str]:
    """One line per example: `cohort.xlsx › Patients › row 37 › EDSS 12: "n/a?" is not a number`."""
    lines = []
    for p in problems:
        for ex in p.examples or [{}]:
            where = ex.get("source") or " ".join(
                str(x)
                for x in (
                    ex.get("file") or p.file,
                    f"row {ex['row']}" if ex.get("row") else "",
                    p.column,
                )
                if x
            )
            value = f' "{ex["value"]}"' if ex.get("value") is not None else ""
            if p.rule.startswith(("is ", "has ", "does ")):
                rule = f"{value} {p.rule}"
            else:
                rule = f"{value} ({p.table}.{p.column}: {p.rule})" if value else f" {p.rule}"
            lines.append(f"{p.severity}: {where or p.table}:{rule}")
    return lines


def convert(
    paths: list, mapping_path: str | Path, out_dir: str | Path
) -> tuple[bool, list[Problem], list[str]]:
    """Write the contract dataset folder (no versioning); nothing is written when it has errors."""
    # the files as read are dropped once mapped: staging holds only the contract's tables
    applied = apply(read_mapping(mapping_path), read_source_files(paths))
    out = Path(out_dir)
    work = Path(
        tempfile.mkdtemp(prefix=".convert-", dir=out.parent if out.parent.exists() else None)
    )
    staged = None
    try:
        staged = stage_mapped(applied, work)
        if not staged.ok:
            return False, staged.problems, staged.notes
        out.mkdir(parents=True, exist_ok=True)
        for table in TABLES:  # a table of an earlier conversion that this one has not
            (out / f"{table}.parquet").unlink(missing_ok=True)
        for f in staged.path.glob("*.parquet"):
            shutil.copyfile(f, out / f.name)
        return True, staged.problems, staged.notes
    finally:
        if staged is not None:
            importer.discard(staged)
        shutil.rmtree(work, ignore_errors=True)


def import_mapped(
    paths: list, mapping_path: str | Path, root: str | Path, user: str
) -> MappedResult:
    """Read, map, validate and (without errors) activate as a new version with its provenance."""
    root = Path(root)
    # the files as read are dropped once mapped: staging holds only the contract's tables
    applied = apply(read_mapping(mapping_path), read_source_files(paths))
    staged = stage_mapped(applied, root)
    provenance = applied.provenance
    try:
        if not staged.ok:
            return MappedResult(None, staged.problems, staged.notes, provenance)
        version = importer.activate_staged(staged, root, user, provenance=provenance)
        return MappedResult(version, staged.problems, staged.notes, provenance)
    finally:
        if staged.path.exists():
            importer.discard(staged)
