"""The contract's summary.json for a dataset and filters: counts and sums from the data layer's SQL,
the statistics (exact intervals, Kaplan–Meier, tests, the v2 endpoints) from analysis/.

`base` holds every key that the group counts give cheaply; `part` computes one costly key ("rfs",
"edss_change", "disability", "models") on its own, so that the app computes a part only on a page
that shows it; `summary` is the whole object.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.disability import disability_summary
from analysis.models import models_summary
from analysis.stats import clean, logrank_p, mean_change_tests, proportion, rate, rfs_summary
from queries.contract import subtype_order
from queries.dataset import Dataset
from queries.filters import Filters

KEYS = ("female_pct", "age_mean", "followup_months_mean", "doses_total", "patient_years",
        "relapses", "rfs", "edss_change", "mri", "neda3", "igg_low", "safety",
        "disability", "models")
PARTS = ("rfs", "edss_change", "disability", "models")


def _groups(ds: Dataset, filters: Filters) -> tuple[int, list[str], dict]:
    """The selection's size, its subtypes in order, and the group_summary row per group ('all' first)."""
    groups = ds.run("group_summary", filters)
    by_subtype = groups[groups["subtype"].notna()].set_index("subtype")
    order = subtype_order(by_subtype.index)
    overall = groups[groups["subtype"].isna()].iloc[0]
    total = int(overall["patients"])
    return total, order, {"all": overall} | {s: by_subtype.loc[s] for s in order}


def counts(ds: Dataset, filters: Filters) -> dict:
    """summary.json's "filters" and "patients" keys: the selection and its size per subtype (what
    every page's header shows), from group_summary alone."""
    return _head(filters, *_groups(ds, filters))


def _head(filters: Filters, total: int, order: list[str], rows: dict) -> dict:
    """counts() from the group_summary rows already read."""
    return {
        "filters": filters.echo(),
        "patients": {"total": total,
                     "by_subtype": {s: int(rows[s]["patients"]) for s in order}},
    }


def base(ds: Dataset, filters: Filters) -> dict:
    """summary.json without its costly parts (PARTS), which are None here only when no patient is
    selected."""
    total, order, rows = _groups(ds, filters)
    result = _head(filters, total, order, rows)
    if total == 0:
        return result | dict.fromkeys(KEYS)
    overall = rows["all"]
    attacks = ds.run("attacks_per_patient", filters)
    events = ds.run("adverse_event_counts", filters)
    return result | {
        "female_pct": 100 * overall["female"] / total,
        "age_mean": clean(overall["age_mean"]),
        "followup_months_mean": clean(overall["followup_months_mean"]),
        "doses_total": int(overall["doses"]),
        "patient_years": float(overall["patient_years"]),
        "relapses": {
            "total": int(overall["relapses"]),
            "patients_with_relapse": {g: int(r["patients_with_relapse"]) for g, r in rows.items()},
            "relapse_free_pct": 100 * (total - overall["patients_with_relapse"]) / total,
            "attacks_per_patient": {
                str(a): int(n) for a, n in zip(attacks["attacks"], attacks["patients"])
            },
            "arr": {g: rate(int(r["relapses"]), float(r["patient_years"])) for g, r in rows.items()},
        },
        "mri": mri(ds, overall),
        "neda3": neda3(ds, rows),
        "igg_low": igg_low(ds, rows, filters.igg_threshold),
        "safety": safety(ds, overall, events, total),
    }


def part(ds: Dataset, filters: Filters, key: str) -> object:
    """One costly key of summary.json ("rfs", "edss_change", "disability" or "models")."""
    if key == "rfs":
        times = ds.run("relapse_free_time_counts", filters)
        return rfs(times, subtype_order(times["subtype"].dropna().unique())) if len(times) else None
    if key == "edss_change":
        total, _, rows = _groups(ds, filters)
        if total == 0:
            return None
        pooled, by_subtype = edss_changes(ds, filters)
        empty = np.array([], dtype=float)
        return {
            g: edss_change(pooled if g == "all" else by_subtype.get(g, empty), rows[g])
            for g in rows
        }
    if key == "disability":
        return disability_summary(ds, filters)
    if key == "models":
        return models_summary(ds, filters)
    raise KeyError(key)


