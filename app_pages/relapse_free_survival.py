"""How long do patients stay relapse-free after their first rituximab dose, by subtype?"""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ui import data, endpoints, privacy
from ui.components import chart, counts_table, fmt, fmt_p, header
from ui.km import km_figure
from ui.settings import min_count
from ui.theme import colour

filters, summary = header(
    "Relapse-free survival",
    "How long do patients stay free of relapse after their first rituximab dose, and does it "
    "differ by subtype?",
)
viewer = privacy.viewer()
k = min_count()
order = list(summary["patients"]["by_subtype"])
total = summary["patients"]["total"]
relapsed = summary["relapses"]["patients_with_relapse"]
rfs = summary["rfs"]

TIME_DEF = (
    "Time = months (days / 30.4375) from the first rituximab dose to the first relapse inside the "
    "follow-up window (event; a relapse on the first-dose day is an event at month 0) or to the "
    "last follow-up (censored)."
)
CI_DEF = (
    "95 % CI: exponential Greenwood (log(−log)) formula, lifelines' default; [1, 1] where S = 1."
)


def estimate(group: str, months: int, at_risk: int) -> str:
    """S(t) with its CI from the summary, as shown in the estimates table."""
    value = (rfs.get(group) or {}).get("at_months", {}).get(str(months))
    if value is None:
        return "— (beyond follow-up)"
    if privacy.km_estimate_hidden(at_risk):
        return f"hidden (< {k} at risk)"
    if value["ci_low"] is None or value["ci_high"] is None:
        return f"{100 * value['s']:.1f} % (CI n/a)"
    return f"{100 * value['s']:.1f} % ({100 * value['ci_low']:.1f}–{100 * value['ci_high']:.1f})"


c1, c2, c3, c4 = st.columns(4)
c1.metric(
    "Relapse-free patients", privacy.pct(total - relapsed["all"], total),
    help="Patients with no relapse inside their window, of the selected patients.",
)
c2.metric("Relapses", privacy.count(summary["relapses"]["total"]), help="Relapses inside the windows.")
arr_all = summary["relapses"]["arr"]["all"]
c3.metric(
    "ARR (all)", fmt(arr_all and arr_all["rate"], 3),
    help="Annualised relapse rate: relapses inside windows / patient-years.",
)
median_all = rfs["all"]["median_months"]
c4.metric(
    "Median RFS (all)", "not reached" if median_all is None else fmt(median_all, 1, " months"),
    help="First time with S(t) ≤ 0.5; not reached when the curve stays above 0.5.",
)

st.subheader("Kaplan–Meier curves")
mode = st.radio(
    "Curves", ["By subtype", "Pooled"], key="km_group", horizontal=True, bind="query-params",
    help="One curve per subtype, or one curve for all selected patients together.",
)
km = data.call("km_curves", filters)
curves = km["by_subtype"] if mode == "By subtype" else [km["pooled"]]

p = rfs["logrank_p"]
if len(order) < 2:
    st.info(
        f"Log-rank test: p n/a — only one subtype ({', '.join(order)}) is selected; "
        "a comparison needs at least two."
    )
elif p is None:
    st.info("Log-rank test: p n/a — not defined for this selection (no relapse to compare).")
else:
    st.markdown(
        f"**Log-rank test across subtypes ({', '.join(order)}):** {fmt_p(p, filters)}",
        help="lifelines logrank_test (two groups) or multivariate_logrank_test (more).",
    )

fig, km_table, hidden = km_figure(curves, "Relapse-free (S)")
events_text = ", ".join(f"{g} {privacy.count(relapsed[g])}" for g in order)
chart(
    fig, km_table, "Relapse-free survival (Kaplan–Meier)",
    f"Kaplan–Meier estimate of relapse-free survival; step lines, | = censored. {TIME_DEF} "
    f"Shaded band: {CI_DEF} Number at risk = patients whose time is ≥ t. "
    f"n = {privacy.count(total)} patients, {privacy.count(relapsed['all'])} with a relapse "
    f"({events_text})."
    + (f" Shared view: each curve ends where fewer than {k} patients remain at risk; counts "
       f"below {k} show as '< {k}'." if viewer else ""),
    height=560,
)
if hidden:
    st.info(
        f"Curve not shown for {', '.join(hidden)}: fewer than {k} patients in the group "
        "(shared view hides small groups)."
    )



