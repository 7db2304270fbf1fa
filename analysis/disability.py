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
    evaluable, CDW event, months to the worsening (or censored) and to its confirmation, RAW."""
    return ds.run("cdw_events", filters, confirm_days=(confirm_days,)).drop(columns="confirm_days")


def cdw_time_counts(ds: Dataset, filters: Filters) -> dict[str, pd.DataFrame]:
    """The cdw_time_counts rows of each definition ('cdw_3m', 'cdw_6m'): distinct (pooled, subtype,
    evaluable, months, event) with their patients and RAW events, from one query (shared by every
    call of a page: the summary and the curves then fit the same rows, so lifelines fits once)."""
    rows = ds.run("cdw_time_counts", filters, confirm_days=tuple(CONFIRM_DAYS.values()))
    days = rows.pop("confirm_days").to_numpy()
    return {key: rows[days == d] for key, d in CONFIRM_DAYS.items()}


def _times(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """The Kaplan–Meier input of one group's counted rows: evaluable (months, event, patients)."""
    evaluable = rows[rows["evaluable"].to_numpy()]
    return evaluable["months"], evaluable["event"], evaluable["patients"]


def cdw_group(rows: pd.DataFrame) -> dict:
    """Counts and Kaplan–Meier estimates at 12 and 24 months for one group's counted rows."""
    evaluable, event = rows["evaluable"].to_numpy(), rows["event"].to_numpy()
    patients = rows["patients"].to_numpy()
    events, raw = int(patients[event].sum()), int(rows["raw"].sum())
    kmf = kaplan_meier(*_times(rows))
    return {
        "evaluable": int(patients[evaluable].sum()),
        "not_evaluable": int(patients[~evaluable].sum()),
        "events": events,
        "pira": events - raw,
        "raw": raw,
        "at_months": {str(t): km_at(kmf, t) for t in AT_MONTHS},
    }


def cdw_summary(rows: pd.DataFrame, order: list[str]) -> dict:
    """One CDW definition: all and per subtype, with the log-rank p across subtypes."""
    pooled = rows["pooled"].to_numpy()
    by_subtype = rows[~pooled]
    result = {"all": cdw_group(rows[pooled])}
    result |= {g: cdw_group(by_subtype[by_subtype["subtype"] == g]) for g in order}
    times = by_subtype[by_subtype["evaluable"].to_numpy() & by_subtype["subtype"].notna()]
    result["logrank_p"] = logrank_p(
        times["months"], times["event"], times["subtype"], times["patients"]
    )
    return result


def disability_summary(ds: Dataset, filters: Filters) -> dict | None:
    """CDW-3m and CDW-6m for the selected patients; None when no patient is evaluable."""
    frames = cdw_time_counts(ds, filters)
    first = frames["cdw_3m"]
    if not first["evaluable"].any():
        return None
    order = subtype_order(first.loc[~first["pooled"].to_numpy(), "subtype"].unique())
    return {key: cdw_summary(rows, order) for key, rows in frames.items()}


def cdw_curves(ds: Dataset, filters: Filters, confirm_days: int) -> list[survival.Curve]:
    """Kaplan–Meier curves of time to CDW, one per subtype (contract order), evaluable patients."""
    key = next(k for k, d in CONFIRM_DAYS.items() if d == confirm_days)
    rows = cdw_time_counts(ds, filters)[key]
    rows = rows[~rows["pooled"].to_numpy()]
    present = rows.loc[rows["evaluable"].to_numpy(), "subtype"].unique()
    return [
        survival.curve(g, *_times(rows[rows["subtype"] == g])) for g in subtype_order(present)
    ]


def cdw_patients(ds: Dataset, filters: Filters) -> pd.DataFrame:
    """One row per patient with a CDW-3m event: subtype, months to the worsening and to its 3- and
    6-month confirmations (6-month columns null without a CDW-6m event), and RAW for each."""
    return ds.run("cdw_patients", filters, confirm_3m=CONFIRM_DAYS["cdw_3m"],
                  confirm_6m=CONFIRM_DAYS["cdw_6m"])


CALLS = {"cdw_curves": cdw_curves, "cdw_patients": cdw_patients}
