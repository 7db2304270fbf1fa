"""The Safety page shows the data layer's safety figures, the AE listing, IgG, platelets and MRI activity.

Expected numbers come from analysis.summary on the demo dataset, from scipy (exact Poisson and
Clopper–Pearson intervals) or from pandas over the demo parquet files, never from the page itself.
"""

import html
from functools import partial

import pandas as pd
from scipy import stats
from streamlit.testing.v1 import AppTest

from analysis.summary import summary
from queries import Dataset, Filters
from tests.apptest import DEMO, chart_spec, element_text, open_page, plotly_values, table_with
from tests.cohort import D, patient, write

# the tests below check at.exception themselves where they mean to
safety_page = partial(open_page, "safety", assert_no_exception=False)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def demo_summary(**filters) -> dict:
    ds = Dataset(DEMO)
    try:
        return summary(ds, Filters(**filters))
    finally:
        ds.close()


def test_safety_tiles_equal_the_summary_with_exact_intervals():
    s = demo_summary()["safety"]
    doses = 818  # demo infusions inside windows (summary doses_total)
    low = stats.chi2.ppf(0.025, 2 * 2) / 2 / doses * 1000
    high = stats.chi2.ppf(0.975, 2 * 2 + 2) / 2 / doses * 1000
    cp = stats.binomtest(2, 99).proportion_ci(method="exact")

    at = safety_page()

    assert not at.exception
    assert s["events"] == 2
    assert metric(at, "Adverse events") == "2"
    assert metric(at, "Events per 1,000 doses") == f"{2 / doses * 1000:.2f}" == "2.44"
    captions = [c.value for c in at.caption]
    assert f"(95 % CI {low:.2f}–{high:.2f}) · 818 doses" in captions
    assert metric(at, "Patients with an event") == "2/99 (2.0 %)"
    assert f"(95 % CI {100 * cp.low:.1f}–{100 * cp.high:.1f} %)" in captions
    assert metric(at, "Serious events") == str(s["serious"]) == "1"
    assert metric(at, "Opportunistic infections") == str(s["opportunistic_infections"]) == "0"


def test_listing_has_both_events_with_days_since_the_last_infusion():
    events = pd.read_parquet(DEMO / "adverse_events.parquet")
    infusions = pd.read_parquet(DEMO / "infusions.parquet")
    expected = {}
    for e in events.itertuples():
        before = infusions[(infusions.patient_id == e.patient_id) & (infusions.dose_date <= e.onset_date)]
        expected[e.term] = (pd.Timestamp(e.onset_date) - pd.Timestamp(before.dose_date.max())).days
    # by hand: Thrombocytopenia 2019-06-25 after the dose of 2019-06-08; Flushing during the 2020-03-21 dose
    assert expected == {"Thrombocytopenia": 17, "Flushing": 0}

    at = safety_page()

    listing = table_with(at, "days_since_last_infusion")
    assert len(listing) == 2
    assert set(listing["term"]) == {"Flushing", "Thrombocytopenia"}
    assert dict(zip(listing["term"], listing["days_since_last_infusion"])) == expected


def test_igg_threshold_from_the_link_changes_the_low_igg_share():
    low8 = demo_summary(igg_threshold=8.0)["igg_low"]
    low7 = demo_summary()["igg_low"]
    assert low8["all"]["n"] != low7["all"]["n"]

    at = safety_page(query={"igg": "8"})

    assert not at.exception
    assert at.number_input(key="igg").value == 8.0
    for group, label in [("all", "All"), ("RRMS", "RRMS"), ("SPMS", "SPMS"), ("NMOSD", "NMOSD")]:
        r = low8[group]
        assert metric(at, f"{label}: IgG < 8 g/L") == f"{r['n']}/{r['tested']} ({r['pct']:.1f} %)"
    igg = chart_spec(at, "IgG (g/L)")
    assert any(shape.get("y0") == 8.0 for shape in igg["layout"]["shapes"])


def test_platelet_chart_shows_the_thrombocytopenia_value():
    at = safety_page()

    spec = chart_spec(at, "Platelets")
    ys = [y for trace in spec["data"] for y in plotly_values(trace.get("y"))]
    assert 11.5 in ys
    # trace names are escaped for plotly ("&lt; 100"), which draws them as "< 100"
    low = next(t for t in spec["data"] if html.unescape(t["name"]).startswith("< 100"))
    assert sorted(plotly_values(low["y"])) == [11.5, 38.0, 84.0]
    assert any(shape.get("y0") == 150 for shape in spec["layout"]["shapes"])


