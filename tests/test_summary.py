"""The summary's figures on tiny datasets, with expected values worked out by hand or by scipy."""

import math

import pytest
from scipy import stats

from analysis.summary import summary
from queries import Dataset, Filters
from tests.cohort import D, patient, write

MONTH = 30.4375


def summarise(folder, **filters) -> dict:
    return summary(Dataset(folder), Filters(**filters))


@pytest.fixture
def five(tmp_path):
    """Five RRMS patients: a relapse on the first-dose day, two tied relapses at day 90, two censored."""
    return write(
        tmp_path / "five",
        patients=[
            patient("A"), patient("B"), patient("C"),
            patient("D", last=D(2020, 12, 31)), patient("E", last=D(2021, 7, 1)),
        ],
        relapses=[
            {"patient_id": "A", "onset_date": D(2020, 1, 1)},
            {"patient_id": "B", "onset_date": D(2020, 3, 31)},
            {"patient_id": "C", "onset_date": D(2020, 3, 31)},
            {"patient_id": "C", "onset_date": D(2020, 6, 1)},
            {"patient_id": "D", "onset_date": D(2019, 12, 31)},  # before the first dose: ignored
        ],
    )


def test_relapse_on_first_dose_day_is_an_event_at_time_zero_and_ties_step_together(five):
    s = summarise(five)

    rfs = s["rfs"]["all"]
    # by hand: 1 event at t=0 of 5 at risk -> 0.8; 2 tied events at day 90 of 4 at risk -> 0.4
    assert rfs["at_months"]["6"]["s"] == pytest.approx(0.4)
    assert rfs["at_months"]["12"]["s"] == pytest.approx(0.4)
    assert rfs["median_months"] == pytest.approx(90 / MONTH)
    # E is followed 547 days = 17.97 months: 18 months lies beyond the longest observed time
    assert rfs["at_months"]["18"] is None


def test_km_interval_is_the_exponential_greenwood_log_log_interval(five):
    s = summarise(five)

    # by hand: Greenwood sum d/(n(n-d)) = 1/(5*4) + 2/(4*2); CI = S^exp(±1.96*sqrt(sum)/log S)
    S = 0.4
    se = math.sqrt(1 / 20 + 2 / 8) / abs(math.log(S))
    z = stats.norm.ppf(0.975)
    at6 = s["rfs"]["all"]["at_months"]["6"]
    assert at6["ci_low"] == pytest.approx(S ** math.exp(z * se))
    assert at6["ci_high"] == pytest.approx(S ** math.exp(-z * se))


def test_relapses_outside_the_window_are_ignored_and_arr_has_an_exact_poisson_interval(five):
    s = summarise(five)

    # 4 relapses inside windows; patient-years: 3 x 366 days + 365 + 547 days
    years = (3 * 366 + 365 + 547) / 365.25
    assert s["relapses"]["total"] == 4
    assert s["relapses"]["patients_with_relapse"] == {"all": 3, "RRMS": 3}
    assert s["relapses"]["attacks_per_patient"] == {"1": 2, "2": 1}
    assert s["relapses"]["relapse_free_pct"] == pytest.approx(40.0)
    arr = s["relapses"]["arr"]["all"]
    assert arr["rate"] == pytest.approx(4 / years)
    assert arr["ci_low"] == pytest.approx(stats.chi2.ppf(0.025, 8) / 2 / years)
    assert arr["ci_high"] == pytest.approx(stats.chi2.ppf(0.975, 10) / 2 / years)
    assert s["patient_years"] == pytest.approx(years)


def test_rfs_without_any_relapse_is_one_with_interval_one_and_no_median(tmp_path):
    folder = write(tmp_path / "d", patients=[patient("A"), patient("B", last=D(2022, 1, 1))])

    s = summarise(folder)

    assert s["rfs"]["all"]["at_months"]["12"] == {"s": 1.0, "ci_low": 1.0, "ci_high": 1.0}
    assert s["rfs"]["all"]["median_months"] is None
    assert s["relapses"]["arr"]["all"]["rate"] == 0.0
    assert s["relapses"]["arr"]["all"]["ci_low"] == 0.0
    assert s["relapses"]["attacks_per_patient"] == {}


