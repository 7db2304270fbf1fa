"""The EDSS page shows the summary's figures and scipy's tests, and explains what it cannot show."""

import datetime as dt
import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats
from streamlit.testing.v1 import AppTest

from analysis.summary import summary
from queries import Dataset, Filters
from tests.apptest import DEMO, elements, open_page, page_text, plotly_values, table_with
from tests.random_cohort import write_random_cohort

PAGE = "edss"
DAY0 = dt.date(2020, 1, 1)


@pytest.fixture(scope="module")
def demo():
    ds = Dataset(DEMO)
    yield ds
    ds.close()


def write_tiny(folder: Path) -> Path:
    """Six patients, no mri/labs tables: RRMS changes +1.0, −0.5, 0.0 and one RRMS patient whose
    only assessments are on the first-dose day and after follow-up (no follow-up EDSS); two SPMS
    patients with equal changes (+0.5, +0.5); one NMOSD patient (+0.5)."""
    folder.mkdir(parents=True, exist_ok=True)
    d = lambda days: DAY0 + dt.timedelta(days=days)
    patients = [  # id, subtype, baseline EDSS
        ("TNY-1", "RRMS", 2.0), ("TNY-2", "RRMS", 3.0), ("TNY-3", "RRMS", 2.5),
        ("TNY-4", "RRMS", 1.5), ("TNY-5", "SPMS", 6.0), ("TNY-6", "SPMS", 6.5),
        ("TNY-7", "NMOSD", 3.0),
    ]
    edss = [  # id, day, EDSS
        ("TNY-1", 180, 2.5), ("TNY-1", 360, 3.0), ("TNY-2", 200, 2.5), ("TNY-3", 365, 2.5),
        ("TNY-4", 0, 2.0), ("TNY-4", 800, 4.0), ("TNY-5", 300, 6.5), ("TNY-6", 300, 7.0),
        ("TNY-7", 370, 3.5),
    ]
    n = len(patients)
    tables = {
        "patients": pa.table({
            "patient_id": [p[0] for p in patients], "subtype": [p[1] for p in patients],
            "sex": ["F", "M"] * 3 + ["F"], "age_at_first_dose": [30.0 + i for i in range(n)],
            "baseline_edss": [p[2] for p in patients],
            "first_dose_date": pa.array([DAY0] * n, pa.date32()),
            "last_followup_date": pa.array([d(400)] * n, pa.date32()),
        }),
        # TNY-1 has a second dose so that the sidebar's dose slider has a range
        "infusions": pa.table({
            "patient_id": [p[0] for p in patients] + ["TNY-1"],
            "dose_date": pa.array([DAY0] * n + [d(180)], pa.date32()),
            "dose_mg": [1000.0] * (n + 1), "course": [1] * n + [2],
        }),
        "relapses": pa.table({
            "patient_id": pa.array(["TNY-1"], pa.string()),
            "onset_date": pa.array([d(100)], pa.date32()),
        }),
        "edss": pa.table({
            "patient_id": [e[0] for e in edss],
            "assessment_date": pa.array([d(e[1]) for e in edss], pa.date32()),
            "edss": [e[2] for e in edss],
        }),
        "adverse_events": pa.table({
            "patient_id": pa.array([], pa.string()), "onset_date": pa.array([], pa.date32()),
            "term": pa.array([], pa.string()), "relation": pa.array([], pa.string()),
            "grade": pa.array([], pa.int64()), "serious": pa.array([], pa.bool_()),
        }),
    }
    for name, table in tables.items():
        pq.write_table(table, folder / f"{name}.parquet")
    return folder


def signed(x: float) -> str:
    return f"{x:+.2f}".replace("-", "−")


def means_table(at: AppTest):
    return table_with(at, "Mean change (95 % CI)", unique=True).set_index("Group")


def traces(at: AppTest, name: str) -> list[dict]:
    """The traces of the chart whose key names it (ui.components.chart keys charts by a slug)."""
    (found,) = [c for c in at.get("plotly_chart") if name in c.proto.id or name in c.key]
    return json.loads(found.proto.spec)["data"]


