"""Does disability (EDSS) change between the first rituximab dose and the latest assessment?"""

import pandas as pd
import streamlit as st

from ui import data, endpoints, privacy
from ui.components import (
    MAX_PATIENTS_DRAWN,
    chart,
    counts_table,
    fmt,
    fmt_p,
    header,
    patient_lines,
    sample_note,
)
from ui.settings import min_count
from ui.theme import colour, customdata, figure, line_shape, subplots

filters, summary = header(
    "EDSS change",
    "Does disability (EDSS) change between the first rituximab dose and the latest follow-up "
    "assessment?",
)
viewer = privacy.viewer()
k = min_count()
order = list(summary["patients"]["by_subtype"])
total = summary["patients"]["total"]
change = summary["edss_change"]
groups = ["all", *order]

CHANGE_DEF = (
    "EDSS change = EDSS of the latest assessment inside the window (after the first-dose day, "
    "up to the last follow-up) minus the baseline EDSS."
)
CLASS_DEF = (
    "Worsened: change ≥ 1.5 with baseline 0, ≥ 1.0 with baseline 0.5–5.5, ≥ 0.5 with baseline "
    "> 5.5; improved: change ≤ −1.0 with baseline ≤ 5.5, ≤ −0.5 with baseline > 5.5; "
    "otherwise stable."
)
CLASS_COLOURS = {"worsened": "#D55E00", "stable": "#BBBBBB", "improved": "#56B4E9"}


def signed(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.2f}".replace("-", "−")


def signed_ci(low: float | None, high: float | None) -> str:
    """'(95 % CI −0.93 to −0.22)': 'to' because a dash between signed numbers misreads."""
    return "" if low is None or high is None else f"(95 % CI {signed(low)} to {signed(high)})"


def label(group: str) -> str:
    return "All" if group == "all" else group


cis = data.call("edss_change_statistics", filters).set_index("group")


def ci_of(group: str) -> tuple[float, float] | None:
    """The t-based 95 % CI of the group's mean change (analysis.stats), None where undefined."""
    if group not in cis.index or pd.isna(cis.at[group, "ci_low"]):
        return None
    return float(cis.at[group, "ci_low"]), float(cis.at[group, "ci_high"])


# patients with a follow-up EDSS: every one, or a fixed sample of them at registry scale
assessed = data.run("edss_change_per_patient", filters, max_patients=MAX_PATIENTS_DRAWN)
every_patient = not assessed["sampled"].any()
no_followup = total - change["all"]["n"]
if viewer:
    # patient-level charts leave out groups too small to show without identifying someone
    small_groups = [g for g in order if privacy.small(change[g]["n"])]
    plotted = assessed[~assessed["subtype"].isin(small_groups)].copy()
else:
    small_groups = []
    plotted = assessed.copy()
plotted["patient"] = privacy.anonymous_ids(plotted["patient_id"])

c1, c2, c3, c4 = st.columns(4)
c1.metric(
    "Patients with follow-up EDSS", privacy.pct(change["all"]["n"], total),
    help="Patients with ≥ 1 EDSS assessment inside their window, of the selected patients.",
)
ci_all = ci_of("all")
c2.metric(
    "Mean EDSS change (all)", signed(change["all"]["mean"]),
    help=f"{signed_ci(*(ci_all or (None, None))) or '95 % CI n/a'}. {CHANGE_DEF}",
)
c3.metric(
    "Worsened", privacy.pct(change["all"]["worsened"], change["all"]["n"]),
    help="Of patients with follow-up EDSS. " + CLASS_DEF,
)
c4.metric(
    "No follow-up EDSS", privacy.count(no_followup),
    help="Selected patients with no EDSS assessment inside their window: left out of the figures.",
)
if change["all"]["n"] == 0:
    st.info(
        "No selected patient has an EDSS assessment inside the follow-up window, so there is no "
        "EDSS change to show. Widen the filters."
    )
    st.stop()

if no_followup:
    st.info(
        f"{privacy.count(no_followup)} selected patient(s) have no follow-up EDSS inside their "
        "window and are left out of every figure on this page."
    )

