"""How do RRMS, SPMS and NMOSD patients differ in make-up, outcomes and course on rituximab?"""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from ui import data, privacy
from ui.components import MAX_PATIENTS_DRAWN, chart, counts_table, header, sample_note
from ui.settings import min_count
from ui.theme import colour

filters, summary = header(
    "Disease subtypes",
    "How do RRMS, SPMS and NMOSD patients differ in make-up, outcomes and course on rituximab?",
)
k = min_count()
by_subtype = summary["patients"]["by_subtype"]
order = list(by_subtype)
groups = ["All", *order]
sizes = {"All": summary["patients"]["total"]} | by_subtype
key_of = {"All": "all"} | {g: g for g in order}
edss_stats = data.call("edss_change_statistics", filters).set_index("group")
intervals = data.call("group_intervals", filters)
counts = data.run("group_summary", filters).assign(subtype=lambda d: d["subtype"].fillna("All"))
counts = counts.set_index("subtype")
has_mri, has_labs = summary["neda3"] is not None, summary["igg_low"] is not None


singles = [g for g in order if by_subtype[g] == 1]
if singles:
    st.info(
        f"{', '.join(singles)}: a single selected patient. Its SD and 95 % CI of the EDSS change "
        "are n/a (not defined for one value); its percentages rest on one patient.",
        icon=":material/info:",
    )
if not has_mri:
    st.info(
        "This dataset has no MRI table: NEDA-3 and active MRI scans are not available.",
        icon=":material/info:",
    )
if not has_labs:
    st.info("This dataset has no labs table: low IgG is not available.", icon=":material/info:")

size_hidden = privacy.suppress({g: (sizes[g], None) for g in groups})
relapsed = summary["relapses"]["patients_with_relapse"]
edss = summary["edss_change"]
neda = summary["neda3"] or {}
igg = summary["igg_low"] or {}
hide = {
    "patients": size_hidden,
    "free": privacy.suppress({g: (sizes[g] - relapsed[key_of[g]], sizes[g]) for g in groups}),
    "relapses": privacy.suppress({g: (int(counts.at[g, "relapses"]), None) for g in groups}),
    "edss_n": privacy.suppress({g: (edss[key_of[g]]["n"], None) for g in groups}),
    "neda": privacy.suppress({g: (neda[key_of[g]]["neda"], neda[key_of[g]]["evaluable"]) for g in groups})
    if neda
    else {},
    "igg": privacy.suppress({g: (igg[key_of[g]]["n"], igg[key_of[g]]["tested"]) for g in groups})
    if igg
    else {},
    "events": privacy.suppress({g: (int(counts.at[g, "adverse_events"]), None) for g in groups}),
}


def count_of(what: str, g: str, n: int) -> str:
    return privacy.shown(n, hide[what].get(g))


left, right = st.columns([1, 3], gap="large")
with left:
    st.subheader("Composition")
    shown = [g for g in order if g not in size_hidden]
    comp = pd.DataFrame(
        {
            "subtype": order,
            "patients": [count_of("patients", g, by_subtype[g]) for g in order],
            "percent of selected": [
                round(100 * by_subtype[g] / sizes["All"], 1) if g in shown else None for g in order
            ],
        }
    )
    fig = go.Figure(
        go.Bar(
            x=shown,
            y=[by_subtype[g] for g in shown],
            marker_color=[colour(g) for g in shown],
            text=[f"{by_subtype[g]} ({100 * by_subtype[g] / sizes['All']:.0f} %)" for g in shown],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}: %{text} patients<extra></extra>",
        )
    )
    fig.update_layout(showlegend=False, yaxis_title="Patients", xaxis_title=None)
    fig.update_yaxes(range=[0, 1.18 * max([by_subtype[g] for g in shown] or [1])])
    not_drawn = [g for g in order if g not in shown]
    chart(
        fig,
        comp,
        "Patients per subtype",
        f"Selected patients per disease subtype; n = {privacy.count(sizes['All'])}."
        + (
            f" Not drawn in viewer mode (small counts): {', '.join(not_drawn)}."
            if not_drawn
            else ""
        ),
        height=360,
    )

