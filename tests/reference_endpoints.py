"""Independent reference implementation of the contract's v2 keys "disability" and "models".

Plain pandas loops + lifelines + statsmodels, no DuckDB and no code from analysis/ or queries/: the
oracle that ``summary()["disability"]`` and ``summary()["models"]`` are tested against. Written for
clarity, following the data contract's "v2 additions" (docs/data-dictionary.md) sentence by sentence.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceError

from tests.reference_summary import _in_window, _logrank, _read

DAYS_PER_MONTH = 30.4375
DAYS_PER_YEAR = 365.25
Z = 1.959964
CONFIRM = {"cdw_3m": 84, "cdw_6m": 168}
SUBTYPE_ORDER = ["RRMS", "SPMS", "NMOSD"]


def _num(x) -> float | None:
    """A finite float or None."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def select(
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
):
    """The selected patients (with days and dose count) and the tables: the contract's filters."""
    data_dir = Path(data_dir)
    p = _read(data_dir, "patients")
    tables = {t: _read(data_dir, t) for t in ("infusions", "relapses", "edss")}
    p["days"] = (p["last_followup_date"] - p["first_dose_date"]).dt.days.astype(float)
    p["months"] = p["days"] / DAYS_PER_MONTH
    windows = p[["patient_id", "first_dose_date", "last_followup_date"]]
    doses = _in_window(tables["infusions"], "dose_date", windows, include_first_day=True)
    p["doses"] = p["patient_id"].map(doses.groupby("patient_id").size()).fillna(0).astype(int)
    keep = pd.Series(True, index=p.index)
    for column, low, high in (
        ("months", followup_min, followup_max),
        ("doses", doses_min, doses_max),
        ("age_at_first_dose", age_min, age_max),
    ):
        if low is not None:
            keep &= p[column] >= low
        if high is not None:
            keep &= p[column] <= high
    for column, allowed in (("subtype", subtypes), ("sex", sexes), ("site", sites)):
        if allowed is not None:
            keep &= p[column].isin(list(allowed)) if column in p.columns else False
    return p[keep].reset_index(drop=True), tables


def threshold(b: float) -> float:
    """The contract's threshold(b)."""
    return 1.5 if b == 0 else 1.0 if b <= 5.5 else 0.5


def cdw_patient(
    baseline: float, first: pd.Timestamp, assessments: list[tuple], relapse_dates: list, days: int
) -> dict:
    """One patient's CDW over `days`: assessments are (date, edss) inside the window, by date."""
    if not assessments:
        return {"evaluable": False}
    meets = [edss - baseline >= threshold(baseline) for _, edss in assessments]
    for i, (date_i, _) in enumerate(assessments):
        if not meets[i]:
            continue
        for j in range(i + 1, len(assessments)):
            if not meets[j]:
                break  # an assessment between i and any later j does not meet
            date_j = assessments[j][0]
            if (date_j - date_i).days >= days:
                raw = any(date_i - pd.Timedelta(days=90) <= r <= date_j for r in relapse_dates)
                return {
                    "evaluable": True,
                    "event": True,
                    "raw": raw,
                    "months": (date_i - first).days / DAYS_PER_MONTH,
                }
    last = assessments[-1][0]
    return {
        "evaluable": True,
        "event": False,
        "raw": False,
        "months": (last - first).days / DAYS_PER_MONTH,
    }


def _km(rows: pd.DataFrame) -> dict:
    if rows.empty:
        return {"12": None, "24": None}
    kmf = KaplanMeierFitter().fit(rows["months"].to_numpy(float), rows["event"].to_numpy(bool))
    sf, ci = kmf.survival_function_.iloc[:, 0], kmf.confidence_interval_
    out = {}
    for t in (12, 24):
        if t > rows["months"].max():
            out[str(t)] = None
            continue
        steps = sf.index[sf.index <= t]
        s, low, high = (
            float(sf.loc[steps[-1]]),
            ci.loc[steps[-1]].iloc[0],
            ci.loc[steps[-1]].iloc[1],
        )
        if s == 1.0:
            low, high = 1.0, 1.0
        out[str(t)] = {"s": s, "ci_low": _num(low), "ci_high": _num(high)}
    return out


def reference_disability(data_dir, **filters) -> dict | None:
    """The contract's "disability" key, patient by patient."""
    p, tables = select(data_dir, **filters)
    windows = p[["patient_id", "first_dose_date", "last_followup_date"]]
    edss = _in_window(tables["edss"], "assessment_date", windows, include_first_day=False)
    relapses = _in_window(tables["relapses"], "onset_date", windows, include_first_day=True)
    edss = edss.sort_values(["patient_id", "assessment_date"])
    out = {}
    for key, days in CONFIRM.items():
        rows = []
        for _, pt in p.iterrows():
            a = edss[edss["patient_id"] == pt["patient_id"]]
            r = relapses.loc[relapses["patient_id"] == pt["patient_id"], "onset_date"].tolist()
            result = cdw_patient(
                float(pt["baseline_edss"]),
                pt["first_dose_date"],
                list(zip(a["assessment_date"], a["edss"].astype(float))),
                r,
                days,
            )
            rows.append({"subtype": pt["subtype"], **result})
        frame = pd.DataFrame(rows, columns=["subtype", "evaluable", "event", "raw", "months"])
        if not frame["evaluable"].any():
            return None
        present = list(frame["subtype"].unique())
        groups = (
            ["all"]
            + [s for s in SUBTYPE_ORDER if s in present]
            + sorted(set(present) - set(SUBTYPE_ORDER))
        )
        result = {}
        for g in groups:
            rows_g = frame if g == "all" else frame[frame["subtype"] == g]
            ev = rows_g[rows_g["evaluable"] == True]
            events = ev[ev["event"] == True]
            raw = int((events["raw"] == True).sum())
            result[g] = {
                "evaluable": len(ev),
                "not_evaluable": len(rows_g) - len(ev),
                "events": len(events),
                "pira": len(events) - raw,
                "raw": raw,
                "at_months": _km(ev.assign(event=ev["event"].astype(bool))),
            }
        ev = frame[frame["evaluable"] == True]
        result["logrank_p"] = _logrank(
            ev["months"].to_numpy(float), ev["event"].to_numpy(bool), ev["subtype"].to_numpy(object)
        )
        out[key] = result
    return out


