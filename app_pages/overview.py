"""How large is the selected cohort, who is in it, and does it reproduce the published study?"""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from analysis.published import PUBLISHED, compare
from queries import Filters
from ui import data, privacy
from ui.components import MAX_PATIENTS_DRAWN, chart, collect, fmt_p, header, safe_csv
from ui.settings import min_count
from ui.table1 import format_table
from ui.theme import colour

filters, summary = header(
    "Overview",
    "How large is the selected cohort, who is in it, and does it reproduce the published study?",
)
k = min_count()
total = summary["patients"]["total"]
order = list(summary["patients"]["by_subtype"])


c1, c2, c3, c4, c5, c6 = st.columns(6)
c1.metric(
    "Patients",
    privacy.count(total),
    help="Selected patients.",
)
c2.metric(
    "Patient-years",
    f"{summary['patient_years']:.1f}",
    help="Sum over patients of (last follow-up − first dose) in days / 365.25.",
)
c3.metric(
    "Doses",
    privacy.count(summary["doses_total"]),
    help="Rituximab infusions inside the patients' windows (first dose to last follow-up).",
)
with_relapse = summary["relapses"]["patients_with_relapse"]["all"]
free = total - with_relapse
if privacy.small(free):
    rf_value = f"< {100 * k / total:.1f} %"
    rf_note = f"{privacy.count(free)} of {privacy.count(total)} patients"
elif privacy.small(with_relapse):
    rf_value = f"≥ {100 * (total - k + 1) / total:.1f} %"
    rf_note = f"{privacy.count(with_relapse)} patients relapsed"
else:
    rf_value, rf_note = f"{summary['relapses']['relapse_free_pct']:.1f} %", f"{free} of {total} patients"
c4.metric(
    "Relapse-free",
    rf_value,
    rf_note,
    delta_color="off",
    delta_arrow="off",
    help="Patients with no relapse inside their window, % of selected patients.",
)
arr, relapses = summary["relapses"]["arr"]["all"], summary["relapses"]["total"]
if arr is None:
    arr_value, arr_note = "n/a", "no patient-years"
elif privacy.small(relapses):
    arr_value, arr_note = f"< {k / summary['patient_years']:.2f}", "CI hidden"
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
ae, events = summary["safety"]["per_1000_doses"], summary["safety"]["events"]
if ae is None:
    ae_value, ae_note = "n/a", "no doses"
elif privacy.small(events):
    ae_value, ae_note = f"< {1000 * k / summary['doses_total']:.1f}", "CI hidden"
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
    f"{privacy.count(relapses)} relapses in {summary['patient_years']:.1f} patient-years · "
    f"{privacy.count(events)} adverse events ({privacy.count(summary['safety']['serious'])} serious) in "
    f"{privacy.count(summary['doses_total'])} doses · 95 % CIs are exact Poisson intervals."
)

collect(
    "Key figures",
    "Relapse-free: no relapse inside the window. ARR: relapses / patient-years. AEs per 1,000 doses inside "
    "windows. 95 % CIs exact Poisson.",
    table=pd.DataFrame({
        "figure": ["Patients", "Patient-years", "Doses", "Relapse-free", "ARR", "AEs per 1,000 doses"],
        "value": [privacy.count(total), f"{summary['patient_years']:.1f}", privacy.count(summary["doses_total"]),
                  f"{rf_value} ({rf_note})", f"{arr_value} ({arr_note})", f"{ae_value} ({ae_note})"],
    }),
)

exposure = data.run("exposure_by_subtype", filters)
by_group = exposure.assign(subtype=exposure["subtype"].fillna("All")).set_index("subtype")
# up to MAX_PATIENTS_DRAWN selected patients the boxes are drawn from every patient's values (the
# sample is then every patient); beyond, from exposure_by_subtype's statistics
every_patient = total <= MAX_PATIENTS_DRAWN
sample = data.run("patient_sample", filters, max_patients=MAX_PATIENTS_DRAWN) if every_patient else None

