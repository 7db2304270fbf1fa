"""One colour per subtype (Okabe–Ito, colour-blind safe), the same on every chart, and chart defaults."""

import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

SUBTYPE_COLOURS = {
    "RRMS": "#0072B2",
    "SPMS": "#E69F00",
    "NMOSD": "#009E73",
    "All": "#444444",
}
EXTRA_COLOURS = ["#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
CHANNEL_COLOURS = {"skype": "#0072B2", "whatsapp": "#009E73"}


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


def style(fig: go.Figure, height: int | None = None) -> go.Figure:
    """Apply the app's chart look; larger fonts in presentation mode."""
    big = presenting()
    fig.update_layout(
        template="plotly_white",
        font=dict(size=18 if big else 13, family='"Source Sans Pro", "Source Sans 3", sans-serif',
                  color="#31333F"),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
        margin=dict(l=10, r=10, t=40 if fig.layout.title.text else 30, b=10),
    )
    # Streamlit's chart theme sets its own small axis fonts: name them so a projector can be read
    tick, title = (17, 19) if big else (12, 13)
    fig.update_xaxes(tickfont_size=tick, title_font_size=title)
    fig.update_yaxes(tickfont_size=tick, title_font_size=title)
    fig.update_layout(legend_font_size=tick, hoverlabel_font_size=tick)
    if big:
        fig.update_annotations(font_size=tick)
    if height:
        fig.update_layout(height=int(height * (1.25 if big else 1)))
    return fig


pio.templates.default = "plotly_white"
