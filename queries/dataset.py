"""Open a cohort dataset in DuckDB as views named after the contract tables, and run queries on it."""

import re
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

from queries.contract import DAYS_PER_MONTH, DAYS_PER_YEAR, DUCKDB_TYPES, TABLES
from queries.filters import Filters

SQL_DIR = Path(__file__).parent / "sql"
# run in this order when a dataset is opened: the contract's constants, then the per-patient tables
# and the selection macro every query starts from
SETUP = (
    "contract_constants", "contract_macros", "patient_facts", "selected_patients",
)
# (names, statements): the statements run, in order and each once, on the first query that names
# one of the names, not at open: only the virtual-care page reads the engagement facts, only the
# safety page the lab values, only the EDSS page the CDW facts (built from the EDSS values)
ON_FIRST_USE = (
    (("engagement_facts", "engagement_series", "engagement_channels"), ("engagement_facts",)),
    (("lab_facts", "cd19_facts", "lab_values_in_window"),
     ("lab_facts", "cd19_facts", "lab_values_in_window")),
    (("adverse_event_facts", "mri_facts"), ("adverse_event_facts", "mri_facts")),
    (("swimmer_event_facts",), ("swimmer_event_facts",)),
    (("edss_values", "edss_visit_values", "relapse_values"), ("edss_values",)),
    (("cdw_facts", "cdw_event_facts"), ("edss_values", "cdw_facts")),
)
# the statements that build tables from the data: their tables live in an in-memory database that
# compresses them (a tenth of the memory at 100,000 patients), each read through a view of its name
FACTS_DB = "facts"
BUILDS_TABLES = ("patient_facts", "lab_facts", "cd19_facts", "adverse_event_facts", "mri_facts",
                 "engagement_facts", "swimmer_event_facts", "edss_values", "cdw_facts")
CONSTANTS = {"days_per_month": DAYS_PER_MONTH, "days_per_year": DAYS_PER_YEAR}
# DuckDB's memory for one open dataset (its default is 80 % of the machine's): the per-patient facts
# need far less, and a bound keeps each app worker small; a query or build that needs more spills to
# disk. At 100,000 patients, building the facts peaked 105 MiB lower with 128 MB than with 256 MB (the
# first virtual-care and lab queries spill part of their aggregation and take longer once)
MEMORY_LIMIT = "128MB"
# Dataset.run keeps up to this many recent results, together at most this many bytes (pandas'
# shallow count): one page reads the same rows in several figures (model_values for both models
# and the PH check, cdw_time_counts for the CDW summary and curves, group_summary everywhere), so
# larger results are kept too, not only small ones; 16 MiB holds a page's shared rows for a
# selection of 30,000 patients (32 MiB added ~16 MiB to the peak at 100k)
RECENT_RESULTS, RECENT_MAX_BYTES = 64, 16 * 2**20
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")


class DatasetError(Exception):
    """A dataset that cannot be opened: the message names the file and what is wrong."""


@cache
def sql_text(name: str) -> str:
    """The text of queries/sql/<name>.sql."""
    return (SQL_DIR / f"{name}.sql").read_text()


@cache
def sql_params(name: str) -> frozenset[str]:
    """The $parameters a query file uses."""
    return frozenset(_PARAM.findall(_strip_comments(sql_text(name))))


def _strip_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _literal_glob(path: str) -> str:
    """A path that DuckDB's file readers open as written: they expand *, ? and [..] as a glob, so
    each is put in a one-character class ('cohort*' would otherwise read every 'cohort…' folder)."""
    return re.sub(r"([*?\[])", r"[\1]", path)