st.subheader("Mean change per subtype")
mean_rows = []
for g in groups:
    c = change[g]
    ci = ci_of(g)
    hide = viewer and g != "all" and privacy.small(c["n"])
    mean_rows.append({
        "group": label(g), "n": c["n"],
        "mean": None if hide else c["mean"], "sd": None if hide else c["sd"],
        "ci_low": None if hide or ci is None else ci[0],
        "ci_high": None if hide or ci is None else ci[1],
        "p_ttest": None if hide else c["p_ttest"], "p_wilcoxon": None if hide else c["p_wilcoxon"],
        "hidden": hide,
    })
means = pd.DataFrame(mean_rows)
# every chart on this page from plain dicts, built once (ui.theme.figure): plotly's add_trace and
# update_* validated and searched the figure on every call (a third of a warm run of this page)
traces = []
for r in reversed([r for r in mean_rows if not r["hidden"] and r["mean"] is not None]):
    has_ci = r["ci_low"] is not None
    traces.append({
        "type": "scatter", "x": [r["mean"]], "y": [r["group"]], "mode": "markers+text",
        "showlegend": False, "name": r["group"],
        "marker": {
            "color": colour(r["group"]), "size": 13,
            "symbol": "diamond" if r["group"] == "All" else "square",
        },
        **({"error_x": {
            "type": "data", "symmetric": False, "array": [r["ci_high"] - r["mean"]],
            "arrayminus": [r["mean"] - r["ci_low"]], "color": colour(r["group"]), "thickness": 2.5, "width": 8,
        }} if has_ci else {}),
        "text": [signed(r["mean"])], "textposition": "top center",
        "customdata": [[privacy.count(r["n"]), signed_ci(r["ci_low"], r["ci_high"]) or "95 % CI n/a"]],
        "hovertemplate": (
            f"<b>{r['group']}</b><br>mean change %{{x:+.2f}} %{{customdata[1]}}"
            "<br>n = %{customdata[0]}<extra></extra>"
        ),
    })
fig = figure(traces, {
    "shapes": [line_shape("x", 0, {"color": "#888888", "dash": "dot"})],
    "xaxis": {"title": {"text": "Mean EDSS change (95 % CI)"}, "zeroline": False},
    "yaxis": {"categoryorder": "array", "categoryarray": [r["group"] for r in mean_rows][::-1]},
})
mean_table = means.drop(columns="hidden").assign(n=means["n"].map(privacy.count))
chart(
    fig, mean_table, "Mean EDSS change by subtype",
    f"{CHANGE_DEF} Mean with its t-based 95 % CI; no CI with fewer than two patients. "
    + "; ".join(f"{label(g)}: n = {privacy.count(change[g]['n'])}" for g in groups)
    + f" (patients with follow-up EDSS; {privacy.count(no_followup)} without)."
    + (f" Shared view: groups with fewer than {k} patients are not shown." if viewer else ""),
    height=140 + 60 * len(groups),
)
st.dataframe(
    pd.DataFrame([{
        "Group": r["group"],
        "n": privacy.count(r["n"]),
        "Mean change (95 % CI)": (
            f"hidden (< {k} patients)" if r["hidden"]
            else f"{signed(r['mean'])} {signed_ci(r['ci_low'], r['ci_high'])}".strip()
        ),
        "SD": "" if r["hidden"] else fmt(r["sd"], 2),
        "t-test": "" if r["hidden"] else fmt_p(r["p_ttest"], filters),
        "Wilcoxon": "" if r["hidden"] else fmt_p(r["p_wilcoxon"], filters),
    } for r in mean_rows]),
    hide_index=True, key="edss_means",
)
st.caption(
    "p-values test H0 “mean change = 0”: one-sample t-test (scipy ttest_1samp) and Wilcoxon "
    "signed-rank test (scipy wilcoxon defaults). 'n/a': not defined with fewer than two patients "
    "or when all changes are equal."
)
undefined = [label(g) for g in groups if change[g]["p_ttest"] is None and change[g]["n"] > 0]
if undefined:
    st.info(
        f"p n/a for {', '.join(undefined)}: a test needs at least two patients with follow-up EDSS "
        "whose changes are not all equal."
    )

st.subheader("Outcome classes")
class_rows = []
masked = []  # shared view: a group with a small class count is not drawn (its share would tell it)
for g in groups:
    c = change[g]
    hide = viewer and any(privacy.small(c[cls]) for cls in ("improved", "stable", "worsened"))
    if hide:
        masked.append(label(g))
    for cls in ("improved", "stable", "worsened"):
        class_rows.append({
            "group": label(g), "class": cls, "patients": c[cls], "of": c["n"],
            "pct": None if hide or not c["n"] else 100 * c[cls] / c["n"],
        })
