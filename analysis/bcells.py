"""B-cell (CD19) repopulation and IgG by months since the start of the last rituximab course."""

import pandas as pd

from analysis.stats import proportion
from queries.dataset import Dataset
from queries.filters import Filters


def bcell_rows(ds: Dataset, filters: Filters) -> pd.DataFrame:
    """cd19_by_interval rows plus the share of classified patients repopulated, in percent, with its
    exact (Clopper–Pearson) 95 % CI; share columns are null where no patient is classified."""
    rows = ds.run("cd19_by_interval", filters)
    shares = [
        proportion(int(r.repopulated_patients), int(r.classified_patients)) or {}
        for r in rows.itertuples()
    ]
    rows = rows.assign(
        repopulated_pct=[s.get("pct") for s in shares],
        ci_low=[s.get("ci_low") for s in shares],
        ci_high=[s.get("ci_high") for s in shares],
    )
    return _main_unit(rows)


def _main_unit(rows: pd.DataFrame) -> pd.DataFrame:
    """Per test, only the rows in the unit with the most samples, so that a chart has one axis."""
    if rows.empty:
        return rows
    totals = rows.groupby(["test", "unit"], as_index=False)["samples"].sum()
    main = totals.sort_values("samples", ascending=False, kind="stable").drop_duplicates("test")
    return rows.merge(main[["test", "unit"]], on=["test", "unit"])


CALLS = {"bcell_rows": bcell_rows}
