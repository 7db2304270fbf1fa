"""The rows behind the pages' figures that need statistics on top of a query: each a function of the
open dataset, the filters and parameters, returning at most a few hundred rows to draw.

`CALLS` names them for ui.data, which caches them, and for the benchmark, which replays them.
"""

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from analysis import survival
from analysis.engagement import tertile_outcomes
from analysis.stats import clopper_pearson, mean_ci_of, rate
from analysis.summary import edss_changes
from analysis.table1 import VARIABLES, Row, table1
from queries import Dataset, Filters, subtype_order


def table_one(ds: Dataset, filters: Filters) -> tuple[list[Row], list[str]]:
    """Table 1 rows with their between-group tests, and the notes to show, for the selection."""
    patients = ds.run("baseline_characteristics", filters)
    order = subtype_order(patients["subtype"].dropna().unique())
    available = {v.column for v in VARIABLES if not v.optional or ds.has("patients", v.column)}
    return table1(patients, order, available)


def km_curves(ds: Dataset, filters: Filters) -> dict[str, object]:
    """Kaplan–Meier curves of relapse-free time: the pooled curve ('pooled') and one per subtype in
    the contract's order ('by_subtype'), from one read of the patients' times and events."""
    times = ds.run("relapse_free_time_counts", filters)
    order = subtype_order(times["subtype"].dropna().unique())
    return {"pooled": survival.curves(times, None)[0], "by_subtype": survival.curves(times, order)}


def edss_change_statistics(ds: Dataset, filters: Filters) -> pd.DataFrame:
    """One row per group ('all' and each subtype with a follow-up EDSS): n, mean, sample SD and the
    t-based 95 % CI of the mean EDSS change, and its box-plot statistics (quartiles by linear
    interpolation, whiskers to the furthest value within 1.5 × IQR)."""
    # the changes the summary's change tests read: Dataset.run keeps them, so a page that shows
    # both reads them once
    values, by_subtype = edss_changes(ds, filters)
    groups = [("all", values)] if len(values) else []
    rows = []
    for group, x in groups + sorted(by_subtype.items()):
        mean, sd = x.mean(), x.std(ddof=1) if len(x) > 1 else None
        ci = mean_ci_of(len(x), mean, sd)
        q1, median, q3 = np.quantile(x, [0.25, 0.5, 0.75])  # linear, as DuckDB's quantile_cont
        rows.append({
            "group": group, "n": len(x), "mean": mean, "sd": sd,
            "ci_low": ci[0] if ci else None, "ci_high": ci[1] if ci else None,
            "q1": q1, "median": median, "q3": q3,
            "low": x[x >= q1 - 1.5 * (q3 - q1)].min(), "high": x[x <= q3 + 1.5 * (q3 - q1)].max(),
        })
    columns = ["group", "n", "mean", "sd", "ci_low", "ci_high", "q1", "median", "q3", "low", "high"]
    return pd.DataFrame(rows, columns=columns)


def swimmer(ds: Dataset, filters: Filters, max_patients: int) -> dict[str, pd.DataFrame]:
    """The swimmer plot's rows for a fixed sample of at most max_patients selected patients (the first
    by sha256 of their id): lanes (one per patient), events (infusions, relapses, adverse events,
    active scans), events per subtype and kind, and the lanes joined with their events (one query:
    swimmer_events.sql)."""
    listing = ds.run("swimmer_events", filters, max_patients=max_patients)
    lane = ["patient_id", "subtype", "followup_months", "doses"]
    lanes = listing[lane].drop_duplicates("patient_id").reset_index(drop=True)
    events = listing.loc[listing["kind"].notna(), ["patient_id", "subtype", "kind", "months", "detail"]]
    events = events.reset_index(drop=True)
    per_kind = events.groupby(["subtype", "kind"], as_index=False).size().rename(
        columns={"size": "events"})
    return {"lanes": lanes, "events": events, "per_kind": per_kind, "listing": listing}