classes = pd.DataFrame(class_rows)
traces = []
for cls in ("improved", "stable", "worsened"):
    d = classes[(classes["class"] == cls) & ~classes["group"].isin(masked)]
    traces.append({
        "type": "bar", "x": d["group"].to_numpy(), "y": d["pct"].to_numpy(), "name": cls,
        "marker": {"color": CLASS_COLOURS[cls]},
        "text": [privacy.count(n) for n in d["patients"]], "textposition": "inside",
        "customdata": customdata(d["patients"].map(privacy.count), d["of"].map(privacy.count)),
        "hovertemplate": (
            f"<b>%{{x}}</b> {cls}: %{{customdata[0]}} of %{{customdata[1]}} (%{{y:.1f}} %)"
            "<extra></extra>"
        ),
    })
fig = figure(traces, {
    "barmode": "stack", "legend": {"traceorder": "normal"},
    "yaxis": {"title": {"text": "% of patients with follow-up EDSS"}, "range": [0, 100]},
})
class_table = classes.assign(patients=classes["patients"].map(privacy.count),
                             of=classes["of"].map(privacy.count))
chart(
    fig, class_table, "EDSS outcome classes",
    f"Latest follow-up EDSS versus baseline. {CLASS_DEF} Numbers in the bars: patients; "
    + "; ".join(f"{label(g)}: n = {privacy.count(change[g]['n'])}" for g in groups) + ".",
    height=400,
)
if masked:
    st.info(
        f"Outcome classes not drawn for {', '.join(masked)}: a class holds fewer than {k} patients "
        "(shared view)."
    )

st.subheader("NEDA-3")
neda = summary["neda3"]
if neda is None:
    st.info(
        "NEDA-3 needs the optional mri table (new T2 and Gd-enhancing lesions), which this dataset "
        "does not have."
    )
else:
    neda_ci = data.call("group_intervals", filters)
    neda_rows = []
    for g in groups:
        n, evaluable = neda[g]["neda"], neda[g]["evaluable"]
        # shared view: a share whose count or complement is small would tell that count
        hide = viewer and (privacy.small(n) or privacy.small(evaluable - n))
        p = None if hide else neda_ci[g]["neda3"]
        neda_rows.append({
            "group": label(g), "neda": n, "evaluable": evaluable,
            "pct": p and p["pct"], "ci_low": p and p["ci_low"], "ci_high": p and p["ci_high"],
        })
    neda_df = pd.DataFrame(neda_rows)
    shown_neda = neda_df.dropna(subset=["pct"])
    fig = figure([
        {
            "type": "bar", "x": [f"{r['group']}<br>{privacy.pct(r['neda'], r['evaluable'])}"],
            "y": [r["pct"]], "name": r["group"], "marker": {"color": colour(r["group"])},
            "showlegend": False,
            "error_y": {"type": "data", "symmetric": False, "array": [r["ci_high"] - r["pct"]],
                        "arrayminus": [r["pct"] - r["ci_low"]], "color": "#333333"},
            "hovertemplate": (
                f"<b>{r['group']}</b><br>NEDA-3 {privacy.pct(r['neda'], r['evaluable'])} of evaluable"
                f"<br>95 % CI {r['ci_low']:.1f}–{r['ci_high']:.1f} %<extra></extra>"
            ),
        }
        for _, r in shown_neda.iterrows()
    ], {"yaxis": {"title": {"text": "NEDA-3 (% of evaluable patients)"}, "range": [0, 110]}})
    neda_table = neda_df.assign(neda=neda_df["neda"].map(privacy.count),
                                evaluable=neda_df["evaluable"].map(privacy.count))
    chart(
        fig, neda_table, "NEDA-3 by subtype",
        "No evidence of disease activity: no relapse, EDSS not worsened and no MRI activity (no "
        "new T2 and no Gd-enhancing lesion) inside the window, among evaluable patients (≥ 1 "
        "follow-up EDSS and ≥ 1 scan). 95 % CI: exact (Clopper–Pearson). Evaluable: "
        + "; ".join(f"{label(g)} {privacy.count(neda[g]['evaluable'])}" for g in groups) + ".",
        height=400,
    )
    no_evaluable = [label(g) for g in groups if neda[g]["evaluable"] == 0]
    if no_evaluable:
        st.info(
            f"NEDA-3 n/a for {', '.join(no_evaluable)}: no evaluable patient (needs a follow-up "
            "EDSS and a scan inside the window)."
        )
    hidden_neda = [
        r["group"] for r in neda_rows if r["pct"] is None and r["group"] not in no_evaluable
    ]
    if hidden_neda:
        st.info(
            f"NEDA-3 not shown for {', '.join(hidden_neda)}: fewer than {k} patients with or "
            "without NEDA-3 (shared view)."
        )