def design(p: pd.DataFrame) -> pd.DataFrame:
    """The contract's covariates for the selected patients."""
    x = pd.DataFrame(
        {
            "age_per_10y": p["age_at_first_dose"].astype(float) / 10.0,
            "male": (p["sex"] == "M").astype(float),
            "baseline_edss": p["baseline_edss"].astype(float),
        }
    )
    present = set(p["subtype"])
    if "RRMS" in present and len(present) > 1:
        for s in [s for s in SUBTYPE_ORDER if s in present] + sorted(present - set(SUBTYPE_ORDER)):
            if s != "RRMS":
                x["subtype_" + s] = (p["subtype"] == s).astype(float)
    if (
        "disease_duration_years" in p.columns
        and len(p)
        and p["disease_duration_years"].notna().all()
    ):
        x["disease_duration_years"] = p["disease_duration_years"].astype(float)
    return x


def _ratios(coef, se, pvalue, key) -> dict:
    def e(v):
        with np.errstate(over="ignore"):
            return _num(np.exp(v))

    return {
        n: {
            key: e(coef[n]),
            "ci_low": e(coef[n] - Z * se[n]),
            "ci_high": e(coef[n] + Z * se[n]),
            "p": _num(pvalue[n]),
        }
        for n in coef.index
    }


def reference_models(data_dir, **filters) -> dict | None:
    """The contract's "models" key (None when no patient is selected)."""

    p, tables = select(data_dir, **filters)
    if p.empty:
        return None
    windows = p[["patient_id", "first_dose_date", "last_followup_date"]]
    rel = _in_window(tables["relapses"], "onset_date", windows, include_first_day=True)
    first = p["patient_id"].map(rel.groupby("patient_id")["onset_date"].min())
    p["event"] = first.notna()
    p["T"] = (first.fillna(p["last_followup_date"]) - p["first_dose_date"]).dt.days / DAYS_PER_MONTH
    p["count"] = p["patient_id"].map(rel.groupby("patient_id").size()).fillna(0)
    p["py"] = p["days"] / DAYS_PER_YEAR
    x = design(p)
    k = x.shape[1]

    cox = None
    if p["event"].sum() >= 2 and len(p) >= 2 * (k + 1):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cph = CoxPHFitter().fit(x.assign(T=p["T"], E=p["event"]), "T", "E")
            s = cph.summary
            cox = {
                "n": len(p),
                "events": int(p["event"].sum()),
                "events_per_variable": float(p["event"].sum()) / k,
                "terms": _ratios(s["coef"], s["se(coef)"], s["p"], "hr"),
            }
        except ConvergenceError:
            cox = None

    # patients with no follow-up time have no exposure: left out of the count model
    q = p[p["py"] > 0].sort_values("patient_id").reset_index(drop=True)
    xq = design(q)
    rate = None
    if q["count"].sum() >= 2 and len(q) >= 2 * (xq.shape[1] + 1):
        fit = _count_model(q["count"].to_numpy(float), xq.to_numpy(float), q["py"].to_numpy(float))
        if fit is not None:
            model, coef, se, pv = fit
            names = list(xq.columns)
            rate = {
                "n": len(q),
                "model": model,
                "terms": _ratios(
                    pd.Series(coef, names), pd.Series(se, names), pd.Series(pv, names), "rr"
                ),
            }
    return {"cox_relapse": cox, "relapse_rate": rate}


def _count_model(y, x, py):
    """NB2 (statsmodels, joint ML) if it converges with finite SEs, else Poisson GLM, else None;
    None for a rank-deficient design (a constant covariate)."""
    import statsmodels.api as sm
    from statsmodels.discrete.discrete_model import NegativeBinomial

    exog = np.ascontiguousarray(np.column_stack([np.ones(len(y)), x]))
    k = exog.shape[1]
    if np.linalg.matrix_rank(exog) < k:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            nb = NegativeBinomial(y, exog, exposure=py, loglike_method="nb2").fit(
                disp=0, maxiter=1000
            )
            if (
                nb.mle_retvals["converged"]
                and np.isfinite(nb.params).all()
                and np.isfinite(nb.bse).all()
            ):
                return "negative_binomial", nb.params[1:k], nb.bse[1:k], nb.pvalues[1:k]
        except np.linalg.LinAlgError:
            pass
        glm = sm.GLM(y, exog, family=sm.families.Poisson(), exposure=py).fit()
    if glm.converged and np.isfinite(glm.params).all() and np.isfinite(glm.bse).all():
        return "poisson", glm.params[1:], glm.bse[1:], glm.pvalues[1:]
    return None