def test_subtype_filter_changes_the_shown_n_and_figures():
    s = demo_summary(subtypes=("NMOSD",))

    at = safety_page(query={"subtype": ["NMOSD"]})

    assert not at.exception
    assert any(f"{s['patients']['total']} of 99 patients selected" in m.value for m in at.markdown)
    assert metric(at, "Adverse events") == str(s["safety"]["events"]) == "0"
    igg = s["igg_low"]["NMOSD"]
    assert metric(at, "NMOSD: IgG < 7 g/L") == f"{igg['n']}/{igg['tested']} ({igg['pct']:.1f} %)"
    assert any("No adverse events" in i.value for i in at.info)


def test_empty_selection_explains_itself():
    assert demo_summary(subtypes=("NMOSD",), doses_min=14, doses_max=14)["patients"]["total"] == 0

    at = safety_page(query={"subtype": ["NMOSD"], "doses": ["14", "14"]})

    assert not at.exception
    assert "No patients" in at.info[0].value


def test_missing_labs_mri_and_opportunistic_column_show_messages(tmp_path, monkeypatch):
    write(
        tmp_path / "tiny",
        patients=[patient("P1", "RRMS"), patient("P2", "RRMS"), patient("P3", "SPMS")],
        infusions=[{"patient_id": p, "dose_date": D(2020, 1, 1), "dose_mg": 1000.0, "course": 1}
                   for p in ("P1", "P2", "P3")],
        adverse_events=[{"patient_id": "P1", "onset_date": D(2020, 1, 11), "term": "Rash",
                         "relation": "post_infusion", "grade": 1, "serious": False}],
    )
    monkeypatch.setenv("RCE_DATA", str(tmp_path / "tiny"))

    at = safety_page()

    assert not at.exception
    infos = " ".join(i.value for i in at.info)
    assert "no labs table" in infos
    assert "no mri table" in infos
    assert "no 'opportunistic' column" in infos
    assert metric(at, "Opportunistic infections") == "n/a"
    listing = table_with(at, "days_since_last_infusion")
    assert listing["days_since_last_infusion"].tolist() == [10]  # 2020-01-11 − 2020-01-01


def test_subtype_without_igg_values_shows_na(tmp_path, monkeypatch):
    write(
        tmp_path / "tiny",
        patients=[patient("P1", "RRMS"), patient("P2", "RRMS"), patient("P3", "NMOSD")],
        labs=[{"patient_id": p, "sample_date": D(2020, 6, 1), "test": "IgG", "value": v, "unit": "g/L"}
              for p, v in (("P1", 6.5), ("P2", 9.0))],
        mri=[{"patient_id": "P3", "scan_date": D(2020, 6, 1), "new_t2_lesions": 1,
              "gd_enhancing_lesions": 0}],
    )
    monkeypatch.setenv("RCE_DATA", str(tmp_path / "tiny"))

    at = safety_page()

    assert not at.exception
    assert metric(at, "NMOSD: IgG < 7 g/L") == "n/a"
    assert metric(at, "RRMS: IgG < 7 g/L") == "1/2 (50.0 %)"
    assert metric(at, "With new T2 lesions") == "1/1 (100.0 %)"


def test_viewer_mode_shows_no_patient_ids_and_hides_small_counts():
    at = safety_page(viewer=True)

    assert not at.exception
    assert "RTX-" not in element_text(at, table_cells=False)
    assert metric(at, "Adverse events") == "< 5"
    assert metric(at, "Events per 1,000 doses") == "n/a"
    assert metric(at, "Serious events") == "< 5"
    assert metric(at, "Patients with an event") == "< 5 of 99"
    by_term = next(d.value for d in at.dataframe if list(d.value.columns) == ["term", "events"])
    assert dict(zip(by_term["term"], by_term["events"])) == {"Flushing": "< 5", "Thrombocytopenia": "< 5"}
    assert not any(d.value.columns.isin(["patient_id", "sample_date"]).any() for d in at.dataframe)
    # NMOSD has 1 of 10 with low IgG: hidden, and with it every subtype's share (the total stays)
    assert metric(at, "All: IgG < 7 g/L") == "7/95 (7.4 %)"
    assert {metric(at, f"{g}: IgG < 7 g/L") for g in ("RRMS", "SPMS", "NMOSD")} == {"hidden"}
