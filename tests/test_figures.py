"""Charts built from plain dicts (ui.theme.figure, no plotly validation on the way in) are valid plotly
figures, laid out as plotly's own helpers (make_subplots, add_hline) lay them out."""

import json

import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from tests.apptest import chart_specs, open_page
from ui import km

PAGES = ["edss", "safety", "relapse_free_survival"]


def layout_of(fig: go.Figure) -> dict:
    """The figure's layout as JSON, without the template."""
    layout = json.loads(fig.to_json())["layout"]
    layout.pop("template", None)
    return layout


@pytest.mark.parametrize("viewer", [False, True])
@pytest.mark.parametrize("page", PAGES)
def test_every_chart_on_the_page_passes_plotly_validation(page, viewer):
    # go.Figure(spec) validates every property: a misspelt one raises ValueError
    specs = chart_specs(open_page(page, viewer=viewer))
    assert specs
    for spec in specs:
        go.Figure(spec)


def test_km_panels_are_where_make_subplots_puts_them():
    reference = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.74, 0.26], vertical_spacing=0.16,
        subplot_titles=("", km.PANEL_TITLE),
    )
    expected = layout_of(reference)
    (title,) = expected.pop("annotations")
    expected["xaxis"].pop("showticklabels")  # make_subplots hides them; the KM chart shows them
    assert {k: v for k, v in km.GRID.items() if k != "title_y"} == expected
    assert (title["y"], title["yref"], title["yanchor"]) == (km.GRID["title_y"], "paper", "bottom")


def test_km_chart_puts_curves_on_the_upper_panel_and_numbers_at_risk_on_the_lower():
    specs = chart_specs(open_page("relapse_free_survival"))
    spec = next(s for s in specs if any(t.get("meta") == "at_risk" for t in s["data"]))
    for trace in spec["data"]:
        axes = (trace["xaxis"], trace["yaxis"])
        assert axes == (("x2", "y2") if trace["meta"] == "at_risk" else ("x", "y"))
    title = next(a for a in spec["layout"]["annotations"] if a["text"] == km.PANEL_TITLE)
    assert (title["x"], title["xanchor"]) == (0, "left")


def test_b_cell_chart_panels_and_threshold_lines_are_where_plotly_puts_them():
    spec = next(
        s for s in chart_specs(open_page("safety"))
        if any("<b>CD19</b>" in a.get("text", "") for a in s["layout"].get("annotations", []))
    )
    titles = [a["text"] for a in spec["layout"]["annotations"] if a["yref"] == "paper"]
    lines = [(a["text"], a["y"]) for a in spec["layout"]["annotations"] if a["yref"] != "paper"]
    reference = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=titles)
    for col in (1, 2):  # the demo has CD19 (cells/µL) and IgG (g/L): both panels drawn
        reference.add_scatter(x=[0], y=[0], row=1, col=col)
    reference.add_hline(y=lines[0][1], line_dash="dash", line_color="#D55E00", row=1, col=1,
                        annotation_text=lines[0][0])
    reference.add_hline(y=lines[1][1], line_dash="dash", line_color="#D55E00", row=1, col=2,
                        annotation_text=lines[1][0])
    reference.update_annotations(font={"size": 13})
    expected = layout_of(reference)
    for key in ("shapes", "annotations"):
        assert spec["layout"][key][: len(expected[key])] == expected[key]
    for axis in ("xaxis", "yaxis", "xaxis2", "yaxis2"):
        for key in ("anchor", "domain"):
            assert spec["layout"][axis][key] == expected[axis][key]


def test_forest_plot_panels_are_where_make_subplots_puts_them():
    spec = next(
        s for s in chart_specs(open_page("relapse_free_survival"))
        if any("Hazard ratio" in a.get("text", "") for a in s["layout"].get("annotations", []))
    )
    titles = [a["text"] for a in spec["layout"]["annotations"] if a["yref"] == "paper"][:2]
    reference = make_subplots(
        rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04, subplot_titles=titles,
    )
    for col in (1, 2):
        reference.add_scatter(x=[1], y=["a"], row=1, col=col)
        reference.add_vline(x=1, line_dash="dot", line_color="#888888", row=1, col=col)
    reference.update_annotations(font={"size": 13})
    expected = layout_of(reference)
    assert spec["layout"]["shapes"] == expected["shapes"]
    assert spec["layout"]["annotations"][:2] == expected["annotations"]
    for axis in ("xaxis", "yaxis", "xaxis2", "yaxis2"):
        for key in ("anchor", "domain", "matches", "showticklabels"):
            assert spec["layout"][axis].get(key) == expected[axis].get(key)