st.subheader("Follow-up and doses")
fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08)
for g in order:
    for col, column in ((1, "followup"), (2, "doses")):
        if every_patient:  # plotly draws the box from every value, and the dots for the team
            group = sample[sample["subtype"] == g]
            values = group["followup_months" if column == "followup" else "doses"]
            box = {"y": values, "boxpoints": False if privacy.viewer() else "all", "jitter": 0.4,
                   "pointpos": 0, "marker_size": 4, "hoverinfo": "y" if privacy.viewer() else None}
        else:  # registry scale: the box from its statistics
            r = by_group.loc[g]
            box = {"x": [g], "q1": [r[f"{column}_q1"]], "median": [r[f"{column}_median"]],
                   "q3": [r[f"{column}_q3"]], "lowerfence": [r[f"{column}_low"]],
                   "upperfence": [r[f"{column}_high"]], "hoverinfo": "y"}
        fig.add_trace(go.Box(name=g, marker_color=colour(g), showlegend=False, **box), row=1, col=col)
fig.update_layout(boxgap=0.35, yaxis_title="Follow-up (months)", yaxis2_title="Rituximab doses")
exposure_table = exposure[exposure["subtype"].notna()][[
    "subtype", "patients", "followup_median", "followup_q1", "followup_q3", "doses_median",
    "doses_total",
]].set_index("subtype").reindex(order).reset_index()
exposure_table["patients"] = exposure_table["patients"].map(privacy.count)
exposure_table["doses_total"] = exposure_table["doses_total"].map(privacy.count)
chart(
    fig, exposure_table.round(2), "Follow-up and doses per subtype",
    "Follow-up = (last follow-up − first dose) in days / 30.4375; doses = rituximab infusions inside the "
    "window. Boxes: median and quartiles, whiskers to 1.5 × IQR"
    + ("" if privacy.viewer() or not every_patient else "; dots: patients")
    + ". n: " + ", ".join(f"{g} {privacy.count(summary['patients']['by_subtype'][g])}" for g in order) + ".",
    height=380,
)

st.subheader("Table 1 — baseline characteristics by subtype")
rows, notes = data.call("table_one", filters)
narrowed = filters.is_narrowed()
p_header = "p (exploratory — subgroup)" if narrowed else "p"
sizes = {"All": total} | summary["patients"]["by_subtype"]
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
    "count below 5 (scipy; the ANOVA with statsmodels). Follow-up and doses count inside each "
    "patient's window. "
    + (
        "P-values are exploratory: the filters narrow the cohort to a subgroup. "
        if narrowed
        else ""
    )
    + f"n = {privacy.count(total)} patients."
)
for note in notes:
    st.info(note, icon=":material/info:")
singles = [g for g, n in summary["patients"]["by_subtype"].items() if n == 1]
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
everyone = data.run("exposure_by_subtype", Filters())
published_rows = []
for c in compare(data.summary(Filters()), tuple(everyone.iloc[0][["followup_min", "followup_max"]])):
    hidden = (privacy.suppress(c.cells).get(c.cell) if c.cells
              else "small" if any(privacy.small(n) for n in c.counts) else None)
    published_rows.append({
        "Figure": c.figure,
        "Published": c.published,
        "This dataset (all patients)": (
            c.computed if not hidden
            else privacy.hidden_count(hidden, c.cells[c.cell][1] if c.cells else None, k)
        ),
        "Match": "not shown (small count)" if hidden else "✓ matches" if c.match else "✗ differs",
    })
published = pd.DataFrame(published_rows)
st.table(published, hide_index=True)
collect("Published vs this dataset", PUBLISHED["citation"], table=published)
matches = (published["Match"] == "✓ matches").sum()
withheld = (published["Match"] == "not shown (small count)").sum()
st.caption(
    f"{matches} of {len(published)} published figures match this dataset computed over all "
    "patients (no filters), with the data contract's definitions"
    + (f"; {withheld} are not shown in viewer mode (small counts)" if withheld else "")
    + ". The paper rounds some percentages and truncates others (10/43 = 23.26 % is printed "
    "23.2 %): either reading counts as a match. "
    f"Source: {PUBLISHED['citation']}; and the group's 2020 preprint ({PUBLISHED['preprint']})."
)
