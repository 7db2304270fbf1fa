"""Cached access to the data layer: one Dataset per dataset version, results keyed by filters."""

import hashlib
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from analysis import bcells, disability, figures, models
from analysis import summary as summaries
from queries import Dataset, Filters
from queries.dataset import parse_location
from ui.settings import data_location, motherduck_token, s3_credentials

REMOTE_REFRESH_S = 600
# Every call a page makes: a name, and a plain function of the open dataset, the filters and
# parameters (queries/ and analysis/), so that the benchmark replays exactly what the pages read.
CALLS = {
    "run": lambda ds, filters, name, **params: ds.run(name, filters, **params),
    "summary": summaries.summary,
    "summary_counts": summaries.counts,
    "summary_base": summaries.base,
    "summary_part": summaries.part,
} | figures.CALLS | disability.CALLS | models.CALLS | bcells.CALLS


def signature(location: str) -> str:
    """A cheap version key: file names, sizes and modification times of a local dataset; for a remote
    one, a clock that turns every ten minutes so that new data is picked up."""
    loc = parse_location(location)
    if loc.kind in ("remote", "motherduck"):
        return f"remote-{int(time.time() // REMOTE_REFRESH_S)}"
    path = Path(location)
    files = sorted(path.glob("*.parquet")) if path.is_dir() else [path] if path.is_file() else []
    if not files:
        return "missing"
    stamp = [(f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    return hashlib.sha256(repr(stamp).encode()).hexdigest()[:12]


@st.cache_resource(show_spinner=False, max_entries=4)
def _dataset(location: str, version: str) -> Dataset:
    motherduck_token()
    return Dataset(location, s3=s3_credentials())


_this_run = threading.local()


def current() -> tuple[str, str]:
    """The active dataset location and its version key, read from disk (datasets/active.json, the
    files' stamps) once per script run: an activation by any process shows on the next run, and one
    run reads one version throughout."""
    ctx = get_script_run_ctx()
    run = getattr(ctx, "parallel_coordinator", None)  # a new object for every script run
    memo = getattr(_this_run, "memo", None)
    if run is not None and memo is not None and memo[0] is run:
        return memo[1]
    location = data_location()
    found = location, signature(location)
    _this_run.memo = (run, found) if run is not None else None
    return found


def dataset() -> Dataset:
    """The open active dataset (raises DatasetError when it cannot be opened)."""
    return _dataset(*current())


@st.cache_data(show_spinner=False, max_entries=1024)
def _call(location: str, version: str, kind: str, filters: Filters, params: tuple) -> object:
    return CALLS[kind](_dataset(location, version), filters, **dict(params))


def call(kind: str, filters: Filters | None = None, **params: object) -> object:
    """One data-layer call (CALLS) on the active dataset, cached by dataset version, filters and
    parameters: every page reads its rows through here."""
    return _call(*current(), kind, filters or Filters(), tuple(sorted(params.items())))


def run(name: str, filters: Filters | None = None, **params: object) -> pd.DataFrame:
    """queries/sql/<name>.sql on the active dataset (cached)."""
    return call("run", filters, name=name, **params)


class Summary(Mapping):
    """The summary.json of the active dataset for the filters, read like a dict: the selection's
    counts at once (every page's header), the other cheap keys on the first read of one of them, each
    costly one (analysis.summary.PARTS: Kaplan–Meier, tests, models) computed and cached when a page
    first reads it, so that a page pays only for what it shows."""

    def __init__(self, filters: Filters):
        self._filters = filters
        self._counts = call("summary_counts", filters)
        self._base: dict | None = None

    def __getitem__(self, key: str) -> object:
        if key in self._counts:
            return self._counts[key]
        if key in summaries.KEYS and not self._counts["patients"]["total"]:
            return None  # no patient selected: every figure is undefined (analysis.summary.base)
        if key in summaries.PARTS:
            return call("summary_part", self._filters, key=key)
        if key in summaries.KEYS:
            if self._base is None:
                self._base = call("summary_base", self._filters)
            return self._base[key]
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter([*self._counts, *summaries.KEYS])

    def __len__(self) -> int:
        return len(list(iter(self)))


def summary(filters: Filters | None = None) -> Summary:
    """The summary.json of the active dataset for the filters (cached, computed part by part)."""
    return Summary(filters or Filters())


def has(table: str, column: str | None = None) -> bool:
    """Whether the active dataset holds this table (and column)."""
    return dataset().has(table, column)
