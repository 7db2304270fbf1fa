"""Confirmed disability worsening (CDW) and PIRA vs RAW, per the contract's v2 definitions.

Each patient below is built to exercise one branch of the definition; the expected event, time and
PIRA/RAW class are worked out by hand from the dates written next to them (times: days / 30.4375).
"""

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test

from analysis.disability import cdw_events, disability_summary
from analysis.summary import summary
from queries import Dataset, Filters
from tests.cohort import D, patient, write
from tests.random_cohort import write_random_cohort
from tests.reference_endpoints import reference_disability

MONTH = 30.4375
FIRST = D(2020, 1, 1)
LAST = D(2022, 1, 1)


def day(n: int) -> dt.date:
    return FIRST + dt.timedelta(days=n)


def visits(pid: str, *pairs: tuple[int, float]) -> list[dict]:
    """EDSS rows of one patient: (days after the first dose, EDSS)."""
    return [{"patient_id": pid, "assessment_date": day(d), "edss": v} for d, v in pairs]


def cdw_rows(folder, confirm_days: int) -> dict:
    """cdw_events rows of the dataset by patient id."""
    rows = cdw_events(Dataset(folder), Filters(), confirm_days)
    return {r.patient_id: r for r in rows.itertuples()}


@pytest.fixture(scope="module")
def branches(tmp_path_factory):
    """One patient per branch of the CDW/PIRA definition (first dose 2020-01-01)."""
    pats = [
        patient("UNCONFIRMED", edss=3.0, first=FIRST, last=LAST),
        patient("BROKEN", edss=2.0, first=FIRST, last=LAST),
        patient("LAST_VISIT", edss=4.0, first=FIRST, last=LAST),
        patient("B0_PLUS1", edss=0.0, first=FIRST, last=LAST),
        patient("B0_PLUS15", edss=0.0, first=FIRST, last=LAST),
        patient("B55_PLUS05", edss=5.5, first=FIRST, last=LAST),
        patient("B55_PLUS1", edss=5.5, first=FIRST, last=LAST),
        patient("B6_PLUS05", edss=6.0, first=FIRST, last=LAST),
        patient("RELAPSE_90D_BEFORE", edss=3.0, first=FIRST, last=LAST),
        patient("RELAPSE_91D_BEFORE", edss=3.0, first=FIRST, last=LAST),
        patient("RELAPSE_IN_CONFIRMATION", edss=3.0, first=FIRST, last=LAST),
        patient("RELAPSE_AFTER_CONFIRMATION", edss=3.0, first=FIRST, last=LAST),
        patient("EXACTLY_84", edss=3.0, first=FIRST, last=LAST),
        patient("ONLY_83", edss=3.0, first=FIRST, last=LAST),
        patient("NO_FOLLOWUP_EDSS", edss=3.0, first=FIRST, last=LAST),
        patient("BASELINE_DAY_ONLY", edss=3.0, first=FIRST, last=D(2020, 12, 31)),
        patient("SIX_MONTHS", edss=3.0, first=FIRST, last=LAST),
    ]
    edss = (
        # meets at day 90, not at day 180: no confirmation; censored at the last visit (day 180)
        visits("UNCONFIRMED", (90, 4.0), (180, 3.0))
        # meets at 100, a lower visit at 150 breaks it; meets at 200, confirmed by 300 (100 d later)
        + visits("BROKEN", (100, 3.0), (150, 2.5), (200, 3.5), (300, 3.5))
        # the only worsening is at the last visit: nothing can confirm it; censored at day 200
        + visits("LAST_VISIT", (100, 4.0), (200, 5.0))
        # baseline 0 needs +1.5: +1.0 does not meet, +1.5 does
        + visits("B0_PLUS1", (100, 1.0), (200, 1.0))
        + visits("B0_PLUS15", (100, 1.5), (200, 1.5))
        # baseline 5.5 needs +1.0: +0.5 does not meet, +1.0 does
        + visits("B55_PLUS05", (100, 6.0), (200, 6.0))
        + visits("B55_PLUS1", (100, 6.5), (200, 6.5))
        # baseline 6.0 needs +0.5
        + visits("B6_PLUS05", (100, 6.5), (200, 6.5))
        # worsening at 200 confirmed at 300; relapses placed around the window [110, 300]
        + visits("RELAPSE_90D_BEFORE", (200, 4.0), (300, 4.0))
        + visits("RELAPSE_91D_BEFORE", (200, 4.0), (300, 4.0))
        + visits("RELAPSE_IN_CONFIRMATION", (200, 4.0), (300, 4.0))
        + visits("RELAPSE_AFTER_CONFIRMATION", (200, 4.0), (300, 4.0))
        # confirmation exactly D = 84 days later counts; 83 days does not
        + visits("EXACTLY_84", (100, 4.0), (184, 4.0))
        + visits("ONLY_83", (100, 4.0), (183, 4.0))
        # an assessment on the first-dose day is a baseline, one after last follow-up is outside
        + visits("BASELINE_DAY_ONLY", (0, 5.0), (400, 5.0))
        # confirmed 3m by day 200, 6m only by day 300 (200 days after the worsening at day 100)
        + visits("SIX_MONTHS", (100, 4.0), (200, 4.0), (300, 4.0))
    )
    relapses = [
        {"patient_id": "RELAPSE_90D_BEFORE", "onset_date": day(110)},  # 200 - 90: inside
        {"patient_id": "RELAPSE_91D_BEFORE", "onset_date": day(109)},  # 200 - 91: outside
        {"patient_id": "RELAPSE_IN_CONFIRMATION", "onset_date": day(250)},
        {"patient_id": "RELAPSE_AFTER_CONFIRMATION", "onset_date": day(301)},  # after j = 300
    ]
    return write(tmp_path_factory.mktemp("cdw"), patients=pats, edss=edss, relapses=relapses)


