"""How large is the selected cohort, who is in it, and does it reproduce the published study?"""

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
import streamlit as st

from analysis.table1 import VARIABLES, format_table, suppressed, table1
from queries import Filters
from ui import data, privacy
from ui.components import chart, collect, fmt_p, header, safe_csv
from ui.theme import colour
from ui.settings import min_count

CITATION = (
    "Nabiuni M, Mokhtari M, Hatam J, et al. The Impact of Social Networks on Enhancing Safety and "
    "Efficacy Outcomes in Low-Dose Rituximab Treatment for Central Nervous System Demyelinating "
    "Diseases. "
    "Interdiscip J Virtual Learn Med Sci 2023;14(3):206-215. doi:10.30476/ijvlms.2023.99354.1240"
)
# The published figures (copied here so that the app never reads outside its own folder).
PUBLISHED = {
    "patients": 99,
    "by_subtype": {"RRMS": 42, "SPMS": 43, "NMOSD": 14},
    "age_mean": 39.5,
    "female_pct": 67.7,
    "followup_mean": 20.4,
    "followup_range": (12, 40),
    "doses": 818,
    "attacked": {"RRMS": (8, 19.0, 0), "SPMS": (10, 23.2, 1), "NMOSD": (1, 7.0, 0)},
    "attacks_per_patient": {"1": 13, "2": 4, "3": 2},
    "attacks": 27,
    "relapse_free_pct": 80.8,
    "edss": {"RRMS": (-0.32, 0.06, 2), "SPMS": (0.19, 0.23, 2), "NMOSD": (-0.57, 0.004, 3)},
    "new_t2": 9,
    "gd": 4,
    "igg_low_pct": {"RRMS": (0.0, 0), "SPMS": (13.9, 1), "NMOSD": (10.0, 0)},
    "opportunistic": 0,
    "adverse_events": 2,
}

f, s = header(
    "Overview",
    "How large is the selected cohort, who is in it, and does it reproduce the published study?",
)
k = min_count()
total = s["patients"]["total"]
order = list(s["patients"]["by_subtype"])


c1, c2, c3, c4, c5, c6 = st.columns(6)
c1.metric(
    "Patients",
    privacy.count(total),
    help="Selected patients.",
)
c2.metric(
    "Patient-years",
    f"{s['patient_years']:.1f}",
    help="Sum over patients of (last follow-up − first dose) in days / 365.25.",
)
c3.metric(
    "Doses",
    privacy.count(s["doses_total"]),
    help="Rituximab infusions inside the patients' windows (first dose to last follow-up).",
)
with_relapse = s["relapses"]["patients_with_relapse"]["all"]
free = total - with_relapse
if privacy.small(free):
    rf_value = f"< {100 * k / total:.1f} %"
    rf_note = f"{privacy.count(free)} of {privacy.count(total)} patients"
elif privacy.small(with_relapse):
    rf_value = f"≥ {100 * (total - k + 1) / total:.1f} %"
    rf_note = f"{privacy.count(with_relapse)} patients relapsed"
else:
    rf_value, rf_note = f"{s['relapses']['relapse_free_pct']:.1f} %", f"{free} of {total} patients"
c4.metric(
    "Relapse-free",
    rf_value,
    rf_note,
    delta_color="off",
    delta_arrow="off",
    help="Patients with no relapse inside their window, % of selected patients.",
)
arr, relapses = s["relapses"]["arr"]["all"], s["relapses"]["total"]
if arr is None:
    arr_value, arr_note = "n/a", "no patient-years"
elif privacy.small(relapses):
    arr_value, arr_note = f"< {k / s['patient_years']:.2f}", "CI hidden"
else:
    arr_value = f"{arr['rate']:.2f}"
    arr_note = f"CI {arr['ci_low']:.2f}–{arr['ci_high']:.2f}"
c5.metric(
    "ARR",
    arr_value,
    arr_note,
    delta_color="off",
    delta_arrow="off",
    help="Annualised relapse rate: relapses inside windows / patient-years, exact Poisson 95 % CI.",
)
ae, events = s["safety"]["per_1000_doses"], s["safety"]["events"]
if ae is None:
    ae_value, ae_note = "n/a", "no doses"
elif privacy.small(events):
    ae_value, ae_note = f"< {1000 * k / s['doses_total']:.1f}", "CI hidden"
