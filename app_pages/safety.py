"""How safe is rituximab here: adverse events, IgG and platelets over time, infections and MRI activity?"""

import dataclasses

import pandas as pd
import plotly.express as px
import streamlit as st

from ui import data, endpoints, privacy
from ui.components import (
    MAX_PATIENTS_DRAWN,
    chart,
    fmt,
    fmt_ci,
    header,
    patient_lines,
    safe_csv,
    sample_note,
)
from ui.settings import min_count
from ui.theme import colour, colour_map, figure, line_shape

RELATION_COLOURS = {
    "during infusion": "#CC79A7",
    "post infusion": "#D55E00",
    "not infusion related": "#56B4E9",
}
LOW_PLATELETS = 100.0
PLATELET_LLN = 150.0


filters, summary = header(
    "Safety",
    "How safe is rituximab here: adverse events, IgG and platelets over time, infections and MRI activity?",
)
viewer = privacy.viewer()
k = min_count()
safety = summary["safety"]
n_selected = summary["patients"]["total"]
doses = summary["doses_total"]
order = list(summary["patients"]["by_subtype"])
events_small = privacy.small(safety["events"])

st.subheader("Adverse events")
per_1000 = safety["per_1000_doses"]
with_event = safety["patients_with_event"]
tiles = st.columns(5)
tiles[0].metric(
    "Adverse events", privacy.count(safety["events"]),
    help="Events with onset from the first-dose day to last follow-up, selected patients.",
)
if per_1000 is None or events_small:
    tiles[1].metric("Events per 1,000 doses", "n/a")
    tiles[1].caption("no doses inside the windows" if per_1000 is None else f"hidden: fewer than {k} events")
else:
    tiles[1].metric("Events per 1,000 doses", fmt(per_1000["rate"], 2))
    tiles[1].caption(f"{fmt_ci(per_1000['ci_low'], per_1000['ci_high'], 2)} · {doses:,} doses")
patients_small = privacy.small(with_event["n"]) or privacy.small(n_selected - with_event["n"])
tiles[2].metric("Patients with an event", privacy.pct(with_event["n"], n_selected))
if not patients_small:
    tiles[2].caption(fmt_ci(with_event["ci_low"], with_event["ci_high"], 1, " %"))
tiles[3].metric("Serious events", privacy.count(safety["serious"]))
opportunistic = safety["opportunistic_infections"]
tiles[4].metric(
    "Opportunistic infections", privacy.count(opportunistic),
    help=None if opportunistic is not None else "This dataset has no 'opportunistic' column.",
)
st.caption(
    "Exact Poisson 95 % CI for events per 1,000 doses (doses inside the windows); exact "
    "(Clopper–Pearson) 95 % CI for the share of the "
    f"{privacy.count(n_selected)} selected patients with at least one event."
)

ae = data.call("adverse_events", filters)
listing = ae["listing"]
if listing.empty:
    st.info("No adverse events inside the selected patients' follow-up windows.")
elif viewer:
    by_term = ae["by_term"].copy()
    by_term["events"] = by_term["events"].map(privacy.count)
    st.markdown("**Events by term** (shared view: no patient-level listing)")
    st.dataframe(by_term, hide_index=True, key="ae-by-term")
else:
    st.markdown("**Adverse event listing**")
    shown = listing.assign(onset_date=listing["onset_date"].dt.date)
    columns = ["patient_id", "subtype", "onset_date", "term", "relation", "grade", "serious"]
    columns += [c for c in ("outcome", "course") if data.has("adverse_events", c)]
    columns += ["days_since_last_infusion"]
    columns += [c for c in ("infection", "opportunistic") if data.has("adverse_events", c)]
    st.dataframe(
        shown[columns], hide_index=True, key="ae-listing",
        column_config={
            "patient_id": "Patient", "onset_date": "Onset",
            "days_since_last_infusion": st.column_config.NumberColumn(
                "Days since last infusion",
                help="Onset date minus the latest infusion on or before it (inside the window).",
            ),
        },
    )
    st.download_button(
        "Download listing (CSV)", safe_csv(shown[columns]), file_name="adverse-event-listing.csv",
        mime="text/csv", key="csv-ae-listing", icon=":material/download:",
    )

