"""Confirmed disability worsening (CDW-3m, CDW-6m) and PIRA vs RAW: the contract's "disability" key."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from analysis.stats import kaplan_meier, km_at, logrank_p

if TYPE_CHECKING:  # queries.summary imports this module
    from queries.dataset import Dataset
    from queries.filters import Filters

CONFIRM_DAYS = {"cdw_3m": 84, "cdw_6m": 168}
AT_MONTHS = (12, 24)


def subtype_order(subtypes) -> list[str]:
    """Subtypes in the summary's order (imported late: queries.summary imports this module)."""
    from queries.summary import subtype_order as order

    return order(subtypes)


def cdw_events(ds: Dataset, filters: Filters, confirm_days: int) -> pd.DataFrame:
    """One row per selected patient: evaluable, CDW event, months, worsening/confirmation dates, RAW."""
    return ds.run("cdw_events", filters, confirm_days=confirm_days)


def cdw_group(rows: pd.DataFrame) -> dict:
    """Counts and Kaplan–Meier estimates at 12 and 24 months for one group of cdw_events rows."""
    evaluable = rows[rows["evaluable"]]
    events = evaluable[evaluable["event"]]
    raw = int(events["relapse_associated"].fillna(False).astype(bool).sum())
    kmf = kaplan_meier(evaluable["months"], evaluable["event"])
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
    evaluable = rows[rows["evaluable"]].reset_index(drop=True)
    result["logrank_p"] = logrank_p(evaluable["months"], evaluable["event"], evaluable["subtype"])
    return result


def disability_summary(ds: Dataset, filters: Filters) -> dict | None:
    """CDW-3m and CDW-6m for the selected patients; None when no patient is evaluable."""
    frames = {key: cdw_events(ds, filters, days) for key, days in CONFIRM_DAYS.items()}
    first = frames["cdw_3m"]
    if not first["evaluable"].any():
        return None
    order = subtype_order(first["subtype"].unique())
    return {key: cdw_summary(rows, order) for key, rows in frames.items()}