else:
    ae_value = f"{ae['rate']:.1f}"
    ae_note = f"CI {ae['ci_low']:.1f}–{ae['ci_high']:.1f}"
c6.metric(
    "AEs per 1,000 doses",
    ae_value,
    ae_note,
    delta_color="off",
    delta_arrow="off",
    help="Adverse events inside windows per 1,000 doses inside windows, exact Poisson 95 % CI.",
)
st.caption(
    f"{privacy.count(relapses)} relapses in {s['patient_years']:.1f} patient-years · "
    f"{privacy.count(events)} adverse events ({privacy.count(s['safety']['serious'])} serious) in "
    f"{privacy.count(s['doses_total'])} doses · 95 % CIs are exact Poisson intervals."
)

collect(
    "Key figures",
    "Relapse-free: no relapse inside the window. ARR: relapses / patient-years. AEs per 1,000 doses inside "
    "windows. 95 % CIs exact Poisson.",
    table=pd.DataFrame({
        "figure": ["Patients", "Patient-years", "Doses", "Relapse-free", "ARR", "AEs per 1,000 doses"],
        "value": [privacy.count(total), f"{s['patient_years']:.1f}", privacy.count(s["doses_total"]),
                  f"{rf_value} ({rf_note})", f"{arr_value} ({arr_note})", f"{ae_value} ({ae_note})"],
    }),
)

patients = data.run("patient_outcome", f)

st.subheader("Follow-up and doses")
exposure = make_subplots(rows=1, cols=2, horizontal_spacing=0.08)
for g in order:
    group = patients[patients["subtype"] == g]
    for col, column in ((1, "followup_months"), (2, "doses")):
        exposure.add_trace(go.Box(
            y=group[column], name=g, marker_color=colour(g), showlegend=False,
            boxpoints=False if privacy.viewer() else "all", jitter=0.4, pointpos=0, marker_size=4,
            hoverinfo="y" if privacy.viewer() else None,
        ), row=1, col=col)
exposure.update_layout(boxgap=0.35, yaxis_title="Follow-up (months)", yaxis2_title="Rituximab doses")
exposure_table = patients.groupby("subtype").agg(
    patients=("patient_id", "size"),
    followup_median=("followup_months", "median"), followup_q1=("followup_months", lambda x: x.quantile(0.25)),
    followup_q3=("followup_months", lambda x: x.quantile(0.75)),
    doses_median=("doses", "median"), doses_total=("doses", "sum"),
).reindex(order).reset_index()
exposure_table["patients"] = exposure_table["patients"].map(privacy.count)
exposure_table["doses_total"] = exposure_table["doses_total"].map(privacy.count)
chart(
    exposure, exposure_table.round(2), "Follow-up and doses per subtype",
    "Follow-up = (last follow-up − first dose) in days / 30.4375; doses = rituximab infusions inside the "
    "window. Boxes: median and quartiles, whiskers to 1.5 × IQR"
    + ("" if privacy.viewer() else "; dots: patients")
    + ". n: " + ", ".join(f"{g} {privacy.count(s['patients']['by_subtype'][g])}" for g in order) + ".",
    height=380,
)

st.subheader("Table 1 — baseline characteristics by subtype")
available = {v.column for v in VARIABLES if not v.optional or data.has("patients", v.column)}
rows, notes = table1(patients, order, available)
narrowed = f.is_narrowed()
p_header = "p (exploratory — subgroup)" if narrowed else "p"
sizes = {"All": total} | s["patients"]["by_subtype"]
table = format_table(
    rows,
    sizes,
    p_text=lambda p: fmt_p(p, Filters()).removeprefix("p").strip(" ="),
    count=privacy.count,
    small=privacy.small,
    k=k,
    p_header=p_header,
)
st.table(table, hide_index=True)
collect("Table 1 — baseline characteristics by subtype", "Between-group tests: ANOVA (mean ± SD), "
        "Kruskal–Wallis (median [IQR]), χ² or Fisher (sex).", table=table)