st.subheader("Events by term, relation and grade")
counts = ae["counts"]
if counts.empty:
    st.info("No adverse events to break down.")
else:
    by = ae["by_term_relation_grade"].copy()
    by["label"] = "grade " + by["grade"].astype(str)
    by["relation"] = by["relation"].str.replace("_", " ")
    plotted = by[~by["events"].map(privacy.small)]
    table = counts.copy()
    if viewer:
        table["events"] = table["events"].map(privacy.count)
    if plotted.empty:
        st.info(f"Every term × relation × grade count is below {k}: hidden in the shared view.")
        st.dataframe(table, hide_index=True, key="ae-breakdown-table")
    else:
        fig = px.bar(
            plotted, y="term", x="events", color="relation", text="label", orientation="h",
            color_discrete_map=RELATION_COLOURS,
            category_orders={"relation": list(RELATION_COLOURS)},
            labels={"term": "", "events": "Events", "relation": "Relation"},
        )
        fig.update_traces(textposition="inside", insidetextanchor="middle")
        fig.update_yaxes(categoryorder="total ascending")
        fig.update_xaxes(dtick=1 if plotted["events"].max() <= 10 else None, rangemode="tozero")
        hidden = "" if len(plotted) == len(by) else f" Bars for counts below {k} are hidden."
        chart(
            fig, table, "Adverse events by term, relation and grade",
            f"Adverse events inside the windows of the {privacy.count(n_selected)} selected patients, by "
            f"term, relation to infusion (colour) and CTCAE grade (label); {privacy.count(safety['events'])} "
            f"events in total.{hidden}",
            height=max(260, 60 + 45 * plotted["term"].nunique()),
        )

st.subheader("Immunoglobulin G")
if not data.has("labs"):
    st.info("This dataset has no labs table: IgG and platelet values cannot be shown.")
