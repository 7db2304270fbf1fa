"""Rituximab Cohort Explorer: entry point, navigation and the filters shared by every page."""

import streamlit as st

import ui  # noqa: F401  (first: it sets numpy's threads before numpy loads)
from queries import DatasetError
from ui import auth, data, filters
from ui.pages import ANALYSIS, DATA, REPORT
from ui.settings import clean_staging_at_start
from ui.text import plain

presenting = st.query_params.get("present") in ("true", "True", "1")
st.set_page_config(
    page_title="Rituximab Cohort Explorer",
    page_icon=":material/monitoring:",
    layout="wide",
    initial_sidebar_state="collapsed" if presenting else "auto",
)

clean_staging_at_start()  # once per server: patient data left by a killed import, never a running one
role = auth.gate()

data_page = st.Page(str(DATA.path), title=DATA.title, icon=DATA.icon, url_path=DATA.url_path)
try:
    data.dataset()
    st.session_state["filters"] = filters.sidebar()
except DatasetError as exc:
    st.error(f"The dataset cannot be opened: {plain(str(exc))}")
    if role != "team":
        st.stop()
    st.navigation([data_page]).run()  # the team can still import a dataset or switch back to another
    st.stop()

with st.sidebar:
    st.divider()
    st.toggle(
        "Presentation mode", key="present", bind="query-params",
        help="Larger text and charts for a projector; the sidebar starts collapsed. Kept in the link.",
    )
    if role == "team":
        st.toggle(
            "Preview viewer mode", key="preview_viewer",
            help="See the pages as a collaborator with the viewer role does: no patient IDs, "
            "counts below the minimum hidden, aggregate downloads only.",
        )

# a metric such as "2/99 (2.0 %)", and its label, wrap in a narrow column instead of being cut short
st.html(
    """<style>
    [data-testid="stMetricValue"] *, [data-testid="stMetricLabel"] * {
        white-space: normal !important; overflow: visible !important; line-height: 1.15 !important; }
    </style>"""
)
if st.session_state.get("present"):
    st.html(
        """<style>
        html, body, [data-testid="stAppViewContainer"] { font-size: 20px; }
        [data-testid="stMetricValue"] { font-size: 2.6rem; }
        [data-testid="stMarkdownContainer"] p, [data-testid="stCaptionContainer"] { font-size: 1.1rem; }
        [data-testid="stMetricValue"] p { font-size: inherit; }
        [data-testid="stTable"] td, [data-testid="stTable"] th { font-size: 1.05rem; }
        h1 { font-size: 2.6rem !important; }
        </style>"""
    )

pages = [
    st.Page(str(spec.path), title=spec.title, icon=spec.icon, url_path=spec.url_path, default=i == 0)
    for i, spec in enumerate((*ANALYSIS, REPORT))
]
if role == "team" and not st.session_state.get("preview_viewer"):
    pages.append(data_page)
st.navigation(pages).run()