st.caption(
    "Mean ± SD (sample SD) rows are compared across subtypes with one-way ANOVA, median [IQR] "
    "rows (25th–75th percentile) with the Kruskal–Wallis test; female sex with the χ² test "
    "(Yates-corrected for two groups), or Fisher's exact test when two groups give an expected "
    "count below 5 (scipy). Follow-up and doses count inside each patient's window. "
    + (
        "P-values are exploratory: the filters narrow the cohort to a subgroup. "
        if narrowed
        else ""
    )
    + f"n = {privacy.count(total)} patients."
)
for note in notes:
    st.info(note, icon=":material/info:")
singles = [g for g, n in s["patients"]["by_subtype"].items() if n == 1]
if singles:
    st.info(
        f"{', '.join(singles)}: a single selected patient — its SD and IQR are n/a "
        "(not defined for one value); the tests still compare the groups that have patients.",
        icon=":material/info:",
    )
if len(order) < 2:
    st.info(
        "Only one subtype is selected: a between-group test is not defined (n/a).",
        icon=":material/info:",
    )
for row in rows:
    if row.missing:
        st.caption(f"{row.variable.label}: {privacy.count(row.missing)} patients without a value.")
st.download_button(
    "Download Table 1 (CSV)",
    safe_csv(table),
    file_name="table-1.csv",
    mime="text/csv",
    key="csv-table-1",
    icon=":material/download:",
)

st.subheader("Published vs this dataset")
full = data.summary(Filters())
full_patients = data.run("patient_outcome", Filters())


def near(value: float | None, published: float, digits: int) -> bool:
    """The paper rounds some figures and truncates others: either reading counts as a match."""
    if value is None:
        return False
    scaled = value * 10**digits
    return round(value, digits) == published or math.floor(scaled + 1e-9) / 10**digits == published


def pct_of(n: int, of: int) -> float | None:
    return 100 * n / of if of else None


published_rows = []


def compare(
    figure: str, published: str, computed: str, match: bool, hidden: object = False
) -> None:
    """A panel row; a computed figure viewer mode must hide shows '< k' and no match verdict."""
    published_rows.append(
        {
            "Figure": figure,
            "Published": published,
            "This dataset (all patients)": (
                computed if not hidden else "hidden" if hidden == "secondary" else f"< {k}"
            ),
            "Match": "not shown (small count)"
            if hidden
            else ("✓ matches" if match else "✗ differs"),
        }
    )


def small_any(*counts: int | None) -> bool:
    return any(privacy.small(c) for c in counts if c is not None)