else:
    threshold = st.columns([1, 3])[0].number_input(
        "Low IgG threshold (g/L)", min_value=0.0, max_value=30.0, value=7.0, step=0.5,
        key="igg", bind="query-params",
        help="A patient counts as low IgG with at least one value below this after the first dose.",
    )
    by_group = data.run("group_summary", dataclasses.replace(filters, igg_threshold=float(threshold)))
    by_group = by_group.assign(group=by_group["subtype"].fillna("all")).set_index("group")
    groups = ["all", *order]
    hide_groups = privacy.breakdown_hidden(
        [(by_group.at[g, "igg_low"], by_group.at[g, "igg_tested"]) for g in order]
    )
    share = st.columns(len(groups))
    for col, g in zip(share, groups):
        n, tested = int(by_group.at[g, "igg_low"]), int(by_group.at[g, "igg_tested"])
        shown = privacy.HIDDEN if g != "all" and hide_groups else privacy.pct(n, tested)
        col.metric(f"{'All' if g == 'all' else g}: IgG < {threshold:g} g/L", shown)
    st.caption(
        f"Patients with at least one IgG value below {threshold:g} g/L after the first dose, of those "
        "with any IgG value inside the window (n/tested, %)."
        + (f" Per-subtype shares are hidden in the shared view because one of them is below {k}."
           if hide_groups else "")
    )

    # both charts' rows from one call: (test, bound of the "below" counts, bound of the marked values);
    # the rows per subtype and interval only for the shared view, the one table that shows them
    labs = data.call(
        "lab_values", filters,
        charts=(("IgG", float(threshold), None), ("platelets", LOW_PLATELETS, LOW_PLATELETS)),
        max_patients=MAX_PATIENTS_DRAWN, by_interval=viewer,
    )

    def lab_chart(test: str, axis: str, unit: str, line: dict, low: float | None = None,
                  faint: bool = False) -> dict | None:
        """One lab test over time: a line per patient (a fixed sample at registry scale), a
        reference line, the values below `low` marked; the table behind: the values (team) or
        per subtype and 6-month interval (shared view). None when there is no value."""
        lab = labs[test]
        values, marked = lab["sample"].copy(), lab["low"]
        if values.empty:
            return None
        # one numbering for the lines and the marked values, so that a patient keeps one label
        ids = values["patient_id"] if marked is None else pd.concat([values["patient_id"], marked["patient_id"]])
        label = dict(zip(ids, privacy.anonymous_ids(ids)))
        values["patient"] = values["patient_id"].map(label)
        # the chart from plain dicts, built once (ui.theme.figure): the reference line and its
        # label as add_hline draws them
        traces = [
            patient_lines(values, "months", "value", "subtype", colour(g), g,
                          f"%{{customdata}}<br>month %{{x:.1f}}: {unit}").to_plotly_json()
            | ({"marker": {"size": 4}, "opacity": 0.6} if faint else {})
            for g in order if (values["subtype"] == g).any()
        ]
        annotations = [{
            "text": line["text"], "showarrow": False, "x": 1, "xanchor": "right", "xref": "x domain",
            "y": line["y"], "yanchor": {"bottom right": "top", "top right": "bottom"}[line["position"]],
            "yref": "y",
        }]
        if marked is not None and not marked.empty:
            marked = marked.assign(patient=marked["patient_id"].map(label))
            traces.append({
                "type": "scatter", "x": marked["months"].to_numpy(), "y": marked["value"].to_numpy(),
                "mode": "markers", "name": f"< {low:g} ×10⁹/L",
                "marker": {"size": 13, "color": "#D55E00", "symbol": "diamond",
                           "line": {"width": 1, "color": "black"}},
                "customdata": marked[["patient"]].to_numpy(), "hovertemplate": (
                    "%{customdata[0]}<br>month %{x:.1f}<br>%{y:.1f} ×10⁹/L<extra>low platelets</extra>"
                ),
            })
            lowest = marked.loc[marked["value"].idxmin()]
            annotations.append({
                "x": lowest["months"], "y": lowest["value"], "ax": 110, "ay": 0, "xanchor": "left",
                "text": f"lowest {lowest['value']:g} ×10⁹/L ({lowest['subtype']})", "showarrow": True,
                "arrowhead": 2, "font": {"color": "#D55E00"},
            })
        fig = figure(traces, {
            "xaxis": {"title": {"text": "Months since first dose"}, "rangemode": "tozero"},
            "yaxis": {"title": {"text": axis}},
            "legend": {"title": {"text": "Subtype"}},
            "shapes": [line_shape("y", line["y"], {"color": line["colour"], "dash": "dash"})],
            "annotations": annotations,
        })
        if viewer:
            table = lab["by_interval"]
            for c in ("patients", "values", "below"):
                table[c] = table[c].map(privacy.count)
        else:
            table = values[["patient_id", "subtype", "sample_date", "months", "value", "unit"]]
        sampled = sample_note(values["patient_id"].nunique(), lab["patients"])
        return {"fig": fig, "table": table, "sampled": sampled, "patients": lab["patients"],
                "values": lab["values"], "low": marked}

    igg = lab_chart(
        "IgG", "IgG (g/L)", "IgG %{y:.1f} g/L",
        {"y": threshold, "colour": "#D55E00", "text": f"threshold {threshold:g} g/L",
         "position": "bottom right"},
    )
    if igg is None:
        st.info("No IgG values inside the selected patients' windows.")
    else:
        table = igg["table"]
        if viewer:
            table = table[["subtype", "months_from", "patients", "values", "median", "below"]]
            table = table.rename(columns={"median": "median_g_l"})
        chart(
            igg["fig"], table, "IgG over time",
            igg["sampled"] + "IgG values after the first dose (g/L), one line per patient, coloured by "
            f"subtype; {privacy.count(igg['patients'])} patients, {privacy.count(igg['values'])} values. "
            f"Dashed line: the threshold ({threshold:g} g/L).",
        )

    st.subheader("Platelets")
    platelets = lab_chart(
        "platelets", "Platelets (×10⁹/L)", "%{y:.1f} ×10⁹/L",
        {"y": PLATELET_LLN, "colour": "#555555", "text": "lower normal limit 150",
         "position": "top right"},
        low=LOW_PLATELETS, faint=True,
    )
    if platelets is None:
        st.info("No platelet values inside the selected patients' windows.")
    else:
        table = platelets["table"]
        if viewer:
            table = table[["subtype", "months_from", "patients", "values", "median", "minimum"]]
        low = platelets["low"]
        low_patients = low["patient_id"].nunique()
        chart(
            platelets["fig"], table, "Platelets over time",
            platelets["sampled"] + "Platelet counts after the first dose (×10⁹/L), one line per "
            f"patient; dashed line: lower normal limit 150; diamonds: values below {LOW_PLATELETS:g} "
            f"({privacy.count(len(low))} values in {privacy.count(low_patients)} "
            f"patient{'' if low_patients == 1 and not viewer else 's'}). "
            f"{privacy.count(platelets['patients'])} patients, {privacy.count(platelets['values'])} values.",
        )

