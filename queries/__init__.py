"""The data layer: a contract dataset opened in DuckDB and the SQL queries over it.

The study summary (summary.json) is assembled from these queries in analysis/summary.py.
"""

from queries.contract import subtype_order
from queries.dataset import Dataset, DatasetError
from queries.filters import DEFAULT_IGG_THRESHOLD, Filters

__all__ = [
    "DEFAULT_IGG_THRESHOLD",
    "Dataset",
    "DatasetError",
    "Filters",
    "subtype_order",
]
