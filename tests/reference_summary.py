"""Independent reference implementation of the contract's ``summary.json``.

Plain pandas + lifelines + scipy, no DuckDB. It is the oracle the data layer
(``analysis.summary.summary_json``) is tested against and the baseline of the benchmark,
so it is written for clarity: read the parquet files, restrict every table to the
selected patients and to their windows, then compute each figure with groupby/merge.

Definitions follow the data contract (docs/data-dictionary.md) ("Definitions" and "Summary export").
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test, multivariate_logrank_test
from scipy import stats

DAYS_PER_MONTH = 30.4375
DAYS_PER_YEAR = 365.25
RFS_MONTHS = (6, 12, 18, 24, 36)

# table -> its date column (normalised to a calendar date on read)
DATE_COLUMNS = {
    "patients": ["first_dose_date", "last_followup_date"],
    "infusions": ["dose_date"],
    "relapses": ["onset_date"],
    "edss": ["assessment_date"],
    "mri": ["scan_date"],
    "labs": ["sample_date"],
    "adverse_events": ["onset_date"],
    "engagement": ["contact_date"],
}
REQUIRED_TABLES = ("patients", "infusions", "relapses", "edss", "adverse_events")
OPTIONAL_TABLES = ("mri", "labs", "engagement")


# ----------------------------------------------------------------------------- helpers
def _f(x):
    """Python float, or None for None/NaN."""
    if x is None:
        return None
    x = float(x)
    if math.isnan(x):
        return None
    return x


def _read(data_dir: Path, table: str) -> pd.DataFrame | None:
    path = data_dir / f"{table}.parquet"
    if not path.exists():
        if table in REQUIRED_TABLES:
            raise FileNotFoundError(path)
        return None
    df = pd.read_parquet(path)
    for col in DATE_COLUMNS.get(table, []):
        if col in df.columns:
            # date or timestamp -> datetime64 at midnight (a timestamp's time of day is dropped)
            s = pd.to_datetime(df[col])
            if s.dt.tz is not None:
                s = s.dt.tz_localize(None)
            df[col] = s.dt.normalize()
    if "patient_id" in df.columns:
        df["patient_id"] = df["patient_id"].astype(str)
    return df


def _in_window(
    df: pd.DataFrame, date_col: str, windows: pd.DataFrame, *, include_first_day: bool
) -> pd.DataFrame:
    """Rows of ``df`` of selected patients whose date lies inside the patient's window.

    ``windows`` has patient_id, first_dose_date, last_followup_date (selected patients only).
    include_first_day=True: [first, last] (infusions, relapses, AEs);
    False: (first, last] (edss, mri, labs: a first-day value is a baseline).
    """
    m = df.merge(windows, on="patient_id", how="inner")
    lower_ok = (
        (m[date_col] >= m["first_dose_date"])
        if include_first_day
        else (m[date_col] > m["first_dose_date"])
    )
    keep = lower_ok & (m[date_col] <= m["last_followup_date"])
    return (
        m.loc[keep].drop(columns=["first_dose_date", "last_followup_date"]).reset_index(drop=True)
    )


def _poisson_ci(k: int) -> tuple[float, float]:
    """Exact Poisson 95 % CI for a count k (not yet divided by exposure)."""
    lo = 0.0 if k == 0 else stats.chi2.ppf(0.025, 2 * k) / 2.0
    hi = stats.chi2.ppf(0.975, 2 * k + 2) / 2.0
    return float(lo), float(hi)


def _rate(k: int, exposure: float, scale: float = 1.0):
    if exposure == 0:
        return None
    lo, hi = _poisson_ci(k)
    return {
        "rate": float(k / exposure * scale),
        "ci_low": float(lo / exposure * scale),
        "ci_high": float(hi / exposure * scale),
    }


def _edss_class(change: pd.Series, baseline: pd.Series) -> pd.Series:
    worsened = (
        ((baseline == 0) & (change >= 1.5))
        | ((baseline > 0) & (baseline <= 5.5) & (change >= 1.0))
        | ((baseline > 5.5) & (change >= 0.5))
    )
    improved = ((baseline <= 5.5) & (change <= -1.0)) | ((baseline > 5.5) & (change <= -0.5))
    out = pd.Series("stable", index=change.index)
    out[improved] = "improved"
    out[worsened] = "worsened"
    return out


def _edss_group(changes: pd.Series, classes: pd.Series) -> dict:
    x = changes.to_numpy(dtype=float)
    n = len(x)
    res = {
        "n": n,
        "mean": _f(x.mean()) if n > 0 else None,
        "sd": _f(x.std(ddof=1)) if n > 1 else None,
        "p_ttest": None,
        "p_wilcoxon": None,
        "worsened": int((classes == "worsened").sum()),
        "stable": int((classes == "stable").sum()),
        "improved": int((classes == "improved").sum()),
    }
    if n >= 2 and not np.all(x == x[0]):
        try:
            res["p_ttest"] = _f(stats.ttest_1samp(x, 0.0).pvalue)
        except Exception:  # noqa: BLE001  (any scipy/lifelines failure -> null)
            res["p_ttest"] = None
        try:
            res["p_wilcoxon"] = _f(stats.wilcoxon(x).pvalue)
        except Exception:  # noqa: BLE001  (any scipy/lifelines failure -> null)
            res["p_wilcoxon"] = None
    return res


def _km_group(t: np.ndarray, e: np.ndarray) -> dict:
    kmf = KaplanMeierFitter().fit(t, e)
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_
    timeline = sf.index.to_numpy(dtype=float)
    t_max = float(np.max(t))
    at = {}
    for m in RFS_MONTHS:
        if m > t_max:
            at[str(m)] = None
            continue
        i = int(np.searchsorted(timeline, m, side="right")) - 1  # largest timeline value <= m
        s = float(sf.iloc[i])
        lo, hi = float(ci.iloc[i, 0]), float(ci.iloc[i, 1])
        if s == 1.0:
            lo = 1.0 if math.isnan(lo) else lo
            hi = 1.0 if math.isnan(hi) else hi
        at[str(m)] = {"s": s, "ci_low": _f(lo), "ci_high": _f(hi)}
    med = float(kmf.median_survival_time_)
    return {"at_months": at, "median_months": None if math.isinf(med) else _f(med)}


def _logrank(t: np.ndarray, e: np.ndarray, g: np.ndarray):
    labels = sorted(set(g))
    try:
        if len(labels) >= 3:
            p = multivariate_logrank_test(t, g, e).p_value
        elif len(labels) == 2:
            a, b = (g == labels[0]), (g == labels[1])
            p = logrank_test(t[a], t[b], event_observed_A=e[a], event_observed_B=e[b]).p_value
        else:
            return None
    except Exception:  # noqa: BLE001  (any scipy/lifelines failure -> null)
        return None
    return _f(p)


# ----------------------------------------------------------------------------- main
def reference_summary(
    data_dir,
    *,
    followup_min=None,
    followup_max=None,
    doses_min=None,
    doses_max=None,
    subtypes=None,
    sexes=None,
    sites=None,
    age_min=None,
    age_max=None,
    igg_threshold=7.0,
) -> dict:
    data_dir = Path(data_dir)
    patients = _read(data_dir, "patients")
    infusions = _read(data_dir, "infusions")
    relapses = _read(data_dir, "relapses")
    edss = _read(data_dir, "edss")
    aes = _read(data_dir, "adverse_events")
    mri = _read(data_dir, "mri")
    labs = _read(data_dir, "labs")

    # --- per-patient derived columns over ALL patients (the filters use them)
    p = patients.copy()
    p["days"] = (p["last_followup_date"] - p["first_dose_date"]).dt.days.astype(float)
    p["months"] = p["days"] / DAYS_PER_MONTH
    all_windows = p[["patient_id", "first_dose_date", "last_followup_date"]]
    inf_w = _in_window(infusions, "dose_date", all_windows, include_first_day=True)
    p["doses"] = p["patient_id"].map(inf_w.groupby("patient_id").size()).fillna(0).astype(int)

    # --- filters (inclusive; None = no bound; lists select by membership)
    keep = pd.Series(True, index=p.index)
    if followup_min is not None:
        keep &= p["months"] >= followup_min
    if followup_max is not None:
        keep &= p["months"] <= followup_max
    if doses_min is not None:
        keep &= p["doses"] >= doses_min
    if doses_max is not None:
        keep &= p["doses"] <= doses_max
    if subtypes is not None:
        keep &= p["subtype"].isin(list(subtypes))
    if sexes is not None:
        keep &= p["sex"].isin(list(sexes))
    if sites is not None:
        if "site" in p.columns:
            keep &= p["site"].notna() & p["site"].isin(list(sites))
        else:
            keep &= False
    if age_min is not None:
        keep &= p["age_at_first_dose"] >= age_min
    if age_max is not None:
        keep &= p["age_at_first_dose"] <= age_max
    p = p.loc[keep].reset_index(drop=True)

    n_sel = len(p)
    out: dict = {
        "patients": {
            "total": int(n_sel),
            "by_subtype": {str(k): int(v) for k, v in p["subtype"].value_counts().items()},
        }
    }
    rest = [
        "female_pct",
        "age_mean",
        "followup_months_mean",
        "doses_total",
        "patient_years",
        "relapses",
        "rfs",
        "edss_change",
        "mri",
        "neda3",
        "igg_low",
        "safety",
    ]
    if n_sel == 0:
        out.update({k: None for k in rest})
        return out

    subtype_list = sorted(p["subtype"].unique().tolist())
    groups = ["all"] + subtype_list  # group key -> boolean mask over p

    def mask(g):
        return pd.Series(True, index=p.index) if g == "all" else (p["subtype"] == g)

    windows = p[["patient_id", "first_dose_date", "last_followup_date"]]

    out["female_pct"] = float((p["sex"] == "F").mean() * 100.0)
    out["age_mean"] = float(p["age_at_first_dose"].mean())
    out["followup_months_mean"] = float(p["months"].mean())
    out["doses_total"] = int(p["doses"].sum())
    out["patient_years"] = float(p["days"].sum() / DAYS_PER_YEAR)

    # --- relapses
    rel_w = _in_window(relapses, "onset_date", windows, include_first_day=True)
    p["n_relapses"] = p["patient_id"].map(rel_w.groupby("patient_id").size()).fillna(0).astype(int)
    p["py"] = p["days"] / DAYS_PER_YEAR
    with_rel = p[p["n_relapses"] > 0]
    rel = {
        "total": int(p["n_relapses"].sum()),
        "patients_with_relapse": {g: int((mask(g) & (p["n_relapses"] > 0)).sum()) for g in groups},
        "relapse_free_pct": float((n_sel - len(with_rel)) / n_sel * 100.0),
        "attacks_per_patient": {
            str(int(k)): int(v)
            for k, v in with_rel["n_relapses"].value_counts().sort_index().items()
        },
        "arr": {},
    }
    for g in groups:
        sel = p[mask(g)]
        rel["arr"][g] = _rate(int(sel["n_relapses"].sum()), float(sel["py"].sum()))
    out["relapses"] = rel

    # --- relapse-free survival
    first_rel = rel_w.groupby("patient_id")["onset_date"].min()
    p["first_relapse"] = p["patient_id"].map(first_rel)
    p["event"] = p["first_relapse"].notna().astype(int)
    end = p["first_relapse"].where(p["event"] == 1, p["last_followup_date"])
    p["T"] = (end - p["first_dose_date"]).dt.days.astype(float) / DAYS_PER_MONTH
    rfs = {}
    for g in groups:
        sel = p[mask(g)]
        rfs[g] = _km_group(sel["T"].to_numpy(float), sel["event"].to_numpy(int))
    rfs["logrank_p"] = _logrank(
        p["T"].to_numpy(float), p["event"].to_numpy(int), p["subtype"].to_numpy(object)
    )
    out["rfs"] = rfs

    # --- EDSS change (latest follow-up assessment inside the window minus baseline)
    edss_w = _in_window(edss, "assessment_date", windows, include_first_day=False)
    last = (
        edss_w.sort_values(["patient_id", "assessment_date"])
        .groupby("patient_id")
        .tail(1)
        .set_index("patient_id")["edss"]
    )
    ec = p[p["patient_id"].isin(last.index)][["patient_id", "subtype", "baseline_edss"]].copy()
    ec["change"] = ec["patient_id"].map(last).astype(float) - ec["baseline_edss"].astype(float)
    ec["cls"] = _edss_class(ec["change"], ec["baseline_edss"].astype(float))
    out["edss_change"] = {}
    for g in groups:
        sel = ec if g == "all" else ec[ec["subtype"] == g]
        out["edss_change"][g] = _edss_group(sel["change"], sel["cls"])

    # --- MRI and NEDA-3
    if mri is None:
        out["mri"] = None
        out["neda3"] = None
    else:
        mri_w = _in_window(mri, "scan_date", windows, include_first_day=False)
        per = mri_w.groupby("patient_id").agg(
            t2=("new_t2_lesions", "max"), gd=("gd_enhancing_lesions", "max")
        )
        out["mri"] = {
            "new_t2_patients": int((per["t2"] >= 1).sum()),
            "gd_patients": int((per["gd"] >= 1).sum()),
            "scanned_patients": len(per),
        }
        cls = ec.set_index("patient_id")["cls"]
        scanned = p["patient_id"].isin(per.index)
        evaluable = p["patient_id"].isin(cls.index) & scanned
        active_mri = p["patient_id"].isin(per.index[(per["t2"] >= 1) | (per["gd"] >= 1)])
        worsened = p["patient_id"].isin(cls.index[cls == "worsened"])
        neda = evaluable & (p["n_relapses"] == 0) & ~worsened & ~active_mri
        out["neda3"] = {
            g: {"neda": int((neda & mask(g)).sum()), "evaluable": int((evaluable & mask(g)).sum())}
            for g in groups
        }

    # --- low IgG
    if labs is None:
        out["igg_low"] = None
    else:
        labs_w = _in_window(
            labs[labs["test"] == "IgG"], "sample_date", windows, include_first_day=False
        )
        tested_ids = set(labs_w["patient_id"])
        low_ids = set(labs_w.loc[labs_w["value"] < igg_threshold, "patient_id"])
        igg = {"threshold_g_l": float(igg_threshold)}
        for g in groups:
            ids = p.loc[mask(g), "patient_id"]
            tested = int(ids.isin(tested_ids).sum())
            n = int(ids.isin(low_ids).sum())
            igg[g] = {
                "n": n,
                "tested": tested,
                "pct": (float(n / tested * 100.0) if tested else None),
            }
        out["igg_low"] = igg

    # --- safety
    ae_w = _in_window(aes, "onset_date", windows, include_first_day=True)
    events = len(ae_w)
    n_pat = int(ae_w["patient_id"].nunique())
    ci = stats.binomtest(n_pat, n_sel).proportion_ci(confidence_level=0.95, method="exact")
    out["safety"] = {
        "events": events,
        "per_1000_doses": _rate(events, float(out["doses_total"]), scale=1000.0),
        "patients_with_event": {
            "n": n_pat,
            "pct": float(n_pat / n_sel * 100.0),
            "ci_low": float(ci.low * 100.0),
            "ci_high": float(ci.high * 100.0),
        },
        "serious": int((ae_w["serious"] == True).sum()),  # nullable booleans: NA counts as not true
        "opportunistic_infections": (
            int((ae_w["opportunistic"] == True).sum()) if "opportunistic" in aes.columns else None
        ),
        "by_term": {str(k): int(v) for k, v in ae_w["term"].value_counts().items()},
        "by_relation": {str(k): int(v) for k, v in ae_w["relation"].value_counts().items()},
    }
    return out