endpoints.bcell_section(filters, summary)

st.subheader("Infections")
if not data.has("adverse_events", "opportunistic"):
    st.info("This dataset's adverse events have no 'opportunistic' column: opportunistic infections "
            "cannot be counted.")
else:
    infections = ae["infections"]
    if infections.empty:
        st.info(
            f"No infections recorded among the {privacy.count(len(listing))} adverse events of the selected "
            f"patients; opportunistic infections: {privacy.count(opportunistic)}."
        )
    elif viewer:
        table = ae["infections_by_term"].copy()
        table["events"] = table["events"].map(privacy.count)
        st.dataframe(table, hide_index=True, key="infections-by-term")
    else:
        st.dataframe(
            infections[["patient_id", "subtype", "onset_date", "term", "opportunistic", "grade", "serious"]],
            hide_index=True, key="infections-listing",
        )
    st.caption("Infections are adverse events flagged 'infection'; opportunistic ones are flagged "
               "'opportunistic'.")

st.subheader("MRI activity")
mri = summary["mri"]
if mri is None:
    st.info("This dataset has no mri table: MRI activity cannot be shown.")
else:
    tiles = st.columns(3)
    tiles[0].metric("Patients scanned", privacy.count(mri["scanned_patients"]))
    tiles[1].metric(
        "With new T2 lesions", privacy.pct(mri["new_t2_patients"], mri["scanned_patients"]),
        help="Patients with ≥ 1 new/enlarging T2 lesion on a scan after the first dose, of those scanned.",
    )
    tiles[2].metric(
        "With Gd-enhancing lesions", privacy.pct(mri["gd_patients"], mri["scanned_patients"]),
        help="Patients with ≥ 1 Gd-enhancing lesion on a scan after the first dose, of those scanned.",
    )
    per_group = data.run("group_summary", filters).set_index("subtype", drop=False)
    scanned_total = int(per_group.loc[per_group["subtype"].isna(), "scanned"].iloc[0])
    if scanned_total == 0:
        st.info("No scans inside the selected patients' windows.")
    else:
        rows = []
        for measure, column in (("New T2 lesions", "new_t2_patients"), ("Gd-enhancing lesions", "gd_patients")):
            counts = [
                (g, int(per_group.at[g, column]), int(per_group.at[g, "scanned"]))
                for g in order
                if g in per_group.index and per_group.at[g, "scanned"]
            ]
            hide = privacy.breakdown_hidden([(n, total) for _, n, total in counts])
            rows += [{
                "subtype": g, "measure": measure, "patients": n, "scanned": total,
                "pct": None if hide else 100 * n / total, "label": privacy.HIDDEN if hide else privacy.pct(n, total),
            } for g, n, total in counts]
        activity = pd.DataFrame(rows)
        hidden = (
            f" A measure whose per-subtype breakdown has a count below {k} is hidden in the shared view."
            if activity["label"].eq(privacy.HIDDEN).any() else ""
        )
        fig = px.bar(
            activity.dropna(subset=["pct"]), x="measure", y="pct", color="subtype", barmode="group",
            text="label",
            color_discrete_map=colour_map(order), category_orders={"subtype": order},
            custom_data=["label"],
            labels={"measure": "", "pct": "% of scanned patients", "subtype": "Subtype"},
        )
        fig.update_traces(textposition="outside", cliponaxis=False,
                          hovertemplate="%{x}<br>%{customdata[0]}<extra>%{fullData.name}</extra>")
        fig.update_yaxes(rangemode="tozero")
        table = activity.drop(columns=["label", "pct"]).assign(share=activity["label"])
        if viewer:
            table["patients"] = [
                privacy.HIDDEN if label == privacy.HIDDEN else privacy.count(n)
                for n, label in zip(table["patients"], activity["label"])
            ]
            table["scanned"] = table["scanned"].map(privacy.count)
        if activity["pct"].isna().all():
            st.info(f"MRI activity by subtype: every breakdown has a count below {k}; hidden in the "
                    "shared view.")
            st.dataframe(table, hide_index=True, key="mri-activity-table")
        else:
            chart(
                fig, table, "MRI activity by subtype",
                "Patients with ≥ 1 new/enlarging T2 lesion, or ≥ 1 Gd-enhancing lesion, on a scan after "
                f"the first dose, as % of scanned patients per subtype; {privacy.count(scanned_total)} "
                f"patients scanned.{hidden}",
                height=380,
            )

        lesions = data.run("mri_lesions_by_year", filters)
        total_scans = int(lesions["scans"].sum())
        lesions["label"] = "n = " + lesions["scans"].map(privacy.count)
        plotted = lesions[
            ~lesions["scans"].map(privacy.small) & ~lesions["new_t2_lesions"].map(privacy.small)
        ]
        fig = px.bar(
            plotted, x="months", y="new_t2_per_scan", color="subtype", barmode="group", text="label",
            color_discrete_map=colour_map(order), category_orders={"subtype": order},
            hover_data=(
                {"months": False} if viewer
                else {"scans": True, "new_t2_lesions": True, "gd_lesions": True, "months": False}
            ),
            labels={"months": "Months since first dose", "new_t2_per_scan": "New T2 lesions per scan",
                    "subtype": "Subtype", "scans": "Scans", "new_t2_lesions": "New T2 lesions",
                    "gd_lesions": "Gd-enhancing lesions"},
        )
        fig.update_traces(textposition="outside", cliponaxis=False)
        if viewer:
            fig.update_traces(hovertemplate="%{x} months<br>%{y:.2f} new T2 lesions per scan<extra></extra>")
            lesions.loc[~lesions.index.isin(plotted.index), "new_t2_per_scan"] = None
            for c in ("scans", "new_t2_lesions", "gd_lesions"):
                lesions[c] = lesions[c].map(privacy.count)
        hidden = (
            "" if len(plotted) == len(lesions)
            else f" Bars with fewer than {k} scans or lesions are hidden in the shared view."
        )
        chart(
            fig, lesions.drop(columns=["interval", "label"]), "MRI lesions over follow-up",
            "New/enlarging T2 lesions per scan (mean) by year of follow-up and subtype, scans after the first "
            f"dose; {privacy.count(total_scans)} scans (n = scans per bar).{hidden}",
            height=380,
        )
