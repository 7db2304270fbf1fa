"""Table 1: baseline characteristics by subtype, with one between-group test per row.

Continuous rows are summarised as mean ± SD (tested with one-way ANOVA: statsmodels'
``anova_generic`` on the groups' means, variances and sizes, the same F and p as scipy's ``f_oneway``
on the values, which takes ~15 ms per variable at 30,000 patients) or as median [IQR]
(Kruskal–Wallis, scipy ``kruskal``), fixed per variable; female sex as n (%),
tested with the chi-square test of independence (scipy ``chi2_contingency`` defaults,
Yates-corrected for a 2 × 2 table) or, with two groups and an expected count below 5, Fisher's
exact test (scipy ``fisher_exact``).
A p-value that is not defined (one group, no spread, a single sex) is None, never an exception.
"""

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.oneway import anova_generic

MEAN_SD = "mean ± SD"
MEDIAN_IQR = "median [IQR]"
N_PCT = "n (%)"
ANOVA = "ANOVA"
KRUSKAL = "Kruskal–Wallis"
CHI2 = "χ²"
CHI2_YATES = "χ² (Yates)"
FISHER = "Fisher's exact"


@dataclass(frozen=True)
class Variable:
    column: str
    label: str
    statistic: str
    optional: bool = False
    integer: bool = False


VARIABLES = (
    Variable("age_at_first_dose", "Age at first dose, years", MEAN_SD),
    Variable("sex", "Female sex", N_PCT),
    Variable("disease_duration_years", "Disease duration, years", MEDIAN_IQR, optional=True),
    Variable("baseline_edss", "Baseline EDSS", MEDIAN_IQR),
    Variable(
        "prior_treatments", "Prior treatments failed", MEDIAN_IQR, optional=True, integer=True
    ),
    Variable("followup_months", "Follow-up, months", MEAN_SD),
    Variable("doses", "Rituximab doses in the window", MEDIAN_IQR, integer=True),
)


@dataclass
class Row:
    """One Table 1 row: per-group statistics (keys 'All' and each group), the test and its p."""

    variable: Variable
    cells: dict[str, dict] = field(default_factory=dict)
    test: str | None = None
    p: float | None = None
    missing: int = 0


def _clean_p(p: object) -> float | None:
    p = float(p)
    return p if np.isfinite(p) else None


def describe(values: pd.Series, statistic: str) -> dict:
    """n and mean/SD or median/quartiles of one group's values (None where undefined)."""
    return _describe(pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float), statistic)


def _describe(x: np.ndarray, statistic: str) -> dict:
    """describe() of values already numeric and without missing ones."""
    n = len(x)
    if statistic == MEAN_SD:
        return {
            "n": n,
            "mean": float(x.mean()) if n else None,
            "sd": float(x.std(ddof=1)) if n >= 2 else None,
        }
    q1, q3 = np.percentile(x, [25, 75]) if n >= 2 else (None, None)
    return {
        "n": n,
        "median": float(np.median(x)) if n else None,
        "q1": None if q1 is None else float(q1),
        "q3": None if q3 is None else float(q3),
    }


def continuous_test(samples: list[np.ndarray], statistic: str) -> tuple[str | None, float | None]:
    """ANOVA for mean ± SD rows, Kruskal–Wallis for median [IQR] rows; None with < 2 groups."""
    samples = [s for s in samples if len(s)]
    if len(samples) < 2:
        return None, None
    test = ANOVA if statistic == MEAN_SD else KRUSKAL
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if test == ANOVA:
                p = _anova_p(samples)
            else:
                p = stats.kruskal(*samples).pvalue
        except ValueError:  # e.g. Kruskal–Wallis with all values identical
            return test, None
    return test, _clean_p(p)


def _anova_p(samples: list[np.ndarray]) -> float:
    """One-way ANOVA p (equal variances) from each group's mean, variance and size; NaN where
    scipy's f_oneway is undefined (a group of one value only, or every value the same)."""
    if all(len(s) < 2 for s in samples):
        return float("nan")
    pooled = np.concatenate(samples)
    if np.all(pooled == pooled[0]):  # no spread at all: F is 0/0
        return float("nan")
    nobs = np.array([len(s) for s in samples], dtype=float)
    means = np.array([s.mean() for s in samples])
    variances = np.array([s.var(ddof=1) if len(s) > 1 else 0.0 for s in samples])
    return float(anova_generic(means, variances, nobs, use_var="equal").pvalue)