def test_means_and_p_values_shown_equal_scipy_on_demo(demo):
    outcomes = demo.run("patient_outcome")

    at = open_page(PAGE)

    table = means_table(at)
    for group in ("RRMS", "SPMS", "NMOSD"):
        x = outcomes.loc[outcomes["subtype"] == group, "edss_change"].to_numpy()
        low, high = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        row = table.loc[group]
        assert row["n"] == str(len(x))
        assert row["Mean change (95 % CI)"] == (
            f"{signed(x.mean())} (95 % CI {signed(low)} to {signed(high)})"
        )
        assert row["SD"] == f"{x.std(ddof=1):.2f}"
        assert row["t-test"] == f"p = {stats.ttest_1samp(x, 0).pvalue:.3f}"
        assert row["Wilcoxon"] == f"p = {stats.wilcoxon(x).pvalue:.3f}"
    assert table.loc["All", "n"] == str(len(outcomes))


def test_filter_changes_n_and_figures_and_labels_p_exploratory(demo):
    expected = summary(demo, Filters(followup_max=24))["edss_change"]

    at = open_page(PAGE, {"followup": ["12", "24"]})

    table = means_table(at)
    assert table.loc["All", "n"] == str(expected["all"]["n"])
    assert expected["all"]["n"] < 99
    assert table.loc["RRMS", "Mean change (95 % CI)"].startswith(signed(expected["RRMS"]["mean"]))
    p = expected["RRMS"]["p_ttest"]
    assert table.loc["RRMS", "t-test"] == f"p = {p:.3f} (exploratory — subgroup)"


def test_outcome_classes_and_neda_equal_the_summary(demo):
    s = summary(demo, Filters())

    at = open_page(PAGE)

    classes = {t["name"]: t["text"] for t in traces(at, "edss-outcome-classes")}
    for i, group in enumerate(["all", "RRMS", "SPMS", "NMOSD"]):
        for cls in ("worsened", "stable", "improved"):
            assert classes[cls][i] == str(s["edss_change"][group][cls])
    labels = [t["x"][0] for t in traces(at, "neda-3")]
    n, evaluable = s["neda3"]["RRMS"]["neda"], s["neda3"]["RRMS"]["evaluable"]
    assert f"RRMS<br>{n}/{evaluable} ({100 * n / evaluable:.1f} %)" in labels


def test_one_patient_subtype_and_equal_changes_show_na(tmp_path, monkeypatch):
    monkeypatch.setenv("RCE_DATA", str(write_tiny(tmp_path / "tiny")))

    at = open_page(PAGE)

    table = means_table(at)
    # NMOSD: one patient, +0.5 (3.5 − 3.0); no CI, no test
    assert table.loc["NMOSD", "n"] == "1"
    assert table.loc["NMOSD", "Mean change (95 % CI)"] == "+0.50"
    assert table.loc["NMOSD", "t-test"] == "p n/a"
    assert table.loc["NMOSD", "SD"] == "n/a"
    # SPMS: both changes +0.5, so neither test is defined
    assert table.loc["SPMS", "Wilcoxon"] == "p n/a"
    assert "p n/a for SPMS, NMOSD" in page_text(at)
    # RRMS: +1.0, −0.5, 0.0 (TNY-4 has no assessment inside the window)
    assert table.loc["RRMS", "n"] == "3"
    assert table.loc["RRMS", "t-test"] == f"p = {stats.ttest_1samp([1.0, -0.5, 0.0], 0).pvalue:.3f}"


def test_missing_mri_table_and_missing_follow_up_are_explained(tmp_path, monkeypatch):
    monkeypatch.setenv("RCE_DATA", str(write_tiny(tmp_path / "tiny")))

    at = open_page(PAGE)

    assert "NEDA-3 needs the optional mri table" in page_text(at)
    assert [m.value for m in at.metric if m.label == "No follow-up EDSS"] == ["1"]
    assert "1 selected patient(s) have no follow-up EDSS" in page_text(at)


def test_trajectory_rows_are_baseline_plus_follow_up_inside_the_window(tmp_path):
    ds = Dataset(write_tiny(tmp_path / "tiny"))

    rows = ds.run("edss_trajectory", Filters())
    ds.close()

    # TNY-4: only the baseline row (day-0 value is a baseline, day 800 is after follow-up)
    tny4 = rows[rows["patient_id"] == "TNY-4"]
    assert tny4[["months", "edss"]].values.tolist() == [[0.0, 1.5]]
    tny1 = rows[rows["patient_id"] == "TNY-1"]
    assert tny1["edss"].tolist() == [2.0, 2.5, 3.0]
    assert tny1["months"].tolist() == pytest.approx([0, 180 / 30.4375, 360 / 30.4375])
    assert len(rows) == 7 + 7  # a baseline per patient + 7 in-window assessments


