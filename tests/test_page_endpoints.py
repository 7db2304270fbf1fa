"""The v2 endpoint sections (ui/endpoints.py) on the demo cohort and on tiny datasets: CDW/PIRA,
adjusted models, B-cell repopulation; team and viewer mode. Expected numbers by hand or scipy."""

import datetime as dt
import json

import numpy as np
import pytest
from scipy import stats
from streamlit.testing.v1 import AppTest

from analysis.bcells import bcell_rows
from analysis.disability import cdw_curves
from queries import Dataset, Filters
from tests.apptest import DEMO, open_page, plotly_values, table_with
from tests.cohort import D, doses, patient, write

SECTION = """
import streamlit as st
from queries import Filters
from ui import data, endpoints

f = Filters(**st.session_state.get("test_filters", {}))
st.session_state["filters"] = f
getattr(endpoints, st.session_state["test_section"])(f, data.summary(f))
"""
FIRST = D(2020, 1, 1)


def section(name: str, folder, monkeypatch, viewer: bool = False, **filters) -> AppTest:
    """Run one endpoint section alone on the dataset in `folder`."""
    monkeypatch.setenv("RCE_DATA", str(folder))
    monkeypatch.setenv("RCE_MIN_COUNT", "5")
    at = AppTest.from_string(SECTION, default_timeout=120)
    at.session_state["test_section"] = name
    at.session_state["test_filters"] = filters
    at.session_state["preview_viewer"] = viewer
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def spec(at: AppTest, i: int) -> dict:
    return json.loads(at.get("plotly_chart")[i].proto.spec)


def day(n: int) -> dt.date:
    return FIRST + dt.timedelta(days=n)


@pytest.fixture(scope="module")
def cd19_percent(tmp_path_factory):
    """Six patients, courses starting on days 0 and 180; CD19 in % of lymphocytes on day 170
    (month 5 of course 1), day 180 (a dose day: still course 1, month 5) and day 200 (course 2,
    month 0); IgG on day 170."""
    ids = list("ABCDEF")
    month5 = dict(zip(ids, [1.5, 0.5, 2.0, 0.9, 1.0, 0.2]))  # ≥ 1 %: A, C, E
    labs = []
    for pid in ids:
        labs += [
            {
                "patient_id": pid,
                "sample_date": day(170),
                "test": "CD19",
                "value": month5[pid],
                "unit": "%",
            },
            {
                "patient_id": pid,
                "sample_date": day(170),
                "test": "IgG",
                "value": 8.0,
                "unit": "g/L",
            },
            {
                "patient_id": pid,
                "sample_date": day(170),
                "test": "lymphocytes",
                "value": 1.8,
                "unit": "10^9/L",
            },
            {"patient_id": pid, "sample_date": day(200), "test": "CD19", "value": 0.0, "unit": "%"},
        ]
    labs.append(
        {"patient_id": "A", "sample_date": day(180), "test": "CD19", "value": 0.4, "unit": "%"}
    )
    return write(
        tmp_path_factory.mktemp("cd19"),
        patients=[patient(p, first=FIRST, last=D(2021, 1, 1)) for p in ids],
        infusions=doses(ids, FIRST, (0,)) + doses(ids, FIRST, (180,), course=2),
        labs=labs,
    )


def test_cd19_is_binned_by_months_since_the_last_course_began(cd19_percent):
    rows = bcell_rows(Dataset(cd19_percent), Filters())
    cd19 = rows[rows["test"] == "CD19"].set_index("month")

    # month 0: the six day-200 samples (20 days into course 2), all 0 %: none repopulated
    assert cd19.loc[0, ["samples", "patients", "repopulated_patients"]].tolist() == [6, 6, 0]
    # month 5: day 170 and A's day-180 sample (a dose day counts with the course before):
    # A (1.5, and 0.4 on day 180), C (2.0), E (1.0 = the threshold) are repopulated: 3 of 6
    assert cd19.loc[5, ["samples", "patients", "repopulated_patients"]].tolist() == [7, 6, 3]
    ci = stats.binomtest(3, 6).proportion_ci(method="exact")
    assert cd19.loc[5, "repopulated_pct"] == pytest.approx(50.0)
    assert cd19.loc[5, ["ci_low", "ci_high"]].tolist() == pytest.approx(
        [100 * ci.low, 100 * ci.high]
    )
    assert cd19.loc[5, "median"] == pytest.approx(0.9)  # of 1.5, 0.5, 2.0, 0.9, 1.0, 0.2, 0.4
    assert rows[rows["test"] == "IgG"]["month"].tolist() == [5]


