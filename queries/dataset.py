"""Open a cohort dataset in DuckDB as views named after the contract tables, and run queries on it."""

import re
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

from queries.contract import DUCKDB_TYPES, TABLES
from queries.filters import Filters

SQL_DIR = Path(__file__).parent / "sql"
SETUP = ("patient_facts", "selected_patients", "patient_outcomes")
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


class Dataset:
    """A contract dataset opened read-only in an in-memory DuckDB database."""

    def __init__(self, location: str | Path):
        self.location = Path(location)
        self.tables: set[str] = set()
        self.columns: dict[str, set[str]] = {}
        self._con = duckdb.connect(":memory:")
        self._create_views()
        for statement in SETUP:
            self._con.execute(sql_text(statement))

    def _create_views(self) -> None:
        if not self.location.is_dir():
            raise DatasetError(f"{self.location}: no such dataset folder")
        for table in TABLES.values():
            path = self.location / f"{table.name}.parquet"
            found, problems = inspect_table(self._con, path, table.name)
            if problems:
                raise DatasetError("; ".join(problems))
            if found is not None:
                self.tables.add(table.name)
                self.columns[table.name] = {c.name for c in table.columns if c.name in found}
            self._con.execute(view_sql(table.name, path if found is not None else None, found or {}))

    def has(self, table: str, column: str | None = None) -> bool:
        """Whether the dataset holds this table (and this column of it)."""
        if column is None:
            return table in self.tables
        return column in self.columns.get(table, set())

    def run(self, name: str, filters: Filters | None = None, **params: object) -> pd.DataFrame:
        """Run queries/sql/<name>.sql with the filters and extra named parameters."""
        values = (filters or Filters()).params() | params
        wanted = sql_params(name)
        missing = wanted - values.keys()
        if missing:
            raise TypeError(f"{name}.sql needs parameters {sorted(missing)}")
        with self._con.cursor() as cur:
            return cur.execute(sql_text(name), {k: values[k] for k in wanted}).df()

    def sql(self, query: str, params: dict[str, object] | None = None) -> pd.DataFrame:
        """Run a fixed query string (used by validation, whose rules are constants)."""
        with self._con.cursor() as cur:
            return cur.execute(query, params or {}).df()

    def close(self) -> None:
        self._con.close()


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def inspect_table(
    con: duckdb.DuckDBPyConnection, path: Path, name: str
) -> tuple[dict[str, str] | None, list[str]]:
    """The columns (name → DuckDB type) of a table's parquet file and its structural problems.

    Columns are None when the file is absent or unreadable.
    """
    table = TABLES[name]
    if not path.exists():
        return None, [f"{path}: required table '{name}' is missing"] if table.required else []
    try:
        description = con.execute(f"select * from read_parquet({_quote(str(path))}) limit 0").description
    except duckdb.Error as exc:
        return None, [f"{path}: not a readable parquet file ({_first_line(exc)})"]
    found = {col[0]: str(col[1]) for col in description}
    problems = []
    for column in table.columns:
        if column.name not in found:
            if column.required:
                problems.append(f"{path}: required column '{column.name}' is missing")
        elif not type_fits(column.type, found[column.name]):
            problems.append(
                f"{path}: column '{column.name}' has type {found[column.name]}, expected {column.type}"
            )
    return found, problems


def view_sql(name: str, path: Path | None, found: dict[str, str], row_numbers: bool = False) -> str:
    """A view over a table's file that casts every contract column to its logical type.

    Absent optional columns become typed nulls and an absent optional table an empty view, so
    queries never depend on how a file was written. Subtypes are stored upper case.
    """
    select = []
    if row_numbers:
        select.append("file_row_number + 1 as _row" if path else "cast(null as bigint) as _row")
    for column in TABLES[name].columns:
        source = f'"{column.name}"' if column.name in found else "null"
        if name == "patients" and column.name == "subtype" and column.name in found:
            source = f"upper(trim({source}))"
        select.append(f"cast({source} as {DUCKDB_TYPES[column.type]}) as {column.name}")
    if path is None:
        source = "(select 1) where false"
    else:
        source = f"read_parquet({_quote(str(path))}, file_row_number = {str(row_numbers).lower()})"
    return f"create or replace view {name} as select {', '.join(select)} from {source}"
