"""Virtual-care engagement: contacts per patient by channel, engagement tertiles and outcomes per tertile."""

import pandas as pd

from analysis.stats import mean_ci

TERTILES = ("Low", "Middle", "High")
UNCLASSIFIED = "Not classified (no follow-up time)"


def tertiles(contacts_per_month: pd.Series) -> pd.Series | None:
    """Engagement tertile (Low/Middle/High) of each patient by contacts per month of follow-up.

    Tertiles are equal-sized groups of the ranked rates (ties broken by the series' order, so sizes
    differ by at most one); patients without a rate (no follow-up time) get no tertile (NaN).
    None with fewer than three patients that have a rate.
    """
    rated = contacts_per_month.dropna()
    if len(rated) < 3:
        return None
    groups = pd.qcut(rated.rank(method="first"), 3, labels=list(TERTILES))
    return groups.reindex(contacts_per_month.index)


def tertile_outcomes(per_patient: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame | None:
    """One row per engagement tertile: n, the contact-rate range, relapse-free, EDSS change, AEs.

    per_patient: engagement_per_patient rows (patient_id, contacts_per_month); outcomes:
    patient_outcome rows (patient_id, relapses, edss_change, adverse_events). None when tertiles
    cannot be formed. Patients without follow-up time form an extra "not classified" row.
    """
    df = per_patient[["patient_id", "contacts_per_month"]].merge(
        outcomes[["patient_id", "relapses", "edss_change", "adverse_events"]], on="patient_id"
    )
    df = df.sort_values("patient_id", kind="stable").reset_index(drop=True)
    groups = tertiles(df["contacts_per_month"])
    if groups is None:
        return None
    df["tertile"] = groups.astype(object).where(groups.notna(), UNCLASSIFIED)
    rows = []
    for label in [*TERTILES, UNCLASSIFIED]:
        g = df[df["tertile"] == label]
        if g.empty:
            continue
        n = len(g)
        changes = g["edss_change"].dropna()
        ci = mean_ci(changes)
        relapse_free = int((g["relapses"] == 0).sum())
        with_ae = int((g["adverse_events"] > 0).sum())
        rows.append({
            "tertile": label,
            "patients": n,
            "contacts_per_month_min": g["contacts_per_month"].min(),
            "contacts_per_month_max": g["contacts_per_month"].max(),
            "relapse_free": relapse_free,
            "relapse_free_pct": 100 * relapse_free / n,
            "edss_n": len(changes),
            "edss_change_mean": float(changes.mean()) if len(changes) else None,
            "edss_change_ci_low": ci[0] if ci else None,
            "edss_change_ci_high": ci[1] if ci else None,
            "patients_with_ae": with_ae,
            "patients_with_ae_pct": 100 * with_ae / n,
        })
    return pd.DataFrame(rows)
