"""One colour per subtype (Okabe–Ito, colour-blind safe), the same on every chart, and chart defaults."""

import copy
import functools
import json

import numpy as np
import plotly.express as px
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st
from plotly.subplots import make_subplots

SUBTYPE_COLOURS = {
    "RRMS": "#0072B2",
    "SPMS": "#E69F00",
    "NMOSD": "#009E73",
    "All": "#444444",
}
EXTRA_COLOURS = ["#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
CHANNEL_COLOURS = {"skype": "#0072B2", "whatsapp": "#009E73"}
FONT_FAMILY = '"Source Sans Pro", "Source Sans 3", sans-serif'
TRACE_TYPES = {"bar", "box", "histogram", "heatmap", "scatter", "scattergl", "violin", "pie", "table"}


def colour(subtype: str) -> str:
    """The subtype's colour; unknown subtypes get further Okabe–Ito colours in a stable order."""
    if subtype in SUBTYPE_COLOURS:
        return SUBTYPE_COLOURS[subtype]
    return EXTRA_COLOURS[sum(map(ord, subtype)) % len(EXTRA_COLOURS)]


def colour_map(subtypes) -> dict[str, str]:
    """Colours for a set of subtypes, for plotly express' color_discrete_map."""
    return {s: colour(s) for s in subtypes}


def presenting() -> bool:
    """Presentation mode: larger text for a projector."""
    return bool(st.session_state.get("present", False))


def _template(big: bool) -> go.layout.Template:
    """plotly_white with the app's fonts, legend and margins; larger text for a projector."""
    # Streamlit's chart theme sets its own small axis fonts: name them so a projector can be read
    base, tick, title = (18, 17, 19) if big else (13, 12, 13)
    white = pio.templates["plotly_white"]
    # plotly_white's look, with trace defaults only for the trace types the app draws: plotly copies
    # and validates a figure's template whenever plotly express or make_subplots sets it, and the
    # defaults of some forty trace types made that copy three times as costly
    template = go.layout.Template(
        layout=white.layout,
        data={k: v for k, v in white.data.to_plotly_json().items() if k in TRACE_TYPES},
    )
    template.layout.update(
        font={"size": base, "family": FONT_FAMILY, "color": "#31333F"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0,
                "font_size": tick},
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        hoverlabel_font_size=tick,
        # a template's xaxis/yaxis apply to every axis of the figure, subplots included
        xaxis={"tickfont_size": tick, "title_font_size": title},
        yaxis={"tickfont_size": tick, "title_font_size": title},
    )
    if big:
        template.layout.annotationdefaults = {"font_size": tick}
    return template


# Registered once at import: a chart then points at a validated template instead of building and
# validating one per chart (that was a quarter of a page run). Figures made anywhere in the app start
# with the normal one.
pio.templates["rce"] = _template(big=False)
pio.templates["rce_present"] = _template(big=True)
pio.templates.default = "rce"
# plotly express copies and applies its template while it builds a figure (a third of its time): it
# gets a light one with the same colours and margins, and style() (every chart) sets the full one
pio.templates["rce_express"] = go.layout.Template(layout={
    "colorway": pio.templates["rce"].layout.colorway,
    "colorscale": pio.templates["rce"].layout.colorscale,
    "margin": pio.templates["rce"].layout.margin,
})
px.defaults.template = "rce_express"


def figure(data: list[dict], layout: dict) -> go.Figure:
    """A figure from plain trace and layout dicts, taken as they are.

    plotly validates every property it is given, once on the way in and again on every add_trace
    and update_*: for the app's own figures (fixed keys, numpy arrays, strings and numbers) that was
    most of a warm page run. tests/test_figures.py builds each page's charts again with validation,
    so a misspelt property still fails a test.
    """
    return go.Figure(data=data, layout=layout, _validate=False)


def subplots(**grid) -> dict:
    """The layout plotly's make_subplots(**grid) makes (the axes' domains and anchors, the subplot
    titles), without a template: a trace goes on subplot k with xaxis="x<k>", yaxis="y<k>".
    make_subplots runs once per grid; a figure gets a copy."""
    return copy.deepcopy(_subplots(json.dumps(grid, sort_keys=True)))


@functools.lru_cache(maxsize=64)
def _subplots(grid: str) -> dict:
    layout = make_subplots(**json.loads(grid)).to_plotly_json()["layout"]
    layout.pop("template", None)
    return layout


def line_shape(axis: str, at: float, line: dict, panel: str = "") -> dict:
    """A line across a panel, as add_hline (axis "y") or add_vline (axis "x") draws it: at y (x)
    = at on the panel's axes x<panel>, y<panel>."""
    across = "x" if axis == "y" else "y"
    return {
        "type": "line", f"{axis}0": at, f"{axis}1": at, f"{axis}ref": f"{axis}{panel}",
        f"{across}0": 0, f"{across}1": 1, f"{across}ref": f"{across}{panel} domain", "line": line,
    }


def error_bars(mid, low, high, **style) -> dict:
    """A trace's asymmetric error bars from low to high around mid (pandas columns): plotly's
    error_x / error_y."""
    return {
        "type": "data", "symmetric": False, "array": (high - mid).to_numpy(),
        "arrayminus": (mid - low).to_numpy(), **style,
    }


def customdata(*columns) -> np.ndarray:
    """Columns of mixed types (numbers, labels) side by side as a trace's customdata: one array
    rather than a list of rows, which plotly walks and copies row by row (the same JSON)."""
    table = np.empty((len(columns[0]), len(columns)), dtype=object)
    for i, column in enumerate(columns):
        table[:, i] = column
    return table


def style(fig: go.Figure, height: int | None = None) -> go.Figure:
    """Apply the app's chart look (the registered template); larger fonts in presentation mode.

    Only known-good values are set (a registered template, whole numbers), so plotly's per-property
    validation is switched off while setting them, as plotly does itself for its default template.
    Margins a page set stay as they are.
    """
    big = presenting()
    layout = fig.layout
    layout._validate = False
    try:
        layout.template = pio.templates["rce_present" if big else "rce"]
        if layout.title.text and layout.margin.t is None:
            layout.margin.t = 40
        if height:
            layout.height = int(height * (1.25 if big else 1))
    finally:
        layout._validate = True
    return fig