def test_cd19_in_cells_per_microlitre_repopulates_from_10(tmp_path):
    labs = [
        {"patient_id": p, "sample_date": day(100), "test": "CD19", "value": v, "unit": "cells/uL"}
        for p, v in (("A", 10.0), ("B", 9.5))
    ]
    folder = write(
        tmp_path / "ul",
        patients=[patient("A"), patient("B")],
        infusions=doses(["A", "B"], D(2020, 1, 1), (0,)),
        labs=labs,
    )

    row = bcell_rows(Dataset(folder), Filters()).iloc[0]

    assert (row["unit"], row["month"], row["repopulated_patients"]) == ("cells/µL", 3, 1)


def test_b_cell_section_draws_cd19_igg_and_the_share_repopulated(cd19_percent, monkeypatch):
    at = section("bcell_section", cd19_percent, monkeypatch)

    assert len(at.get("plotly_chart")) == 2
    bars = spec(at, 1)
    assert plotly_values(bars["data"][0]["y"]) == pytest.approx([0.0, 50.0])
    assert bars["layout"]["xaxis"]["ticktext"] == ["0<br>0/6 (0.0 %)", "5<br>3/6 (50.0 %)"]


def test_b_cell_section_hides_small_counts_in_viewer_mode(cd19_percent, monkeypatch):
    at = section("bcell_section", cd19_percent, monkeypatch, viewer=True)

    bars = spec(at, 1)
    # 3 of 6 (k = 5): both the count and its complement are small, so the bar is not drawn; the 0/6
    # month shows (0 is not a small count; its complement 6 is not small either)
    assert plotly_values(bars["data"][0]["y"]) == pytest.approx([0.0])
    assert "5<br>< 5 of 6" in bars["layout"]["xaxis"]["ticktext"]
    assert "3/6" not in json.dumps(bars)


def test_without_cd19_the_safety_section_says_so(tmp_path, monkeypatch):
    folder = write(
        tmp_path / "igg",
        patients=[patient("A")],
        labs=[
            {
                "patient_id": "A",
                "sample_date": D(2020, 6, 1),
                "test": "IgG",
                "value": 8.0,
                "unit": "g/L",
            }
        ],
    )

    at = section("bcell_section", folder, monkeypatch)

    assert "no CD19" in at.info[0].value
    assert not at.get("plotly_chart")


def test_cdw_section_on_the_demo_cohort_shows_curves_counts_and_a_timeline(monkeypatch):
    at = section("cdw_section", DEMO, monkeypatch)

    assert len(at.get("plotly_chart")) == 3  # CDW-3m, CDW-6m, one patient's timeline
    table = table_with(at, "CDW events")
    all_3m = table[(table["Definition"] == "CDW-3m") & (table["Group"] == "All")].iloc[0]
    # the demo's summary.json: 99 evaluable, 20 CDW-3m events, 13 PIRA, 7 RAW
    assert all_3m[["Evaluable", "CDW events", "PIRA", "RAW"]].tolist() == ["99", "20", "13", "7"]


def test_cdw_counts_in_viewer_mode_hide_small_counts_and_what_gives_them_away(monkeypatch):
    at = section("cdw_section", DEMO, monkeypatch, viewer=True)

    table = table_with(at, "CDW events")
    rrms = table[(table["Definition"] == "CDW-3m") & (table["Group"] == "RRMS")].iloc[0]
    # RRMS CDW-3m: 5 events, 3 PIRA, 2 RAW; 3 and 2 are below k = 5, and the events (5) would give
    # them away from each other, so all three are hidden
    assert rrms[["CDW events", "PIRA", "RAW"]].tolist() == ["hidden", "< 5", "< 5"]
    # the RAW column adds up to All (7): SPMS's 5 would give RRMS's 2 away, so its row is hidden
    # too; NMOSD's 0 stays (a zero is not a partner that hides anything)
    spms = table[(table["Definition"] == "CDW-3m") & (table["Group"] == "SPMS")].iloc[0]
    assert spms[["CDW events", "PIRA", "RAW"]].tolist() == ["hidden"] * 3
    assert "RTX-" not in json.dumps([spec(at, i) for i in range(len(at.get("plotly_chart")))])


