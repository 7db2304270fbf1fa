"""Disease subtypes page: composition and outcomes per subtype equal the data layer's summary; the
swimmer plot draws one bar per selected patient with every event; missing tables, a one-patient
subtype and viewer mode are handled.

Expected numbers come from ``analysis.summary`` on the same dataset and filters, from scipy's
chi-square quantiles (exact Poisson CI) and from the demo parquet files read with pandas.
"""

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats
from streamlit.testing.v1 import AppTest

from analysis.summary import summary
from queries import Dataset, Filters
from tests import cohort
from tests.apptest import DEMO, chart_specs, element_text, open_page, plotly_values

PAGE = "subtypes"


def outcomes_table(at: AppTest) -> pd.DataFrame:
    return at.table[0].value.set_index("Outcome")


def spec(at: AppTest, i: int) -> dict:
    return chart_specs(at)[i]


def swimmer(at: AppTest) -> dict:
    return spec(at, 2)


def bars(fig: dict) -> list[dict]:
    return [t for t in fig["data"] if t["type"] == "bar"]


def markers(fig: dict) -> dict[str, int]:
    return {t["name"]: len(t["y"]) for t in fig["data"] if t["type"] == "scatter"}


@pytest.fixture(scope="module")
def demo_summary() -> dict:
    return summary(Dataset(DEMO), Filters())


def test_composition_and_outcomes_equal_the_summary(demo_summary):
    at = open_page(PAGE)

    composition = bars(spec(at, 0))[0]
    assert dict(zip(composition["x"], composition["y"])) == {"RRMS": 42, "SPMS": 43, "NMOSD": 14}
    table = outcomes_table(at)
    assert list(table.columns) == [
        "All (n = 99)",
        "RRMS (n = 42)",
        "SPMS (n = 43)",
        "NMOSD (n = 14)",
    ]
    relapsed = demo_summary["relapses"]["patients_with_relapse"]
    assert table.at["Relapse-free, n of N (%)", "All (n = 99)"] == "80 of 99 (80.8 %)"
    assert (
        table.at["Relapse-free, n of N (%)", "SPMS (n = 43)"]
        == f"{43 - relapsed['SPMS']} of 43 (76.7 %)"
    )
    arr = demo_summary["relapses"]["arr"]["RRMS"]
    assert table.at["ARR, relapses / patient-year (95 % CI)", "RRMS (n = 42)"] == (
        f"{arr['rate']:.2f} ({arr['ci_low']:.2f}–{arr['ci_high']:.2f})"
    )
    edss = demo_summary["edss_change"]["NMOSD"]
    assert table.at["EDSS change, mean (95 % CI)", "NMOSD (n = 14)"].startswith(
        f"{edss['mean']:+.2f} ("
    )
    neda = demo_summary["neda3"]["SPMS"]
    assert table.at["NEDA-3, n of evaluable (%)", "SPMS (n = 43)"] == (
        f"{neda['neda']} of {neda['evaluable']} ({100 * neda['neda'] / neda['evaluable']:.1f} %)"
    )
    # published: low IgG in 6 of 43 SPMS and 1 of 10 NMOSD patients tested
    assert table.at["Low IgG < 7 g/L, n of tested (%)", "SPMS (n = 43)"] == "6 of 43 (14.0 %)"
    assert table.at["Low IgG < 7 g/L, n of tested (%)", "NMOSD (n = 14)"] == "1 of 10 (10.0 %)"
    # both adverse events are SPMS: 2 in the SPMS doses, exact Poisson CI from chi-square quantiles
    spms_doses = 374
    low, high = stats.chi2.ppf(0.025, 4) / 2, stats.chi2.ppf(0.975, 6) / 2
    rate, low, high = (1000 * x / spms_doses for x in (2, low, high))
    assert table.at["Adverse events · per 1,000 doses (95 % CI)", "SPMS (n = 43)"] == (
        f"2 events · {rate:.1f} ({low:.1f}–{high:.1f})"
    )


