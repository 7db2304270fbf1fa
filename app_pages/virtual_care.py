"""How much do patients use the Skype education and WhatsApp peer groups, and do outcomes differ by use?"""

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from analysis.engagement import TERTILES
from ui import data, privacy
from ui.components import chart, fmt, header
from ui.settings import min_count
from ui.theme import CHANNEL_COLOURS, EXTRA_COLOURS, style

TERTILE_COLOURS = {"Low": "#D9C6E0", "Middle": "#B58BC4", "High": "#7B4B94"}
CHANNEL_NAMES = {"skype": "Skype", "whatsapp": "WhatsApp"}


filters, summary = header(
    "Virtual care",
    "How much do patients use the Skype education and WhatsApp peer groups, and do outcomes differ by use?",
)
if not data.has("engagement"):
    st.info("This dataset has no engagement table: there are no virtual-care contacts to show.")
    st.stop()

viewer = privacy.viewer()
k = min_count()
n_selected = summary["patients"]["total"]
monthly = data.run("engagement_monthly", filters)
totals = data.run("engagement_totals", filters)
totals = totals.assign(channel=totals["channel"].fillna("all")).set_index("channel")
if monthly.empty:
    st.info("No virtual-care contacts inside the selected patients' follow-up windows.")
    st.stop()

channels = sorted(monthly["channel"].unique())
channel_colour = {
    c: CHANNEL_COLOURS.get(c, EXTRA_COLOURS[i % len(EXTRA_COLOURS)]) for i, c in enumerate(channels)
}
channel_name = {c: CHANNEL_NAMES.get(c, c.capitalize()) for c in channels}
total_contacts = int(totals.at["all", "contacts"])
engaged = int(totals.at["all", "patients"])
tiles = st.columns(2 + len(channels))
tiles[0].metric("Contacts", privacy.count(total_contacts),
                help="Contacts from the first-dose day to last follow-up, selected patients.")
tiles[1].metric("Patients with a contact", privacy.pct(engaged, n_selected))
for col, c in zip(tiles[2:], channels):
    channel_total = int(totals.at[c, "contacts"])
    col.metric(f"{channel_name[c]} contacts", privacy.count(channel_total))

st.subheader("Contacts per month")
monthly["series"] = monthly["channel"].map(channel_name) + " · " + monthly["kind"].str.replace("_", " ")
series_colour, series_pattern = {}, {}
for c in channels:
    kinds = sorted(monthly.loc[monthly["channel"] == c, "series"].unique())
    for i, name in enumerate(kinds):
        series_colour[name] = channel_colour[c]
        series_pattern[name] = ["", "/", ".", "x", "-"][i % 5]
hide = privacy.suppress_cells(monthly["contacts"], monthly["channel"])
plotted = monthly[~hide]
fig = px.bar(
    plotted, x="month", y="contacts", color="series", pattern_shape="series",
    color_discrete_map=series_colour, pattern_shape_map=series_pattern,
    category_orders={"series": list(series_colour)},
    labels={"month": "Calendar month", "contacts": "Contacts", "series": ""},
)
fig.update_layout(barmode="stack", bargap=0.1)
fig.update_traces(hovertemplate="%{x|%b %Y}<br>%{y} contacts<extra>%{fullData.name}</extra>")
table = monthly.assign(month=monthly["month"].dt.strftime("%Y-%m")).drop(columns=["series"])
if viewer:
    table["contacts"] = privacy.shown_cells(table["contacts"], hide)
    table["patients"] = table["patients"].map(privacy.count)
hidden = (
    "" if len(plotted) == len(monthly)
    else f" Month × channel × kind counts below {k} (and one more per channel where needed) are hidden."
)
chart(
    fig, table, "Virtual-care contacts per month",
    f"Contacts per calendar month by channel (colour) and kind (pattern), inside the follow-up windows of "
    f"the {privacy.count(n_selected)} selected patients; {privacy.count(total_contacts)} contacts."
    f"{hidden}",
)