@pytest.fixture(scope="module")
def cdw3(branches):
    return cdw_rows(branches, 84)


@pytest.fixture(scope="module")
def cdw6(branches):
    return cdw_rows(branches, 168)


def test_worsening_not_sustained_at_the_next_visit_is_censored_at_the_last_visit(cdw3):
    r = cdw3["UNCONFIRMED"]

    assert not r.event
    assert r.months == pytest.approx(180 / MONTH)


def test_a_lower_visit_breaks_confirmation_and_the_later_confirmed_worsening_counts(cdw3):
    r = cdw3["BROKEN"]

    assert r.event
    assert r.confirm_months == pytest.approx(300 / MONTH)
    assert r.months == pytest.approx(200 / MONTH)


def test_worsening_at_the_last_visit_cannot_be_confirmed(cdw3):
    r = cdw3["LAST_VISIT"]

    assert not r.event
    assert r.months == pytest.approx(200 / MONTH)


@pytest.mark.parametrize(
    "pid,event",
    [
        ("B0_PLUS1", False),
        ("B0_PLUS15", True),  # threshold(0) = 1.5
        ("B55_PLUS05", False),
        ("B55_PLUS1", True),  # threshold(5.5) = 1.0
        ("B6_PLUS05", True),  # threshold(6.0) = 0.5
    ],
)
def test_threshold_depends_on_the_baseline(cdw3, pid, event):
    r = cdw3[pid]

    assert bool(r.event) is event
    assert r.months == pytest.approx((100 if event else 200) / MONTH)


@pytest.mark.parametrize(
    "pid,raw",
    [
        ("RELAPSE_90D_BEFORE", True),  # onset = date_i − 90 days: the window is closed
        ("RELAPSE_91D_BEFORE", False),
        ("RELAPSE_IN_CONFIRMATION", True),  # between worsening and confirmation
        ("RELAPSE_AFTER_CONFIRMATION", False),  # one day after date_j
    ],
)
def test_relapse_from_90_days_before_to_confirmation_makes_it_relapse_associated(cdw3, pid, raw):
    r = cdw3[pid]

    assert r.event
    assert bool(r.relapse_associated) is raw


def test_confirmation_needs_at_least_d_days(cdw3):
    assert cdw3["EXACTLY_84"].event
    assert not cdw3["ONLY_83"].event


def test_patients_without_follow_up_edss_are_not_evaluable(cdw3):
    for pid in ("NO_FOLLOWUP_EDSS", "BASELINE_DAY_ONLY"):
        r = cdw3[pid]

        assert not r.evaluable
        assert not r.event
        assert r.months is None or math.isnan(r.months)