def summary(ds: Dataset, filters: Filters) -> dict:
    """The summary.json object: every figure of the contract for the selected patients."""
    result = base(ds, filters)
    if result["patients"]["total"] == 0:
        return result
    parts = {key: part(ds, filters, key) for key in PARTS}
    head = {"filters": result["filters"], "patients": result["patients"]}
    return head | {key: parts[key] if key in PARTS else result[key] for key in KEYS}


def _group(outcomes: pd.DataFrame, group: str) -> pd.DataFrame:
    return outcomes if group == "all" else outcomes[outcomes["subtype"] == group]


def rfs(times: pd.DataFrame, order: list[str]) -> dict:
    """Kaplan–Meier relapse-free survival for all and per subtype, with the log-rank p, from rows
    per patient or per distinct (subtype, time, event) with their number of patients."""
    result = {
        g: rfs_summary(d["rfs_months"], d["rfs_event"], d.get("patients"))
        for g in ["all", *order]
        for d in [_group(times, g)]
    }
    result["logrank_p"] = logrank_p(
        times["rfs_months"], times["rfs_event"], times["subtype"], times.get("patients")
    )
    return result


def edss_changes(ds: Dataset, filters: Filters) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The selected patients' EDSS changes (latest − baseline): pooled, by subtype then patient id,
    and per subtype in patient-id order (edss_change_values.sql: one list per subtype)."""
    rows = ds.run("edss_change_values", filters)
    lists = [np.asarray(x, dtype=float) for x in rows["edss_change"]]
    pooled = np.concatenate(lists) if lists else np.array([], dtype=float)
    return pooled, {g: x for g, x in zip(rows["subtype"], lists) if isinstance(g, str)}


def edss_change(changes: np.ndarray, row: pd.Series) -> dict:
    """EDSS change statistics (of the group's changes) and outcome classes for one group."""
    return mean_change_tests(pd.Series(changes)) | {
        "worsened": int(row["edss_worsened"]),
        "stable": int(row["edss_stable"]),
        "improved": int(row["edss_improved"]),
    }


def mri(ds: Dataset, overall: pd.Series) -> dict | None:
    """Patients with new T2 or Gd-enhancing lesions on a scan inside the window."""
    if not ds.has("mri"):
        return None
    return {
        "new_t2_patients": int(overall["new_t2_patients"]),
        "gd_patients": int(overall["gd_patients"]),
        "scanned_patients": int(overall["scanned"]),
    }


def neda3(ds: Dataset, rows: dict) -> dict | None:
    """NEDA-3 among evaluable patients (follow-up EDSS and a scan), per group."""
    if not ds.has("mri"):
        return None
    return {g: {"neda": int(r["neda"]), "evaluable": int(r["neda_evaluable"])} for g, r in rows.items()}


def igg_low(ds: Dataset, rows: dict, threshold: float) -> dict | None:
    """Patients with an IgG value below the threshold among those tested, per group."""
    if not ds.has("labs"):
        return None
    result: dict = {"threshold_g_l": float(threshold)}
    for g, r in rows.items():
        n, tested = int(r["igg_low"]), int(r["igg_tested"])
        result[g] = {"n": n, "tested": tested, "pct": 100 * n / tested if tested else None}
    return result


def safety(ds: Dataset, overall: pd.Series, events: pd.DataFrame, total: int) -> dict:
    """Adverse events per 1,000 doses, patients with an event, and the breakdowns."""
    n_events = int(overall["adverse_events"])
    return {
        "events": n_events,
        "per_1000_doses": rate(n_events, int(overall["doses"]), per=1000),
        "patients_with_event": proportion(int(overall["patients_with_event"]), total),
        "serious": int(overall["serious_events"]),
        "opportunistic_infections": (
            int(overall["opportunistic_infections"])
            if ds.has("adverse_events", "opportunistic") else None
        ),
        "by_term": _counts(events, "term"),
        "by_relation": _counts(events, "relation"),
    }


def _counts(events: pd.DataFrame, column: str) -> dict[str, int]:
    counts = events.groupby(column)["events"].sum()
    return {str(k): int(v) for k, v in counts.items()}


def summary_json(data_dir: str | Path, **filters: object) -> dict:
    """Open a dataset folder and return its summary.json for the given filter values."""
    ds = Dataset(data_dir)
    try:
        return summary(ds, Filters(**filters))
    finally:
        ds.close()
