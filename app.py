"""Rituximab Cohort Explorer: entry point, navigation and the filters shared by every page."""

import streamlit as st

from queries import DatasetError
from ui import data, filters

presenting = st.query_params.get("present") in ("true", "True", "1")
st.set_page_config(
    page_title="Rituximab Cohort Explorer",
    page_icon=":material/monitoring:",
    layout="wide",
    initial_sidebar_state="collapsed" if presenting else "auto",
)

try:
    data.dataset()
    st.session_state["filters"] = filters.sidebar()
except DatasetError as exc:
    st.error(f"The dataset cannot be opened: {exc}")
    st.stop()

with st.sidebar:
    st.divider()
    st.toggle(
        "Presentation mode", key="present", bind="query-params",
        help="Larger text and charts for a projector; the sidebar starts collapsed. Kept in the link.",
    )

if st.session_state.get("present"):
    st.html(
        """<style>
        html, body, [data-testid="stAppViewContainer"] { font-size: 20px; }
        [data-testid="stMetricValue"] { font-size: 2.6rem; }
        [data-testid="stMarkdownContainer"] p, [data-testid="stCaptionContainer"] { font-size: 1.1rem; }
        h1 { font-size: 2.6rem !important; }
        </style>"""
    )

pages = [
    st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("pages/subtypes.py", title="Disease subtypes", icon=":material/category:", url_path="subtypes"),
    st.Page(
        "pages/relapse_free_survival.py", title="Relapse-free survival",
        icon=":material/show_chart:", url_path="survival",
    ),
    st.Page("pages/edss.py", title="EDSS change", icon=":material/accessible:", url_path="edss"),
    st.Page("pages/safety.py", title="Safety", icon=":material/health_and_safety:", url_path="safety"),
    st.Page("pages/virtual_care.py", title="Virtual care", icon=":material/forum:", url_path="virtual-care"),
]
st.navigation(pages).run()