def test_six_month_confirmation_needs_168_days(cdw3, cdw6):
    assert cdw3["SIX_MONTHS"].event and cdw6["SIX_MONTHS"].event
    assert cdw6["SIX_MONTHS"].confirm_months == pytest.approx(300 / MONTH)
    assert cdw3["SIX_MONTHS"].confirm_months == pytest.approx(200 / MONTH)
    # B0_PLUS15 is confirmed 100 days later only: an event for CDW-3m, censored at 200 for CDW-6m
    assert cdw3["B0_PLUS15"].event and not cdw6["B0_PLUS15"].event
    assert cdw6["B0_PLUS15"].months == pytest.approx(200 / MONTH)


def test_summary_counts_events_pira_raw_and_not_evaluable(branches):
    d = disability_summary(Dataset(branches), Filters())

    # hand count, CDW-3m: events BROKEN, B0_PLUS15, B55_PLUS1, B6_PLUS05, the four RELAPSE_*,
    # EXACTLY_84, SIX_MONTHS = 10; RAW: RELAPSE_90D_BEFORE, RELAPSE_IN_CONFIRMATION = 2
    assert d["cdw_3m"]["all"] | {"at_months": None} == {
        "evaluable": 15,
        "not_evaluable": 2,
        "events": 10,
        "pira": 8,
        "raw": 2,
        "at_months": None,
    }
    # CDW-6m: every confirmation above comes ≤ 100 days later except SIX_MONTHS (day 100 → 300)
    assert d["cdw_6m"]["all"]["events"] == 1
    assert d["cdw_6m"]["all"]["pira"] == 1
    assert d["cdw_3m"]["logrank_p"] is None  # one subtype


def test_kaplan_meier_at_12_months_equals_lifelines_on_the_hand_derived_times(tmp_path):
    pats = [patient(p, edss=2.0, first=FIRST, last=LAST) for p in "ABCDE"]
    edss = (
        visits("A", (100, 3.0), (200, 3.0))  # event at day 100
        + visits("B", (300, 3.0), (400, 3.0))  # event at day 300
        + visits("C", (150, 2.0), (500, 2.0))  # censored at day 500
        + visits("D", (200, 2.5), (420, 3.0), (700, 3.0))  # event at day 420
        + visits("E", (100, 2.0), (250, 2.0))  # censored at day 250
    )
    folder = write(tmp_path / "km", patients=pats, edss=edss)
    kmf = KaplanMeierFitter().fit(
        np.array([100, 300, 500, 420, 250]) / MONTH, [True, True, False, True, False]
    )
    expected = kmf.survival_function_at_times(12).iloc[0]  # last step ≤ 12 months is day 300
    low, high = kmf.confidence_interval_.loc[300 / MONTH]

    at = disability_summary(Dataset(folder), Filters())["cdw_3m"]["all"]["at_months"]

    assert at["12"] == pytest.approx({"s": expected, "ci_low": low, "ci_high": high})
    assert expected == pytest.approx(4 / 5 * 2 / 3)  # by hand: 1 − 1/5, then 1 − 1/3 (E censored)
    assert at["24"] is None  # the longest time, day 500 ≈ 16.4 months, is before 24


def test_log_rank_across_two_subtypes_equals_lifelines(tmp_path):
    pats = [patient(f"R{i}", "RRMS", edss=2.0, first=FIRST, last=LAST) for i in range(4)]
    pats += [patient(f"S{i}", "SPMS", edss=6.0, first=FIRST, last=LAST) for i in range(4)]
    edss = []
    for i in range(4):
        edss += visits(f"R{i}", (100 + 50 * i, 2.0), (400, 2.0))  # never worse
        edss += visits(f"S{i}", (100 + 50 * i, 6.5), (400, 6.5))  # worse at 100 + 50 i
    folder = write(tmp_path / "two", patients=pats, edss=edss)
    expected = logrank_test(
        [400 / MONTH] * 4, [(100 + 50 * i) / MONTH for i in range(4)], [0] * 4, [1] * 4
    ).p_value

    d = disability_summary(Dataset(folder), Filters())

    assert d["cdw_3m"]["logrank_p"] == pytest.approx(expected)
    assert d["cdw_3m"]["SPMS"]["events"] == 4 and d["cdw_3m"]["RRMS"]["events"] == 0


