"""Text from a dataset drawn in charts shows as written: plotly reads a few HTML tags (<a href>, <b>,
<span style>) in labels, legends and hovers, so every string of a chart's data is escaped first."""

import json
import shutil

import pandas as pd
import plotly.graph_objects as go
import pytest

from tests.apptest import DEMO, chart_specs, open_page
from ui.text import chart_data_as_text, chart_text

LINK = "<a href='https://evil.example'>click</a>"
SITE = "<span style='font-size:80px'>Tehran</span>"


def test_chart_text_escapes_tags_but_keeps_a_line_break():
    assert chart_text(LINK) == "&lt;a href='https://evil.example'&gt;click&lt;/a&gt;"
    assert chart_text("a<br>b & <b>c</b>") == "a<br>b &amp; &lt;b&gt;c&lt;/b&gt;"


def test_every_string_in_a_figures_traces_is_escaped_and_numbers_are_left_alone():
    fig = go.Figure(go.Bar(
        x=[LINK, "plain"], y=[1, 2], name="<b>bold</b>",
        customdata=pd.DataFrame({"id": ["<i>P1</i>", "P2"], "n": [1, 2]}).to_numpy(),
    ))

    chart_data_as_text(fig)

    trace = fig.data[0]
    assert list(trace.x) == [chart_text(LINK), "plain"]
    assert trace.name == "&lt;b&gt;bold&lt;/b&gt;"
    assert trace.customdata.tolist() == [["&lt;i&gt;P1&lt;/i&gt;", 1], ["P2", 2]]
    assert list(trace.y) == [1, 2]


@pytest.fixture
def hostile_demo(tmp_path, monkeypatch):
    """The demo cohort with an adverse-event term, a contact channel and a site that carry tags."""
    folder = tmp_path / "hostile"
    shutil.copytree(DEMO, folder)
    ae = pd.read_parquet(folder / "adverse_events.parquet")
    ae.loc[0, "term"] = LINK
    ae.to_parquet(folder / "adverse_events.parquet", index=False)
    contacts = pd.read_parquet(folder / "engagement.parquet")
    contacts.loc[contacts["channel"] == "whatsapp", "channel"] = "<b>whatsapp</b>"
    contacts.to_parquet(folder / "engagement.parquet", index=False)
    patients = pd.read_parquet(folder / "patients.parquet")
    # two sites, so that selecting one is a filter (named in every chart's provenance line)
    patients["site"] = SITE
    without_events = patients.index[~patients["patient_id"].isin(ae["patient_id"])]
    patients.loc[without_events[0], "site"] = "Shiraz"
    patients.to_parquet(folder / "patients.parquet", index=False)
    monkeypatch.setenv("RCE_DATA", str(folder))
    return folder


@pytest.mark.parametrize("page,shown", [
    ("safety", chart_text(LINK)),  # the adverse-event term, in the events-by-term chart
    ("virtual_care", "&lt;b&gt;whatsapp&lt;/b&gt;"),  # the channel, in legends and hovers
    ("overview", None),
])
def test_names_from_the_dataset_are_drawn_as_text(hostile_demo, page, shown):
    at = open_page(page, {"site": [SITE]})

    specs = json.dumps(chart_specs(at))

    assert specs  # the page drew charts
    if shown:
        assert shown in specs
    assert "&lt;span style=" in specs  # the site, in the provenance line's filters
    for raw in ("<a href=", "<b>whatsapp", "<span style="):  # the dataset's own tags, not the page's
        assert raw not in specs
