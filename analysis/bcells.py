"""B-cell (CD19) repopulation and IgG by months since the start of the last rituximab course."""

import numpy as np
import pandas as pd

from analysis.stats import clopper_pearson
from queries.dataset import Dataset
from queries.filters import Filters


def bcell_rows(ds: Dataset, filters: Filters) -> pd.DataFrame:
    """cd19_by_interval rows of each test's main unit (main_unit) plus the share of classified
    patients repopulated, in percent, with its exact (Clopper–Pearson) 95 % CI; share columns are
    null where no patient is classified."""
    rows = main_unit(ds.run("cd19_by_interval", filters))
    k = rows["repopulated_patients"].to_numpy(dtype=float)
    n = rows["classified_patients"].to_numpy(dtype=float)
    low, high = clopper_pearson(k, n)
    classified = n > 0
    return rows.assign(
        repopulated_pct=np.where(classified, 100 * k / np.where(classified, n, 1), np.nan),
        ci_low=np.where(classified, 100 * low, np.nan),
        ci_high=np.where(classified, 100 * high, np.nan),
    )


def main_unit(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows (test, unit, samples, …) of each test's unit with the most samples, ties to the
    first by name, so that a chart has one axis."""
    # a few dozen rows: plain Python is quicker here than a pandas grouping
    samples: dict[tuple[str, str], int] = {}
    for key, n in zip(zip(rows["test"], rows["unit"]), rows["samples"]):
        samples[key] = samples.get(key, 0) + int(n)
    best: dict[str, str] = {}
    for (test, unit), n in sorted(samples.items()):
        if test not in best or n > samples[(test, best[test])]:
            best[test] = unit
    keep = np.array([best[test] == unit for test, unit in zip(rows["test"], rows["unit"])], dtype=bool)
    return rows[keep].reset_index(drop=True)


CALLS = {"bcell_rows": bcell_rows}