def test_an_assessment_that_does_not_meet_on_the_day_of_i_or_j_breaks_the_confirmation(tmp_path):
    # the contract: every assessment k with date_i <= date_k <= date_j meets, so a lower EDSS on the
    # same day as the worsening (A) or as its confirmation (B) leaves it unconfirmed; baseline 3.0
    # needs +1.0; A's next worsening (day 200, confirmed on day 300) is the event instead
    pats = [patient(p, edss=3.0, first=FIRST, last=LAST) for p in ("A", "B")]
    edss = (
        visits("A", (100, 4.0), (100, 3.0), (200, 4.0), (300, 4.0))
        + visits("B", (100, 4.0), (200, 4.0), (200, 3.5))
    )
    folder = write(tmp_path / "same_day", patients=pats, edss=edss)

    rows = cdw_rows(folder, 84)

    assert rows["A"].event and rows["A"].months == pytest.approx(200 / MONTH)
    assert rows["A"].confirm_months == pytest.approx(300 / MONTH)
    assert not rows["B"].event and rows["B"].months == pytest.approx(200 / MONTH)


def test_curves_and_estimates_from_counted_rows_equal_the_per_patient_fits(tmp_path):
    from analysis import survival
    from analysis.disability import cdw_curves

    for folder in (Path(__file__).parents[1] / "data" / "demo",
                   write_random_cohort(tmp_path / "r", 2, n_patients=200)):
        ds = Dataset(folder)
        for key, days in (("cdw_3m", 84), ("cdw_6m", 168)):
            rows = cdw_events(ds, Filters(), days)
            rows = rows[rows["evaluable"]]
            groups = [c.group for c in cdw_curves(ds, Filters(), days)]
            # one row per patient: lifelines' own fit of each patient
            expected = [survival.curve(g, d["months"], d["event"])
                        for g in groups for d in [rows[rows["subtype"] == g]]]
            d = disability_summary(ds, Filters())[key]

            for got, want in zip(cdw_curves(ds, Filters(), days), expected, strict=True):
                pd.testing.assert_frame_equal(got.points, want.points, check_exact=True)
                assert got.n == want.n and got.median_ci == want.median_ci
            kmf = KaplanMeierFitter().fit(rows["months"], rows["event"].astype(bool))
            for t in ("12", "24"):
                if d["all"]["at_months"][t] is not None:
                    assert d["all"]["at_months"][t]["s"] == kmf.survival_function_at_times(
                        float(t)).iloc[0]


def test_disability_is_null_when_no_patient_is_evaluable(tmp_path):
    folder = write(tmp_path / "none", patients=[patient("A"), patient("B")])

    assert summary(Dataset(folder), Filters())["disability"] is None
    assert summary(Dataset(folder), Filters(subtypes=()))["disability"] is None


FILTERS = [
    {},
    {"followup_min": 12.0, "followup_max": 36.0},
    {"subtypes": ["RRMS", "NMOSD"]},
    {"sexes": ["F"]},
    {"doses_min": 2, "doses_max": 4},
    {"sites": ["North"]},
    {"followup_min": 1000.0},
]


def assert_close(actual, expected, path="disability"):
    """Same keys and None-ness; ints equal; floats within 1e-4 (rel) / 1e-9 (abs near 0)."""
    if expected is None:
        assert actual is None, path
        return
    assert actual is not None, path
    if isinstance(expected, dict):
        assert set(actual) == set(expected), f"{path}: {set(actual) ^ set(expected)}"
        for key in expected:
            assert_close(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, float):
        assert math.isclose(actual, expected, rel_tol=1e-4, abs_tol=1e-9), (
            f"{path}: {actual} {expected}"
        )
    else:
        assert actual == expected and type(actual) is type(expected), f"{path}: {actual} {expected}"


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_disability_matches_the_independent_reference(tmp_path, seed):
    folder = write_random_cohort(tmp_path / "c", seed, timestamps=seed % 2 == 1)
    ds = Dataset(folder)

    for f in FILTERS:
        actual = summary(ds, Filters(**f))["disability"]

        assert_close(actual, reference_disability(folder, **f), f"seed {seed} {f}")