def median_text(median: float | None, ci: tuple[float | None, float | None]) -> str:
    """'14.2 (9.8 to not reached)'; 'not reached' when the curve stays above 0.5."""
    if median is None:
        return "not reached"
    low, high = ci
    return (f"{fmt(median, 1)} ({'n/a' if low is None else fmt(low, 1)} to "
            f"{'not reached' if high is None else fmt(high, 1)})")


st.subheader("Estimates per group")
estimate_rows = []
by_group = {"all": km["pooled"]} | {c.group: c for c in km["by_subtype"]}
for group, c in by_group.items():
    risk = c.at_risk([6, 12, 24])
    median = rfs[group]["median_months"] if rfs.get(group) else None
    estimate_rows.append({
        "Group": "All" if group == "all" else group,
        "Patients": privacy.count(c.n),
        "With relapse": privacy.count(relapsed[group]),
        "Median RFS (months, 95 % CI)": median_text(median, c.median_ci),
        "S(6 months) (95 % CI)": estimate(group, 6, risk[0]),
        "S(12 months) (95 % CI)": estimate(group, 12, risk[1]),
        "S(24 months) (95 % CI)": estimate(group, 24, risk[2]),
    })
st.dataframe(pd.DataFrame(estimate_rows), hide_index=True, key="rfs_estimates")
st.caption(
    f"S(t): share of patients still relapse-free at t months, from the step function at t "
    f"(the last event time ≤ t); '—' when t is beyond the group's longest observed time. {CI_DEF} "
    "Median: first time with S(t) ≤ 0.5; its 95 % CI: where the CI band's bounds cross 0.5 (lifelines "
    "median_survival_times)."
    + (f" Shared view: estimates with fewer than {k} patients at risk are hidden." if viewer
       else "")
)

st.subheader("Annualised relapse rate")
groups = data.run("group_summary", filters)
groups["group"] = groups["subtype"].fillna("All")
arr = summary["relapses"]["arr"]
arr_rows = []
for g in ["all", *order]:
    r = arr.get(g)
    row = groups[groups["group"] == ("All" if g == "all" else g)].iloc[0]
    arr_rows.append({
        "group": "All" if g == "all" else g,
        "relapses": int(row["relapses"]),
        "patient_years": float(row["patient_years"]),
        "arr": r and r["rate"], "ci_low": r and r["ci_low"], "ci_high": r and r["ci_high"],
    })
arr_df = pd.DataFrame(arr_rows)
plotted = arr_df.dropna(subset=["arr"])
fig = go.Figure()
for _, r in plotted.iloc[::-1].iterrows():
    fig.add_trace(go.Scatter(
        x=[r["arr"]], y=[r["group"]], mode="markers+text", name=r["group"], showlegend=False,
        marker={
            "color": colour(r["group"]), "size": 13,
            "symbol": "diamond" if r["group"] == "All" else "square",
        },
        error_x={
            "type": "data", "symmetric": False, "array": [r["ci_high"] - r["arr"]],
            "arrayminus": [r["arr"] - r["ci_low"]], "color": colour(r["group"]), "thickness": 2.5, "width": 8,
        },
        text=[f"{r['arr']:.2f} ({r['ci_low']:.2f}–{r['ci_high']:.2f})"], textposition="top center",
        customdata=[[privacy.count(r["relapses"]), r["patient_years"]]],
        hovertemplate=(
            f"<b>{r['group']}</b><br>ARR %{{x:.3f}} (95 % CI {r['ci_low']:.3f}–{r['ci_high']:.3f})"
            "<br>relapses: %{customdata[0]}<br>patient-years: %{customdata[1]:.1f}<extra></extra>"
        ),
    ))