present = [g for g in order if g in set(plotted["subtype"])]
if not present:
    st.info(
        "Patient-level charts (distribution, waterfall, trajectories) are not shown: every "
        f"subtype has fewer than {k} patients with follow-up EDSS (shared view)."
    )
    st.stop()

st.subheader("Distribution of change")
box_stats = cis  # n, mean and the box's statistics per group (analysis.figures.edss_change_statistics)
traces = []
for g in present:
    d = plotted[plotted["subtype"] == g]
    if not every_patient:
        # registry scale: the box from its statistics, not from every patient's value
        b = box_stats.loc[g]
        traces.append({
            "type": "box", "x": [g], "name": g, "q1": [b["q1"]], "median": [b["median"]],
            "q3": [b["q3"]], "lowerfence": [b["low"]], "upperfence": [b["high"]],
            "mean": [b["mean"]], "marker": {"color": colour(g)}, "hoverinfo": "y",
        })
        continue
    traces.append({
        "type": "box", "y": d["edss_change"].to_numpy(), "name": g, "marker": {"color": colour(g)},
        "jitter": 0.4,
        "boxpoints": "all",  # every patient's point: at most MAX_PATIENTS_DRAWN of them
        "pointpos": 0, "boxmean": True,
        "customdata": customdata(d["patient"], d["baseline_edss"], d["edss_last"]),
        "hovertemplate": (
            "<b>%{customdata[0]}</b><br>baseline %{customdata[1]:.1f} → %{customdata[2]:.1f}"
            "<br>change %{y:+.1f}<extra></extra>"
        ),
    })
fig = figure(traces, {
    "shapes": [line_shape("y", 0, {"color": "#888888", "dash": "dot"})],
    "yaxis": {"title": {"text": "EDSS change (latest − baseline)"}, "dtick": 1},
    "showlegend": False,
})
if viewer:
    dist_table = box_stats.reindex(present)[["n", "mean", "q1", "median", "q3"]]
    dist_table = dist_table.rename_axis("subtype").reset_index()
    dist_table["n"] = dist_table["n"].map(privacy.count)
else:
    dist_table = plotted[
        ["patient_id", "subtype", "baseline_edss", "edss_last", "edss_change", "edss_class"]
    ]
chart(
    fig, dist_table, "EDSS change distribution",
    f"{CHANGE_DEF} Box: median and quartiles, whiskers to 1.5 × IQR, dashed line: mean"
    + ("; each point is one patient. " if every_patient else ". ")
    + "; ".join(f"{g}: n = {privacy.count(change[g]['n'])}" for g in present) + ".",
    height=420,
)

st.subheader("Waterfall of per-patient change")
wf_all = plotted.sort_values("rank").reset_index(drop=True)
if every_patient:  # the rank among the patients drawn (the shared view leaves small subtypes out)
    wf_all = wf_all.assign(rank=lambda x: x.index + 1)
n_waterfall = sum(change[g]["n"] for g in present)
wf_sampled = sample_note(len(wf_all), n_waterfall)
wf = wf_all.assign(rank=lambda x: x.index + 1)
traces = []
for g in present:
    d = wf[wf["subtype"] == g]
    traces.append({
        "type": "bar", "x": d["rank"].to_numpy(), "y": d["edss_change"].to_numpy(), "name": g,
        "marker": {"color": colour(g), "line": {"width": 0}},
        "customdata": customdata(d["patient"], d["baseline_edss"], d["edss_last"], d["edss_class"]),
        "hovertemplate": (
            f"<b>%{{customdata[0]}}</b> ({g})<br>baseline %{{customdata[1]:.1f}} → "
            "%{customdata[2]:.1f}<br>change %{y:+.1f} (%{customdata[3]})<extra></extra>"
        ),
    })