def sex_test(table: pd.DataFrame) -> tuple[str | None, float | None]:
    """χ² on the sex × group table, or Fisher's exact with two groups and an expected count < 5."""
    table = table.loc[table.sum(axis=1) > 0, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return None, None
    if table.shape[0] < 2:  # a single sex: no association to test
        return CHI2, None
    observed = table.to_numpy()
    expected = stats.contingency.expected_freq(observed)
    if table.shape[1] == 2 and expected.min() < 5:
        return FISHER, _clean_p(stats.fisher_exact(observed).pvalue)
    test = CHI2_YATES if observed.shape == (2, 2) else CHI2
    return test, _clean_p(stats.chi2_contingency(observed).pvalue)


def _min_expected(table: pd.DataFrame) -> float:
    table = table.loc[table.sum(axis=1) > 0, table.sum(axis=0) > 0]
    return float(stats.contingency.expected_freq(table.to_numpy()).min())


def table1(
    patients: pd.DataFrame, groups: list[str], available: Iterable[str] | None = None
) -> tuple[list[Row], list[str]]:
    """Table 1 rows over one row per patient (column 'subtype' is the group) and notes to show.

    ``available``: the patients columns the dataset holds; optional variables outside it (or with no
    value in the selection) are left out with a note.
    """
    available = set(patients.columns if available is None else available)
    # each group's rows as a boolean mask, computed once (not once per variable): at registry scale
    # the per-variable selections were most of the time
    # comparisons on the category codes, not on 30,000 Python strings
    subtype = pd.Categorical(patients["subtype"])
    masks = {g: np.asarray(subtype == g) for g in groups}
    groups = [g for g in groups if masks[g].any()]
    everyone = np.ones(len(patients), dtype=bool)
    rows, notes = [], []
    for var in VARIABLES:
        if var.column not in available or var.column not in patients.columns:
            notes.append(
                f"{var.label}: not in this dataset (optional column `{var.column}`), row omitted."
            )
            continue
        column = patients[var.column]
        if var.statistic == N_PCT:
            column = pd.Series(pd.Categorical(column), index=column.index)
        missing = column.isna().to_numpy()
        if missing.all():
            notes.append(f"{var.label}: no values for the selected patients, row omitted.")
            continue
        row = Row(var, missing=int(missing.sum()))
        if var.statistic == N_PCT:
            female = np.asarray(column == "F")
            for name, mask in {"All": everyone, **{g: masks[g] for g in groups}}.items():
                known = mask & ~missing
                row.cells[name] = {"n": int((female & known).sum()), "total": int(known.sum())}
            table = _crosstab(column, subtype, groups, masks)
            row.test, row.p = sex_test(table)
            if row.test == CHI2 and row.p is not None and _min_expected(table) < 5:
                notes.append(
                    f"{var.label}: an expected count is below 5 with more than two groups, so the "
                    "χ² p-value is approximate."
                )
        else:
            values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
            known = ~np.isnan(values)
            row.cells["All"] = _describe(values[known], var.statistic)
            samples = [values[masks[g] & known] for g in groups]
            for g, sample in zip(groups, samples):
                row.cells[g] = _describe(sample, var.statistic)
            row.test, row.p = continuous_test(samples, var.statistic)
        rows.append(row)
    return rows, notes


def _crosstab(
    column: pd.Series, subtype: np.ndarray, groups: list[str], masks: dict[str, np.ndarray]
) -> pd.DataFrame:
    """pd.crosstab(column, subtype) with the groups as columns in order: counts per value × group."""
    grouped = pd.notna(subtype)
    values = sorted(column[grouped & column.notna().to_numpy()].unique())
    counts = {g: [int(((column == v).to_numpy() & masks[g]).sum()) for v in values] for g in groups}
    return pd.DataFrame(counts, index=values, columns=groups, dtype="int64")
