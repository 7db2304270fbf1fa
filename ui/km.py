"""The Kaplan–Meier chart every survival section draws: step curves with CI bands and censor marks
over an aligned number-at-risk panel, cut for viewers by `privacy.km_cut`."""

import pandas as pd
import plotly.graph_objects as go

from analysis import survival
from ui import privacy
from ui.theme import colour, customdata, figure, presenting, subplots

# curves over the number-at-risk panel; traces name their panel's axes (ui.theme.subplots)
GRID = {
    "rows": 2, "cols": 1, "shared_xaxes": True, "row_heights": [0.74, 0.26],
    "vertical_spacing": 0.16, "subplot_titles": ["", "<b>Number at risk</b>"],
}
CURVES_AXES = {"xaxis": "x", "yaxis": "y"}
AT_RISK_AXES = {"xaxis": "x2", "yaxis": "y2"}


def rgba(hex_colour: str, alpha: float) -> str:
    """'#RRGGBB' as a plotly rgba() colour with the given opacity."""
    h = hex_colour.lstrip("#")
    return f"rgba({int(h[0:2], 16)}, {int(h[2:4], 16)}, {int(h[4:6], 16)}, {alpha})"


def km_figure(
    curves: list[survival.Curve], y_title: str, estimate: str = "S ="
) -> tuple[go.Figure, pd.DataFrame, list[str]]:
    """Step curves with CI bands and censor marks over a number-at-risk panel (viewer mode: cut
    where fewer than k are at risk, small counts hidden); the table behind it; groups not drawn.

    ``estimate`` names S(t) in the hover text ('S =', 'free of CDW'). Traces carry ``meta``
    ('ci_high', 'ci_low', 'curve', 'censor', 'at_risk') so tests can find them.
    """
    shown = [privacy.km_cut(c) for c in curves]
    last = max([float(c.durations.max()) for c in curves if c.n] + [0.0])
    times = survival.risk_times(last)
    # every trace as a dict, the figure built once (ui.theme.figure): no add_trace, update_*axes
    traces = []
    hidden = []
    for c in shown:
        col, pts = colour(c.group), c.points
        if pts.empty:
            hidden.append(c.group)
        else:
            months = pts["months"].to_numpy()
            # the band: the upper bound, then the lower bound filled up to it
            band = {"fill": "tonexty", "fillcolor": rgba(col, 0.15)}
            for bound, fill in (("ci_high", {}), ("ci_low", band)):
                traces.append({
                    "type": "scatter", "x": months, "y": pts[bound].to_numpy(), "mode": "lines",
                    "line": {"width": 0, "shape": "hv"}, "hoverinfo": "skip",
                    "showlegend": False, "legendgroup": c.group, "meta": bound, **fill,
                    **CURVES_AXES,
                })
            traces.append({
                "type": "scatter", "x": months, "y": pts["s"].to_numpy(), "mode": "lines",
                "meta": "curve", "legendgroup": c.group,
                "name": f"{c.group} (n = {privacy.count(c.n)})",
                "line": {"color": col, "width": 2.5, "shape": "hv"},
                "customdata": customdata(
                    pts["ci_low"], pts["ci_high"], [privacy.count(n) for n in pts["at_risk"]]
                ),
                "hovertemplate": (
                    f"<b>{c.group}</b><br>month %{{x:.1f}}<br>{estimate} %{{y:.1%}} "
                    "(95 % CI %{customdata[0]:.1%}–%{customdata[1]:.1%})<br>"
                    "at risk: %{customdata[2]}<extra></extra>"
                ),
                **CURVES_AXES,
            })
            if not c.censors.empty:
                traces.append({
                    "type": "scatter", "x": c.censors["months"].to_numpy(),
                    "y": c.censors["s"].to_numpy(), "mode": "markers",
                    "name": f"{c.group} censored", "legendgroup": c.group, "showlegend": False,
                    "meta": "censor",
                    "marker": {
                        "symbol": "line-ns-open", "size": 11, "color": col,
                        "line": {"width": 2, "color": col},
                    },
                    "hovertemplate": f"<b>{c.group}</b><br>censored at month %{{x:.1f}}"
                    "<extra></extra>",
                    **CURVES_AXES,
                })
        traces.append({
            "type": "scatter", "x": times, "y": [c.group] * len(times), "mode": "text",
            "text": [privacy.count(n) for n in c.at_risk(times)],
            "textfont": {"color": col}, "showlegend": False, "hoverinfo": "skip",
            "meta": "at_risk", "legendgroup": c.group, **AT_RISK_AXES,
        })
    layout = subplots(**GRID)
    layout["xaxis"] |= {
        "range": [-0.5, last + 0.5], "tickvals": times, "showticklabels": True,
        "title": {"text": "Months since first dose"},
    }
    layout["xaxis2"] |= {"tickvals": times, "showticklabels": False, "showgrid": False}
    layout["yaxis"] |= {"title": {"text": y_title}, "range": [0, 1.03], "tickformat": ".0%"}
    # half a row of room above the first group and below the last: autorange fits the rows'
    # centres only, which clipped the first row's numbers under the panel's title
    layout["yaxis2"] |= {
        "type": "category", "range": [len(shown) - 0.5, -0.5], "showgrid": False, "ticks": "",
        "categoryorder": "array", "categoryarray": [c.group for c in shown],
    }
    (title,) = layout["annotations"]
    title |= {"x": 0, "xanchor": "left"}
    title["font"] |= {"color": "#444444", "size": 18 if presenting() else 13}
    fig = figure(traces, layout)
    table = pd.concat(
        [c.points.assign(group=c.group) for c in shown] or [pd.DataFrame()], ignore_index=True
    )
    table = table.reindex(columns=["group", *survival.CURVE_COLUMNS])
    for column in ("at_risk", "events", "censored"):
        table[column] = privacy.counts(table[column])
    return fig, table, hidden
