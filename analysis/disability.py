"""Confirmed disability worsening (CDW-3m, CDW-6m), PIRA vs RAW: the contract's "disability" key."""

import pandas as pd

from analysis import survival
from analysis.stats import kaplan_meier, km_at, logrank_p
from queries.contract import subtype_order
from queries.dataset import Dataset
from queries.filters import Filters

CONFIRM_DAYS = {"cdw_3m": 84, "cdw_6m": 168}
AT_MONTHS = (12, 24)


def cdw_events(ds: Dataset, filters: Filters, confirm_days: int) -> pd.DataFrame:
    """One row per selected patient for the definition D = confirm_days (cdw_events.sql): subtype,
    evaluable, CDW event, months to the worsening (or censored) and to its confirmation, RAW. The
    definition patient by patient, as tests check it; the figures read cdw_time_counts."""
    return ds.run("cdw_events", filters, confirm_days=(confirm_days,)).drop(columns="confirm_days")


def cdw_time_counts(ds: Dataset, filters: Filters) -> dict[str, pd.DataFrame]:
    """The cdw_time_counts rows of each definition ('cdw_3m', 'cdw_6m'): distinct (pooled, subtype,
    months, event) of the evaluable patients with their patients and RAW events, from one query
    (shared by every call of a page: the summary and the curves then fit the same rows, so
    lifelines fits each group once)."""
    rows = ds.run("cdw_time_counts", filters, confirm_days=tuple(CONFIRM_DAYS.values()))
    days = rows.pop("confirm_days").to_numpy()
    return {key: rows[days == d] for key, d in CONFIRM_DAYS.items()}


def _times(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """The Kaplan–Meier input of one group's counted rows: (months, event, patients)."""
    return rows["months"], rows["event"], rows["patients"]


def cdw_group(rows: pd.DataFrame, patients: int) -> dict:
    """Counts and Kaplan–Meier estimates at 12 and 24 months for one group's counted rows (of its
    evaluable patients) and its number of selected patients."""
    counts, event = rows["patients"].to_numpy(), rows["event"].to_numpy()
    evaluable, events, raw = int(counts.sum()), int(counts[event].sum()), int(rows["raw"].sum())
    kmf = kaplan_meier(*_times(rows))
    return {
        "evaluable": evaluable,
        "not_evaluable": patients - evaluable,
        "events": events,
        "pira": events - raw,
        "raw": raw,
        "at_months": {str(t): km_at(kmf, t) for t in AT_MONTHS},
    }


def cdw_summary(rows: pd.DataFrame, patients: dict[str, int]) -> dict:
    """One CDW definition: all and per subtype (patients: the selected per group, 'all' first, then
    the subtypes in order), with the log-rank p across subtypes."""
    pooled = rows["pooled"].to_numpy()
    by_subtype = rows[~pooled]
    result = {
        g: cdw_group(rows[pooled] if g == "all" else by_subtype[by_subtype["subtype"] == g], n)
        for g, n in patients.items()
    }
    times = by_subtype[by_subtype["subtype"].notna()]
    result["logrank_p"] = logrank_p(
        times["months"], times["event"], times["subtype"], times["patients"]
    )
    return result


def disability_summary(ds: Dataset, filters: Filters) -> dict | None:
    """CDW-3m and CDW-6m for the selected patients; None when no patient is evaluable."""
    frames = cdw_time_counts(ds, filters)
    if frames["cdw_3m"].empty:
        return None
    # the selection's patients per group (the summary's counts read the same rows)
    groups = ds.run("group_summary", filters)
    by_subtype = dict(zip(groups["subtype"], groups["patients"]))
    patients = {"all": int(groups.loc[groups["subtype"].isna(), "patients"].iloc[0])}
    patients |= {g: int(by_subtype[g]) for g in subtype_order(groups["subtype"].dropna())}
    return {key: cdw_summary(rows, patients) for key, rows in frames.items()}


def cdw_curves(ds: Dataset, filters: Filters, confirm_days: int) -> list[survival.Curve]:
    """Kaplan–Meier curves of time to CDW, one per subtype (contract order), evaluable patients."""
    key = next(k for k, d in CONFIRM_DAYS.items() if d == confirm_days)
    rows = cdw_time_counts(ds, filters)[key]
    rows = rows[~rows["pooled"].to_numpy()]
    return [
        survival.curve(g, *_times(rows[rows["subtype"] == g]))
        for g in subtype_order(rows["subtype"].unique())
    ]


def cdw_patients(ds: Dataset, filters: Filters) -> pd.DataFrame:
    """One row per patient with a CDW-3m event: subtype, months to the worsening and to its 3- and
    6-month confirmations (6-month columns null without a CDW-6m event), and RAW for each."""
    return ds.run("cdw_patients", filters)


CALLS = {"cdw_curves": cdw_curves, "cdw_patients": cdw_patients}