with right:
    st.subheader("Outcomes side by side")
    cells: dict[str, dict[str, str]] = {}
    rows = []  # the numbers behind the chart; what viewer mode hides is left empty
    for g in groups:
        key, n = key_of[g], sizes[g]
        arr, relapses = summary["relapses"]["arr"][key], int(counts.at[g, "relapses"])
        e = edss[key]
        ci = None if key not in edss_stats.index or pd.isna(edss_stats.at[key, "ci_low"]) else (
            edss_stats.at[key, "ci_low"], edss_stats.at[key, "ci_high"])
        events = int(counts.at[g, "adverse_events"])
        ae = intervals[key]["ae_per_1000_doses"]
        hide_arr = arr is None or g in hide["relapses"]
        hide_ae = ae is None or g in hide["events"]

        if arr is None:
            arr_text = "n/a (no patient-years)"
        elif hide["relapses"].get(g) == "secondary":
            arr_text = "hidden"
        elif hide_arr:
            arr_text = f"hidden ({privacy.count(relapses)} relapses)"
        else:
            arr_text = f"{arr['rate']:.2f} ({arr['ci_low']:.2f}–{arr['ci_high']:.2f})"
        if e["n"] == 0:
            edss_text = "n/a (no follow-up EDSS)"
        else:
            ci_text = "CI n/a" if ci is None else f"{ci[0]:+.2f} to {ci[1]:+.2f}"
            edss_text = f"{e['mean']:+.2f} ({ci_text}), n = {count_of('edss_n', g, e['n'])}"
        if ae is None:
            ae_text = f"{count_of('events', g, events)} (no doses)"
        elif hide["events"].get(g) == "secondary":
            ae_text = "hidden"
        elif hide_ae:
            ae_text = f"{privacy.count(events)} events"
        else:
            ae_text = f"{events} events · {ae['rate']:.1f} ({ae['ci_low']:.1f}–{ae['ci_high']:.1f})"
        g_neda, g_igg = neda.get(key), igg.get(key)
        cells[g] = {
            "Patients": count_of("patients", g, n),
            "Relapse-free, n of N (%)": privacy.share(n - relapsed[key], n, hide["free"].get(g)),
            "ARR, relapses / patient-year (95 % CI)": arr_text,
            "EDSS change, mean (95 % CI)": edss_text,
            "NEDA-3, n of evaluable (%)": (
                "n/a (no MRI table)"
                if g_neda is None
                else privacy.share(g_neda["neda"], g_neda["evaluable"], hide["neda"].get(g))
            ),
            f"Low IgG < {filters.igg_threshold:g} g/L, n of tested (%)": (
                "n/a (no labs table)"
                if g_igg is None
                else privacy.share(g_igg["n"], g_igg["tested"], hide["igg"].get(g))
            ),
            "Adverse events · per 1,000 doses (95 % CI)": ae_text,
        }

        def pct_or_none(n_: int, total: int, what: str, g: str = g) -> float | None:
            return None if not total or g in hide[what] else 100 * n_ / total

        rows.append(
            {
                "group": g,
                "patients": count_of("patients", g, n),
                "relapse_free_pct": pct_or_none(n - relapsed[key], n, "free"),
                "neda3_pct": pct_or_none(g_neda["neda"], g_neda["evaluable"], "neda")
                if g_neda
                else None,
                "neda3_evaluable": privacy.count(g_neda["evaluable"]) if g_neda else None,
                "low_igg_pct": pct_or_none(g_igg["n"], g_igg["tested"], "igg") if g_igg else None,
                "igg_tested": privacy.count(g_igg["tested"]) if g_igg else None,
                "arr": None if hide_arr else arr["rate"],
                "arr_ci_low": None if hide_arr else arr["ci_low"],
                "arr_ci_high": None if hide_arr else arr["ci_high"],
                "edss_change_mean": e["mean"],
                "edss_ci_low": ci[0] if ci else None,
                "edss_ci_high": ci[1] if ci else None,
                "edss_n": count_of("edss_n", g, e["n"]),
                "ae_per_1000_doses": None if hide_ae else ae["rate"],
                "ae_ci_low": None if hide_ae else ae["ci_low"],
                "ae_ci_high": None if hide_ae else ae["ci_high"],
            }
        )
    table = pd.DataFrame(cells)
    table.columns = [f"{g} (n = {count_of('patients', g, sizes[g])})" for g in groups]
    st.table(table.rename_axis("Outcome").reset_index(), hide_index=True)
    st.caption(
        "Inside each patient's window. Relapse-free: no relapse, % of patients. ARR: relapses / "
        "patient-years, exact Poisson CI. EDSS change: last follow-up EDSS − baseline, t-based CI. "
        "NEDA-3: no relapse, no EDSS worsening, no new T2 or Gd-enhancing lesion, among patients "
        "with a follow-up EDSS and a scan. Low IgG: ≥ 1 value below the threshold among patients "
        "tested. Adverse events per 1,000 doses, exact Poisson CI."
        + (
            f" Viewer mode: counts below {k} show as '< {k}', and one more group is hidden where a "
            "single hidden count could be worked out from the total."
            if privacy.viewer()
            else ""
        )
    )