fig.update_xaxes(title_text="Relapses per patient-year (95 % CI)", rangemode="tozero")
fig.update_yaxes(categoryorder="array", categoryarray=list(plotted["group"][::-1]),
                 range=[-0.5, len(plotted) - 0.2])  # room above the top row for its label
arr_table = arr_df.copy()
if viewer:
    arr_table["relapses"] = arr_table["relapses"].map(privacy.count)
chart(
    fig, arr_table, "Annualised relapse rate by subtype",
    "ARR = relapses inside the windows / patient-years (days from first dose to last follow-up / "
    "365.25); 95 % CI: exact Poisson (chi-square). "
    + "; ".join(
        f"{r['group']}: {privacy.count(r['relapses'])} relapse{'' if r['relapses'] == 1 and not viewer else 's'} in "
        f"{r['patient_years']:.1f} patient-years"
        for _, r in arr_df.iterrows()
    ) + ".",
    height=120 + 60 * len(plotted),
)
if len(plotted) < len(arr_df):
    st.info(
        "No ARR for " + ", ".join(arr_df.loc[arr_df["arr"].isna(), "group"])
        + ": the group has no patient-years."
    )

st.subheader("Attacks per patient")
relapse_free = total - relapsed["all"]
attacks = summary["relapses"]["attacks_per_patient"]
per_patient = {0: relapse_free} | {int(a): n for a, n in attacks.items()}
if viewer:
    # top-code the tail: single small bins could be solved for from the relapse total shown above
    top = max(per_patient)
    bins = privacy.top_code(per_patient)
    def bin_label(low: int, high: int) -> str:
        if low == high:
            return str(low)
        return f"≥ {low}" if high == top else f"{low}–{high}"

    labels = [bin_label(low, high) for low, high, _ in bins]
    counts = [n for _, _, n in bins]
    shown_text = [privacy.count(n) for n in counts]
    fig = go.Figure(go.Bar(
        x=labels, y=[0 if privacy.small(n) else n for n in counts], marker_color=colour("All"),
        text=shown_text, textposition="outside",
        hovertemplate="%{x} attacks: %{text} patients<extra></extra>",
    ))
    fig.update_yaxes(range=[0, 1.15 * max(counts)])
    attacks_table = pd.DataFrame({"attacks": labels, "patients": shown_text})
else:
    cross = counts_table(data.run("attacks_by_subtype", filters), "attacks", "subtype", "patients", order)
    fig = go.Figure()
    for g in order:
        fig.add_trace(go.Bar(
            x=[str(a) for a in cross.index], y=cross[g], name=g, marker_color=colour(g),
            hovertemplate=f"<b>{g}</b><br>%{{x}} attacks: %{{y}} patients<extra></extra>",
        ))
    fig.add_trace(go.Scatter(
        x=[str(a) for a in per_patient], y=list(per_patient.values()), mode="text",
        text=[f"{n:,}" for n in per_patient.values()], textposition="top center", showlegend=False,
        hoverinfo="skip",
    ))
    fig.update_layout(barmode="stack", legend_traceorder="normal")
    fig.update_yaxes(range=[0, 1.15 * max(per_patient.values())])
    attacks_table = cross.reset_index()
    attacks_table["all"] = attacks_table[order].sum(axis=1)
fig.update_xaxes(title_text="Relapses inside the window (0 = relapse-free)", type="category")
fig.update_yaxes(title_text="Patients")
chart(
    fig, attacks_table, "Attacks per patient",
    "Number of relapses each selected patient had inside the window; 0 = relapse-free "
    f"({privacy.pct(relapse_free, total)} of selected patients). "
    f"{privacy.count(relapsed['all'])} patients had ≥ 1 relapse, "
    f"{privacy.count(summary['relapses']['total'])} relapses in all.",
    height=380,
)

endpoints.models_section(filters, summary)
