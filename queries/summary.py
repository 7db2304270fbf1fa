"""The contract's summary.json for a dataset and filters."""

import pandas as pd

from analysis.disability import disability_summary
from analysis.models import models_summary
from analysis.stats import clean, logrank_p, mean_change_tests, proportion, rate, rfs_summary
from queries.contract import SUBTYPES
from queries.dataset import Dataset
from queries.filters import Filters


def subtype_order(subtypes) -> list[str]:
    """Subtypes in the contract's order (RRMS, SPMS, NMOSD), then any others alphabetically."""
    present = set(subtypes)
    return [s for s in SUBTYPES if s in present] + sorted(present - set(SUBTYPES))


def summary(ds: Dataset, filters: Filters) -> dict:
    """The summary.json object: every figure of the contract for the selected patients."""
    groups = ds.run("group_summary", filters)
    outcomes = ds.run("patient_outcome", filters)
    total = int(groups["patients"].iloc[0]) if len(outcomes) else 0
    by_subtype = groups[groups["subtype"].notna()].set_index("subtype")
    order = subtype_order(by_subtype.index)
    result: dict = {
        "filters": filters.echo(),
        "patients": {"total": total, "by_subtype": {s: int(by_subtype.at[s, "patients"]) for s in order}},
    }
    keys = ("female_pct", "age_mean", "followup_months_mean", "doses_total", "patient_years",
            "relapses", "rfs", "edss_change", "mri", "neda3", "igg_low", "safety",
            "disability", "models")
    if total == 0:
        return result | dict.fromkeys(keys)

    overall = groups[groups["subtype"].isna()].iloc[0]
    rows = {"all": overall} | {s: by_subtype.loc[s] for s in order}
    attacks = ds.run("attacks_per_patient", filters)
    events = ds.run("adverse_event_counts", filters)
    result |= {
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
        "rfs": rfs(outcomes, order),
        "edss_change": {g: edss_change(outcomes, g, rows[g]) for g in rows},
        "mri": mri(ds, overall),
        "neda3": neda3(ds, rows),
        "igg_low": igg_low(ds, rows, filters.igg_threshold),
        "safety": safety(ds, overall, events, total),
        "disability": disability_summary(ds, filters),
        "models": models_summary(ds, filters),
    }
    return result


def _group(outcomes: pd.DataFrame, group: str) -> pd.DataFrame:
    return outcomes if group == "all" else outcomes[outcomes["subtype"] == group]


def rfs(outcomes: pd.DataFrame, order: list[str]) -> dict:
    """Kaplan–Meier relapse-free survival for all and per subtype, with the log-rank p."""
    result = {
        g: rfs_summary(d["rfs_months"], d["rfs_event"])
        for g in ["all", *order]
        for d in [_group(outcomes, g)]
    }
    result["logrank_p"] = logrank_p(
        outcomes["rfs_months"], outcomes["rfs_event"], outcomes["subtype"]
    )
    return result


def edss_change(outcomes: pd.DataFrame, group: str, row: pd.Series) -> dict:
    """EDSS change statistics and outcome classes for one group."""
    return mean_change_tests(_group(outcomes, group)["edss_change"]) | {
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
