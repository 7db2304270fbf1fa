"""Building blocks every page uses: the selection header, charts with their tables, number formats."""

import datetime as dt
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from queries import Filters
from ui import data, privacy
from ui import filters as shared_filters
from ui.settings import APP_VERSION
from ui.text import chart_data_as_text, chart_text, plain
from ui.theme import style


def header(title: str, question: str) -> tuple[Filters, dict]:
    """Page title, 'n of N patients selected', the active filters; stops on an empty selection."""
    st.title(title)
    st.caption(question)
    f = shared_filters.current()
    s = data.summary(f)
    total = data.summary(Filters())["patients"]["total"]
    n = s["patients"]["total"]
    st.markdown(  # site names come from the dataset: shown as text, never as Markdown
        f"**{privacy.count(n)} of {privacy.count(total)} patients selected** · "
        f"{plain(shared_filters.describe(f))}"
    )
    if n == 0:
        st.info("No patients match the current filters. Widen the filters in the sidebar, or reset them.")
        st.stop()
    return f, s


def safe_csv(df: pd.DataFrame) -> bytes:
    """CSV that spreadsheets will not execute: text cells starting with = + - @ are quoted with '."""
    out = df.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(_escape_cell)
    out.columns = [_escape_cell(str(c)) for c in out.columns]
    return out.to_csv(index=False).encode("utf-8")


