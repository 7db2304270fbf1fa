"""Who is looking: the role (team or viewer) and, in viewer mode, no patient IDs and no small counts."""

import hashlib

import pandas as pd
import streamlit as st

from ui.settings import min_count


def role() -> str:
    """'team' or 'viewer' for the signed-in user; 'team' on a local run without sign-in."""
    return st.session_state.get("role", "team")


def viewer() -> bool:
    """True when the page must be safe to share: a viewer, or a team member previewing viewer mode."""
    return role() == "viewer" or bool(st.session_state.get("preview_viewer", False))


def small(n: int | float | None) -> bool:
    """A count that viewer mode hides (1 to k − 1)."""
    return viewer() and n is not None and 0 < n < min_count()


def count(n: int | float | None) -> str:
    """A count for display: '< k' for small counts in viewer mode."""
    if n is None or (isinstance(n, float) and pd.isna(n)):
        return "n/a"
    return f"< {min_count()}" if small(n) else f"{int(n):,}"


def anonymous_ids(ids: pd.Series) -> pd.Series:
    """Patient IDs as shown: themselves for the team, stable anonymous numbers for viewers."""
    if not viewer():
        return ids
    order = sorted(ids.dropna().unique(), key=lambda x: hashlib.sha256(str(x).encode()).hexdigest())
    numbers = {pid: f"Patient {i + 1}" for i, pid in enumerate(order)}
    return ids.map(numbers)