def adverse_events(ds: Dataset, filters: Filters) -> dict[str, pd.DataFrame]:
    """The adverse events inside the selected patients' windows: the listing, the counts by term,
    relation, grade and seriousness, by term (and by term, relation and grade), and the infections
    (flagged 'infection' or 'opportunistic') with their counts by term."""
    listing = ds.run("adverse_event_listing", filters)
    counts = ds.run("adverse_event_counts", filters)
    flags = listing["opportunistic"].fillna(False).astype(bool)
    if ds.has("adverse_events", "infection"):
        flags |= listing["infection"].fillna(False).astype(bool)
    infections = listing[flags]
    return {
        "listing": listing,
        "counts": counts,
        "by_term": listing.groupby("term").size().rename("events").reset_index(),
        "by_term_relation_grade": counts.groupby(["term", "relation", "grade"], as_index=False)[
            "events"].sum(),
        "infections": infections,
        "infections_by_term": infections.groupby(["term", "opportunistic"], as_index=False).size()
        .rename(columns={"size": "events"}),
    }


LAB_VALUE_COLUMNS = ["patient_id", "subtype", "test", "sample_date", "months", "value", "unit"]
LAB_INTERVAL_COLUMNS = ["subtype", "months_from", "patients", "values", "median", "minimum", "below"]


def lab_values(
    ds: Dataset, filters: Filters, charts: Sequence[Sequence], max_patients: int,
    by_interval: bool = True,
) -> dict[str, dict[str, pd.DataFrame | int | None]]:
    """Per lab test of `charts` ((test, below, low) each), its values inside the windows: a fixed
    sample of at most max_patients patients' values (the lines), per subtype × 6-month interval
    (patients, values, median, minimum, values below `below`; no rows unless by_interval), the
    totals, and every value below `low` (the marked ones; None where `low` is None); the drawn values
    of all tests from one query (lab_chart_rows), the interval rows from another
    (lab_values_by_interval: only the shared view shows them, and their medians read every value)."""
    tests, below, low = (tuple(column) for column in zip(*charts))
    rows = ds.run("lab_chart_rows", filters, tests=tests, low=low, max_patients=max_patients)
    intervals = (
        ds.run("lab_values_by_interval", filters, tests=tests, below=below) if by_interval
        else pd.DataFrame(columns=["test", *LAB_INTERVAL_COLUMNS])
    )
    # columns first, then rows: each selection copies only what the charts read
    values, by_interval_rows = rows[LAB_VALUE_COLUMNS], intervals[LAB_INTERVAL_COLUMNS]
    test_of, in_sample = rows["test"].to_numpy(), rows["in_sample"].to_numpy(dtype=bool)
    low_value, interval_of = rows["low"].to_numpy(dtype=bool), intervals["test"].to_numpy()
    result = {}
    for test, bound in zip(tests, low):
        of_test = test_of == test
        # every row of a test carries its totals; a test without a selected value has no row
        first = np.flatnonzero(of_test)[:1]
        n = int(rows["patients"].iat[first[0]]) if len(first) else 0
        sample = values[of_test & in_sample].reset_index(drop=True)
        sample["sampled"] = n > max_patients
        result[test] = {
            "sample": sample,
            "by_interval": by_interval_rows[interval_of == test].reset_index(drop=True),
            "patients": n,
            "values": int(rows["values"].iat[first[0]]) if len(first) else 0,
            "low": None if bound is None else values[of_test & low_value].reset_index(drop=True),
        }
    return result


def group_intervals(ds: Dataset, filters: Filters) -> dict[str, dict]:
    """Per group ('all' and each subtype): adverse events per 1,000 doses with the exact Poisson
    95 % CI, and NEDA-3 among evaluable patients with the exact (Clopper–Pearson) 95 % CI; None
    where undefined (no doses, no evaluable patient)."""
    groups = ds.run("group_summary", filters)
    neda = groups["neda"].to_numpy(dtype=float)
    evaluable = groups["neda_evaluable"].to_numpy(dtype=float)
    low, high = clopper_pearson(neda, evaluable)  # every group in one call
    return {
        "all" if pd.isna(subtype) else subtype: {
            "ae_per_1000_doses": rate(int(events), int(doses), per=1000),
            "neda3": None if not n else {
                "n": int(k), "pct": 100 * k / n, "ci_low": 100 * lo, "ci_high": 100 * hi,
            },
        }
        for subtype, events, doses, k, n, lo, hi in zip(
            groups["subtype"], groups["adverse_events"], groups["doses"], neda, evaluable, low, high
        )
    }


CALLS: dict[str, Callable] = {
    "table_one": table_one,
    "group_intervals": group_intervals,
    "km_curves": km_curves,
    "edss_change_statistics": edss_change_statistics,
    "swimmer": swimmer,
    "adverse_events": adverse_events,
    "lab_values": lab_values,
    "tertile_outcomes": tertile_outcomes,
}
