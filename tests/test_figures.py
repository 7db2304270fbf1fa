"""Charts built from plain dicts (ui.theme.figure, no plotly validation on the way in) are valid plotly
figures, laid out as plotly's own helpers (make_subplots, add_hline) lay them out."""

import json

import pandas as pd
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from analysis import survival
from tests.apptest import chart_specs, open_page
from ui import km, theme

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


def test_subplots_is_make_subplots_layout_and_each_figure_gets_its_own_copy():
    grid = {"rows": 2, "cols": 1, "shared_xaxes": True, "row_heights": [0.74, 0.26],
            "vertical_spacing": 0.16, "subplot_titles": ["", "<b>Number at risk</b>"]}
    expected = layout_of(make_subplots(**grid))

    first = theme.subplots(**grid)
    first_as_made = json.loads(json.dumps(first))
    first["xaxis"]["range"] = [0, 1]
    first["annotations"][0]["x"] = 0
    second = theme.subplots(**grid)

    assert first_as_made == expected
    assert json.loads(json.dumps(second)) == expected


def test_line_shape_is_the_shape_add_hline_and_add_vline_draw():
    reference = make_subplots(rows=1, cols=2)
    for col in (1, 2):
        reference.add_scatter(x=[1], y=[1], row=1, col=col)
    reference.add_hline(y=10, line_dash="dash", line_color="#D55E00", row=1, col=2)
    reference.add_vline(x=1, line_dash="dot", line_color="#888888", row=1, col=1)

    assert layout_of(reference)["shapes"] == [
        theme.line_shape("y", 10, {"color": "#D55E00", "dash": "dash"}, "2"),
        theme.line_shape("x", 1, {"color": "#888888", "dash": "dot"}),
    ]


def km_reference(curves: list, y_title: str) -> go.Figure:
    """The Kaplan–Meier chart as plotly's helpers build it (make_subplots, add_trace(row=, col=),
    update_*axes, update_annotations): how ui.km drew it before it wrote the dicts itself."""
    last = max([float(c.durations.max()) for c in curves if c.n] + [0.0])
    times = survival.risk_times(last)
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.74, 0.26], vertical_spacing=0.16,
        subplot_titles=("", "<b>Number at risk</b>"),
    )
    for c in curves:
        col, pts = theme.colour(c.group), c.points
        band = {"fill": "tonexty", "fillcolor": km.rgba(col, 0.15)}
        for bound, fill in (("ci_high", {}), ("ci_low", band)):
            fig.add_trace(go.Scatter(
                x=pts["months"], y=pts[bound], mode="lines", line={"width": 0, "shape": "hv"},
                hoverinfo="skip", showlegend=False, legendgroup=c.group, meta=bound, **fill,
            ), row=1, col=1)
        fig.add_trace(go.Scatter(
            x=pts["months"], y=pts["s"], mode="lines", meta="curve", legendgroup=c.group,
            name=f"{c.group} (n = {c.n})", line={"color": col, "width": 2.5, "shape": "hv"},
            customdata=list(zip(pts["ci_low"], pts["ci_high"], pts["at_risk"].map(str))),
            hovertemplate=(
                f"<b>{c.group}</b><br>month %{{x:.1f}}<br>S = %{{y:.1%}} "
                "(95 % CI %{customdata[0]:.1%}–%{customdata[1]:.1%})<br>"
                "at risk: %{customdata[2]}<extra></extra>"
            ),
        ), row=1, col=1)
        if not c.censors.empty:
            fig.add_trace(go.Scatter(
                x=c.censors["months"], y=c.censors["s"], mode="markers",
                name=f"{c.group} censored", legendgroup=c.group, showlegend=False, meta="censor",
                marker={"symbol": "line-ns-open", "size": 11, "color": col,
                        "line": {"width": 2, "color": col}},
                hovertemplate=f"<b>{c.group}</b><br>censored at month %{{x:.1f}}<extra></extra>",
            ), row=1, col=1)
        fig.add_trace(go.Scatter(
            x=times, y=[c.group] * len(times), mode="text", text=[str(n) for n in c.at_risk(times)],
            textfont={"color": col}, showlegend=False, hoverinfo="skip", meta="at_risk",
            legendgroup=c.group,
        ), row=2, col=1)
    fig.update_xaxes(range=[-0.5, last + 0.5], tickvals=times, showticklabels=True,
                     title_text="Months since first dose", row=1, col=1)
    fig.update_xaxes(tickvals=times, showticklabels=False, showgrid=False, row=2, col=1)
    fig.update_yaxes(title_text=y_title, range=[0, 1.03], tickformat=".0%", row=1, col=1)
    fig.update_yaxes(type="category", range=[len(curves) - 0.5, -0.5], showgrid=False, ticks="",
                     row=2, col=1, categoryorder="array", categoryarray=[c.group for c in curves])
    fig.update_annotations(x=0, xanchor="left", font={"color": "#444444", "size": 13})
    return fig


def test_km_chart_is_the_chart_plotly_helpers_build():
    # two groups of a handful of patients (months, event), one censored at the end of each
    curves = [
        survival.curve("RRMS", pd.Series([2.0, 5.5, 5.5, 9.0, 14.0]),
                       pd.Series([True, True, False, True, False])),
        survival.curve("SPMS", pd.Series([1.0, 3.0, 8.5, 12.0]),
                       pd.Series([True, False, True, False])),
    ]

    fig, _, hidden = km.km_figure(curves, "Relapse-free (S)")

    assert hidden == []
    expected = json.loads(theme.style(km_reference(curves, "Relapse-free (S)")).to_json())
    assert json.loads(theme.style(fig).to_json()) == expected


def test_km_chart_puts_curves_on_the_upper_panel_and_numbers_at_risk_on_the_lower():
    specs = chart_specs(open_page("relapse_free_survival"))
    spec = next(s for s in specs if any(t.get("meta") == "at_risk" for t in s["data"]))
    for trace in spec["data"]:
        axes = (trace["xaxis"], trace["yaxis"])
        assert axes == (("x2", "y2") if trace["meta"] == "at_risk" else ("x", "y"))
    title = next(a for a in spec["layout"]["annotations"] if a["text"] == "<b>Number at risk</b>")
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