def test_cdw_curves_in_viewer_mode_end_where_fewer_than_k_remain_at_risk(monkeypatch):
    # the times themselves come from analysis.disability (tested against tests/reference_endpoints);
    # here: the drawn curve (ui.km.km_figure) stops at the 5th-largest time, the last t at which
    # 5 or more patients (time ≥ t) remain at risk
    curves = cdw_curves(Dataset(DEMO), Filters(), confirm_days=84)

    at = section("cdw_section", DEMO, monkeypatch, viewer=True)

    drawn = spec(at, 0)["data"]  # the CDW-3m tab's chart
    for c in curves:
        (line,) = [t for t in drawn if t.get("meta") == "curve" and t["legendgroup"] == c.group]
        x = plotly_values(line["x"], as_array=True)
        times = np.sort(c.durations)
        assert x.max() == pytest.approx(times[-5])
        assert ((times[None, :] >= x[:, None]).sum(axis=1) >= 5).all()
        (at_risk,) = [t for t in drawn if t.get("meta") == "at_risk" and t["legendgroup"] == c.group]
        assert not any(t.isdigit() and 0 < int(t) < 5 for t in at_risk["text"])


def test_cdw_section_without_follow_up_edss_explains_itself(tmp_path, monkeypatch):
    folder = write(tmp_path / "noedss", patients=[patient("A"), patient("B")])

    at = section("cdw_section", folder, monkeypatch)

    assert "cannot be assessed" in at.info[0].value


def test_models_section_warns_below_10_events_per_variable_and_checks_ph(monkeypatch):
    at = section("models_section", DEMO, monkeypatch)

    # the demo's Cox model: 19 events / 6 coefficients = 3.2 events per variable
    assert "3.2 events per variable" in at.warning[0].value
    assert table_with(at, "χ² (1 df)").shape[0] == 6
    forest = spec(at, 0)
    assert {t["name"] for t in forest["data"]} == {"Hazard ratio", "Rate ratio"}


def test_models_section_explains_a_model_that_cannot_be_fitted(monkeypatch):
    at = section("models_section", DEMO, monkeypatch, sexes=["F"])

    assert "single sex" in at.info[0].value
    assert not at.get("plotly_chart")


def test_models_section_is_labelled_exploratory_under_filters(monkeypatch):
    at = section("models_section", DEMO, monkeypatch, subtypes=["RRMS", "SPMS"])

    assert "exploratory" in at.header[0].value


def test_timeline_marks_the_worsening_its_confirmations_and_the_relapses(tmp_path, monkeypatch):
    # baseline 2.0; 3.0 on days 100, 200 and 300 (worsening at 100, confirmed over 3 months by
    # day 200 and over 6 months by day 300); a relapse on day 150, inside [100 − 90, 200]: RAW
    edss = [
        {"patient_id": "A", "assessment_date": day(d), "edss": 3.0} for d in (100, 200, 300)
    ]
    folder = write(
        tmp_path / "one",
        patients=[patient("A", edss=2.0, first=FIRST, last=D(2021, 1, 1))],
        edss=edss,
        relapses=[{"patient_id": "A", "onset_date": day(150)}],
    )

    at = section("cdw_section", folder, monkeypatch)

    timeline = spec(at, 2)
    marks = {t["name"]: plotly_values(t["x"]) for t in timeline["data"] if t.get("name")}
    month = 30.4375
    assert marks["Worsening"] == pytest.approx([100 / month])
    assert marks["Confirmed (3 months)"] == pytest.approx([200 / month])
    assert marks["Confirmed (6 months)"] == pytest.approx([300 / month])
    assert marks["Relapse"] == pytest.approx([150 / month])
    assert "classed RAW" in at.caption[-1].value


@pytest.mark.parametrize("page,title", [
    ("edss", "Confirmed disability worsening and PIRA"),
    ("relapse_free_survival", "Adjusted models"),
    ("safety", "B-cell repopulation between courses"),
])
def test_each_page_shows_its_endpoint_section_on_the_demo(page, title):
    at = open_page(page, timeout=180)

    assert title in [h.value for h in at.header]
