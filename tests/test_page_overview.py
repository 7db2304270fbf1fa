"""Overview page: KPI tiles equal the data layer's summary, Table 1's p-values equal direct scipy
calls, the published panel matches on the demo, and viewer mode shows no patient ID and no small
count.

Expected numbers come from ``analysis.summary`` on the same dataset and filters, from scipy called
on the demo parquet files read with pandas in the test, and from the published study (99 patients,
818 doses, 80 of 99 relapse-free = 80.8 %, 2 adverse events).
"""

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from streamlit.testing.v1 import AppTest

from analysis.summary import summary
from queries import Dataset, Filters
from tests import cohort
from tests.apptest import DEMO, element_text, open_page

PAGE = "overview"
ORDER = ["RRMS", "SPMS", "NMOSD"]


def tiles(at: AppTest) -> dict:
    return {m.label: m for m in at.metric}


def table_one(at: AppTest) -> pd.DataFrame:
    return at.table[0].value.set_index("Characteristic")


def published_panel(at: AppTest) -> pd.DataFrame:
    return at.table[1].value


@pytest.fixture(scope="module")
def demo_summary() -> dict:
    return summary(Dataset(DEMO), Filters())


def test_tiles_equal_the_summary_on_the_demo(demo_summary):
    at = open_page(PAGE)

    t = tiles(at)
    arr = demo_summary["relapses"]["arr"]["all"]
    ae = demo_summary["safety"]["per_1000_doses"]
    assert t["Patients"].value == "99"
    assert t["Patient-years"].value == f"{demo_summary['patient_years']:.1f}"
    assert t["Doses"].value == "818"
    assert t["Relapse-free"].value == "80.8 %"
    assert t["Relapse-free"].delta == "80 of 99 patients"
    assert t["ARR"].value == f"{arr['rate']:.2f}" == "0.16"
    assert t["ARR"].delta == f"CI {arr['ci_low']:.2f}–{arr['ci_high']:.2f}"
    assert t["AEs per 1,000 doses"].value == f"{ae['rate']:.1f}" == "2.4"
    assert t["AEs per 1,000 doses"].delta == f"CI {ae['ci_low']:.1f}–{ae['ci_high']:.1f}"


def test_a_subtype_filter_changes_the_tiles_to_the_summary_of_that_subtype():
    expected = summary(Dataset(DEMO), Filters(subtypes=("NMOSD",)))

    at = open_page(PAGE, {"subtype": ["NMOSD"]})

    t = tiles(at)
    assert t["Patients"].value == str(expected["patients"]["total"]) == "14"
    assert t["Doses"].value == str(expected["doses_total"])
    assert (
        t["Relapse-free"].value == f"{expected['relapses']['relapse_free_pct']:.1f} %" == "92.9 %"
    )
    assert t["ARR"].value == f"{expected['relapses']['arr']['all']['rate']:.2f}"
    # the test column says the p-values are exploratory on a subgroup; one group has no test
    table = table_one(at)
    assert "p (exploratory — subgroup)" in table.columns
    assert set(table["Test"]) == {"n/a (one group)"}


def demo_patients() -> pd.DataFrame:
    """One row per demo patient with follow-up months and doses in the window, with pandas only."""
    patients = pd.read_parquet(DEMO / "patients.parquet")
    infusions = pd.read_parquet(DEMO / "infusions.parquet").merge(patients, on="patient_id")
    inside = infusions[
        infusions["dose_date"].between(
            infusions["first_dose_date"], infusions["last_followup_date"]
        )
    ]
    days = (
        pd.to_datetime(patients["last_followup_date"]) - pd.to_datetime(patients["first_dose_date"])
    ).dt.days
    doses = patients["patient_id"].map(inside.groupby("patient_id").size()).fillna(0)
    return patients.assign(followup_months=days / 30.4375, doses=doses)