def _escape_cell(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "chart"


def with_provenance(fig: go.Figure) -> go.Figure:
    """The figure with the provenance line below the plot, so every exported image carries it."""
    if any(getattr(a, "name", None) == "provenance" for a in fig.layout.annotations):
        return fig
    margin_b = fig.layout.margin.b if fig.layout.margin.b is not None else 10
    # three short lines rather than one long one, so that narrow charts do not clip it
    _, version = data.current()
    text = (f"Dataset {version} · {dt.date.today().isoformat()}<br>"
            f"filters: {chart_text(shared_filters.describe(shared_filters.current()))}<br>"
            f"Rituximab Cohort Explorer {APP_VERSION}")
    note = {
        "text": text, "xref": "paper", "yref": "paper", "x": 0, "y": 0, "xanchor": "left",
        "yanchor": "top", "align": "left", "yshift": -(margin_b + 48), "showarrow": False,
        "font": {"size": 10, "color": "#777777"}, "name": "provenance",
    }
    # fixed keys and numbers: set without plotly's per-property validation (a quarter of the cost)
    fig.layout._validate = False
    try:
        fig.layout.margin.b = margin_b + 92
        fig.layout.annotations = (*fig.layout.annotations, note)
    finally:
        fig.layout._validate = True
    return fig


def svg_bytes(fig: go.Figure) -> bytes:
    """The figure as SVG, drawn by kaleido with the system's Chromium."""
    import plotly.io as pio

    return pio.to_image(fig, format="svg", width=fig.layout.width or 1100, height=fig.layout.height or 500)


def collect(name: str, caption: str, figure: go.Figure | None = None, table: pd.DataFrame | None = None) -> None:
    """Hand a figure or a table to the HTML report when the report page is drawing this page."""
    collected = st.session_state.get("report_collector")
    if collected is not None:
        collected.append({"name": name, "figure": figure, "table": table, "caption": caption})


def chart(fig: go.Figure, table: pd.DataFrame, name: str, caption: str, height: int | None = 420) -> None:
    """A plotly chart, its caption (definition and n), and the table behind it, viewable and as CSV.

    The chart's toolbar saves a PNG; an SVG is drawn on request. Both carry the provenance line.
    """
    chart_data_as_text(fig)
    style(fig, height)
    with_provenance(fig)
    slug = _slug(name)
    st.plotly_chart(
        fig,
        key=f"chart-{slug}",
        theme=None,  # the app's own chart look (ui.theme), which presentation mode can enlarge
        config={
            "displaylogo": False,
            "toImageButtonOptions": {"format": "png", "filename": slug, "scale": 3},
        },
    )
    st.caption(caption)
    collect(name, caption, figure=fig)
    with st.expander(f"Table behind “{name}”"):
        table_view(table, slug)
        st.download_button(
            "Download chart as SVG", lambda: svg_bytes(fig), file_name=f"{slug}.svg", mime="image/svg+xml",
            key=f"svg-{slug}", icon=":material/image:", on_click="ignore",
        )


def counts_table(
    rows: pd.DataFrame, index: str, columns: str, values: str, column_order: list,
    index_order: list | None = None,
) -> pd.DataFrame:
    """Long rows of counts (index, column, count) as a wide table to show: one column per entry of
    column_order (in that order), a count of 0 where the rows have none."""
    wide = rows.pivot(index=index, columns=columns, values=values)
    wide = wide.reindex(index=index_order) if index_order is not None else wide
    return wide.reindex(columns=column_order).fillna(0).astype(int)


MAX_TABLE_ROWS = 1000


def table_view(table: pd.DataFrame, slug: str) -> None:
    """A table on screen (the first rows at registry scale) and all of it as CSV, made on request."""
    if len(table) > MAX_TABLE_ROWS:
        st.dataframe(table.head(MAX_TABLE_ROWS), hide_index=True)
        st.caption(f"Showing the first {MAX_TABLE_ROWS:,} of {len(table):,} rows; the CSV has all of them.")
    else:
        st.dataframe(table, hide_index=True)
    st.download_button(
        "Download CSV", lambda: safe_csv(table), file_name=f"{slug}.csv", mime="text/csv",
        key=f"csv-{slug}", icon=":material/download:", on_click="ignore",
    )


MAX_PATIENTS_DRAWN = 300


def sample_note(drawn: int, selected: int) -> str:
    """What a per-patient chart says when it draws a fixed sample ('' when it draws everyone)."""
    if drawn >= selected:
        return ""
    return (f"Drawn: a fixed random sample of {drawn:,} of the {selected:,} selected patients "
            "(narrow the filters to draw every patient). ")


def patient_lines(
    frame: pd.DataFrame, x: str, y: str, group: str, colour: str, name: str | None = None,
    hover: str = "%{customdata}<br>month %{x:.1f}: %{y:.1f}", markers: bool = True,
) -> go.Scatter:
    """One trace holding every patient's line of a group, broken between patients by gaps: hundreds
    of patients draw as fast as one (a trace per patient would not)."""
    rows = frame[frame[group] == name] if name is not None else frame
    # by patient (sorted labels), then x; a gap after each patient's last point (numpy: a third of
    # the time of sorting and concatenating data frames)
    patients = rows["patient"].to_numpy()
    codes = pd.factorize(patients, sort=True)[0]
    order = np.lexsort((rows[x].to_numpy(), codes))
    codes, patients = codes[order], patients[order]
    ends = np.flatnonzero(np.diff(codes, append=-1)) + 1 if len(codes) else np.array([], int)
    return go.Scatter(
        x=np.insert(rows[x].to_numpy(dtype=float)[order], ends, np.nan),
        y=np.insert(rows[y].to_numpy(dtype=float)[order], ends, np.nan),
        customdata=np.insert(patients, ends, patients[ends - 1]),
        mode="lines+markers" if markers else "lines",
        name=name, legendgroup=name, line={"color": colour, "width": 1}, marker={"size": 5},
        opacity=0.75, connectgaps=False, hovertemplate=hover + "<extra>" + (name or "") + "</extra>",
    )


def fmt(x: float | None, digits: int = 1, suffix: str = "") -> str:
    """A number with fixed decimals, or 'n/a' when undefined."""
    return "n/a" if x is None or pd.isna(x) else f"{x:.{digits}f}{suffix}"


def fmt_ci(low: float | None, high: float | None, digits: int = 1, suffix: str = "") -> str:
    """'(95 % CI a–b)' or '' when undefined."""
    if low is None or high is None:
        return ""
    dash = " to " if low < 0 or high < 0 else "–"
    return f"(95 % CI {low:.{digits}f}{dash}{high:.{digits}f}{suffix})"


def fmt_p(p: float | None, f: Filters | None = None) -> str:
    """'p = 0.060' ('p < 0.001'), 'p n/a' when undefined; labelled exploratory on a narrowed cohort."""
    if p is None or pd.isna(p):
        text = "p n/a"
    elif p < 0.001:
        text = "p < 0.001"
    else:
        text = f"p = {p:.3f}"
    f = f or shared_filters.current()
    return f"{text} (exploratory — subgroup)" if f.is_narrowed() and p is not None else text