fig = figure(traces, {
    "bargap": 0.05, "barmode": "overlay",
    "xaxis": {"title": {"text": "Patients, sorted from largest increase to largest decrease"},
              "showticklabels": False},
    "yaxis": {"title": {"text": "EDSS change"}, "dtick": 1},
})
if viewer:
    wf_table = (
        counts_table(data.run("edss_change_counts", filters), "edss_change", "subtype", "patients", present)
        .sort_index(ascending=False)
    )
    wf_table = wf_table[wf_table.any(axis=1)].map(privacy.count).reset_index()
else:
    wf_table = wf_all[["rank", "patient_id", "subtype", "baseline_edss", "edss_last",
                       "edss_change", "edss_class"]]
chart(
    fig, wf_table, "EDSS change waterfall",
    wf_sampled
    + f"One bar per patient with follow-up EDSS (n = {privacy.count(n_waterfall)}), coloured by "
    f"subtype; bars above 0 are increases (worse), below 0 decreases. {CHANGE_DEF}"
    + (f" Shared view: subtypes with fewer than {k} patients left out; table as counts." if viewer
       else ""),
    height=400,
)

st.subheader("Trajectories")
trajectory = data.run("edss_trajectory_sample", filters, max_patients=MAX_PATIENTS_DRAWN)
trajectory = trajectory[trajectory["subtype"].isin(present)].copy()
trajectory["patient"] = privacy.anonymous_ids(trajectory["patient_id"])
binned = data.run("edss_visit_means", filters)
binned = binned[binned["subtype"].isin(present)].reset_index(drop=True)
if viewer:
    binned = binned[binned["patients"] >= k]
layout = subplots(rows=1, cols=len(present), shared_yaxes=True, subplot_titles=present,
                  horizontal_spacing=0.03)
followed = {g: summary["patients"]["by_subtype"][g] for g in present}
drawn = trajectory
traj_sampled = sample_note(trajectory["patient_id"].nunique(), sum(followed.values()))
traces = []
for i, g in enumerate(present, start=1):
    panel = {"xaxis": f"x{i if i > 1 else ''}", "yaxis": f"y{i if i > 1 else ''}"}
    lines = patient_lines(drawn, "months", "edss", "subtype", colour(g), g,
                          "<b>%{customdata}</b><br>month %{x:.1f}: EDSS %{y:.1f}", markers=False)
    traces.append(lines.to_plotly_json()
                  | {"name": f"{g} patients", "showlegend": False, "opacity": 0.35} | panel)
    b = binned[binned["subtype"] == g]
    traces.append({
        "type": "scatter", "x": b["visit"].to_numpy(), "y": b["mean"].to_numpy(),
        "mode": "lines+markers", "name": f"{g} mean",
        "line": {"color": colour(g), "width": 4}, "marker": {"size": 8}, "showlegend": False,
        "customdata": b["patients"].map(privacy.count).to_numpy(),
        "hovertemplate": (
            f"<b>{g} mean</b><br>month %{{x}} visit: EDSS %{{y:.2f}}"
            "<br>patients: %{customdata}<extra></extra>"
        ),
    } | panel)
    layout[f"xaxis{i if i > 1 else ''}"] |= {
        "title": {"text": "Months since first dose"}, "dtick": 6, "matches": "x",
    }
layout["yaxis"] |= {"title": {"text": "EDSS"}, "range": [-0.2, 10.2], "dtick": 1}
fig = figure(traces, layout)
bin_table = binned.assign(patients=binned["patients"].map(privacy.count))
chart(
    fig, bin_table, "EDSS trajectories",
    traj_sampled
    + "Thin lines: each patient's EDSS from baseline (month 0) through every assessment inside the "
    "window. Thick line: the subtype mean per 6-month visit (month 0 = baseline; each follow-up "
    "value goes to the nearest multiple of 6 months, at least 6; each patient counts once per "
    "visit, as the mean of their values there)"
    + (f"; shared view: visits with fewer than {k} patients have no mean. " if viewer else ". ")
    + "; ".join(f"{g}: {privacy.count(n)} patients" for g, n in followed.items()) + ".",
    height=440,
)

endpoints.cdw_section(filters, summary)