def demo_events() -> dict[str, int]:
    """Events inside the windows, counted with pandas from the demo files."""
    patients = pd.read_parquet(DEMO / "patients.parquet")

    def inside(table: str, column: str, first_day: bool) -> pd.DataFrame:
        df = pd.read_parquet(DEMO / f"{table}.parquet").merge(patients, on="patient_id")
        after = (
            df[column] >= df["first_dose_date"] if first_day else df[column] > df["first_dose_date"]
        )
        return df[after & (df[column] <= df["last_followup_date"])]

    scans = inside("mri", "scan_date", first_day=False)
    return {
        "infusion": len(inside("infusions", "dose_date", True)),
        "relapse": len(inside("relapses", "onset_date", True)),
        "adverse event": len(inside("adverse_events", "onset_date", True)),
        "active MRI scan": int(
            ((scans["new_t2_lesions"] > 0) | (scans["gd_enhancing_lesions"] > 0)).sum()
        ),
    }


def test_swimmer_plot_has_one_bar_per_patient_and_every_event():
    at = open_page(PAGE)

    fig = swimmer(at)
    labels = [y for b in bars(fig) for y in b["y"]]
    assert len(labels) == 99 and len(set(labels)) == 99
    assert {b["name"]: len(b["y"]) for b in bars(fig)} == {"RRMS": 42, "SPMS": 43, "NMOSD": 14}
    assert markers(fig) == demo_events()
    assert {t["marker"]["symbol"] for t in fig["data"] if t["type"] == "scatter"} == {
        "line-ns-open",
        "star",
        "diamond",
        "square-open",
    }
    # taller with more patients: 15 px per patient plus room for axes and legend
    assert fig["layout"]["height"] >= 15 * 99


def test_a_filter_changes_the_swimmer_plot_and_the_table():
    expected = summary(Dataset(DEMO), Filters(followup_min=12, followup_max=24))

    at = open_page(PAGE, {"followup": ["12", "24"]})

    fig = swimmer(at)
    assert sum(len(b["y"]) for b in bars(fig)) == expected["patients"]["total"] < 99
    assert outcomes_table(at).columns[0] == f"All (n = {expected['patients']['total']})"


def test_swimmer_sorts_by_follow_up_or_by_subtype():
    at = open_page(PAGE)

    def lanes(fig: dict) -> pd.DataFrame:
        rows = [(y, x, b["name"]) for b in bars(fig) for y, x in zip(b["y"], plotly_values(b["x"]))]
        order = fig["layout"]["yaxis"]["categoryarray"]
        return (
            pd.DataFrame(rows, columns=["label", "months", "subtype"]).set_index("label").loc[order]
        )

    by_follow_up = lanes(swimmer(at))
    assert by_follow_up["months"].is_monotonic_decreasing
    at.radio(key="swimmer_sort").set_value("Subtype").run()
    by_subtype = lanes(swimmer(at))
    assert list(by_subtype["subtype"]) == ["RRMS"] * 42 + ["SPMS"] * 43 + ["NMOSD"] * 14
    assert by_subtype.loc[by_subtype["subtype"] == "SPMS", "months"].is_monotonic_decreasing


def test_an_empty_selection_explains_itself():
    at = open_page(PAGE, {"subtype": ["NMOSD"], "doses": ["14", "14"]})

    assert "No patients match" in at.info[0].value
    assert len(at.get("plotly_chart")) == 0


