"""The contract's statistics over per-patient values; undefined results are None, never exceptions."""

import math
import warnings
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

RFS_MONTHS = (6, 12, 18, 24, 36)


def clean(x: object) -> float | None:
    """A float, or None for a missing, NaN or infinite value."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def poisson_ci(k: int, alpha: float = 0.05) -> tuple[float, float]:
    """Exact (chi-square) confidence interval for a Poisson count k."""
    low = stats.chi2.ppf(alpha / 2, 2 * k) / 2 if k > 0 else 0.0
    high = stats.chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
    return float(low), float(high)


def rate(events: int, exposure: float, per: float = 1.0) -> dict | None:
    """events / exposure × per with an exact Poisson 95 % CI; None without exposure."""
    if not exposure:
        return None
    low, high = poisson_ci(int(events))
    return {
        "rate": events / exposure * per,
        "ci_low": low / exposure * per,
        "ci_high": high / exposure * per,
    }


def clopper_pearson(k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The exact (Clopper–Pearson) 95 % CI of k of n, every row in one call, as scipy's beta
    quantiles: scipy's binomtest(k, n).proportion_ci(method="exact") finds the same bounds by a root
    search, a few ms per row (equal to 1e-9, tests); nan where n is 0."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(all="ignore"):
        low = np.where(k > 0, stats.beta.ppf(0.025, k, n - k + 1), 0.0)
        high = np.where(k < n, stats.beta.ppf(0.975, k + 1, n - k), 1.0)
    empty = n <= 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def proportion(n: int, total: int) -> dict | None:
    """n of total in percent with the exact (Clopper–Pearson) 95 % CI; None when total is 0."""
    if not total:
        return None
    low, high = clopper_pearson(np.array([n]), np.array([total]))
    return {"n": int(n), "pct": 100 * n / total, "ci_low": 100 * float(low[0]),
            "ci_high": 100 * float(high[0])}


def mean_change_tests(changes: pd.Series) -> dict:
    """n, mean, SD and the one-sample t-test and Wilcoxon p-values of H0 "mean change = 0"."""
    x = np.asarray(changes.dropna(), dtype=float)
    n = len(x)
    result = {
        "n": n,
        "mean": float(x.mean()) if n else None,
        "sd": float(x.std(ddof=1)) if n >= 2 else None,
        "p_ttest": None,
        "p_wilcoxon": None,
    }
    if n >= 2 and not np.all(x == x[0]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result["p_ttest"] = _safe_p(lambda: stats.ttest_1samp(x, 0.0).pvalue)
            result["p_wilcoxon"] = _safe_p(lambda: stats.wilcoxon(x).pvalue)
    return result


def _safe_p(test) -> float | None:
    try:
        return clean(test())
    except ValueError:
        return None


def mean_ci(changes: pd.Series, level: float = 0.95) -> tuple[float, float] | None:
    """t-based confidence interval of a mean; None with fewer than two values or zero spread."""
    x = np.asarray(changes.dropna(), dtype=float)
    if len(x) < 2:
        return None
    return mean_ci_of(len(x), float(x.mean()), float(x.std(ddof=1)))


def mean_ci_of(
    n: int, mean: float | None, sd: float | None, level: float = 0.95
) -> tuple[float, float] | None:
    """t-based confidence interval of a mean from n, the mean and the sample SD (the same interval
    as scipy's t.interval on the values); None with fewer than two values."""
    if n < 2 or mean is None or sd is None or pd.isna(mean) or pd.isna(sd):
        return None
    sem = sd / np.sqrt(n)
    if not sem:
        return (float(mean), float(mean))
    low, high = stats.t.interval(level, n - 1, loc=mean, scale=sem)
    return float(low), float(high)


def kaplan_meier(months: pd.Series, event: pd.Series, patients: pd.Series | None = None):
    """A fitted lifelines KaplanMeierFitter (95 % log(−log) CI), or None for an empty group: one
    row per patient, or per distinct (months, event) with its number of patients (lifelines'
    weights: the same fit). The fitter is shared by calls with the same rows (read it, never change
    it)."""
    if len(months) == 0:
        return None
    counts = np.ones(len(months)) if patients is None else np.asarray(patients, float)
    return _kaplan_meier(
        np.asarray(months, float).tobytes(), np.asarray(event, bool).tobytes(), counts.tobytes()
    )


def forget_fits() -> None:
    """Drop the kept Kaplan–Meier fits (a benchmark times first computations)."""
    _kaplan_meier.cache_clear()


# a page fits the same group several times (the summary's estimates and the curves; CDW counts and
# curves): the last few fits are kept, enough for the EDSS page's two CDW definitions of four
# subtypes and their pooled groups (10 fits; each holds its counted rows, a few thousand at most)
@lru_cache(maxsize=16)
def _kaplan_meier(months: bytes, event: bytes, patients: bytes):
    """KaplanMeierFitter().fit on the times, events and patient counts given as their bytes."""
    from lifelines import KaplanMeierFitter  # slow import: only when a curve is needed

    return KaplanMeierFitter().fit(
        np.frombuffer(months, dtype=float).copy(), np.frombuffer(event, dtype=bool).copy(),
        weights=np.frombuffer(patients, dtype=float).copy(),
    )


def km_at(kmf, t: float) -> dict | None:
    """S(t) and its CI from the step function at t; None beyond the longest observed time."""
    if kmf is None or t > kmf.durations.max():
        return None
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_
    idx = sf.index[sf.index <= t]
    if len(idx) == 0:
        return {"s": 1.0, "ci_low": 1.0, "ci_high": 1.0}
    at = idx[-1]
    s = float(sf.loc[at])
    low, high = clean(ci.loc[at].iloc[0]), clean(ci.loc[at].iloc[1])
    if s == 1.0:
        low, high = 1.0, 1.0
    return {"s": s, "ci_low": low, "ci_high": high}


def median_ci(kmf) -> tuple[float | None, float | None]:
    """The 95 % CI of the median: where the CI band's bounds cross 0.5 (lifelines'
    median_survival_times on the log(−log) band); None where a bound never reaches 0.5."""
    from lifelines.utils import median_survival_times

    if kmf is None:
        return None, None
    bounds = median_survival_times(kmf.confidence_interval_)
    return clean(bounds.iloc[0, 0]), clean(bounds.iloc[0, 1])


def rfs_summary(
    months: pd.Series, event: pd.Series, patients: pd.Series | None = None
) -> dict | None:
    """Kaplan–Meier estimates at 6/12/18/24/36 months and the median; None for an empty group."""
    kmf = kaplan_meier(months, event, patients)
    if kmf is None:
        return None
    return {
        "at_months": {str(t): km_at(kmf, t) for t in RFS_MONTHS},
        "median_months": clean(kmf.median_survival_time_),
    }


def logrank_p(
    months: pd.Series, event: pd.Series, group: pd.Series, patients: pd.Series | None = None
) -> float | None:
    """Log-rank p across groups (two groups: logrank_test; more: multivariate); None for one group.
    Rows are patients, or distinct (months, event, group) with their number of patients."""
    from lifelines.statistics import logrank_test, multivariate_logrank_test

    labels = pd.unique(group)
    if len(labels) < 2:
        return None
    counts = np.ones(len(months)) if patients is None else np.asarray(patients, float)
    months, event, group = np.asarray(months, float), np.asarray(event, bool), np.asarray(group)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if len(labels) == 2:
            a, b = (group == labels[0]), (group == labels[1])
            result = logrank_test(months[a], months[b], event[a], event[b],
                                  weights_A=counts[a], weights_B=counts[b])
        else:
            result = multivariate_logrank_test(months, group, event, weights=counts)
    return clean(result.p_value)


def number_at_risk(kmf, times) -> list[int]:
    """Patients still at risk (time ≥ t) at each of the given times."""
    order = np.argsort(kmf.durations, kind="stable")
    durations = np.asarray(kmf.durations, float)[order]
    # patients from each sorted row to the end: those with time >= durations[i]
    from_here = np.r_[np.cumsum(np.asarray(kmf.weights, float)[order][::-1])[::-1], 0.0]
    return [int(round(n)) for n in from_here[np.searchsorted(durations, times, side="left")]]


def patient_times(kmf) -> np.ndarray:
    """Every patient's time (months) of a fit, in ascending order."""
    order = np.argsort(kmf.durations, kind="stable")
    return np.repeat(np.asarray(kmf.durations, float)[order],
                     np.asarray(kmf.weights, float)[order].round().astype(int))
