"""The safety page's rows, computed in SQL over the facts built once per dataset (lab_facts,
cd19_facts, adverse_event_facts, mri_facts), equal a direct pandas computation over the dataset's
parquet files: every value, scan and event inside its patient's window, as the contract defines it
(after the first-dose day up to last follow-up; adverse events from the first-dose day), and
months as days / 30.4375. Medians and quartiles are pandas' (linear interpolation)."""

import datetime as dt
import hashlib

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from analysis.bcells import bcell_rows, main_unit
from analysis.figures import adverse_events, lab_values
from analysis.stats import clopper_pearson, proportion
from queries import Dataset, Filters
from tests.apptest import DEMO
from tests.cohort import D, doses, patient, write
from tests.random_cohort import write_random_cohort

MONTH = 30.4375
FILTERS = [Filters(), Filters(subtypes=("RRMS", "NMOSD")), Filters(subtypes=())]


@pytest.fixture(scope="module", params=["demo", "random0", "random2"])
def cohort(request, tmp_path_factory):
    """A dataset folder: the demo, or a random contract-valid cohort (edge cases: values on the
    first-dose day, outside the windows, IgG exactly at 7.0, …)."""
    if request.param == "demo":
        return DEMO
    seed = int(request.param.removeprefix("random"))
    return write_random_cohort(tmp_path_factory.mktemp(request.param), seed, n_patients=80)


def read(folder, table: str) -> pd.DataFrame:
    frame = pd.read_parquet(folder / f"{table}.parquet")
    for column in frame.columns:
        if column.endswith("_date"):
            frame[column] = pd.to_datetime(frame[column])
    return frame


def selected(folder, f: Filters) -> pd.DataFrame:
    patients = read(folder, "patients")
    if f.subtypes is not None:
        patients = patients[patients["subtype"].isin(f.subtypes)]
    return patients


def inside(folder, table: str, date: str, f: Filters, from_first_day: bool = False) -> pd.DataFrame:
    rows = read(folder, table).merge(selected(folder, f), on="patient_id")
    after = rows[date] >= rows["first_dose_date"] if from_first_day else rows[date] > rows["first_dose_date"]
    rows = rows[after & (rows[date] <= rows["last_followup_date"])].copy()
    rows["months"] = (rows[date] - rows["first_dose_date"]).dt.days / MONTH
    return rows


def by_sha256(ids) -> list[str]:
    return sorted(ids, key=lambda x: hashlib.sha256(x.encode()).hexdigest())


@pytest.mark.parametrize("f", FILTERS)
def test_lab_chart_rows_equal_pandas_over_every_value_inside_the_windows(cohort, f):
    values = inside(cohort, "labs", "sample_date", f)
    ds = Dataset(cohort)

    charts = lab_values(ds, f, (("IgG", 7.0, None), ("platelets", 100.0, 100.0)), max_patients=5)

    for test, chart in charts.items():
        v = values[values["test"] == test].copy()
        v["months_from"] = (np.floor(v["months"] / 6) * 6).astype(int)
        v["is_below"] = v["value"] < (7.0 if test == "IgG" else 100.0)
        expected = v.groupby(["subtype", "months_from"], as_index=False).agg(
            patients=("patient_id", "nunique"), values=("value", "size"), median=("value", "median"),
            minimum=("value", "min"), below=("is_below", "sum"),
        )
        rows = chart["by_interval"]
        assert rows[["subtype", "months_from", "patients", "values", "below"]].values.tolist() == (
            expected[["subtype", "months_from", "patients", "values", "below"]].values.tolist()
        )
        assert_allclose(rows["median"], expected["median"], rtol=1e-12)
        assert_allclose(rows["minimum"], expected["minimum"], rtol=0)
        assert (chart["patients"], chart["values"]) == (v["patient_id"].nunique(), len(v))
        # the sample: every value of the first 5 patients by sha256 of the id (hashlib)
        first = by_sha256(v["patient_id"].unique())[:5]
        sample = chart["sample"]
        assert sorted(sample["patient_id"].unique()) == sorted(first)
        assert len(sample) == v["patient_id"].isin(first).sum()
        assert (sample["sampled"] == (v["patient_id"].nunique() > 5)).all()
        assert_allclose(sample["months"].sort_values(), v[v["patient_id"].isin(first)]["months"].sort_values())
        if test == "platelets":  # marked: every value below 100 of every selected patient
            low = chart["low"]
            assert sorted(low["value"]) == sorted(v.loc[v["value"] < 100, "value"])
            assert set(low["patient_id"]) == set(v.loc[v["value"] < 100, "patient_id"])
        else:
            assert chart["low"] is None
    ds.close()