def tiny_cohort(folder: Path, with_mri: bool = True, with_labs: bool = True) -> Path:
    """Three RRMS patients and one NMOSD patient, each with two infusions and a follow-up EDSS."""
    first, last = dt.date(2020, 1, 1), dt.date(2021, 7, 1)
    patients = [
        cohort.patient(f"T-{i}", subtype, first, last, edss=3.0)
        for i, subtype in enumerate(["RRMS", "RRMS", "RRMS", "NMOSD"])
    ]
    ids = [p["patient_id"] for p in patients]
    infusions = cohort.doses(ids, first, days=(0, 14))
    edss = [
        {"patient_id": pid, "assessment_date": dt.date(2021, 1, 1), "edss": 3.0 + 0.5 * i}
        for i, pid in enumerate(ids)
    ]
    relapses = [{"patient_id": "T-0", "onset_date": dt.date(2020, 6, 1)}]
    mri = [
        {
            "patient_id": pid,
            "scan_date": dt.date(2021, 1, 5),
            "new_t2_lesions": int(pid == "T-1"),
            "gd_enhancing_lesions": 0,
        }
        for pid in ids
    ]
    labs = [
        {
            "patient_id": pid,
            "sample_date": dt.date(2020, 7, 1),
            "test": "IgG",
            "value": 9.0,
            "unit": "g/L",
        }
        for pid in ids
    ]
    return cohort.write(
        folder,
        patients=patients,
        infusions=infusions,
        edss=edss,
        relapses=relapses,
        mri=mri if with_mri else None,
        labs=labs if with_labs else None,
    )


def test_a_one_patient_subtype_shows_n_a(tmp_path, monkeypatch):
    monkeypatch.setenv("RCE_DATA", str(tiny_cohort(tmp_path / "tiny")))

    at = open_page(PAGE)

    assert any(i.value.startswith("NMOSD: a single selected patient") for i in at.info)
    table = outcomes_table(at)
    # one NMOSD change (+1.5): mean defined, its CI not
    assert table.at["EDSS change, mean (95 % CI)", "NMOSD (n = 1)"] == "+1.50 (CI n/a), n = 1"
    assert sum(len(b["y"]) for b in bars(swimmer(at))) == 4
    assert markers(swimmer(at)) == {"infusion": 8, "relapse": 1, "active MRI scan": 1}


def test_missing_mri_and_labs_tables_are_explained(tmp_path, monkeypatch):
    monkeypatch.setenv(
        "RCE_DATA", str(tiny_cohort(tmp_path / "lean", with_mri=False, with_labs=False))
    )

    at = open_page(PAGE)

    notes = [i.value for i in at.info]
    assert any(n.startswith("This dataset has no MRI table") for n in notes)
    assert any(n.startswith("This dataset has no labs table") for n in notes)
    table = outcomes_table(at)
    assert set(table.loc["NEDA-3, n of evaluable (%)"]) == {"n/a (no MRI table)"}
    assert set(table.loc["Low IgG < 7 g/L, n of tested (%)"]) == {"n/a (no labs table)"}
    assert "active MRI scan" not in markers(swimmer(at))


def test_viewer_mode_shows_no_patient_id_and_no_small_count():
    at = open_page(PAGE, viewer=True)

    text = element_text(at)
    assert "RTX-" not in text
    fig = swimmer(at)
    labels = [y for b in bars(fig) for y in b["y"]]
    assert len(labels) == 99 and all(label.startswith("Patient ") for label in labels)
    table = outcomes_table(at)
    # 2 adverse events (both SPMS) are below k = 5
    assert table.at["Adverse events · per 1,000 doses (95 % CI)", "All (n = 99)"] == "< 5 events"
    assert table.at["Adverse events · per 1,000 doses (95 % CI)", "SPMS (n = 43)"] == "< 5 events"
    assert table.at["Low IgG < 7 g/L, n of tested (%)", "NMOSD (n = 14)"] == "< 5 of 10"
    # the table behind the swimmer plot is an aggregate: events per subtype, no patient rows
    behind = at.dataframe[-1].value
    assert list(behind["subtype"]) == ["RRMS", "SPMS", "NMOSD"]
    assert "patient_id" not in behind.columns
    assert behind.set_index("subtype").at["SPMS", "adverse event"] == "< 5"