def shown(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def test_table_one_p_values_equal_direct_scipy_calls():
    df = demo_patients()

    def groups(column: str) -> list[np.ndarray]:
        return [df.loc[df["subtype"] == g, column].to_numpy(float) for g in ORDER]

    expected = {
        "Age at first dose, years, mean ± SD": (
            "ANOVA",
            stats.f_oneway(*groups("age_at_first_dose")).pvalue,
        ),
        "Female sex, n (%)": (
            "χ²",
            stats.chi2_contingency(pd.crosstab(df["sex"], df["subtype"])[ORDER]).pvalue,
        ),
        "Disease duration, years, median [IQR]": (
            "Kruskal–Wallis",
            stats.kruskal(*groups("disease_duration_years")).pvalue,
        ),
        "Baseline EDSS, median [IQR]": (
            "Kruskal–Wallis",
            stats.kruskal(*groups("baseline_edss")).pvalue,
        ),
        "Prior treatments failed, median [IQR]": (
            "Kruskal–Wallis",
            stats.kruskal(*groups("prior_treatments")).pvalue,
        ),
        "Follow-up, months, mean ± SD": (
            "ANOVA",
            stats.f_oneway(*groups("followup_months")).pvalue,
        ),
        "Rituximab doses in the window, median [IQR]": (
            "Kruskal–Wallis",
            stats.kruskal(*groups("doses")).pvalue,
        ),
    }

    at = open_page(PAGE)

    table = table_one(at)
    assert list(table.columns) == [
        "All (n = 99)",
        "RRMS (n = 42)",
        "SPMS (n = 43)",
        "NMOSD (n = 14)",
        "Test",
        "p",
    ]
    for characteristic, (test, p) in expected.items():
        assert table.at[characteristic, "Test"] == test
        assert table.at[characteristic, "p"] == shown(p), characteristic
    # 67 of 99 women (published; analysis/published.json); mean age 39.5 (SD from pandas)
    assert table.at["Female sex, n (%)", "All (n = 99)"] == "67 (67.7 %)"
    assert table.at["Age at first dose, years, mean ± SD", "All (n = 99)"] == (
        f"39.5 ± {df['age_at_first_dose'].std():.1f}"
    )


def test_the_published_panel_matches_on_the_demo_even_under_a_filter():
    at = open_page(PAGE, {"subtype": ["SPMS"]})

    panel = published_panel(at)
    assert len(panel) == 23
    assert set(panel["Match"]) == {"✓ matches"}, panel[panel["Match"] != "✓ matches"]
    row = panel.set_index("Figure")
    assert row.at["Patients", "This dataset (all patients)"] == "99"
    assert row.at["Doses administered", "This dataset (all patients)"] == "818"
    assert row.at["Relapse-free", "This dataset (all patients)"] == "80.8 %"
    assert row.at["SPMS patients with ≥ 1 attack", "Published"] == "10 (23.2 %)"


def test_an_empty_selection_explains_itself():
    at = open_page(PAGE, {"subtype": ["NMOSD"], "doses": ["14", "14"]})

    assert "No patients match" in at.info[0].value
    assert len(at.metric) == 0


def tiny_cohort(folder: Path, with_optional: bool = True) -> Path:
    """Four RRMS patients and one NMOSD patient, each with two infusions (tests/cohort.py)."""
    first, last = dt.date(2020, 1, 1), dt.date(2021, 7, 1)
    patients = [
        cohort.patient(
            f"T-{i}",
            subtype,
            first,
            last,
            sex=sex,
            age=age,
            edss=2.0 + i * 0.5,
            **(
                {"disease_duration_years": 3.0 + i, "prior_treatments": i % 3}
                if with_optional
                else {}
            ),
        )
        for i, (subtype, sex, age) in enumerate(
            [
                ("RRMS", "F", 30.0),
                ("RRMS", "M", 40.0),
                ("RRMS", "F", 35.0),
                ("RRMS", "F", 45.0),
                ("NMOSD", "F", 41.0),
            ]
        )
    ]
    infusions = cohort.doses([p["patient_id"] for p in patients], first, days=(0, 14))
    return cohort.write(folder, patients=patients, infusions=infusions)


def test_a_one_patient_subtype_shows_n_a(tmp_path, monkeypatch):
    monkeypatch.setenv("RCE_DATA", str(tiny_cohort(tmp_path / "tiny")))

    at = open_page(PAGE)

    table = table_one(at)
    assert table.at["Age at first dose, years, mean ± SD", "NMOSD (n = 1)"] == "41.0 ± n/a"
    assert table.at["Baseline EDSS, median [IQR]", "NMOSD (n = 1)"] == "4.0 [n/a]"
    # the test still compares the two groups: ANOVA on [30, 40, 35, 45] vs [41]
    assert table.at["Age at first dose, years, mean ± SD", "p"] == shown(
        stats.f_oneway([30.0, 40.0, 35.0, 45.0], [41.0]).pvalue
    )
    assert any("NMOSD: a single selected patient" in i.value for i in at.info)


def test_absent_optional_columns_omit_their_rows_with_a_note(tmp_path, monkeypatch):
    monkeypatch.setenv("RCE_DATA", str(tiny_cohort(tmp_path / "lean", with_optional=False)))

    at = open_page(PAGE)

    rows = list(table_one(at).index)
    assert not any(r.startswith(("Disease duration", "Prior treatments")) for r in rows)
    notes = [i.value for i in at.info]
    assert any(n.startswith("Disease duration, years: not in this dataset") for n in notes)
    assert any(n.startswith("Prior treatments failed: not in this dataset") for n in notes)


def test_viewer_mode_shows_no_patient_id_and_no_small_count():
    at = open_page(PAGE, viewer=True)

    text = element_text(at)
    assert "RTX-" not in text
    # 2 adverse events and 1 serious are below k = 5
    assert "< 5 adverse events (< 5 serious)" in at.caption[1].value
    assert tiles(at)["AEs per 1,000 doses"].value == f"< {1000 * 5 / 818:.1f}"
    panel = published_panel(at).set_index("Figure")
    assert panel.at["Adverse events", "This dataset (all patients)"] == "< 5"
    assert panel.at["NMOSD patients with ≥ 1 attack", "This dataset (all patients)"] == "< 5"
    assert panel.at["NMOSD patients with ≥ 1 attack", "Match"] == "not shown (small count)"
    # NMOSD: 11 women, 3 men (small): the women's count shows only as a bound
    assert table_one(at).at["Female sex, n (%)", "NMOSD (n = 14)"] == "≥ 10"