def _edss_dataset(tmp_path, rows):
    """rows: (pid, subtype, baseline, [(date, edss), ...])"""
    return write(
        tmp_path / "edss",
        patients=[patient(pid, st, edss=b) for pid, st, b, _ in rows],
        edss=[
            {"patient_id": pid, "assessment_date": d, "edss": v}
            for pid, _, _, visits in rows for d, v in visits
        ],
    )


def test_edss_change_uses_the_latest_assessment_inside_the_window(tmp_path):
    folder = _edss_dataset(tmp_path, [
        # first-dose-day value is a baseline, the post-window value is ignored: last in window is 2.0
        ("A", "RRMS", 3.0, [(D(2020, 1, 1), 9.0), (D(2020, 6, 1), 4.0), (D(2020, 12, 1), 2.0),
                            (D(2021, 6, 1), 8.0)]),
        ("B", "RRMS", 2.0, [(D(2020, 7, 1), 3.0)]),
        ("C", "RRMS", 4.0, [(D(2020, 7, 1), 4.5)]),
        ("D", "RRMS", 4.0, []),  # no follow-up EDSS: left out
    ])

    e = summarise(folder)["edss_change"]["all"]

    changes = [-1.0, 1.0, 0.5]
    assert e["n"] == 3
    assert e["mean"] == pytest.approx(sum(changes) / 3)
    assert e["sd"] == pytest.approx(stats.tstd(changes))
    assert e["p_ttest"] == pytest.approx(stats.ttest_1samp(changes, 0).pvalue)
    assert e["p_wilcoxon"] == pytest.approx(stats.wilcoxon(changes).pvalue)
    assert (e["worsened"], e["stable"], e["improved"]) == (1, 1, 1)


@pytest.mark.parametrize(
    ("baseline", "change", "expected"),
    [
        (0.0, 1.5, "worsened"), (0.0, 1.0, "stable"), (5.5, 1.0, "worsened"), (5.5, 0.5, "stable"),
        (6.0, 0.5, "worsened"), (5.5, -1.0, "improved"), (2.0, -0.5, "stable"), (6.0, -0.5, "improved"),
    ],
)
def test_edss_outcome_class_follows_the_confirmed_progression_steps(tmp_path, baseline, change, expected):
    folder = _edss_dataset(tmp_path, [("A", "RRMS", baseline, [(D(2020, 6, 1), baseline + change)])])

    e = summarise(folder)["edss_change"]["all"]

    assert e[expected] == 1


def test_all_equal_changes_and_a_one_patient_subtype_give_undefined_p_values(tmp_path):
    folder = _edss_dataset(tmp_path, [
        ("A", "RRMS", 2.0, [(D(2020, 6, 1), 2.5)]),
        ("B", "RRMS", 3.0, [(D(2020, 6, 1), 3.5)]),
        ("C", "NMOSD", 4.0, [(D(2020, 6, 1), 3.0)]),
    ])

    s = summarise(folder)

    rrms, nmosd = s["edss_change"]["RRMS"], s["edss_change"]["NMOSD"]
    assert rrms["mean"] == 0.5 and rrms["sd"] == 0.0
    assert rrms["p_ttest"] is None and rrms["p_wilcoxon"] is None
    assert nmosd["n"] == 1 and nmosd["mean"] == -1.0
    assert nmosd["sd"] is None and nmosd["p_ttest"] is None
    assert s["patients"]["by_subtype"] == {"RRMS": 2, "NMOSD": 1}


def test_missing_optional_tables_give_null_figures(tmp_path):
    folder = write(tmp_path / "d", patients=[patient("A")])

    s = summarise(folder)

    assert s["mri"] is None and s["neda3"] is None and s["igg_low"] is None
    assert s["safety"]["opportunistic_infections"] is None  # the optional column is absent too


