"""Confirmed disability worsening (CDW-3m, CDW-6m), PIRA vs RAW: the contract's "disability" key."""

import pandas as pd

from analysis import survival
from analysis.stats import kaplan_meier, km_at, logrank_p
from queries.contract import subtype_order
from queries.dataset import Dataset
from queries.filters import Filters

CONFIRM_DAYS = {"cdw_3m": 84, "cdw_6m": 168}
AT_MONTHS = (12, 24)


def cdw_definitions(ds: Dataset, filters: Filters) -> dict[str, pd.DataFrame]:
    """The cdw_events rows of each definition ('cdw_3m', 'cdw_6m'): one row per selected patient
    with subtype, evaluable, CDW event, months to the worsening and to its confirmation, RAW. Both
    come from one query (shared by every call of a page)."""
    rows = ds.run("cdw_events", filters, confirm_days=tuple(CONFIRM_DAYS.values()))
    days = rows.pop("confirm_days").to_numpy()
    return {key: rows[days == d] for key, d in CONFIRM_DAYS.items()}


def cdw_events(ds: Dataset, filters: Filters, confirm_days: int) -> pd.DataFrame:
    """The cdw_events rows of one definition (D = confirm_days)."""
    key = next(k for k, d in CONFIRM_DAYS.items() if d == confirm_days)
    return cdw_definitions(ds, filters)[key]


def counted(rows: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """Evaluable cdw_events rows as distinct (by…, months, event) with their number of patients,
    the Kaplan–Meier input (lifelines weights: the same fit as one row per patient)."""
    keys = [*(by or []), "months", "event"]
    return rows.groupby(keys, sort=False).size().rename("patients").reset_index()


def cdw_group(rows: pd.DataFrame) -> dict:
    """Counts and Kaplan–Meier estimates at 12 and 24 months for one group of cdw_events rows."""
    evaluable = rows[rows["evaluable"]]
    events = evaluable[evaluable["event"]]
    raw = int(events["relapse_associated"].fillna(False).astype(bool).sum())
    times = counted(evaluable)
    kmf = kaplan_meier(times["months"], times["event"], times["patients"])
    return {
        "evaluable": len(evaluable),
        "not_evaluable": len(rows) - len(evaluable),
        "events": len(events),
        "pira": len(events) - raw,
        "raw": raw,
        "at_months": {str(t): km_at(kmf, t) for t in AT_MONTHS},
    }


def cdw_summary(rows: pd.DataFrame, order: list[str]) -> dict:
    """One CDW definition: all and per subtype, with the log-rank p across subtypes."""
    result = {"all": cdw_group(rows)} | {g: cdw_group(rows[rows["subtype"] == g]) for g in order}
    times = counted(rows[rows["evaluable"]], ["subtype"])
    result["logrank_p"] = logrank_p(
        times["months"], times["event"], times["subtype"], times["patients"]
    )
    return result


def disability_summary(ds: Dataset, filters: Filters) -> dict | None:
    """CDW-3m and CDW-6m for the selected patients; None when no patient is evaluable."""
    frames = cdw_definitions(ds, filters)
    first = frames["cdw_3m"]
    if not first["evaluable"].any():
        return None
    order = subtype_order(first["subtype"].unique())
    return {key: cdw_summary(rows, order) for key, rows in frames.items()}


def cdw_curves(ds: Dataset, filters: Filters, confirm_days: int) -> list[survival.Curve]:
    """Kaplan–Meier curves of time to CDW, one per subtype (contract order), evaluable patients."""
    rows = cdw_events(ds, filters, confirm_days)
    rows = rows[rows["evaluable"]]
    return [
        survival.curve(g, d["months"], d["event"], d["patients"])
        for g in subtype_order(rows["subtype"].unique())
        for d in [counted(rows[rows["subtype"] == g])]
    ]


def cdw_patients(ds: Dataset, filters: Filters) -> pd.DataFrame:
    """One row per patient with a CDW-3m event: subtype, months to the worsening and to its 3- and
    6-month confirmations (6-month columns null without a CDW-6m event), and RAW for each."""
    frames = cdw_definitions(ds, filters)
    three, six = frames["cdw_3m"], frames["cdw_6m"]
    three = three[three["event"]]
    six = six.loc[six["event"], ["patient_id", "months", "confirm_months", "relapse_associated"]]
    # a CDW-6m event is always a CDW-3m event, not always at the same worsening
    return (
        three[["patient_id", "subtype", "months", "confirm_months", "relapse_associated"]]
        .merge(six, on="patient_id", how="left", suffixes=("_3m", "_6m"))
        .reset_index(drop=True)
    )


CALLS = {"cdw_curves": cdw_curves, "cdw_patients": cdw_patients}