def test_both_lab_charts_from_one_call_equal_each_chart_on_its_own():
    ds = Dataset(DEMO)
    f = Filters(subtypes=("RRMS", "SPMS"))

    both = lab_values(ds, f, (("IgG", 8.0, None), ("platelets", 100.0, 100.0)), max_patients=20)
    igg = lab_values(ds, f, (("IgG", 8.0, None),), max_patients=20)["IgG"]
    platelets = lab_values(ds, f, (("platelets", 100.0, 100.0),), max_patients=20)["platelets"]

    for alone, together in ((igg, both["IgG"]), (platelets, both["platelets"])):
        for key, value in alone.items():
            if isinstance(value, pd.DataFrame):
                pd.testing.assert_frame_equal(value, together[key])
            else:
                assert value == together[key]
    ds.close()


def test_without_the_interval_rows_the_lines_marks_and_totals_are_the_same():
    # the team view draws no table per interval: lab_values(by_interval=False) skips its medians
    ds = Dataset(DEMO)
    charts = (("IgG", 7.0, None), ("platelets", 100.0, 100.0))

    full = lab_values(ds, Filters(), charts, max_patients=20)
    team = lab_values(ds, Filters(), charts, max_patients=20, by_interval=False)

    for test in ("IgG", "platelets"):
        assert team[test]["by_interval"].empty and len(full[test]["by_interval"]) > 0
        assert list(team[test]["by_interval"].columns) == list(full[test]["by_interval"].columns)
        for key in ("sample", "low"):
            if full[test][key] is None:
                assert team[test][key] is None
            else:
                pd.testing.assert_frame_equal(team[test][key], full[test][key])
        assert (team[test]["patients"], team[test]["values"]) == (
            full[test]["patients"], full[test]["values"])
    ds.close()


@pytest.mark.parametrize("f", FILTERS)
def test_mri_lesions_by_year_equal_pandas_over_the_scans(cohort, f):
    scans = inside(cohort, "mri", "scan_date", f)
    scans["interval"] = (np.floor(scans["months"] / 12) * 12).astype(int)
    expected = scans.groupby(["subtype", "interval"], as_index=False).agg(
        scans=("scan_date", "size"), new_t2_lesions=("new_t2_lesions", "sum"),
        gd_lesions=("gd_enhancing_lesions", "sum"),
    )
    ds = Dataset(cohort)

    rows = ds.run("mri_lesions_by_year", f)

    columns = ["subtype", "interval", "scans", "new_t2_lesions", "gd_lesions"]
    assert rows[columns].values.tolist() == expected[columns].values.tolist()
    assert_allclose(rows["new_t2_per_scan"], expected["new_t2_lesions"] / expected["scans"])
    assert rows["months"].tolist() == [f"{i}–{i + 12}" for i in expected["interval"]]
    ds.close()