st.subheader("Contacts per patient")
# about 15 bins up to the 95th percentile; the long tail above shares one last bin
bins = data.run("contacts_per_patient_bins", filters)
width = int(bins["width"].iloc[0])
cap = width * 15
labels = {
    b: f"≥ {cap}" if b >= cap else (f"{b}" if width == 1 else f"{b}–{b + width - 1}")
    for b in range(0, int(bins["bin"].max()) + 1, width)
}
bins["contacts"] = bins["bin"].map(labels)
hide = privacy.suppress_cells(bins["patients"], bins["channel"])
plotted = bins[~hide]
fig = go.Figure()
for c in channels:
    d = plotted[plotted["channel"] == c]
    fig.add_bar(
        x=d["contacts"], y=d["patients"], name=channel_name[c], marker_color=channel_colour[c],
        hovertemplate="%{x} contacts<br>%{y} patients<extra>%{fullData.name}</extra>",
    )
fig.update_layout(barmode="group", bargap=0.15, xaxis_title="Contacts per patient (inside the window)",
                  yaxis_title="Patients")
fig.update_xaxes(type="category", categoryorder="array", categoryarray=list(labels.values()))
table = bins[["channel", "contacts", "patients"]].rename(columns={"contacts": "contacts_per_patient"})
if viewer:
    table["patients"] = privacy.shown_cells(table["patients"], hide)
hidden = (
    "" if len(plotted) == len(bins)
    else f" Bins with fewer than {k} patients (and one more per channel where needed) are hidden."
)
chart(
    fig, table, "Contacts per patient by channel",
    f"Each selected patient's contacts per channel inside the window (bins of {width}; the last bin holds "
    f"{cap} or more), patients with none included; {privacy.count(n_selected)} patients per channel."
    f"{hidden}",
    height=380,
)

st.subheader("Outcomes by engagement tertile (exploratory)")
by_tertile = data.call("tertile_outcomes", filters)
if by_tertile is None:
    st.info("Engagement tertiles need at least three selected patients with follow-up time.")
    st.stop()
by_tertile["label"] = [
    f"{t}<br>(n = {privacy.count(n)})" for t, n in zip(by_tertile["tertile"], by_tertile["patients"])
]
# one hidden tertile would follow from the overall figure (shown on other pages): hide all three
relapse_hidden = [privacy.breakdown_hidden(
    list(zip(by_tertile["relapse_free"], by_tertile["patients"]))
)] * len(by_tertile)
ae_hidden = [privacy.breakdown_hidden(
    list(zip(by_tertile["patients_with_ae"], by_tertile["patients"]))
)] * len(by_tertile)
edss_hidden = by_tertile["edss_n"].map(privacy.small)
colours = [TERTILE_COLOURS.get(t, "#999999") for t in by_tertile["tertile"]]
fig = make_subplots(
    rows=1, cols=3, horizontal_spacing=0.08,
    subplot_titles=("Relapse-free (%)", "Mean EDSS change (95 % CI)", "Patients with an AE (%)"),
)
fig.add_bar(
    x=by_tertile["label"], y=by_tertile["relapse_free_pct"].mask(relapse_hidden), marker_color=colours,
    text=[fmt(None if h else p, 1, " %") for p, h in zip(by_tertile["relapse_free_pct"], relapse_hidden)],
    customdata=[
        [privacy.HIDDEN if h else privacy.pct(r, n)]
        for r, n, h in zip(by_tertile["relapse_free"], by_tertile["patients"], relapse_hidden)
    ],
    textposition="inside", textangle=0, row=1, col=1, showlegend=False,
    hovertemplate="%{x}<br>%{customdata[0]}<extra>relapse-free</extra>",
)
edss_mean = by_tertile["edss_change_mean"].astype(float).mask(edss_hidden)
fig.add_trace(go.Scatter(
    x=by_tertile["label"], y=edss_mean, mode="markers",
    marker={"size": 14, "color": colours, "line": {"width": 1, "color": "#333333"}},
    error_y={
        "type": "data", "symmetric": False,
        "array": (by_tertile["edss_change_ci_high"].astype(float) - edss_mean),
        "arrayminus": (edss_mean - by_tertile["edss_change_ci_low"].astype(float)),
        "color": "#333333",
    },
    customdata=by_tertile[["edss_n"]].map(privacy.count),
    hovertemplate="%{x}<br>mean change %{y:.2f} (n = %{customdata[0]})<extra></extra>",
    showlegend=False,
), row=1, col=2)
fig.add_hline(y=0, line_color="#999999", line_width=1, row=1, col=2)
fig.add_bar(
    x=by_tertile["label"], y=by_tertile["patients_with_ae_pct"].mask(ae_hidden), marker_color=colours,
    text=[fmt(None if h else p, 1, " %") for p, h in zip(by_tertile["patients_with_ae_pct"], ae_hidden)],
    customdata=[
        [privacy.HIDDEN if h else privacy.pct(a, n)]
        for a, n, h in zip(by_tertile["patients_with_ae"], by_tertile["patients"], ae_hidden)
    ],
    textposition="outside", textangle=0, cliponaxis=False, row=1, col=3, showlegend=False,
    hovertemplate="%{x}<br>%{customdata[0]}<extra>with an adverse event</extra>",
)
fig.update_yaxes(range=[0, 105], row=1, col=1)
fig.update_yaxes(rangemode="tozero", row=1, col=3)
style(fig)
fig.update_layout(margin={"t": 60})