def test_empty_selection_explains_itself():
    at = open_page(PAGE, {"doses": ["14", "14"], "subtype": ["NMOSD"]})

    assert "No patients match" in at.info[0].value


def shows_patient_ids(at: AppTest, prefix: str = "RTX-") -> bool:
    in_elements = any(prefix in str(getattr(node, "proto", "")) for node in elements(at))
    in_tables = any(d.value.astype(str).stack().str.contains(prefix).any() for d in at.dataframe)
    return in_elements or in_tables


def test_viewer_mode_shows_no_patient_id_and_no_patient_level_table():
    team = open_page(PAGE)
    assert shows_patient_ids(team)  # hovers and the tables behind charts list patients for the team

    at = open_page(PAGE, viewer=True)

    assert not shows_patient_ids(at)
    assert not any("patient_id" in d.value.columns for d in at.dataframe)
    hovers = [c for t in traces(at, "edss-change-waterfall") for c in t["customdata"]]
    assert all(c[0].startswith("Patient ") for c in hovers)
    # demo NMOSD: NEDA-3 in 13 of 14 evaluable; the share would tell the 1 without it
    labels = [t["x"][0] for t in traces(at, "neda-3")]
    assert [label.split("<br>")[0] for label in labels] == ["All", "RRMS", "SPMS"]
    assert "NEDA-3 not shown for NMOSD" in page_text(at)


def test_viewer_mode_hides_small_subtypes(tmp_path, monkeypatch):
    monkeypatch.setenv("RCE_DATA", str(write_tiny(tmp_path / "tiny")))

    at = open_page(PAGE, viewer=True)

    table = means_table(at)
    # every subtype has fewer than 5 patients with follow-up EDSS (3, 2, 1); all 6 together do not
    assert (table.loc[["RRMS", "SPMS", "NMOSD"], "n"] == "< 5").all()
    small = table.loc[["RRMS", "SPMS", "NMOSD"]]
    assert (small["Mean change (95 % CI)"] == "hidden (< 5 patients)").all()
    assert table.loc["All", "n"] == "6"
    assert (
        "Patient-level charts (distribution, waterfall, trajectories) are not shown"
        in page_text(at)
    )
    assert not shows_patient_ids(at, "TNY-")


def test_at_registry_scale_boxes_come_from_the_change_statistics_and_charts_draw_a_sample(
    tmp_path, monkeypatch
):
    # 700 random patients, 622 with a follow-up EDSS: more than the 300 a patient-level chart draws
    folder = write_random_cohort(tmp_path / "big", 5, n_patients=700)
    monkeypatch.setenv("RCE_DATA", str(folder))
    ds = Dataset(folder)
    outcomes = ds.run("patient_outcome")
    values = ds.run("edss_trajectory")
    ds.close()

    at = open_page(PAGE)

    boxes = {t["name"]: t for t in traces(at, "edss-change-distribution")}
    assessed = outcomes[outcomes["edss_change"].notna()]
    assert len(assessed) > 300
    for group, d in assessed.groupby("subtype"):
        x = d["edss_change"]
        q1, q3 = x.quantile(0.25), x.quantile(0.75)  # pandas' linear quartiles
        box = boxes[group]
        assert [box["q1"][0], box["median"][0], box["q3"][0]] == pytest.approx(
            [q1, x.median(), q3], rel=1e-12)
        assert box["lowerfence"][0] == x[x >= q1 - 1.5 * (q3 - q1)].min()
        assert box["upperfence"][0] == x[x <= q3 + 1.5 * (q3 - q1)].max()
        assert box["mean"][0] == pytest.approx(x.mean(), rel=1e-12)
    # the waterfall and the trajectories draw 300 patients each, the first by sha256 of the id
    bars = sum(len(plotly_values(t["x"])) for t in traces(at, "edss-change-waterfall"))
    assert bars == 300
    drawn = sorted(outcomes["patient_id"], key=lambda p: hashlib.sha256(p.encode()).hexdigest())
    lines = [t for t in traces(at, "edss-trajectories") if t["name"].endswith("patients")]
    points = sum(int(np.isfinite(plotly_values(t["y"], as_array=True).astype(float)).sum())
                 for t in lines)
    assert points == values["patient_id"].isin(drawn[:300]).sum()