def parquet_type_family(duckdb_type: str) -> str:
    """The contract logical type a DuckDB column type can stand for ('' when none)."""
    t = duckdb_type.upper()
    if t.startswith(("TIMESTAMP", "DATE")):
        return "date"
    if t in ("BOOLEAN",):
        return "boolean"
    if t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
             "UINTEGER", "UBIGINT"):
        return "integer"
    if t in ("FLOAT", "DOUBLE", "REAL") or t.startswith("DECIMAL"):
        return "double"
    if t in ("VARCHAR",) or t.startswith("ENUM"):
        return "string"
    return ""


def type_fits(logical: str, duckdb_type: str) -> bool:
    """Whether a parquet column of this DuckDB type can be read as the contract's logical type."""
    family = parquet_type_family(duckdb_type)
    return family == logical or (logical == "double" and family == "integer")


REMOTE_SCHEMES = ("s3://", "gs://", "gcs://", "r2://", "az://", "abfss://", "https://", "http://")


@dataclass(frozen=True)
class Location:
    """Where a dataset's tables are: a local folder of parquet files, a remote parquet prefix read by
    DuckDB's httpfs (s3://…, https://…), a DuckDB database file, or a MotherDuck database (md:…)."""

    kind: str  # folder | remote | duckdb | motherduck
    text: str

    def relation(self, table: str) -> str:
        """SQL for the table's rows (never built from user input other than the configured location)."""
        if self.kind in ("duckdb", "motherduck"):
            return f'dataset_db.main."{table}"'
        return f"read_parquet({_quote(self.glob_free_path(table))})"

    def path(self, table: str) -> str:
        """The table's parquet file (folder and remote locations)."""
        return str(Path(self.text) / f"{table}.parquet") if self.kind == "folder" else (
            f"{self.text.rstrip('/')}/{table}.parquet"
        )

    def glob_free_path(self, table: str) -> str:
        """The table's file as DuckDB must be given it to open exactly that file (local folders)."""
        return _literal_glob(self.path(table)) if self.kind == "folder" else self.path(table)

    def describe(self, table: str) -> str:
        """How to name the table in a message."""
        return self.path(table) if self.kind in ("folder", "remote") else f"{self.text}: table {table}"


def parse_location(location: str | Path) -> Location:
    """Classify a dataset location by its form."""
    text = str(location)
    if text.startswith("md:"):
        return Location("motherduck", text)
    if text.startswith(REMOTE_SCHEMES):
        return Location("remote", text)
    if Path(text).suffix.lower() in (".duckdb", ".db") and not Path(text).is_dir():
        return Location("duckdb", text)
    return Location("folder", text)


def attach(con: duckdb.DuckDBPyConnection, loc: Location, s3: dict | None = None) -> None:
    """Prepare the connection for the location: load httpfs and credentials, or attach the database."""
    try:
        if loc.kind == "remote":
            con.execute("install httpfs")
            con.execute("load httpfs")
            if s3:
                options = ", ".join(
                    f"{key} {_quote(str(value))}" for key, value in s3.items()
                    if key in ("key_id", "secret", "region", "endpoint", "session_token", "url_style")
                )
                con.execute(f"create or replace secret dataset_s3 (type s3{', ' + options if options else ''})")
        elif loc.kind == "duckdb":
            if not Path(loc.text).is_file():
                raise DatasetError(f"{loc.text}: no such DuckDB database file")
            con.execute(f"attach {_quote(loc.text)} as dataset_db (read_only)")
        elif loc.kind == "motherduck":
            con.execute(f"attach {_quote(loc.text)} as dataset_db")
    except duckdb.Error as exc:
        raise DatasetError(f"{loc.text}: cannot be reached ({_first_line(exc)})") from None


