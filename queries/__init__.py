"""The data layer: a contract dataset opened in DuckDB, the SQL queries over it, and the summary."""

from pathlib import Path

from queries.dataset import Dataset, DatasetError
from queries.filters import DEFAULT_IGG_THRESHOLD, Filters
from queries.summary import subtype_order, summary

__all__ = [
    "DEFAULT_IGG_THRESHOLD",
    "Dataset",
    "DatasetError",
    "Filters",
    "subtype_order",
    "summary",
    "summary_json",
]


def summary_json(data_dir: str | Path, **filters: object) -> dict:
    """Open a dataset folder and return its summary.json for the given filter values."""
    ds = Dataset(data_dir)
    try:
        return summary(ds, Filters(**filters))
    finally:
        ds.close()
