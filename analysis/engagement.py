"""Virtual-care engagement: tertiles of contacts per month of follow-up and the outcomes per tertile."""

import numpy as np
import pandas as pd

from analysis.stats import mean_ci_of
from queries import Dataset, Filters

TERTILES = ("Low", "Middle", "High")
UNCLASSIFIED = "Not classified (no follow-up time)"


def tertile_edges(rated: int) -> tuple[float, float]:
    """The rank bounds of the Low and Middle tertiles among `rated` ranked patients: pandas' qcut of
    the ranks 1..rated into three equal-sized groups (sizes differ by at most one)."""
    _, edges = pd.qcut(pd.Series(np.arange(1, rated + 1, dtype=float)), 3, retbins=True)
    return float(edges[1]), float(edges[2])


def tertile_outcomes(ds: Dataset, filters: Filters) -> pd.DataFrame | None:
    """One row per engagement tertile (Low/Middle/High by contacts per month of follow-up; ties
    broken by patient id): n, the contact-rate range, relapse-free, mean EDSS change with its t-based
    95 % CI, patients with an adverse event. Patients without follow-up time form an extra "not
    classified" row. None with fewer than three patients that have a rate."""
    rated = int(ds.run("group_summary", filters)["with_followup_time"].iloc[0])
    if rated < 3:
        return None
    low, high = tertile_edges(rated)
    rows = ds.run("engagement_tertiles", filters, low_edge=low, high_edge=high)
    ci = [mean_ci_of(int(r.edss_n), r.edss_change_mean, r.edss_change_sd) for r in rows.itertuples()]
    rows["edss_change_mean"] = rows["edss_change_mean"].astype(object).where(rows["edss_n"] > 0, None)
    return pd.DataFrame({
        "tertile": rows["tertile"],
        "patients": rows["patients"],
        "contacts_per_month_min": rows["contacts_per_month_min"],
        "contacts_per_month_max": rows["contacts_per_month_max"],
        "relapse_free": rows["relapse_free"],
        "relapse_free_pct": 100 * rows["relapse_free"] / rows["patients"],
        "edss_n": rows["edss_n"],
        "edss_change_mean": rows["edss_change_mean"],
        "edss_change_ci_low": [c[0] if c else None for c in ci],
        "edss_change_ci_high": [c[1] if c else None for c in ci],
        "patients_with_ae": rows["patients_with_ae"],
        "patients_with_ae_pct": 100 * rows["patients_with_ae"] / rows["patients"],
    })