# cut points halfway between neighbouring tertiles, so that no single patient's rate is shown
ranked = by_tertile[by_tertile["tertile"].isin(TERTILES)].reset_index(drop=True)
cuts = [
    (ranked.at[i, "contacts_per_month_max"] + ranked.at[i + 1, "contacts_per_month_min"]) / 2
    for i in range(len(ranked) - 1)
]
bounds = [f"< {cuts[0]:.2f}", f"{cuts[0]:.2f}–{cuts[1]:.2f}", f"≥ {cuts[1]:.2f}"]
rate_range = dict(zip(TERTILES, bounds))
table = pd.DataFrame({
    "tertile": by_tertile["tertile"],
    "patients": by_tertile["patients"].map(privacy.count) if viewer else by_tertile["patients"],
    "contacts_per_month": [rate_range.get(t, "no follow-up time") for t in by_tertile["tertile"]],
    "relapse_free": [
        privacy.HIDDEN if h else privacy.pct(r, n)
        for r, n, h in zip(by_tertile["relapse_free"], by_tertile["patients"], relapse_hidden)
    ],
    "edss_n": by_tertile["edss_n"].map(privacy.count) if viewer else by_tertile["edss_n"],
    "edss_change_mean": [fmt(None if h else m, 2) for m, h in zip(by_tertile["edss_change_mean"], edss_hidden)],
    "edss_change_95ci": [
        "n/a" if h or lo is None or pd.isna(lo) else f"{lo:.2f} to {hi:.2f}"
        for lo, hi, h in zip(by_tertile["edss_change_ci_low"], by_tertile["edss_change_ci_high"], edss_hidden)
    ],
    "patients_with_ae": [
        privacy.HIDDEN if h else privacy.pct(a, n)
        for a, n, h in zip(by_tertile["patients_with_ae"], by_tertile["patients"], ae_hidden)
    ],
})
classified = by_tertile[by_tertile["tertile"].isin(TERTILES)]["patients"].sum()
chart(
    fig, table, "Outcomes by engagement tertile (exploratory)",
    "Exploratory, not a causal comparison: engagement was not assigned, and patients followed longer or "
    "doing worse may use the groups differently. Tertiles of contacts per month of follow-up among the "
    f"{privacy.count(classified)} selected patients with follow-up time ("
    + ", ".join(f"{t} n = {privacy.count(n)}" for t, n in zip(by_tertile["tertile"], by_tertile["patients"]))
    + "; contacts per month: "
    + ", ".join(f"{t} {r}" for t, r in rate_range.items())
    + "). Relapse-free: no relapse inside the window; EDSS change: latest follow-up minus baseline "
    "(patients with a follow-up EDSS); AE: at least one adverse event inside the window."
    + (f" A measure with a count below {k} in any tertile is hidden for all tertiles in the shared view."
       if any(relapse_hidden) or any(ae_hidden) else ""),
    height=400,
)