def test_mri_neda_and_low_igg_count_only_follow_up_records(tmp_path):
    folder = write(
        tmp_path / "d",
        patients=[patient("A"), patient("B"), patient("C", "SPMS"), patient("D", "SPMS")],
        edss=[{"patient_id": p, "assessment_date": D(2020, 12, 1), "edss": 3.0} for p in "ABC"],
        mri=[
            {"patient_id": "A", "scan_date": D(2020, 1, 1), "new_t2_lesions": 3, "gd_enhancing_lesions": 1},
            {"patient_id": "A", "scan_date": D(2020, 12, 1), "new_t2_lesions": 0, "gd_enhancing_lesions": 0},
            {"patient_id": "B", "scan_date": D(2020, 12, 1), "new_t2_lesions": 1, "gd_enhancing_lesions": 0},
            {"patient_id": "C", "scan_date": D(2020, 12, 1), "new_t2_lesions": 0, "gd_enhancing_lesions": 2},
            {"patient_id": "D", "scan_date": D(2020, 12, 1), "new_t2_lesions": 0, "gd_enhancing_lesions": 0},
        ],
        labs=[
            {"patient_id": "A", "sample_date": D(2020, 1, 1), "test": "IgG", "value": 5.0, "unit": "g/L"},
            {"patient_id": "A", "sample_date": D(2020, 7, 1), "test": "IgG", "value": 8.0, "unit": "g/L"},
            {"patient_id": "C", "sample_date": D(2020, 7, 1), "test": "IgG", "value": 6.9, "unit": "g/L"},
            {"patient_id": "D", "sample_date": D(2020, 7, 1), "test": "IgM", "value": 0.1, "unit": "g/L"},
        ],
        relapses=[{"patient_id": "C", "onset_date": D(2020, 5, 1)}],
    )

    s = summarise(folder)

    # A's first-dose-day scan is a baseline: A has no activity; D has a scan but no follow-up EDSS
    assert s["mri"] == {"new_t2_patients": 1, "gd_patients": 1, "scanned_patients": 4}
    assert s["neda3"]["all"] == {"neda": 1, "evaluable": 3}
    assert s["neda3"]["SPMS"] == {"neda": 0, "evaluable": 1}
    assert s["igg_low"]["all"] == {"n": 1, "tested": 2, "pct": 50.0}
    assert s["igg_low"]["RRMS"] == {"n": 0, "tested": 1, "pct": 0.0}
    assert summarise(folder, igg_threshold=8.5)["igg_low"]["all"]["n"] == 2