def test_counted_rows_are_the_per_patient_rows_counted(tmp_path):
    # cdw_time_counts (the summary's and the curves' input) against cdw_events, one row per patient,
    # counted here with pandas: per subtype and pooled, the evaluable patients' (months, event) with
    # their number of patients and of RAW events
    from analysis.disability import cdw_time_counts

    for folder in (Path(__file__).parents[1] / "data" / "demo",
                   write_random_cohort(tmp_path / "r", 3, n_patients=300)):
        ds = Dataset(folder)
        for f in (Filters(), Filters(subtypes=("RRMS", "NMOSD"), followup_min=12.0)):
            counted = cdw_time_counts(ds, f)
            for key, days in (("cdw_3m", 84), ("cdw_6m", 168)):
                rows = cdw_events(ds, f, days)
                rows = rows[rows["evaluable"]].assign(raw=lambda d: d["relapse_associated"].eq(True))
                got = counted[key]
                for pooled, keys in ((True, []), (False, ["subtype"])):
                    want = (rows.groupby([*keys, "months", "event"])
                            .agg(patients=("raw", "size"), raw=("raw", "sum")).reset_index())
                    mine = got[got["pooled"] == pooled][[*keys, "months", "event", "patients", "raw"]]
                    pd.testing.assert_frame_equal(
                        mine.sort_values([*keys, "months", "event"]).reset_index(drop=True),
                        want.sort_values([*keys, "months", "event"]).reset_index(drop=True),
                        check_dtype=False,
                    )


def test_summary_from_counted_rows_equals_lifelines_on_one_row_per_patient(tmp_path):
    from lifelines.statistics import multivariate_logrank_test

    for folder in (Path(__file__).parents[1] / "data" / "demo",
                   write_random_cohort(tmp_path / "r", 4, n_patients=300)):
        ds = Dataset(folder)
        d = disability_summary(ds, Filters())
        for key, days in (("cdw_3m", 84), ("cdw_6m", 168)):
            rows = cdw_events(ds, Filters(), days)
            evaluable = rows[rows["evaluable"]]
            for g in ["all", *evaluable["subtype"].unique()]:
                group = evaluable if g == "all" else evaluable[evaluable["subtype"] == g]
                kmf = KaplanMeierFitter().fit(group["months"], group["event"].astype(bool))
                for t in ("12", "24"):
                    got = d[key][g]["at_months"][t]
                    if float(t) > group["months"].max():
                        assert got is None
                        continue
                    at = kmf.survival_function_.index[kmf.survival_function_.index <= float(t)][-1]
                    assert got["s"] == kmf.survival_function_.loc[at].iloc[0]
                events = group[group["event"].astype(bool)]
                raw = int(events["relapse_associated"].eq(True).sum())
                selected = rows if g == "all" else rows[rows["subtype"] == g]
                assert (d[key][g]["evaluable"], d[key][g]["not_evaluable"], d[key][g]["events"],
                        d[key][g]["raw"]) == (len(group), len(selected) - len(group), len(events), raw)
            expected = multivariate_logrank_test(
                evaluable["months"], evaluable["subtype"], evaluable["event"].astype(bool)).p_value
            assert d[key]["logrank_p"] == pytest.approx(expected, rel=1e-12)


def test_cdw_patients_are_the_three_month_events_with_their_six_month_event(tmp_path):
    from analysis.disability import cdw_patients

    for folder in (Path(__file__).parents[1] / "data" / "demo",
                   write_random_cohort(tmp_path / "r", 1, n_patients=300)):
        ds = Dataset(folder)
        three, six = cdw_events(ds, Filters(), 84), cdw_events(ds, Filters(), 168)
        cols = ["patient_id", "months", "confirm_months", "relapse_associated"]
        want = (three.loc[three["event"], ["patient_id", "subtype", *cols[1:]]]
                .merge(six.loc[six["event"], cols], on="patient_id", how="left",
                       suffixes=("_3m", "_6m"))
                .reset_index(drop=True))

        got = cdw_patients(ds, Filters())

        pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_cdw_facts_are_built_on_the_first_cdw_query_once_not_when_the_dataset_opens():
    # opening stays fast (queries/dataset.py ON_FIRST_USE): the CDW of every patient is built by the
    # first query that reads it, then a filter change only selects rows of it
    ds = Dataset(Path(__file__).parents[1] / "data" / "demo")
    built = "select table_name from duckdb_tables() where database_name = 'facts'"

    assert "cdw_facts" not in set(ds._con.execute(built).df()["table_name"])
    disability_summary(ds, Filters())
    tables = set(ds._con.execute(built).df()["table_name"])
    disability_summary(ds, Filters(subtypes=("RRMS",)))

    assert {"cdw_facts", "cdw_event_facts", "edss_values"} <= tables
    assert set(ds._con.execute(built).df()["table_name"]) == tables
    assert len(ds.sql("select * from cdw_facts")) == 2 * len(ds.sql(
        "select distinct sample_rank from edss_values where visit > 0"))
