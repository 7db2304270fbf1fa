"""Exports: CSV safe against formula injection, the provenance line on every chart, the HTML report."""

import io
import re

import pandas as pd
import plotly.graph_objects as go

from tests.apptest import chart_specs, open_page
from ui.components import safe_csv


def test_csv_cells_that_a_spreadsheet_would_run_are_escaped():
    df = pd.DataFrame({
        "term": ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "Flushing", "\t=1"],
        "change": [-0.5, 1.0, 0.0, 2.0, -1.5, 0.5],
    })

    text = safe_csv(df).decode()

    back = pd.read_csv(io.StringIO(text))
    assert back["term"].tolist() == ["'=HYPERLINK(\"http://x\")", "'+1+1", "'-2+3", "'@SUM(A1)", "Flushing", "'\t=1"]
    assert back["change"].tolist() == [-0.5, 1.0, 0.0, 2.0, -1.5, 0.5]  # numbers stay numbers


def test_every_chart_carries_the_provenance_line():
    at = open_page(
        "relapse_free_survival",
        {"subtype": ["RRMS", "SPMS"]},
        timeout=120,
        assert_no_exception=False,
    )

    specs = chart_specs(at)

    assert specs
    for spec in specs:
        texts = [a.get("text", "") for a in spec["layout"].get("annotations", [])]
        assert any(re.fullmatch(r"Dataset [0-9a-f]{12} · \d{4}-\d{2}-\d{2}<br>filters: subtypes: RRMS, SPMS<br>"
                                r"Rituximab Cohort Explorer [\d.]+", t) for t in texts), texts


def test_the_report_holds_every_pages_figures_and_the_provenance():
    at = open_page("report", {"subtype": ["NMOSD", "SPMS"]}, timeout=180, assert_no_exception=False)

    document = at.session_state["report_html"]

    assert not at.exception
    sections = re.findall(r"<h2>(.*?)</h2>", document)
    assert sections == ["Overview", "Disease subtypes", "Relapse-free survival", "EDSS change", "Safety",
                        "Virtual care"]
    for section, body in zip(sections, re.split(r"<h2>.*?</h2>", document)[1:]):
        assert "class='figure'" in body, f"{section} has no figure"
    assert document.count("<script type='text/javascript'>") == 1  # plotly.js once, inline: works offline
    assert "<script src=" not in document and "<link" not in document
    footer = re.search(r"<footer>(.*)</footer>", document).group(1)
    assert re.search(r"Dataset version [0-9a-f]{12} · filters: subtypes: SPMS, NMOSD|subtypes: NMOSD, SPMS", footer)
    assert "Rituximab Cohort Explorer 0.1.0" in footer
    assert "page-break-inside: avoid" in document
    figures = len(re.findall(r"class='figure'", document))
    plotted = len(re.findall(r"Plotly\.newPlot", document))
    assert plotted >= 10 and figures > plotted  # charts of every page plus the overview's tables


def test_a_chart_can_be_saved_as_svg():
    from ui.components import svg_bytes

    svg = svg_bytes(go.Figure(go.Bar(x=["RRMS"], y=[42])))

    assert svg.startswith(b"<svg")
