"""The contract's summary.json: the data layer's entry point for it (the command line, tests).

The object is assembled in analysis/summary.py, where its statistics live; this module holds no
statistics and imports nothing above the data layer when it is loaded.
"""

from queries.contract import SUBTYPES
from queries.dataset import Dataset
from queries.filters import Filters


def subtype_order(subtypes) -> list[str]:
    """Subtypes in the contract's order (RRMS, SPMS, NMOSD), then any others alphabetically."""
    present = set(subtypes)
    return [s for s in SUBTYPES if s in present] + sorted(present - set(SUBTYPES))


def summary(ds: Dataset, filters: Filters) -> dict:
    """The summary.json object: every figure of the contract for the selected patients."""
    from analysis.summary import summary as assemble  # the caller's entry point, not a dependency

    return assemble(ds, filters)
