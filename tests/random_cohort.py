"""Small random, contract-valid cohort datasets for tests (parquet folder layout).

``write_random_cohort(dir, seed)`` writes ``<dir>/<table>.parquet`` for every table of
the data contract (docs/data-dictionary.md). The data are random but deliberately include the
edge cases the definitions care about:

- a relapse on the first-dose day (RFS event at time 0), several relapses of one patient,
  tied relapse times across patients;
- records outside windows (before first dose / after last follow-up) in infusions, relapses, EDSS,
  MRI, labs and adverse events;
- EDSS, MRI and lab values on the first-dose day (baselines, to be ignored);
- patients with no infusions, with no follow-up EDSS, with no scans, with no IgG;
- a patient with zero follow-up days (first dose = last follow-up) in odd seeds; with seed % 6 == 3
  it is the single NMOSD patient, so that group has 0 patient-years (ARR null, no RFS estimate);
- all-equal EDSS changes in one subtype group (even seeds: every SPMS change is +0.5);
- a subtype with a single patient (seed % 3 == 0: one NMOSD patient);
- IgG values exactly at 7.0 and 8.0 (threshold is strict "<");
- several sites and some patients without a site;
- with ``timestamps=True`` the event date columns are written as timestamps **with a time of day**
  (and ``first_dose_date`` as a midnight timestamp): readers must cast them to dates.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

SCHEMAS = {
    "patients": [
        ("patient_id", pa.string()),
        ("subtype", pa.string()),
        ("sex", pa.string()),
        ("age_at_first_dose", pa.float64()),
        ("baseline_edss", pa.float64()),
        ("first_dose_date", pa.date32()),
        ("last_followup_date", pa.date32()),
        ("disease_duration_years", pa.float64()),
        ("prior_treatments", pa.int64()),
        ("site", pa.string()),
    ],
    "infusions": [
        ("patient_id", pa.string()),
        ("dose_date", pa.date32()),
        ("dose_mg", pa.float64()),
        ("course", pa.int64()),
    ],
    "relapses": [
        ("patient_id", pa.string()),
        ("onset_date", pa.date32()),
        ("severity", pa.string()),
    ],
    "edss": [("patient_id", pa.string()), ("assessment_date", pa.date32()), ("edss", pa.float64())],
    "mri": [
        ("patient_id", pa.string()),
        ("scan_date", pa.date32()),
        ("new_t2_lesions", pa.int64()),
        ("gd_enhancing_lesions", pa.int64()),
    ],
    "labs": [
        ("patient_id", pa.string()),
        ("sample_date", pa.date32()),
        ("test", pa.string()),
        ("value", pa.float64()),
        ("unit", pa.string()),
    ],
    "adverse_events": [
        ("patient_id", pa.string()),
        ("onset_date", pa.date32()),
        ("term", pa.string()),
        ("relation", pa.string()),
        ("grade", pa.int64()),
        ("serious", pa.bool_()),
        ("infection", pa.bool_()),
        ("opportunistic", pa.bool_()),
        ("outcome", pa.string()),
        ("course", pa.int64()),
    ],
    "engagement": [
        ("patient_id", pa.string()),
        ("contact_date", pa.date32()),
        ("channel", pa.string()),
        ("kind", pa.string()),
    ],
}
OPTIONAL_COLUMNS = {
    "patients": ["disease_duration_years", "prior_treatments", "site"],
    "relapses": ["severity"],
    "adverse_events": ["infection", "opportunistic", "outcome", "course"],
}
# date columns turned into timestamps (with a time of day) when timestamps=True
TIMESTAMP_COLUMNS = {
    "relapses": "onset_date",
    "edss": "assessment_date",
    "labs": "sample_date",
    "adverse_events": "onset_date",
    "mri": "scan_date",
}

BASE = dt.date(2015, 1, 1)


def _d(first: dt.date, days: int) -> dt.date:
    return first + dt.timedelta(days=int(days))


def write_random_cohort(
    dir,
    seed,
    n_patients=60,
    with_mri=True,
    with_labs=True,
    with_optional_columns=True,
    timestamps=False,
) -> Path:
    out = Path(dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n = max(int(n_patients), 12)

    # ------------------------------------------------------------------ patients
    subtypes = list(rng.choice(["RRMS", "SPMS", "NMOSD"], size=n, p=[0.6, 0.25, 0.15]))
    subtypes[:3] = ["RRMS", "RRMS", "RRMS"]
    subtypes[3:6] = ["SPMS", "SPMS", "SPMS"]
    if seed % 3 == 0:  # exactly one NMOSD patient
        subtypes = [s if s != "NMOSD" else "RRMS" for s in subtypes]
        subtypes[-1] = "NMOSD"
    elif "NMOSD" not in subtypes[6:]:
        subtypes[6] = "NMOSD"

    pats = []
    for i in range(n):
        first = _d(BASE, rng.integers(0, 1500))
        days = int(rng.integers(60, 1700))
        if i in (4, 5, 7):
            days = max(days, 400)  # long enough for the tied relapse at day 100
        if (i == n - 2 and seed % 2 == 1) or (i == n - 1 and seed % 6 == 3):
            days = (
                0  # zero follow-up (first dose = last follow-up); seed 3: the single NMOSD patient
            )
        sub = subtypes[i]
        base = (
            float(rng.integers(0, 13) * 0.5) if sub != "SPMS" else float(rng.integers(6, 17) * 0.5)
        )
        if i == 8:
            base = 0.0
        pats.append(
            {
                "patient_id": f"S{seed}-P{i:03d}",
                "subtype": sub,
                "sex": "F" if rng.random() < 0.7 else "M",
                "age_at_first_dose": round(float(rng.uniform(18, 72)), 1),
                "baseline_edss": base,
                "first_dose_date": first,
                "last_followup_date": _d(first, days),
                "disease_duration_years": round(float(rng.uniform(0, 25)), 1),
                "prior_treatments": int(rng.integers(0, 4)),
                "site": (
                    None if rng.random() < 0.1 else str(rng.choice(["North", "South", "East"]))
                ),
                "_days": days,
            }
        )

    infusions, relapses, edss, mri, labs, aes, engagement = [], [], [], [], [], [], []
    for i, p in enumerate(pats):
        pid, first, days = p["patient_id"], p["first_dose_date"], p["_days"]

        # -------------------------------------------------------------- infusions
        n_inf_before = len(infusions)
        n_courses = 0 if i in (1, 9) else int(rng.integers(1, 7))
        for c in range(1, n_courses + 1):
            start = (c - 1) * int(rng.integers(170, 200))
            offs = [start, start + 14] if (c == 1 and rng.random() < 0.6) else [start]
            for o in offs:
                if (
                    o <= days or rng.random() < 0.3
                ):  # sometimes a dose after last follow-up (outside)
                    infusions.append(
                        {
                            "patient_id": pid,
                            "dose_date": _d(first, o),
                            "dose_mg": float(rng.choice([500.0, 1000.0])),
                            "course": c,
                        }
                    )
        if i == 10:
            infusions.append(
                {"patient_id": pid, "dose_date": _d(first, -30), "dose_mg": 1000.0, "course": 1}
            )

        # -------------------------------------------------------------- relapses
        rate = {"RRMS": 0.35, "SPMS": 0.15, "NMOSD": 0.5}[p["subtype"]]
        k = int(rng.poisson(rate * days / 365.25))
        offs = list(rng.integers(0, days + 1, size=k)) if days > 0 else [0] * k
        if i == 0:
            offs.append(0)  # relapse on the first-dose day
        if i in (4, 5, 7):
            offs.append(100)  # tied event times across patients
        if i == 7:
            offs.append(100)  # two relapses on the same day of one patient
        if i == 3:
            offs += [-40, days + 25]  # outside the window
        for o in offs:
            relapses.append(
                {
                    "patient_id": pid,
                    "onset_date": _d(first, o),
                    "severity": str(rng.choice(["mild", "moderate", "severe"])),
                }
            )

        # -------------------------------------------------------------- EDSS (follow-up)
        if i == 6 or i == 2:
            edss.append(
                {"patient_id": pid, "assessment_date": first, "edss": p["baseline_edss"]}
            )  # baseline day
        no_fu = i == 2 or rng.random() < 0.12
        val = p["baseline_edss"]
        if not no_fu and days > 0:
            ts = sorted({int(x) for x in rng.integers(1, days + 1, size=int(rng.integers(1, 5)))})
            for t in ts:
                val = float(
                    min(10.0, max(0.0, val + rng.choice([-1.0, -0.5, 0.0, 0.0, 0.5, 1.0, 1.5])))
                )
                edss.append({"patient_id": pid, "assessment_date": _d(first, t), "edss": val})
            if p["subtype"] == "SPMS" and seed % 2 == 0:
                edss[-1]["edss"] = p["baseline_edss"] + 0.5  # all SPMS changes equal (+0.5)
            if rng.random() < 0.2:  # a later assessment after last follow-up (outside, ignored)
                edss.append(
                    {
                        "patient_id": pid,
                        "assessment_date": _d(first, days + int(rng.integers(1, 90))),
                        "edss": 9.5,
                    }
                )

        # -------------------------------------------------------------- MRI
        if i == 6:
            mri.append(
                {
                    "patient_id": pid,
                    "scan_date": first,
                    "new_t2_lesions": 5,
                    "gd_enhancing_lesions": 2,
                }
            )
        if rng.random() < 0.8 and days > 0:
            for t in sorted(
                {int(x) for x in rng.integers(1, days + 1, size=int(rng.integers(1, 4)))}
            ):
                mri.append(
                    {
                        "patient_id": pid,
                        "scan_date": _d(first, t),
                        "new_t2_lesions": int(rng.random() < 0.15) * int(rng.integers(1, 4)),
                        "gd_enhancing_lesions": int(rng.random() < 0.08),
                    }
                )
        if i == 11:
            mri.append(
                {
                    "patient_id": pid,
                    "scan_date": _d(first, days + 10),
                    "new_t2_lesions": 3,
                    "gd_enhancing_lesions": 1,
                }
            )

        # -------------------------------------------------------------- labs
        if i == 6:
            labs.append(
                {
                    "patient_id": pid,
                    "sample_date": first,
                    "test": "IgG",
                    "value": 4.0,
                    "unit": "g/L",
                }
            )
        if rng.random() < 0.85 and days > 0:
            for t in sorted(
                {int(x) for x in rng.integers(1, days + 1, size=int(rng.integers(1, 4)))}
            ):
                v = round(float(rng.normal(8.5, 1.8)), 1)
                if rng.random() < 0.08:
                    v = float(rng.choice([7.0, 8.0]))
                labs.append(
                    {
                        "patient_id": pid,
                        "sample_date": _d(first, t),
                        "test": "IgG",
                        "value": v,
                        "unit": "g/L",
                    }
                )
                labs.append(
                    {
                        "patient_id": pid,
                        "sample_date": _d(first, t),
                        "test": "platelets",
                        "value": round(float(rng.normal(250, 60)), 0),
                        "unit": "10^9/L",
                    }
                )
        if i == 12:
            labs.append(
                {
                    "patient_id": pid,
                    "sample_date": _d(first, days + 5),
                    "test": "IgG",
                    "value": 3.0,
                    "unit": "g/L",
                }
            )
            labs.append(
                {
                    "patient_id": pid,
                    "sample_date": _d(first, max(days, 1)),
                    "test": "IgM",
                    "value": 0.2,
                    "unit": "g/L",
                }
            )

        # -------------------------------------------------------------- adverse events
        for inf in infusions[n_inf_before:]:
            if rng.random() < 0.25:
                aes.append(
                    {
                        "patient_id": pid,
                        "onset_date": inf["dose_date"],
                        "term": str(rng.choice(["Flushing", "Pruritus", "Headache"])),
                        "relation": str(rng.choice(["during_infusion", "post_infusion"])),
                        "grade": int(rng.integers(1, 3)),
                        "serious": False,
                        "infection": False,
                        "opportunistic": False,
                        "outcome": "resolved",
                        "course": inf["course"],
                    }
                )
        for _ in range(int(rng.poisson(0.4 * max(days, 1) / 365.25))):
            opp = rng.random()
            aes.append(
                {
                    "patient_id": pid,
                    "onset_date": _d(first, rng.integers(0, days + 1)),
                    "term": str(
                        rng.choice(
                            [
                                "Upper respiratory infection",
                                "Urinary tract infection",
                                "Thrombocytopenia",
                                "Neutropenia",
                            ]
                        )
                    ),
                    "relation": "not_infusion_related",
                    "grade": int(rng.integers(1, 5)),
                    "serious": bool(rng.random() < 0.15),
                    "infection": bool(rng.random() < 0.6),
                    "opportunistic": (None if opp < 0.1 else bool(opp > 0.9)),
                    "outcome": str(rng.choice(["resolved", "resolving", "ongoing", "unknown"])),
                    "course": None,
                }
            )
        if i == 13:
            aes.append(
                {
                    "patient_id": pid,
                    "onset_date": _d(first, -3),
                    "term": "Flushing",
                    "relation": "during_infusion",
                    "grade": 1,
                    "serious": True,
                    "infection": False,
                    "opportunistic": True,
                    "outcome": "resolved",
                    "course": None,
                }
            )

        # -------------------------------------------------------------- engagement
        for _ in range(int(rng.integers(0, 4))):
            engagement.append(
                {
                    "patient_id": pid,
                    "contact_date": _d(first, rng.integers(0, days + 1)),
                    "channel": str(rng.choice(["skype", "whatsapp"])),
                    "kind": str(rng.choice(["education_session", "question", "peer_support"])),
                }
            )

    for p in pats:
        del p["_days"]

    tables = {
        "patients": pats,
        "infusions": infusions,
        "relapses": relapses,
        "edss": edss,
        "adverse_events": aes,
        "engagement": engagement,
    }
    if with_mri:
        tables["mri"] = mri
    if with_labs:
        tables["labs"] = labs

    for name, rows in tables.items():
        fields = list(SCHEMAS[name])
        if not with_optional_columns:
            fields = [f for f in fields if f[0] not in OPTIONAL_COLUMNS.get(name, [])]
        df = pd.DataFrame(rows, columns=[f[0] for f in SCHEMAS[name]])[[f[0] for f in fields]]
        if timestamps and (name in TIMESTAMP_COLUMNS or name == "patients"):
            col = TIMESTAMP_COLUMNS.get(name, "first_dose_date")
            ts = pd.to_datetime(df[col])
            if name != "patients":  # a time of day that must be dropped on read
                ts = ts + pd.to_timedelta(rng.integers(0, 24 * 60, size=len(df)), unit="min")
            df[col] = ts.astype("datetime64[us]")
            fields = [(f[0], pa.timestamp("us")) if f[0] == col else f for f in fields]
        table = pa.Table.from_pandas(df, schema=pa.schema(fields), preserve_index=False)
        pq.write_table(table, out / f"{name}.parquet")
    return out