@pytest.mark.parametrize("f", FILTERS)
def test_adverse_event_listing_and_breakdowns_equal_pandas(cohort, f):
    events = inside(cohort, "adverse_events", "onset_date", f, from_first_day=True)
    infusions = read(cohort, "infusions").merge(events[["patient_id", "first_dose_date"]].drop_duplicates(),
                                                on="patient_id")
    last = [
        infusions.loc[(infusions["patient_id"] == e.patient_id)
                      & infusions["dose_date"].between(e.first_dose_date, e.onset_date), "dose_date"].max()
        for e in events.itertuples()
    ]
    events["days"] = [(e - d).days if pd.notna(d) else -1 for e, d in zip(events["onset_date"], last)]
    ds = Dataset(cohort)

    ae = adverse_events(ds, f)

    listing = ae["listing"]
    days = listing["days_since_last_infusion"].astype("Int64").fillna(-1)  # -1: no infusion before
    got = sorted(zip(listing["patient_id"], listing["onset_date"], listing["term"], days))
    assert got == sorted(zip(events["patient_id"], events["onset_date"], events["term"], events["days"]))
    assert ae["by_term"].set_index("term")["events"].to_dict() == events.groupby("term").size().to_dict()
    by = events.groupby(["term", "relation", "grade"]).size()
    assert ae["by_term_relation_grade"].set_index(["term", "relation", "grade"])["events"].to_dict() == by.to_dict()
    flagged = events["opportunistic"].eq(True)
    if "infection" in events:
        flagged |= events["infection"].eq(True)
    assert len(ae["infections"]) == flagged.sum()
    ds.close()


# ---------------------------------------------------------------------------------------- B cells
def cd19_cohort(folder, seed: int):
    """Random CD19 and IgG values around two or three courses per patient, in two CD19 units
    (% of lymphocytes and cells/µL) and one unclassified one, with repeated values on one day, samples
    on dose days and outside the window."""
    rng = np.random.default_rng(seed)
    first = D(2020, 1, 1)
    patients, infusions, labs = [], [], []
    for i in range(40):
        pid = f"P{i:02d}"
        patients.append(patient(pid, subtype=["RRMS", "SPMS", "NMOSD"][i % 3], first=first,
                                last=first + dt.timedelta(days=int(rng.integers(200, 700)))))
        starts = [0, int(rng.integers(150, 250)), int(rng.integers(330, 450))]
        for course, start in enumerate(starts, 1):
            infusions += doses([pid], first, (start, start + 14), course=course)
        unit = ["%", "cells/uL", "cells/µL", "x10^9/L"][i % 4]
        for day in sorted(rng.integers(-20, 720, size=8).tolist()) + [starts[1], starts[1]]:
            value = float(np.round(rng.gamma(1.2, 6 if unit != "%" else 1.0), 1))
            labs.append({"patient_id": pid, "sample_date": first + dt.timedelta(days=day),
                         "test": "CD19", "value": value, "unit": unit})
            labs.append({"patient_id": pid, "sample_date": first + dt.timedelta(days=day),
                         "test": "IgG", "value": float(np.round(rng.normal(8, 2), 1)), "unit": "g/L"})
    return write(folder, patients=patients, infusions=infusions, labs=labs)


@pytest.mark.parametrize("f", [Filters(), Filters(subtypes=("SPMS", "NMOSD"))])
@pytest.mark.parametrize("seed", [1, 2])
def test_cd19_rows_equal_pandas_over_the_values_placed_in_their_course(tmp_path, seed, f):
    folder = cd19_cohort(tmp_path / "cd19", seed)
    values = inside(folder, "labs", "sample_date", f)
    values = values[values["test"].isin(["CD19", "IgG"])]
    infusions = read(folder, "infusions").merge(selected(folder, f), on="patient_id")
    infusions = infusions[infusions["dose_date"].between(infusions["first_dose_date"],
                                                         infusions["last_followup_date"])]
    starts = infusions.groupby(["patient_id", "course"], as_index=False)["dose_date"].min()
    # the course a sample belongs to: the last one that began strictly before it
    placed = pd.merge_asof(values.sort_values("sample_date"), starts.sort_values("dose_date"),
                           left_on="sample_date", right_on="dose_date", by="patient_id",
                           allow_exact_matches=False).dropna(subset=["dose_date"])
    placed["month"] = np.floor((placed["sample_date"] - placed["dose_date"]).dt.days / MONTH).astype(int)
    placed["unit"] = placed["unit"].replace({"cells/uL": "cells/µL"})
    cd19 = placed["test"] == "CD19"
    placed["repopulated"] = np.where(
        cd19 & (placed["unit"] == "%"), placed["value"] >= 1,
        np.where(cd19 & (placed["unit"] == "cells/µL"), placed["value"] >= 10, np.nan))
    expected = placed.groupby(["test", "unit", "month"]).agg(
        samples=("value", "size"), patients=("patient_id", "nunique"),
        q1=("value", lambda x: x.quantile(0.25)), median=("value", "median"),
        q3=("value", lambda x: x.quantile(0.75)),
    )
    expected["classified"] = placed[placed["repopulated"].notna()].groupby(
        ["test", "unit", "month"])["patient_id"].nunique()
    expected["repopulated"] = placed[placed["repopulated"] == 1].groupby(
        ["test", "unit", "month"])["patient_id"].nunique()
    expected = expected.fillna(0).reset_index()
    # per test, the unit with the most samples (ties: the first by name)
    totals = expected.groupby(["test", "unit"], as_index=False)["samples"].sum()
    main = totals.sort_values("samples", ascending=False, kind="stable").drop_duplicates("test")
    expected = expected.merge(main[["test", "unit"]], on=["test", "unit"])

    rows = bcell_rows(Dataset(folder), f)

    key = ["test", "unit", "month"]
    assert rows[key].values.tolist() == expected[key].values.tolist()
    assert rows["samples"].tolist() == expected["samples"].tolist()
    assert rows["patients"].tolist() == expected["patients"].tolist()
    assert rows["classified_patients"].tolist() == expected["classified"].astype(int).tolist()
    assert rows["repopulated_patients"].tolist() == expected["repopulated"].astype(int).tolist()
    assert_allclose(rows[["q1", "median", "q3"]], expected[["q1", "median", "q3"]], rtol=1e-12)
    assert rows.groupby("test")["unit"].nunique().max() == 1


