"""Cached access to the data layer: one Dataset per dataset version, results keyed by filters."""

import hashlib
import time
from pathlib import Path

import pandas as pd
import streamlit as st

from queries import Dataset, Filters, summary as _summary_of
from queries.dataset import parse_location
from ui.settings import data_location, motherduck_token, s3_credentials


REMOTE_REFRESH_S = 600


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


def current() -> tuple[str, str]:
    """The active dataset location and its version key."""
    location = st.session_state.get("data_location") or data_location()
    return location, signature(location)


def dataset() -> Dataset:
    """The open active dataset (raises DatasetError when it cannot be opened)."""
    return _dataset(*current())


@st.cache_data(show_spinner=False, max_entries=512)
def _run(location: str, version: str, name: str, filters: Filters, params: tuple) -> pd.DataFrame:
    return _dataset(location, version).run(name, filters, **dict(params))


def run(name: str, filters: Filters | None = None, **params: object) -> pd.DataFrame:
    """queries/sql/<name>.sql on the active dataset, cached by dataset version, filters and params."""
    return _run(*current(), name, filters or Filters(), tuple(sorted(params.items())))


@st.cache_data(show_spinner=False, max_entries=256)
def _summary(location: str, version: str, filters: Filters) -> dict:
    return _summary_of(_dataset(location, version), filters)


def summary(filters: Filters | None = None) -> dict:
    """The summary.json of the active dataset for the filters (cached)."""
    return _summary(*current(), filters or Filters())


def has(table: str, column: str | None = None) -> bool:
    """Whether the active dataset holds this table (and column)."""
    return dataset().has(table, column)