st.subheader("Outcomes per subtype")
numbers = pd.DataFrame(rows)
per_group = numbers[numbers["group"] != "All"].set_index("group")
fig = make_subplots(rows=1, cols=4, column_widths=[0.37, 0.21, 0.21, 0.21], horizontal_spacing=0.07)
# panel names go under the axes: above them they would collide with the legend
for col, title in enumerate(
    ["% of patients", "ARR (relapses / patient-year)", "EDSS change (mean)", "AEs per 1,000 doses"],
    start=1,
):
    fig.update_xaxes(title_text=title, row=1, col=col)
measures = {"Relapse-free": "relapse_free_pct", "NEDA-3": "neda3_pct", "Low IgG": "low_igg_pct"}
if not has_mri:
    measures.pop("NEDA-3")
if not has_labs:
    measures.pop("Low IgG")


def error(g: str, low: str, high: str, value: str) -> dict:
    v, lo, hi = per_group.at[g, value], per_group.at[g, low], per_group.at[g, high]
    if pd.isna(v) or pd.isna(lo) or pd.isna(hi):
        return {"type": "data", "array": [0], "arrayminus": [0], "visible": False}
    return {
        "type": "data",
        "array": [hi - v],
        "arrayminus": [v - lo],
        "color": "#333333",
        "thickness": 1.5,
    }


for g in order:
    fig.add_trace(
        go.Bar(
            x=list(measures),
            y=[per_group.at[g, m] for m in measures.values()],
            name=g,
            marker_color=colour(g),
            legendgroup=g,
            hovertemplate=f"{g} · %{{x}}: %{{y:.1f}} %<extra></extra>",
        ),
        row=1,
        col=1,
    )
    for col, (value, low, high, fmt) in enumerate(
        [
            ("arr", "arr_ci_low", "arr_ci_high", ".2f"),
            ("edss_change_mean", "edss_ci_low", "edss_ci_high", "+.2f"),
            ("ae_per_1000_doses", "ae_ci_low", "ae_ci_high", ".1f"),
        ],
        start=2,
    ):
        fig.add_trace(
            go.Bar(
                x=[g],
                y=[per_group.at[g, value]],
                name=g,
                marker_color=colour(g),
                legendgroup=g,
                showlegend=False,
                error_y=error(g, low, high, value),
                hovertemplate=f"{g}: %{{y:{fmt}}}<extra></extra>",
            ),
            row=1,
            col=col,
        )
fig.update_layout(barmode="group", bargap=0.25)
fig.update_yaxes(range=[0, 100], ticksuffix=" %", row=1, col=1)
fig.update_yaxes(rangemode="tozero", row=1, col=2)
fig.update_yaxes(rangemode="tozero", row=1, col=4)
fig.update_yaxes(zeroline=True, zerolinecolor="#888888", row=1, col=3)
hidden_note = (
    f" Viewer mode: bars resting on fewer than {k} patients or events are not drawn."
    if privacy.viewer()
    else ""
)
chart(
    fig,
    numbers,
    "Outcomes per subtype",
    "Relapse-free and NEDA-3 (among evaluable patients) and low IgG (among patients tested) in "
    "% of patients; ARR with exact Poisson 95 % CI; mean EDSS change (last − baseline) with "
    "t-based 95 % CI; adverse events per 1,000 doses with exact Poisson 95 % CI. n per subtype: "
    + ", ".join(f"{g} {privacy.count(by_subtype[g])}" for g in order)
    + "."
    + hidden_note,
    height=400,
)

