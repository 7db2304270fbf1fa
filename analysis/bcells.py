"""B-cell (CD19) repopulation and IgG by months since the start of the last rituximab course."""

import numpy as np
import pandas as pd

from analysis.stats import clopper_pearson
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


CALLS = {"bcell_rows": bcell_rows}
