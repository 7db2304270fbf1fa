"""The Virtual care page counts contacts inside windows, forms engagement tertiles and stays private.

Expected numbers are computed here with pandas from the demo parquet files (windows per the data
contract: first-dose day to last follow-up, inclusive) or taken from analysis.summary.
"""

from functools import partial

import pandas as pd

from analysis.summary import summary
from queries import Dataset, Filters
from tests.apptest import DEMO, chart_spec, element_text, open_page, plotly_values, table_with
from tests.cohort import D, patient, write

K = 5  # viewer mode hides counts 1..K-1 (default RCE_MIN_COUNT)

# the tests below check at.exception themselves where they mean to
virtual_care_page = partial(open_page, "virtual_care", assert_no_exception=False)


def run(name: str, filters: Filters) -> pd.DataFrame:
    ds = Dataset(DEMO)
    try:
        return ds.run(name, filters)
    finally:
        ds.close()


def contacts_in_windows(subtypes: tuple[str, ...] | None = None) -> pd.DataFrame:
    patients = pd.read_parquet(DEMO / "patients.parquet")
    if subtypes:
        patients = patients[patients["subtype"].isin(subtypes)]
    contacts = pd.read_parquet(DEMO / "engagement.parquet").merge(patients, on="patient_id")
    inside = (contacts["contact_date"] >= contacts["first_dose_date"]) & (
        contacts["contact_date"] <= contacts["last_followup_date"]
    )
    return contacts[inside]


def monthly_totals(spec: dict) -> pd.Series:
    rows = [
        (str(x)[:7], y)
        for trace in spec["data"]
        for x, y in zip(plotly_values(trace["x"]), plotly_values(trace["y"]))
        if y is not None
    ]
    return pd.DataFrame(rows, columns=["month", "contacts"]).groupby("month")["contacts"].sum()


def test_monthly_contacts_add_up_to_the_engagement_rows_inside_windows():
    contacts = contacts_in_windows()
    expected = contacts.groupby(pd.to_datetime(contacts["contact_date"]).dt.strftime("%Y-%m")).size()

    at = virtual_care_page()

    assert not at.exception
    shown = monthly_totals(chart_spec(at, "Contacts"))
    assert shown.to_dict() == expected.to_dict()
    assert next(m.value for m in at.metric if m.label == "Contacts") == f"{len(contacts):,}"


def test_subtype_filter_changes_contacts_and_tertile_sizes():
    contacts = contacts_in_windows(("NMOSD",))
    ds = Dataset(DEMO)
    selected = summary(ds, Filters(subtypes=("NMOSD",)))["patients"]["total"]
    ds.close()
    assert selected == 14

    at = virtual_care_page(query={"subtype": ["NMOSD"]})

    assert not at.exception
    assert any("14 of 99 patients selected" in m.value for m in at.markdown)
    assert next(m.value for m in at.metric if m.label == "Contacts") == f"{len(contacts):,}"
    tertiles = table_with(at, "tertile")
    assert tertiles["patients"].sum() == selected
    assert sorted(tertiles["patients"]) == [4, 5, 5]  # 14 ranked patients in three equal-sized groups


def test_tertiles_hold_every_selected_patient_and_are_labelled_exploratory():
    at = virtual_care_page()

    tertiles = table_with(at, "tertile")
    assert list(tertiles["tertile"]) == ["Low", "Middle", "High"]
    assert tertiles["patients"].sum() == 99
    assert list(tertiles["patients"]) == [33, 33, 33]
    assert any("exploratory" in h.value.lower() for h in at.subheader)
    assert any(c.value.startswith("Exploratory") for c in at.caption)


def test_tertile_outcomes_match_a_direct_computation():
    outcomes = run("patient_outcome", Filters())
    per_patient = run("engagement_per_patient", Filters())
    rate = per_patient.set_index("patient_id")["contacts_per_month"].sort_index()
    groups = pd.qcut(rate.rank(method="first"), 3, labels=["Low", "Middle", "High"])
    o = outcomes.set_index("patient_id").join(groups.rename("tertile"))
    relapse_free = o.groupby("tertile", observed=True)["relapses"].apply(lambda r: int((r == 0).sum()))

    at = virtual_care_page()

    tertiles = table_with(at, "tertile").set_index("tertile")
    for t in ["Low", "Middle", "High"]:
        assert tertiles.at[t, "relapse_free"] == f"{relapse_free[t]}/33 ({100 * relapse_free[t] / 33:.1f} %)"
        mean = o.loc[o["tertile"] == t, "edss_change"].mean()
        assert tertiles.at[t, "edss_change_mean"] == f"{mean:.2f}"


def test_dataset_without_engagement_says_so(tmp_path, monkeypatch):
    write(tmp_path / "tiny", patients=[patient("P1"), patient("P2", "SPMS")])
    monkeypatch.setenv("RCE_DATA", str(tmp_path / "tiny"))

    at = virtual_care_page()

    assert not at.exception
    assert "no engagement table" in at.info[0].value
    assert not at.get("plotly_chart")


def test_too_few_patients_for_tertiles_says_so(tmp_path, monkeypatch):
    write(
        tmp_path / "tiny",
        patients=[patient("P1"), patient("P2", "NMOSD")],
        engagement=[{"patient_id": "P1", "contact_date": D(2020, 3, 1), "channel": "skype",
                     "kind": "education_session"}],
    )
    monkeypatch.setenv("RCE_DATA", str(tmp_path / "tiny"))

    at = virtual_care_page()

    assert not at.exception
    assert any("at least three" in i.value for i in at.info)


def test_empty_selection_explains_itself():
    at = virtual_care_page(query={"subtype": ["NMOSD"], "doses": ["14", "14"]})

    assert not at.exception
    assert "No patients" in at.info[0].value


def test_viewer_mode_shows_no_patient_ids_and_hides_small_counts():
    at = virtual_care_page(viewer=True)

    assert not at.exception
    assert "RTX-" not in element_text(at, table_cells=False)
    small = {str(n) for n in range(1, K)}
    monthly = table_with(at, "kind")
    assert not set(monthly["contacts"]) & small and "< 5" in set(monthly["contacts"])
    assert not set(monthly["patients"]) & small
    per_patient = table_with(at, "contacts_per_patient")
    assert not set(per_patient["patients"]) & small
    for y_title in ("Contacts", "Patients"):
        ys = [
            y for t in chart_spec(at, y_title)["data"] for y in plotly_values(t["y"]) if y is not None
        ]
        assert not [y for y in ys if 0 < y < K]
    tertiles = table_with(at, "tertile")
    # the demo's two patients with an AE fall in Low and High (1 each): all three tertiles are hidden,
    # or the overall count on the Safety page would give the hidden ones away
    assert set(tertiles["patients_with_ae"]) == {"hidden"}
    assert set(tertiles["patients"]) == {"33"}
