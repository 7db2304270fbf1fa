"""What does the whole cohort explorer show under the current filters, as one file to keep or print?"""

import runpy

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import StopException

from ui import data, privacy, report
from ui import filters as shared_filters
from ui.components import header
from ui.pages import ANALYSIS

filters, summary = header("Report", "Every page under the current filters, as one self-contained HTML file that opens "
              "offline in any browser and prints cleanly to PDF.")
download = st.empty()
st.divider()

sections = []
for spec in ANALYSIS:
    st.session_state["report_collector"] = []
    message = None
    with st.container(border=True):
        try:
            runpy.run_path(str(spec.path), run_name="__report__")
        except StopException:  # the page ended early with its own message (e.g. a missing table)
            pass
        except Exception as exc:  # noqa: BLE001 -- one page failing must not lose the others
            message = f"This page could not be drawn ({type(exc).__name__})."
            st.warning(message)
    sections.append({"title": spec.title, "figures": st.session_state.pop("report_collector"),
                     "message": message})

location, version = data.current()
selected = f"{privacy.count(summary['patients']['total'])} of {privacy.count(data.summary()['patients']['total'])} patients selected"
document = report.build(sections, shared_filters.describe(filters), version, selected, privacy.viewer())
st.session_state["report_html"] = document
download.download_button(
    "Download the report (HTML)", document, file_name=f"rituximab-cohort-report-{version}.html",
    mime="text/html", key="report_download", type="primary", icon=":material/download:",
)