def test_main_unit_keeps_each_tests_unit_with_most_samples_ties_to_the_first_by_name():
    # by hand: CD19 in "%" 3 + 4 = 7 samples, in "cells/µL" 5 + 2 = 7 (a tie: "%" sorts first);
    # IgG in "g/L" 2, in "mg/dL" 9 (more samples, though later by name than "g/L")
    rows = pd.DataFrame({
        "test": ["CD19", "CD19", "CD19", "CD19", "IgG", "IgG", "IgG"],
        "unit": ["%", "%", "cells/µL", "cells/µL", "g/L", "mg/dL", "mg/dL"],
        "month": [0, 1, 0, 1, 0, 0, 1],
        "samples": [3, 4, 5, 2, 2, 4, 5],
    })

    kept = main_unit(rows)

    assert kept[["test", "unit", "month"]].values.tolist() == [
        ["CD19", "%", 0], ["CD19", "%", 1], ["IgG", "mg/dL", 0], ["IgG", "mg/dL", 1]]
    assert main_unit(rows.iloc[:0]).empty


def test_clopper_pearson_in_one_call_equals_scipys_binomtest():
    rng = np.random.default_rng(7)
    n = np.concatenate([[1, 1, 2, 5, 5, 40, 1000], rng.integers(1, 3000, size=60)]).astype(float)
    k = np.concatenate([[0, 1, 1, 0, 5, 17, 999], [rng.integers(0, m + 1) for m in n[7:]]])

    low, high = clopper_pearson(k, n)

    for ki, ni, lo, hi in zip(k, n, low, high):
        expected = stats.binomtest(int(ki), int(ni)).proportion_ci(method="exact")
        assert lo == pytest.approx(expected.low, abs=1e-11)
        assert hi == pytest.approx(expected.high, abs=1e-11)
    assert np.isnan(clopper_pearson(np.array([0.0]), np.array([0.0]))).all()


def test_bcell_shares_and_intervals_equal_scipy_on_the_demo():
    rows = bcell_rows(Dataset(DEMO), Filters())

    classified = rows[rows["classified_patients"] > 0]
    assert len(classified) > 0 and rows.loc[rows["classified_patients"] == 0, "ci_low"].isna().all()
    for r in classified.itertuples():
        expected = proportion(int(r.repopulated_patients), int(r.classified_patients))
        assert r.repopulated_pct == pytest.approx(expected["pct"], abs=1e-12)
        assert (r.ci_low, r.ci_high) == pytest.approx((expected["ci_low"], expected["ci_high"]), abs=1e-9)