fb = full["patients"]["by_subtype"]
compare(
    "Patients",
    "99",
    privacy.count(full["patients"]["total"]),
    full["patients"]["total"] == PUBLISHED["patients"],
)
compare(
    "Patients by subtype (RRMS / SPMS / NMOSD)",
    "42 / 43 / 14",
    " / ".join(privacy.count(fb.get(g, 0)) for g in ("RRMS", "SPMS", "NMOSD")),
    all(fb.get(g, 0) == n for g, n in PUBLISHED["by_subtype"].items()),
    hidden=small_any(*fb.values()),
)
if full["age_mean"] is not None:
    compare(
        "Mean age at first dose, years",
        "39.5",
        f"{full['age_mean']:.1f}",
        near(full["age_mean"], PUBLISHED["age_mean"], 1),
    )
    compare(
        "Female",
        "67.7 %",
        f"{full['female_pct']:.1f} %",
        near(full["female_pct"], PUBLISHED["female_pct"], 1),
    )
    compare(
        "Mean follow-up, months",
        "20.4",
        f"{full['followup_months_mean']:.1f}",
        near(full["followup_months_mean"], PUBLISHED["followup_mean"], 1),
    )
    lo, hi = full_patients["followup_months"].min(), full_patients["followup_months"].max()
    compare(
        "Follow-up range, months",
        "12–40",
        f"{lo:.1f}–{hi:.1f}",
        (round(lo), round(hi)) == PUBLISHED["followup_range"],
    )
    compare(
        "Doses administered",
        "818",
        privacy.count(full["doses_total"]),
        full["doses_total"] == PUBLISHED["doses"],
    )
    attacked = full["relapses"]["patients_with_relapse"]
    hidden = suppressed({g: (attacked[g], fb[g]) for g in fb}, privacy.small)
    for g, (n, p, digits) in PUBLISHED["attacked"].items():
        got = attacked.get(g)
        share = pct_of(got or 0, fb.get(g, 0))
        compare(
            f"{g} patients with ≥ 1 attack",
            f"{n} ({p:.{digits}f} %)",
            "n/a" if got is None else f"{got} ({share:.1f} %)",
            got == n and near(share, p, digits),
            hidden=hidden.get(g, False),
        )
    app = full["relapses"]["attacks_per_patient"]
    compare(
        "Attacked patients with 1 / 2 / 3 attacks",
        "13 / 4 / 2",
        " / ".join(privacy.count(app.get(a, 0)) for a in ("1", "2", "3"))
        + ("" if set(app) <= {"1", "2", "3"} else " (and more)"),
        app == PUBLISHED["attacks_per_patient"],
        hidden=small_any(*app.values()),
    )
    compare(
        "Attacks",
        "27",
        privacy.count(full["relapses"]["total"]),
        full["relapses"]["total"] == PUBLISHED["attacks"],
        hidden=small_any(full["relapses"]["total"]),
    )
    compare(
        "Relapse-free",
        "80.8 %",
        f"{full['relapses']['relapse_free_pct']:.1f} %",
        near(full["relapses"]["relapse_free_pct"], PUBLISHED["relapse_free_pct"], 1),
        hidden=small_any(attacked["all"], full["patients"]["total"] - attacked["all"]),
    )
    for g, (mean, p, digits) in PUBLISHED["edss"].items():
        e = full["edss_change"].get(g) or {}
        got_mean, got_p = e.get("mean"), e.get("p_ttest")
        compare(
            f"{g} EDSS change, last − baseline (t-test p)",
            f"{mean:+.2f} (p = {p:g})",
            "n/a" if got_mean is None else f"{got_mean:+.2f} ({fmt_p(got_p, Filters())})",
            got_mean is not None
            and round(got_mean, 2) == mean
            and got_p is not None
            and round(got_p, digits) == p,
        )
    mri = full["mri"] or {}
    for label, key, n in (("new T2", "new_t2_patients", 9), ("Gd-enhancing", "gd_patients", 4)):
        compare(
            f"Patients with {label} lesions",
            str(n),
            privacy.count(mri[key]) if mri else "n/a (no MRI table)",
            mri.get(key) == n,
            hidden=small_any(mri.get(key)),
        )
    igg = full["igg_low"] or {}
    hidden = suppressed({g: (igg[g]["n"], igg[g]["tested"]) for g in fb if g in igg}, privacy.small)
    for g, (p, digits) in PUBLISHED["igg_low_pct"].items():
        cell = igg.get(g)
        got = None if cell is None else cell["pct"]
        compare(
            f"{g} low IgG (< 7.0 g/L), % of tested",
            "none" if p == 0 else f"{p:.{digits}f} %",
            "n/a (no labs table)"
            if not igg
            else "n/a"
            if got is None
            else f"{cell['n']} of {cell['tested']} ({got:.1f} %)",
            got is not None and near(got, p, digits),
            hidden=hidden.get(g, False),
        )
    compare(
        "Opportunistic infections",
        "none",
        privacy.count(full["safety"]["opportunistic_infections"]),
        full["safety"]["opportunistic_infections"] == PUBLISHED["opportunistic"],
        hidden=small_any(full["safety"]["opportunistic_infections"]),
    )
    compare(
        "Adverse events",
        "2 in 818 doses",
        f"{full['safety']['events']} in {full['doses_total']} doses",
        full["safety"]["events"] == PUBLISHED["adverse_events"]
        and full["doses_total"] == PUBLISHED["doses"],
        hidden=small_any(full["safety"]["events"]),
    )

published = pd.DataFrame(published_rows)
st.table(published, hide_index=True)
collect("Published vs this dataset", CITATION, table=published)
matches = (published["Match"] == "✓ matches").sum()
withheld = (published["Match"] == "not shown (small count)").sum()
st.caption(
    f"{matches} of {len(published)} published figures match this dataset computed over all "
    "patients (no filters), with the data contract's definitions"
    + (f"; {withheld} are not shown in viewer mode (small counts)" if withheld else "")
    + ". The paper rounds some percentages and truncates others (10/43 = 23.26 % is printed "
    "23.2 %): either reading counts as a match. "
    f"Source: {CITATION}; and the group's 2020 preprint (doi:10.20944/preprints202012.0705.v1)."
)
