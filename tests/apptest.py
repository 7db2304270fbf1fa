"""Shared helpers for the AppTest page tests: open a page, read its elements, charts and tables.

Import them as ``from tests.apptest import ...`` (the tests run with the repository root on
``sys.path``, as ``python -m pytest`` from the root does).
"""

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
DEMO = ROOT / "data" / "demo"


def open_page(
    page: str,
    query: dict | None = None,
    *,
    viewer: bool = False,
    state: dict | None = None,
    secrets: dict | None = None,
    timeout: float = 60,
    assert_no_exception: bool = True,
) -> AppTest:
    """Run app.py with these query parameters, secrets and session state, then app_pages/<page>.py.

    ``viewer`` previews the shared (viewer) mode; ``assert_no_exception`` fails at once if either
    run raised, with the exceptions' messages.
    """
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    for key, value in (secrets or {}).items():
        at.secrets[key] = value
    for key, value in (state or {}).items():
        at.session_state[key] = value
    if viewer:
        at.session_state["preview_viewer"] = True
    at.run()
    at.switch_page(f"app_pages/{page}.py").run()
    if assert_no_exception:
        assert not at.exception, [e.value for e in at.exception]
    return at


def elements(at: AppTest, *, leaves_only: bool = False) -> Iterator[Any]:
    """Every node of the AppTest's element tree, depth first (with leaves_only, no containers)."""

    def walk(node: Any) -> Iterator[Any]:
        children = getattr(node, "children", None)
        if not (leaves_only and children):
            yield node
        for child in (children or {}).values():
            yield from walk(child)

    return walk(at._tree)


def element_text(at: AppTest, *, table_cells: bool = True) -> str:
    """Every element's protobuf (chart specs included), plus every table's cells, as one string."""
    parts = []
    for node in elements(at):
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        if table_cells and getattr(node, "type", None) in ("dataframe", "table"):
            parts.append(node.value.to_csv())
    return "\n".join(parts)


def page_text(at: AppTest) -> str:
    """The page's markdown, info and caption texts, one element a line."""
    return "\n".join(e.value for kind in ("markdown", "info", "caption") for e in at.get(kind))


def table_with(at: AppTest, column: str, *, unique: bool = False) -> pd.DataFrame:
    """The first dataframe with this column (with unique, the only one: else ValueError)."""
    found = (d.value for d in at.dataframe if column in d.value.columns)
    if unique:
        (table,) = found
        return table
    return next(found)


def plotly_values(v: Any, *, as_array: bool = False) -> list | np.ndarray:
    """A plotly JSON array (a list or a base64 typed array {"dtype", "bdata"}) as a list/ndarray."""
    if isinstance(v, dict) and "bdata" in v:
        array = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        return array if as_array else array.tolist()
    return np.asarray(v) if as_array else list(v or [])


def chart_specs(at: AppTest) -> list[dict]:
    """The plotly figure spec (data and layout) of every chart on the page, in page order."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def chart_spec(at: AppTest, y_title: str) -> dict:
    """The spec of the first chart whose y-axis title contains y_title."""
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if y_title in json.dumps(spec["layout"].get("yaxis", {}).get("title", {})):
            return spec
    raise AssertionError(f"no chart with y axis {y_title!r}")