def test_safety_rates_use_doses_inside_the_window_and_exact_intervals(tmp_path):
    doses = [D(2020, 1, 1), D(2020, 1, 15), D(2020, 7, 1), D(2020, 7, 15), D(2021, 3, 1)]  # last: outside
    folder = write(
        tmp_path / "d",
        patients=[patient("A"), patient("B"), patient("C", "SPMS")],
        infusions=[
            {"patient_id": p, "dose_date": d, "dose_mg": 500.0, "course": 1 + i // 2}
            for p in "AB" for i, d in enumerate(doses)
        ],
        adverse_events=[
            {"patient_id": "A", "onset_date": D(2020, 1, 1), "term": "Flushing",
             "relation": "during_infusion", "grade": 1, "serious": False, "opportunistic": False},
            {"patient_id": "A", "onset_date": D(2020, 8, 1), "term": "Herpes zoster",
             "relation": "not_infusion_related", "grade": 2, "serious": True, "opportunistic": True},
            {"patient_id": "B", "onset_date": D(2021, 2, 1), "term": "Flushing",  # after follow-up
             "relation": "during_infusion", "grade": 1, "serious": False, "opportunistic": False},
        ],
    )

    s = summarise(folder)

    safety = s["safety"]
    assert s["doses_total"] == 8
    assert safety["events"] == 2
    assert safety["per_1000_doses"]["rate"] == pytest.approx(250.0)
    assert safety["per_1000_doses"]["ci_high"] == pytest.approx(stats.chi2.ppf(0.975, 6) / 2 / 8 * 1000)
    ci = stats.binomtest(1, 3).proportion_ci(method="exact")
    assert safety["patients_with_event"] == pytest.approx(
        {"n": 1, "pct": 100 / 3, "ci_low": 100 * ci.low, "ci_high": 100 * ci.high}
    )
    assert safety["serious"] == 1 and safety["opportunistic_infections"] == 1
    assert safety["by_term"] == {"Flushing": 1, "Herpes zoster": 1}
    assert safety["by_relation"] == {"during_infusion": 1, "not_infusion_related": 1}


@pytest.fixture
def mixed(tmp_path):
    """Six patients differing in follow-up, doses, subtype, sex, site and age."""
    def doses(pid, n):
        return [{"patient_id": pid, "dose_date": D(2020, 1, 1 + i), "dose_mg": 500.0, "course": 1}
                for i in range(n)]

    return write(
        tmp_path / "mixed",
        patients=[
            patient("A", "RRMS", last=D(2021, 1, 1), sex="F", age=25.0, site="North"),  # 12.02 months
            patient("B", "RRMS", last=D(2022, 1, 1), sex="M", age=35.0, site="South"),  # 24.02 months
            patient("C", "SPMS", last=D(2021, 7, 3), sex="F", age=45.0, site="North"),  # 18.04 months
            patient("D", "SPMS", last=D(2023, 1, 1), sex="M", age=55.0, site="South"),  # 36.04 months
            patient("E", "NMOSD", last=D(2021, 1, 1), sex="F", age=30.0, site="North"),
            patient("F", "NMOSD", last=D(2022, 1, 1), sex="F", age=60.0, site=None),
        ],
        infusions=doses("A", 2) + doses("B", 4) + doses("C", 6) + doses("D", 8) + doses("E", 2),
    )


@pytest.mark.parametrize(
    ("filters", "selected"),
    [
        ({}, "ABCDEF"),
        ({"followup_min": 18.0}, "BCDF"),
        ({"followup_max": 18.1}, "ACE"),
        ({"doses_min": 4, "doses_max": 6}, "BC"),
        ({"doses_max": 0}, "F"),
        ({"subtypes": ["SPMS", "NMOSD"]}, "CDEF"),
        ({"sexes": ["M"]}, "BD"),
        ({"sites": ["North"]}, "ACE"),
        ({"age_min": 30, "age_max": 55}, "BCDE"),
        ({"subtypes": ["RRMS", "SPMS"], "sexes": ["F"], "doses_min": 2, "followup_max": 20}, "AC"),
        ({"subtypes": []}, ""),
    ],
)
def test_each_filter_and_their_combination_select_by_inclusive_bounds(mixed, filters, selected):
    s = summarise(mixed, **filters)

    assert s["patients"]["total"] == len(selected)
    if selected:
        assert s["doses_total"] == sum({"A": 2, "B": 4, "C": 6, "D": 8, "E": 2, "F": 0}[p] for p in selected)


def test_an_empty_selection_nulls_every_figure_but_filters_and_patients(mixed):
    s = summarise(mixed, doses_min=100)

    assert s["patients"] == {"total": 0, "by_subtype": {}}
    assert s["filters"]["doses_min"] == 100
    assert {k for k, v in s.items() if v is not None} == {"filters", "patients"}


def test_a_patient_without_infusions_has_no_safety_rate_when_alone(mixed):
    s = summarise(mixed, subtypes=["NMOSD"], sites=None, doses_max=0)

    assert s["doses_total"] == 0
    assert s["safety"]["per_1000_doses"] is None
    assert s["relapses"]["arr"]["all"]["rate"] == 0.0


def test_log_rank_compares_subtypes_and_is_none_for_one(five, tmp_path):
    folder = write(
        tmp_path / "two",
        patients=[patient("A"), patient("B"), patient("C", "SPMS"), patient("D", "SPMS")],
        relapses=[{"patient_id": "A", "onset_date": D(2020, 3, 1)}, {"patient_id": "C", "onset_date": D(2020, 9, 1)}],
    )
    from lifelines.statistics import logrank_test

    s = summarise(folder)

    months = {p: d / MONTH for p, d in {"A": 60, "B": 366, "C": 244, "D": 366}.items()}
    expected = logrank_test([months["A"], months["B"]], [months["C"], months["D"]], [1, 0], [1, 0]).p_value
    assert s["rfs"]["logrank_p"] == pytest.approx(expected)
    assert summarise(five)["rfs"]["logrank_p"] is None
