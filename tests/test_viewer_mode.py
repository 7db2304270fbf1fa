"""Shared (viewer) mode: every element of every page is scanned for patient IDs and counts from 1 to k − 1."""

import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import elements, open_page
from ui.auth import hash_password

K = 5
PAGES = ["overview", "subtypes", "relapse_free_survival", "edss", "safety", "virtual_care", "report"]
PATIENT_ID = re.compile(rb"RTX-\d+")
COUNT_COLUMN = re.compile(
    r"^(n|n \(.*\)|patients.*|events.*|count.*|contacts.*|tested|evaluable|at risk.*|worsened|stable|"
    r"improved|neda.*|relapses.*|values|below.*|scans.*|low igg.*|with .*|serious|"
    r"opportunistic.*|n_.*)$",
    re.IGNORECASE,
)
COUNT_TEXT = re.compile(
    r"(?<![\d.,])(?<!≥ )(?<!> )(\d+) (?:patients?|events?|relapses?|of \d+|contacts?|scans?)\b(?!-)|\bn = (\d+)\b"
)


def viewer_app(page: str) -> AppTest:
    """The app as a collaborator signed in with the viewer role sees it."""
    guest = {"hash": hash_password("pw", iterations=1000), "role": "viewer"}
    return open_page(
        page,
        secrets={"passwords": {"guest": guest}},
        state={"signed_in_user": "guest", "role": "viewer"},
        timeout=180,
        assert_no_exception=False,
    )


def small_counts_in_frame(df: pd.DataFrame) -> list[str]:
    found = []
    for column in df.columns:
        if not COUNT_COLUMN.match(str(column).strip()):
            continue
        for value in df[column]:
            if isinstance(value, bool):
                continue
            number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
            if pd.notna(number) and 0 < number < K and float(number).is_integer():
                found.append(f"{column}={value}")
    return found


def scan(at: AppTest) -> list[str]:
    """Patient IDs and small counts found in any element."""
    problems = []
    for element in elements(at, leaves_only=True):
        proto = getattr(element, "proto", None)
        if proto is None:
            continue
        raw = proto.SerializeToString()
        if PATIENT_ID.search(raw):
            problems.append(f"patient ID in {type(element).__name__}: {PATIENT_ID.search(raw).group().decode()}")
        kind = type(element).__name__
        if kind == "Metric":
            number = re.match(r"^\s*(\d+)\s*$", str(element.value))
            if number and 0 < int(number.group(1)) < K:
                problems.append(f"metric {element.label} = {element.value}")
        if kind in ("Dataframe", "Table"):
            problems += [f"{kind}: {hit}" for hit in small_counts_in_frame(element.value)]
        if kind in ("Markdown", "Caption", "Info", "Warning", "Success"):
            for match in COUNT_TEXT.finditer(str(element.value)):
                number = int(match.group(1) or match.group(2))
                if 0 < number < K:
                    problems.append(f"{kind}: …{match.group(0)}…")
    return problems


@pytest.mark.parametrize("page", PAGES)
def test_viewer_pages_show_no_patient_id_and_no_small_count(page):
    at = viewer_app(page)

    assert not at.exception, [e.value for e in at.exception]
    assert scan(at) == []


def test_the_scan_finds_ids_and_small_counts_when_the_team_looks():
    at = open_page("safety", timeout=180, assert_no_exception=False)

    found = scan(at)

    assert any(p.startswith("patient ID") for p in found)
    assert any("Metric" in p or "metric" in p for p in found)


def test_the_report_in_viewer_mode_holds_no_patient_id():
    at = viewer_app("report")

    document = at.session_state["report_html"]
    assert "shared (viewer) mode" in document
    assert not PATIENT_ID.search(document.encode())