class Dataset:
    """A contract dataset opened read-only in an in-memory DuckDB database."""

    def __init__(self, location: str | Path, s3: dict | None = None):
        self.location = parse_location(location)
        self.tables: set[str] = set()
        self.columns: dict[str, set[str]] = {}
        # spill to the system's temporary folder: the working folder may not be writable (container)
        spill = str(Path(tempfile.gettempdir()) / "rce-duckdb")
        self._con = duckdb.connect(
            ":memory:", config={"memory_limit": MEMORY_LIMIT, "temp_directory": spill}
        )
        self._recent: OrderedDict[tuple, tuple[pd.DataFrame, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._built: set[str] = set()
        attach(self._con, self.location, s3)
        self._con.execute(f"attach ':memory:' as {FACTS_DB} (compress)")
        self._create_views()
        for statement in SETUP:
            self._setup(statement)

    def _setup(self, statement: str) -> None:
        """Run a setup statement on the main connection (a table-building one in FACTS_DB)."""
        params = {k: v for k, v in CONSTANTS.items() if k in sql_params(statement)}
        if statement not in BUILDS_TABLES:
            self._con.execute(sql_text(statement), params)
            return
        self._con.execute(f"use {FACTS_DB}")
        self._con.execute(f"set search_path = '{FACTS_DB}.main,memory.main'")
        try:
            self._execute(self._con, sql_text(statement), params)
            self._con.execute(f"checkpoint {FACTS_DB}")
        finally:
            self._con.execute("use memory")
            self._con.execute("reset search_path")
        tables = self._con.execute(
            "select table_name from duckdb_tables() where database_name = ?", [FACTS_DB]
        ).fetchall()
        for (table,) in tables:
            self._con.execute(f'create or replace view "{table}" as from {FACTS_DB}.main."{table}"')

    def _execute(self, con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> pd.DataFrame:
        """Run a statement and return its rows; one that runs out of MEMORY_LIMIT (a cohort larger
        than the limit was set for: at 100,000 patients the builds need more than 64 MB) runs again
        under DuckDB's own limit rather than fail."""
        try:
            return con.execute(sql, params).df()
        except duckdb.OutOfMemoryException:
            con.execute("reset memory_limit")
            try:
                return con.execute(sql, params).df()
            finally:
                con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")

    def _create_views(self) -> None:
        if self.location.kind == "folder" and not Path(self.location.text).is_dir():
            raise DatasetError(f"{self.location.text}: no such dataset folder")
        for table in TABLES.values():
            found, problems = inspect_table(self._con, self.location, table.name)
            if problems:
                raise DatasetError("; ".join(problems))
            if found is not None:
                self.tables.add(table.name)
                self.columns[table.name] = {c.name for c in table.columns if c.name in found}
            source = self.location if found is not None else None
            self._con.execute(view_sql(table.name, source, found or {}))

    def has(self, table: str, column: str | None = None) -> bool:
        """Whether the dataset holds this table (and this column of it)."""
        if column is None:
            return table in self.tables
        return column in self.columns.get(table, set())

    def run(self, name: str, filters: Filters | None = None, **params: object) -> pd.DataFrame:
        """Run queries/sql/<name>.sql with the filters (bound as one struct, $filters) and extra
        named parameters. Recent results are kept for the next identical call (the dataset does not
        change while open), so that the figures of one page share e.g. one group_summary."""
        filters = filters or Filters()
        values = {"filters": filters.params()} | params
        wanted = sql_params(name)
        missing = wanted - values.keys()
        if missing:
            raise TypeError(f"{name}.sql needs parameters {sorted(missing)}")
        self._build_used(sql_text(name))
        key = (name, filters, tuple(sorted((k, params[k]) for k in wanted if k in params)))
        with self._lock:
            if key in self._recent:
                self._recent.move_to_end(key)
                return self._recent[key][0].copy()
        with self._con.cursor() as cur:
            result = self._execute(cur, sql_text(name), {k: values[k] for k in wanted})
        # pandas' shallow size, estimated without its per-column Series (every dtype the queries
        # return is at most 8 bytes a cell; object cells count their pointer)
        size = 8 * len(result) * (len(result.columns) + 1)
        if size <= RECENT_MAX_BYTES:
            with self._lock:
                self._recent[key] = (result.copy(), size)
                while (len(self._recent) > RECENT_RESULTS
                       or sum(kept for _, kept in self._recent.values()) > RECENT_MAX_BYTES):
                    self._recent.popitem(last=False)
        return result

    def _build_used(self, sql: str) -> None:
        for names, statements in ON_FIRST_USE:
            if statements[-1] not in self._built and any(name in sql for name in names):
                with self._lock:
                    for statement in statements:
                        if statement not in self._built:
                            self._setup(statement)
                            self._built.add(statement)

    def forget(self) -> None:
        """Drop the results kept by run (a benchmark times first calls)."""
        with self._lock:
            self._recent.clear()

    def sql(self, query: str, params: dict[str, object] | None = None) -> pd.DataFrame:
        """Run a fixed query string (used by validation, whose rules are constants)."""
        self._build_used(query)
        with self._con.cursor() as cur:
            return self._execute(cur, query, params or {})

    def close(self) -> None:
        self._con.close()


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _exists(con: duckdb.DuckDBPyConnection, loc: Location, name: str) -> bool | None:
    if loc.kind == "folder":
        return Path(loc.path(name)).exists()
    if loc.kind in ("duckdb", "motherduck"):
        found = con.execute(
            "select count(*) from duckdb_tables() where database_name = 'dataset_db' and table_name = ?",
            [name],
        ).fetchone()[0]
        views = con.execute(
            "select count(*) from duckdb_views() where database_name = 'dataset_db' and view_name = ?",
            [name],
        ).fetchone()[0]
        return bool(found or views)
    return None  # remote: only reading tells


def inspect_table(
    con: duckdb.DuckDBPyConnection, loc: Location, name: str
) -> tuple[dict[str, str] | None, list[str]]:
    """The columns (name → DuckDB type) of a table and its structural problems.

    Columns are None when the table is absent or unreadable.
    """
    table = TABLES[name]
    where = loc.describe(name)
    exists = _exists(con, loc, name)
    if exists is False:
        return None, [f"{where}: required table '{name}' is missing"] if table.required else []
    try:
        description = con.execute(f"select * from {loc.relation(name)} limit 0").description
    except duckdb.Error as exc:
        if exists is None and not table.required:
            return None, []  # an optional remote table that is not there
        what = "not a readable parquet file" if loc.kind == "folder" else "cannot be read"
        return None, [f"{where}: {what} ({_first_line(exc)})"]
    found = {col[0]: str(col[1]) for col in description}
    problems = []
    for column in table.columns:
        if column.name not in found:
            if column.required:
                problems.append(f"{where}: required column '{column.name}' is missing")
        elif not type_fits(column.type, found[column.name]):
            problems.append(
                f"{where}: column '{column.name}' has type {found[column.name]}, expected {column.type}"
            )
    return found, problems


def view_sql(name: str, loc: Location | None, found: dict[str, str], row_numbers: bool = False) -> str:
    """A view over a table that casts every contract column to its logical type.

    Absent optional columns become typed nulls and an absent optional table an empty view, so
    queries never depend on how a file was written. Subtypes are stored upper case.
    """
    parquet = loc is not None and loc.kind in ("folder", "remote")
    select = []
    if row_numbers:
        select.append("file_row_number + 1 as _row" if parquet else "cast(null as bigint) as _row")
    for column in TABLES[name].columns:
        source = f'"{column.name}"' if column.name in found else "null"
        if name == "patients" and column.name == "subtype" and column.name in found:
            source = f"upper(trim({source}))"
        select.append(f"cast({source} as {DUCKDB_TYPES[column.type]}) as {column.name}")
    if loc is None:
        source = "(select 1) where false"
    elif parquet:
        source = (f"read_parquet({_quote(loc.glob_free_path(name))}, "
                  f"file_row_number = {str(row_numbers).lower()})")
    else:
        source = loc.relation(name)
    return f"create or replace view {name} as select {', '.join(select)} from {source}"
