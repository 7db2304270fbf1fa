"""B-cell (CD19) repopulation and IgG by months since the start of the last rituximab course."""

import numpy as np
import pandas as pd
from scipy.stats import beta

from queries.dataset import Dataset
from queries.filters import Filters


def bcell_rows(ds: Dataset, filters: Filters) -> pd.DataFrame:
    """cd19_by_interval rows (one unit per test) plus the share of classified patients repopulated,
    in percent, with its exact (Clopper–Pearson) 95 % CI; share columns are null where no patient is
    classified."""
    rows = ds.run("cd19_by_interval", filters)
    k = rows["repopulated_patients"].to_numpy(dtype=float)
    n = rows["classified_patients"].to_numpy(dtype=float)
    low, high = clopper_pearson(k, n)
    classified = n > 0
    return rows.assign(
        repopulated_pct=np.where(classified, 100 * k / np.where(classified, n, 1), np.nan),
        ci_low=np.where(classified, 100 * low, np.nan),
        ci_high=np.where(classified, 100 * high, np.nan),
    )


def clopper_pearson(k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The exact (Clopper–Pearson) 95 % CI of k of n, every row in one call, as scipy's beta
    quantiles: scipy's binomtest (analysis.stats.proportion) finds the same bounds by a root search,
    a few ms per row (equal to 1e-9, tests); nan where n is 0."""
    with np.errstate(all="ignore"):
        low = np.where(k > 0, beta.ppf(0.025, k, n - k + 1), 0.0)
        high = np.where(k < n, beta.ppf(0.975, k + 1, n - k), 1.0)
    empty = n <= 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


CALLS = {"bcell_rows": bcell_rows}
