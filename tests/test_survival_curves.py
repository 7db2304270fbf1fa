"""Kaplan–Meier plot tables (analysis/survival.py) equal lifelines' fit (viewer cut: test_privacy.py)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from numpy.testing import assert_allclose

from analysis import survival
from queries import Dataset

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"


@pytest.fixture(scope="module")
def outcomes() -> pd.DataFrame:
    ds = Dataset(DEMO)
    try:
        return ds.run("patient_outcome")
    finally:
        ds.close()


@pytest.mark.parametrize("subtype", ["RRMS", "SPMS", "NMOSD"])
def test_curve_points_are_lifelines_survival_function_on_demo(outcomes, subtype):
    group = outcomes[outcomes["subtype"] == subtype]
    expected = KaplanMeierFitter().fit(group["rfs_months"], group["rfs_event"].astype(bool))

    c = survival.curves(outcomes, [subtype])[0]

    sf = expected.survival_function_.iloc[:, 0]
    ci = expected.confidence_interval_
    assert_allclose(c.points["months"], sf.index.to_numpy())
    assert_allclose(c.points["s"], sf.to_numpy())
    # lifelines' log(−log) band, with the contract's [1, 1] where S = 1
    flat = sf.to_numpy() == 1.0
    assert_allclose(c.points["ci_low"], np.where(flat, 1.0, ci.iloc[:, 0].to_numpy()))
    assert_allclose(c.points["ci_high"], np.where(flat, 1.0, ci.iloc[:, 1].to_numpy()))
    assert c.n == len(group)


def test_pooled_curve_is_the_fit_of_all_patients(outcomes):
    expected = KaplanMeierFitter().fit(outcomes["rfs_months"], outcomes["rfs_event"].astype(bool))

    (c,) = survival.curves(outcomes, None)

    assert c.group == "All"
    assert_allclose(c.points["s"], expected.survival_function_.iloc[:, 0].to_numpy())


def test_censor_marks_sit_at_censored_times_on_the_curve():
    # hand-made: events at 2 and 5, censored at 3, 3 and 8 months
    months = pd.Series([2.0, 3.0, 3.0, 5.0, 8.0])
    event = pd.Series([True, False, False, True, False])

    c = survival.curve("x", months, event)

    assert c.censors["months"].tolist() == [3.0, 8.0]
    assert c.censors["censored"].tolist() == [2, 1]
    # S after the event at 2: 4/5; after the event at 5 (2 at risk): 4/5 × 1/2
    assert_allclose(c.censors["s"], [0.8, 0.4])
    assert c.points["at_risk"].tolist() == [5, 5, 4, 2, 1]


def test_relapse_on_first_dose_day_is_an_event_at_time_zero():
    months = pd.Series([0.0, 4.0, 6.0])
    event = pd.Series([True, False, False])

    c = survival.curve("x", months, event)

    assert c.points["months"].iloc[0] == 0.0
    assert_allclose(c.points["s"].iloc[0], 2 / 3)
    assert c.points["events"].iloc[0] == 1


def test_empty_group_gives_an_empty_curve():
    c = survival.curve("x", pd.Series([], dtype=float), pd.Series([], dtype=bool))

    assert c.n == 0 and c.points.empty and c.end is None


def test_numbers_at_risk_count_times_at_or_after_t(outcomes):
    c = survival.curves(outcomes, None)[0]

    times = survival.risk_times(c.end)

    assert times[:3] == [0, 6, 12]
    assert c.at_risk(times) == [int((outcomes["rfs_months"] >= t).sum()) for t in times]


def test_the_median_interval_is_where_the_ci_band_crosses_one_half():
    # ten patients, eight relapses: the median is reached, so is the lower bound of its interval
    months = pd.Series([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    relapsed = pd.Series([True, True, False, True, True, True, True, False, True, True])
    from lifelines.utils import median_survival_times

    c = survival.curve("RRMS", months, relapsed)

    kmf = KaplanMeierFitter().fit(months, relapsed)
    expected = median_survival_times(kmf.confidence_interval_)
    assert c.median_ci[0] == pytest.approx(expected.iloc[0, 0])
    upper = expected.iloc[0, 1]
    assert c.median_ci[1] == (None if np.isinf(upper) else pytest.approx(upper))
    # by hand: S = .9, .8, (censored), .8·6/7, ·5/6 = .571, ·4/5 = .457 at month 6: the median
    assert kmf.median_survival_time_ == pytest.approx(6.0)


def _per_patient_and_counted(folder) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The patients' relapse-free times (patient_outcome) and the same as relapse_free_time_counts
    rows (subtype, time, event, patients)."""
    ds = Dataset(folder)
    try:
        return ds.run("patient_outcome"), ds.run("relapse_free_time_counts")
    finally:
        ds.close()


@pytest.fixture(scope="module", params=["demo", "random"])
def both_forms(request, tmp_path_factory):
    from tests.random_cohort import write_random_cohort

    folder = DEMO if request.param == "demo" else write_random_cohort(
        tmp_path_factory.mktemp("km"), 3, n_patients=300)
    return _per_patient_and_counted(folder)


def test_counted_rows_hold_every_patient_once(both_forms):
    patients, counted = both_forms

    by_patient = patients.groupby(["subtype", "rfs_months", "rfs_event"]).size()
    by_count = counted.set_index(["subtype", "rfs_months", "rfs_event"])["patients"]

    assert by_count.sort_index().to_dict() == by_patient.sort_index().to_dict()


def test_curves_from_counted_rows_equal_the_per_patient_fits(both_forms):
    patients, counted = both_forms
    groups = sorted(patients["subtype"].unique())

    for mine, theirs in zip(survival.curves(counted, groups) + survival.curves(counted, None),
                            survival.curves(patients, groups) + survival.curves(patients, None)):
        # one row per patient: lifelines' own fit of each patient, as before
        pd.testing.assert_frame_equal(mine.points, theirs.points, check_exact=True)
        pd.testing.assert_frame_equal(mine.censors, theirs.censors, check_exact=True)
        assert mine.n == theirs.n and mine.median_ci == theirs.median_ci
        assert_allclose(mine.durations, np.sort(theirs.durations), rtol=0, atol=0)
        times = [0, 6, 12.5, 24, 1000]
        assert mine.at_risk(times) == [int((theirs.durations >= t).sum()) for t in times]


def test_rfs_and_logrank_from_counted_rows_equal_lifelines_per_patient(both_forms):
    from lifelines.statistics import multivariate_logrank_test

    from analysis.summary import rfs

    patients, counted = both_forms
    groups = sorted(patients["subtype"].unique())

    got = rfs(counted, groups)

    assert got == rfs(patients, groups)
    expected = multivariate_logrank_test(
        patients["rfs_months"], patients["subtype"], patients["rfs_event"].astype(bool)
    ).p_value
    assert got["logrank_p"] == pytest.approx(expected, rel=1e-12)
    two = counted[counted["subtype"].isin(groups[:2])]
    two_patients = patients[patients["subtype"].isin(groups[:2])]
    assert rfs(two, groups[:2])["logrank_p"] == pytest.approx(
        rfs(two_patients, groups[:2])["logrank_p"], rel=1e-12)
