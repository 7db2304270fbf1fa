"""Kaplan–Meier curves as plot tables: step points with 95 % CI, censor marks, at-risk counts."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.stats import kaplan_meier, median_ci, number_at_risk, patient_times

CURVE_COLUMNS = ["months", "s", "ci_low", "ci_high", "at_risk", "events", "censored"]
CENSOR_COLUMNS = ["months", "s", "censored"]


@dataclass(frozen=True)
class Curve:
    """One group's Kaplan–Meier curve, ready to draw with line_shape="hv"."""

    group: str
    n: int
    points: pd.DataFrame  # CURVE_COLUMNS: one row per step point of lifelines' survival_function_
    censors: pd.DataFrame  # CENSOR_COLUMNS: one row per time with ≥ 1 censored patient
    durations: np.ndarray  # every patient's time, for numbers at risk
    cut_at: float | None = None  # the curve ends here because fewer than k are at risk beyond
    median_ci: tuple[float | None, float | None] = (None, None)  # 95 % CI of the median (months)

    @property
    def end(self) -> float | None:
        """The last time the curve is drawn to."""
        if self.points.empty:
            return None
        return float(self.points["months"].iloc[-1])

    def at_risk(self, times) -> list[int]:
        """Patients still at risk (time ≥ t) at each of the given times."""
        ordered = np.sort(self.durations)
        return [int(n) for n in len(ordered) - np.searchsorted(ordered, times, side="left")]


def curve(
    group: str, months: pd.Series, event: pd.Series, patients: pd.Series | None = None
) -> Curve:
    """The step points, CI and censor marks of lifelines' Kaplan–Meier fit for one group: rows
    per patient, or per distinct (months, event) with their number of patients."""
    kmf = kaplan_meier(months, event, patients)
    if kmf is None:
        empty = np.array([], dtype=float)
        return Curve(group, 0, pd.DataFrame(columns=CURVE_COLUMNS),
                     pd.DataFrame(columns=CENSOR_COLUMNS), empty)
    sf = kmf.survival_function_.iloc[:, 0]
    months, s = sf.index.to_numpy(dtype=float), sf.to_numpy(dtype=float)
    ci = kmf.confidence_interval_.to_numpy(dtype=float)
    # the contract (lifelines' convention): where S(t) = 1 the interval is [1, 1]
    ci_low, ci_high = np.where(s == 1.0, 1.0, ci[:, 0]), np.where(s == 1.0, 1.0, ci[:, 1])
    table = kmf.event_table.reindex(sf.index)
    censored = table["censored"].fillna(0).round().astype(int).to_numpy()
    points = pd.DataFrame({
        "months": months, "s": s, "ci_low": ci_low, "ci_high": ci_high,
        "at_risk": number_at_risk(kmf, sf.index),
        "events": table["observed"].fillna(0).round().astype(int).to_numpy(),
        "censored": censored,
    })
    marked = censored > 0
    censors = pd.DataFrame({"months": months[marked], "s": s[marked], "censored": censored[marked]})
    durations = patient_times(kmf)
    return Curve(group, len(durations), points, censors, durations, median_ci=median_ci(kmf))


def curves(outcomes: pd.DataFrame, groups: list[str] | None) -> list[Curve]:
    """One curve per group in the given order (by subtype), or one pooled 'All' curve (None), from
    rows per patient or per distinct time with their number of patients ('patients')."""
    def one(group: str, d: pd.DataFrame) -> Curve:
        return curve(group, d["rfs_months"], d["rfs_event"], d.get("patients"))

    if groups is None:
        return [one("All", outcomes)]
    return [one(g, outcomes[outcomes["subtype"] == g]) for g in groups]


def risk_times(last: float, step: int = 6) -> list[int]:
    """The times of the number-at-risk table: 0, step, 2·step, … up to the last time."""
    return list(range(0, int(np.floor(last)) + 1, step)) if last >= 0 else [0]