st.subheader("Every patient's course")
sort = st.radio(
    "Sort patients by",
    ["Follow-up", "Subtype"],
    key="swimmer_sort",
    horizontal=True,
    bind="query-params",
    help="Longest follow-up on top, or grouped by subtype (then by follow-up).",
)
swim = data.call("swimmer", filters, max_patients=MAX_PATIENTS_DRAWN)
lanes, events = swim["lanes"].copy(), swim["events"].copy()
sampled = sample_note(len(lanes), sizes["All"])
lanes["rank"] = lanes["subtype"].map({g: i for i, g in enumerate(order)})
lanes = lanes.sort_values(
    ["followup_months", "patient_id"]
    if sort == "Follow-up"
    else ["rank", "followup_months", "patient_id"],
    ascending=[False, True] if sort == "Follow-up" else [True, False, True],
)
lanes["label"] = privacy.anonymous_ids(lanes["patient_id"])
label_of = dict(zip(lanes["patient_id"], lanes["label"]))
events["label"] = events["patient_id"].map(label_of)
n_lanes = len(lanes)

fig = go.Figure()
for g in order:
    lane = lanes[lanes["subtype"] == g]
    fig.add_trace(
        go.Bar(
            y=lane["label"],
            x=lane["followup_months"],
            orientation="h",
            name=g,
            marker_color=colour(g),
            opacity=0.55,
            customdata=lane[["doses"]],
            hovertemplate=(
                f"%{{y}} · {g}<br>follow-up %{{x:.1f}} months · %{{customdata[0]}} doses"
                "<extra></extra>"
            ),
        )
    )
MARKERS = {
    "infusion": {
        "symbol": "line-ns-open",
        "size": 9,
        "color": "#222222",
        "line": {"width": 1.5, "color": "#222222"},
    },
    "relapse": {
        "symbol": "star",
        "size": 14,
        "color": "#D55E00",
        "line": {"width": 0.8, "color": "#222222"},
    },
    "adverse event": {
        "symbol": "diamond",
        "size": 12,
        "color": "#CC79A7",
        "line": {"width": 1, "color": "#222222"},
    },
    "active MRI scan": {
        "symbol": "square-open",
        "size": 11,
        "color": "#000000",
        "line": {"width": 2.2},
    },
}
for kind, marker in MARKERS.items():
    e = events[events["kind"] == kind]
    if e.empty:
        continue
    fig.add_trace(
        go.Scatter(
            x=e["months"],
            y=e["label"],
            mode="markers",
            name=kind,
            marker=marker,
            customdata=e[["detail"]],
            hovertemplate=(
                f"%{{y}} · {kind} at %{{x:.1f}} months<br>%{{customdata[0]}}<extra></extra>"
            ),
        )
    )
per_lane = 18 if n_lanes <= 60 else 15 if n_lanes <= 150 else 5
fig.update_layout(barmode="overlay", bargap=0.3, xaxis_title="Months since first dose")
fig.update_yaxes(
    categoryorder="array",
    categoryarray=list(lanes["label"]),
    range=[n_lanes - 0.5, -0.5],
    showticklabels=n_lanes <= 150,
    tickfont={"size": 10},
    title=None,
)
fig.update_xaxes(rangemode="tozero", showgrid=True, dtick=6)
if privacy.viewer():
    per_kind = counts_table(swim["per_kind"], "subtype", "kind", "events", list(MARKERS), order)
    behind = pd.DataFrame({"subtype": order})
    behind["patients"] = [count_of("patients", g, by_subtype[g]) for g in order]
    for kind in MARKERS:
        n = per_kind[kind]
        kind_hidden = privacy.suppress({g: (int(n[g]), None) for g in order})
        behind[kind] = [privacy.shown(int(n[g]), kind_hidden.get(g)) for g in order]
else:
    lane_of = {pid: i for i, pid in enumerate(lanes["patient_id"])}
    behind = swim["listing"].sort_values("patient_id", key=lambda ids: ids.map(lane_of), kind="stable")
    behind = behind.reset_index(drop=True)
missing_kinds = [
    kind
    for kind in MARKERS
    if kind not in set(events["kind"]) and (has_mri or kind != "active MRI scan")
]
chart(
    fig,
    behind,
    "Swimmer plot",
    sampled
    + f"One bar per selected patient (n = {privacy.count(n_lanes)}) from first dose to last "
    "follow-up, coloured by subtype; markers: infusions, relapses, adverse events and MRI scans "
    "with ≥ 1 new T2 or Gd-enhancing lesion, each inside the patient's window. "
    + (
        "Patients are numbered anonymously; the table lists events per subtype. "
        if privacy.viewer()
        else ""
    )
    + (f"None in this selection: {', '.join(missing_kinds)}. " if missing_kinds else "")
    + ("No MRI table, so no scans are marked. " if not has_mri else "")
    + ("Patient labels are hidden above 150 patients." if n_lanes > 150 else ""),
    height=140 + per_lane * n_lanes,
)
