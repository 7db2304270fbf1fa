"""The sidebar filters shared by every page, bound to the URL so that a shared link opens the same view."""

import math
import time

import pandas as pd
import streamlit as st

from queries import Filters, subtype_order
from ui import data
from ui.text import plain

KEYS = ("followup", "doses", "subtype", "sex", "site", "age")
# how long the notices about ignored link values are shown again on each run (see sidebar)
NOTICE_SECONDS = 12


def _span(lo: float, hi: float) -> tuple[int, int]:
    """Whole-number slider limits around [lo, hi]; never equal (a slider needs min < max)."""
    if pd.isna(lo) or pd.isna(hi):  # no patients at all
        return (0, 1)
    lo, hi = math.floor(lo), math.ceil(hi)
    return (lo, hi) if hi > lo else (lo, lo + 1)


def bounds() -> dict:
    """The unfiltered cohort's ranges and categories, which set the widgets' limits and defaults."""
    b = data.run("filter_bounds").iloc[0]
    return {
        "followup": _span(b["followup_min"], b["followup_max"]),
        "doses": _span(b["doses_min"], b["doses_max"]),
        "age": _span(b["age_min"], b["age_max"]),
        "subtypes": subtype_order(list(b["subtypes"])),
        "sexes": sorted(b["sexes"]),
        "sites": sorted(b["sites"]),
        "total": int(b["total"]),
    }


def _url_notices(b: dict) -> list[str]:
    """Values in the link that the widgets will ignore, to say so instead of silently dropping them."""
    notices = []
    qp = st.query_params

    def clip(values: list[str]) -> str:
        text = ", ".join(values)
        return text if len(text) <= 80 else text[:80] + "…"

    def numbers(key: str, lo: float, hi: float) -> None:
        values = qp.get_all(key)
        if not values:
            return
        try:
            nums = [float(v) for v in values]
            # NaN fails every comparison and ±inf is outside any bound, so both are refused here
            ok = len(nums) == 2 and all(math.isfinite(n) for n in nums) and lo <= nums[0] <= nums[1] <= hi
        except ValueError:
            ok = False
        if not ok:
            notices.append(f"{key}={clip(values)} (allowed: two numbers from {lo} to {hi})")

    def choices(key: str, options: list[str]) -> None:
        bad = [v for v in qp.get_all(key) if v not in options]
        if bad:
            notices.append(f"{key}={clip(bad)} (allowed: {', '.join(options) or 'none'})")

    numbers("followup", *b["followup"])
    numbers("doses", *b["doses"])
    numbers("age", *b["age"])
    choices("subtype", b["subtypes"])
    choices("sex", b["sexes"])
    choices("site", b["sites"])
    return notices


def _reset(b: dict) -> None:
    st.session_state["followup"] = b["followup"]
    st.session_state["doses"] = b["doses"]
    st.session_state["age"] = b["age"]
    st.session_state["subtype"] = b["subtypes"]
    st.session_state["sex"] = b["sexes"]
    st.session_state["site"] = b["sites"]


def sidebar() -> Filters:
    """Draw the shared filters in the sidebar and return the selection they make."""
    b = bounds()
    notices = _url_notices(b)
    with st.sidebar:
        st.header("Filters")
        followup = st.slider(
            "Follow-up (months)", *b["followup"], value=b["followup"], step=1,
            key="followup", bind="query-params",
            help="Months from first dose to last follow-up (days / 30.4375). Bounds inclusive.",
        )
        doses = st.slider(
            "Rituximab doses", *b["doses"], value=b["doses"], step=1,
            key="doses", bind="query-params", help="Infusions given inside the follow-up window.",
        )
        subtypes = st.multiselect(
            "Disease subtypes", b["subtypes"], default=b["subtypes"], key="subtype", bind="query-params",
        )
        with st.expander("More filters"):
            sexes = st.multiselect("Sex", b["sexes"], default=b["sexes"], key="sex", bind="query-params")
            sites = (
                st.multiselect("Site", b["sites"], default=b["sites"], key="site", bind="query-params")
                if b["sites"] else b["sites"]
            )
            age = st.slider(
                "Age at first dose (years)", *b["age"], value=b["age"], step=1,
                key="age", bind="query-params",
            )
        st.button("Reset filters", key="reset", on_click=_reset, args=(b,), icon=":material/restart_alt:")
    # The browser then drops the ignored values from the link, which reruns the page (once per
    # widget, so possibly more than once) and each rerun clears the toasts: the notices are shown
    # again on every run for NOTICE_SECONDS after the link was read, and each stays until the user
    # closes it or the next run (a timed one could expire while a cold page was still computing).
    if notices:
        st.session_state["url_notices"] = (notices, time.monotonic())
    shown, since = st.session_state.get("url_notices", ([], 0.0))
    if time.monotonic() - since > NOTICE_SECONDS:
        shown = []
        st.session_state.pop("url_notices", None)
    for notice in shown:
        # the link's text is anyone's: shown literally, never as Markdown (links, images)
        st.toast(f"Ignored a filter value from the link: {plain(notice)}", icon="⚠️",
                 duration="infinite")

    def bound(value: tuple, full: tuple) -> tuple:
        return (None if value[0] <= full[0] else value[0], None if value[1] >= full[1] else value[1])

    followup_min, followup_max = bound(tuple(followup), b["followup"])
    doses_min, doses_max = bound(tuple(doses), b["doses"])
    age_min, age_max = bound(tuple(age), b["age"])
    return Filters(
        followup_min=followup_min, followup_max=followup_max,
        doses_min=doses_min, doses_max=doses_max,
        subtypes=None if list(subtypes) == b["subtypes"] else tuple(subtypes),
        sexes=None if list(sexes) == b["sexes"] else tuple(sexes),
        sites=None if list(sites) == b["sites"] else tuple(sites),
        age_min=age_min, age_max=age_max,
    )


def describe(f: Filters) -> str:
    """The active filters in one line, or 'no filters' when the whole cohort is shown."""
    parts = []

    def rng(label: str, lo, hi, unit: str) -> None:
        if lo is not None and hi is not None:
            parts.append(f"{label} {lo:g}–{hi:g}{unit}")
        elif lo is not None:
            parts.append(f"{label} ≥ {lo:g}{unit}")
        elif hi is not None:
            parts.append(f"{label} ≤ {hi:g}{unit}")

    rng("follow-up", f.followup_min, f.followup_max, " months")
    rng("doses", f.doses_min, f.doses_max, "")
    if f.subtypes is not None:
        parts.append("subtypes: " + (", ".join(f.subtypes) or "none"))
    if f.sexes is not None:
        parts.append("sex: " + (", ".join(f.sexes) or "none"))
    if f.sites is not None:
        parts.append("sites: " + (", ".join(f.sites) or "none"))
    rng("age", f.age_min, f.age_max, " years")
    return "; ".join(parts) if parts else "no filters (whole cohort)"


def current() -> Filters:
    """The selection made by the sidebar on this run (set by app.py)."""
    return st.session_state.get("filters") or Filters()
