"""Table 1 (analysis/table1.py): summaries and between-group tests equal direct scipy calls.

Expected p-values come from scipy itself (f_oneway, kruskal, chi2_contingency, fisher_exact) called
on the same numbers in the test; expected summaries from numpy/pandas or hand arithmetic.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.table1 import (
    ANOVA,
    CHI2,
    CHI2_YATES,
    FISHER,
    KRUSKAL,
    table1,
)
from ui.table1 import format_table

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
ORDER = ["RRMS", "SPMS", "NMOSD"]


def demo_patients() -> pd.DataFrame:
    """One row per demo patient with follow-up months and doses inside the window, in pandas."""
    patients = pd.read_parquet(DEMO / "patients.parquet")
    infusions = pd.read_parquet(DEMO / "infusions.parquet").merge(
        patients[["patient_id", "first_dose_date", "last_followup_date"]], on="patient_id"
    )
    inside = infusions[
        (infusions["dose_date"] >= infusions["first_dose_date"])
        & (infusions["dose_date"] <= infusions["last_followup_date"])
    ]
    days = (
        pd.to_datetime(patients["last_followup_date"]) - pd.to_datetime(patients["first_dose_date"])
    ).dt.days
    return patients.assign(
        followup_months=days / 30.4375,
        doses=patients["patient_id"].map(inside.groupby("patient_id").size()).fillna(0).astype(int),
    )


def by_group(df: pd.DataFrame, column: str) -> list[np.ndarray]:
    return [df.loc[df["subtype"] == g, column].dropna().to_numpy(float) for g in ORDER]


def row(rows, column):
    return next(r for r in rows if r.variable.column == column)


def test_demo_p_values_equal_direct_scipy_calls():
    df = demo_patients()

    rows, notes = table1(df, ORDER)

    # NMOSD men: 14 × 32 / 99 = 4.5 expected, so the χ² p-value is flagged as approximate
    assert notes == [
        (
            "Female sex: an expected count is below 5 with more than two groups, so the χ² p-value "
            "is approximate."
        )
    ]
    assert [r.variable.column for r in rows] == [
        "age_at_first_dose",
        "sex",
        "disease_duration_years",
        "baseline_edss",
        "prior_treatments",
        "followup_months",
        "doses",
    ]
    for column in ("age_at_first_dose", "followup_months"):
        r = row(rows, column)
        assert r.test == ANOVA
        assert r.p == pytest.approx(stats.f_oneway(*by_group(df, column)).pvalue, rel=1e-12)
    for column in ("disease_duration_years", "baseline_edss", "prior_treatments", "doses"):
        r = row(rows, column)
        assert r.test == KRUSKAL
        assert r.p == pytest.approx(stats.kruskal(*by_group(df, column)).pvalue, rel=1e-12)
    sex = pd.crosstab(df["sex"], df["subtype"])[ORDER].to_numpy()
    assert row(rows, "sex").test == CHI2
    assert row(rows, "sex").p == pytest.approx(stats.chi2_contingency(sex).pvalue, rel=1e-12)


def test_demo_summaries_equal_pandas():
    df = demo_patients()

    rows, _ = table1(df, ORDER)

    age = row(rows, "age_at_first_dose").cells
    assert age["All"]["mean"] == pytest.approx(df["age_at_first_dose"].mean())
    assert age["SPMS"]["sd"] == pytest.approx(
        df.loc[df["subtype"] == "SPMS", "age_at_first_dose"].std()
    )
    edss = row(rows, "baseline_edss").cells["RRMS"]
    rrms = df.loc[df["subtype"] == "RRMS", "baseline_edss"]
    assert (edss["median"], edss["q1"], edss["q3"]) == (
        rrms.median(),
        rrms.quantile(0.25),
        rrms.quantile(0.75),
    )
    # 67 of 99 demo patients are women, as published
    assert row(rows, "sex").cells["All"] == {"n": 67, "total": 99}


def small_frame(subtypes, sexes, ages):
    return pd.DataFrame(
        {
            "patient_id": [f"P{i}" for i in range(len(subtypes))],
            "subtype": subtypes,
            "sex": sexes,
            "age_at_first_dose": ages,
            "baseline_edss": [3.0] * len(subtypes),
            "followup_months": [12.0 + i for i in range(len(subtypes))],
            "doses": [4] * len(subtypes),
        }
    )


def test_two_groups_with_an_expected_count_below_5_use_fisher():
    # 2 × 2 table F/M × A/B = [[4, 1], [1, 4]]: expected counts 2.5 < 5
    df = small_frame(["A"] * 5 + ["B"] * 5, list("FFFFM") + list("FMMMM"), [40.0] * 10)

    rows, _ = table1(df, ["A", "B"])

    sex = row(rows, "sex")
    assert sex.test == FISHER
    assert sex.p == pytest.approx(stats.fisher_exact([[4, 1], [1, 4]]).pvalue)


def test_two_large_groups_use_yates_corrected_chi_square():
    df = small_frame(
        ["A"] * 20 + ["B"] * 20, ["F"] * 12 + ["M"] * 8 + ["F"] * 7 + ["M"] * 13, [40.0] * 40
    )

    rows, _ = table1(df, ["A", "B"])

    sex = row(rows, "sex")
    assert sex.test == CHI2_YATES
    assert sex.p == pytest.approx(
        stats.chi2_contingency([[12, 7], [8, 13]], correction=True).pvalue
    )


def test_one_group_has_no_test_and_shows_n_a():
    df = small_frame(["A"] * 4, list("FFMM"), [30.0, 40.0, 50.0, 60.0])

    rows, _ = table1(df, ["A"])
    table = format_table(rows, {"All": 4, "A": 4}, p_text=lambda p: f"{p:.3f}")

    assert all(r.test is None and r.p is None for r in rows)
    assert set(table["Test"]) == {"n/a (one group)"}
    assert set(table["p"]) == {"n/a"}


def test_a_one_patient_group_has_no_sd_or_iqr_but_the_test_still_runs():
    df = small_frame(["A", "A", "A", "B"], list("FMFF"), [30.0, 40.0, 50.0, 44.0])

    rows, _ = table1(df, ["A", "B"])
    table = format_table(rows, {"All": 4, "A": 3, "B": 1}, p_text=lambda p: f"{p:.3f}")

    age = table.set_index("Characteristic").loc["Age at first dose, years, mean ± SD"]
    assert age["B (n = 1)"] == "44.0 ± n/a"
    assert row(rows, "age_at_first_dose").p == pytest.approx(
        stats.f_oneway([30.0, 40.0, 50.0], [44.0]).pvalue
    )
    assert (
        table.set_index("Characteristic").loc["Baseline EDSS, median [IQR]", "B (n = 1)"]
        == "3.0 [n/a]"
    )


def test_identical_values_give_an_undefined_p_not_an_exception():
    df = small_frame(["A", "A", "B", "B"], list("FFFF"), [40.0] * 4)

    rows, _ = table1(df, ["A", "B"])

    assert row(rows, "baseline_edss").test == KRUSKAL and row(rows, "baseline_edss").p is None
    assert row(rows, "age_at_first_dose").p is None
    assert row(rows, "sex").p is None  # a single sex: nothing to test


def test_absent_optional_columns_are_omitted_with_a_note():
    df = small_frame(["A", "A", "B", "B"], list("FMFM"), [30.0, 40.0, 50.0, 60.0])

    rows, notes = table1(df, ["A", "B"])

    columns = [r.variable.column for r in rows]
    assert "disease_duration_years" not in columns and "prior_treatments" not in columns
    assert any("Disease duration" in n and "row omitted" in n for n in notes)
    assert any("Prior treatments" in n for n in notes)


def test_format_table_in_viewer_mode_shows_less_than_k():
    df = small_frame(
        ["A"] * 10 + ["B"] * 10 + ["C"] * 3,
        list("FFMMMMMMMM") + ["F"] * 6 + ["M"] * 4 + list("FFM"),
        [40.0 + i for i in range(23)],
    )
    rows, _ = table1(df, ["A", "B", "C"])

    table = format_table(
        rows,
        {"All": 23, "A": 10, "B": 10, "C": 3},
        p_text=lambda p: "x",
        count=lambda n: "< 5" if 0 < n < 5 else str(n),
        small=lambda n: 0 < n < 5,
        k=5,
    ).set_index("Characteristic")

    # C's size is small, so one more size is hidden (A: the smaller-or-equal partner comes first)
    assert list(table.columns[:4]) == [
        "All (n = 23)",
        "A (n = hidden)",
        "B (n = 10)",
        "C (n = < 5)",
    ]
    sex = table.loc["Female sex, n (%)"]
    assert sex["A (n = hidden)"] == "< 5"
    assert sex["B (n = 10)"] == "≥ 6"  # 4 men of 10 is small, so 6 women shows as a bound
    assert sex["C (n = < 5)"] == "hidden (< 5 patients)"
    assert (
        table.loc["Age at first dose, years, mean ± SD", "C (n = < 5)"] == "hidden (< 5 patients)"
    )


@pytest.mark.parametrize(
    "samples",
    [
        [np.random.default_rng(seed).normal(40, 10, n) for seed, n in enumerate((12_000, 11_000, 4_700))],
        [np.random.default_rng(7).integers(0, 20, n).astype(float) for n in (5, 7, 9)],
        [np.array([1.0, 1.0]), np.array([1.0, 1.0, 1.0])],  # no spread at all: undefined
        [np.array([1.0, 1.0]), np.array([2.0, 2.0, 2.0])],  # no spread within groups: p = 0
        [np.array([1.0]), np.array([2.0])],  # only single values: undefined
        [np.array([1.0]), np.array([2.0, 3.0, 4.0])],
    ],
    ids=["registry-sized", "small", "constant", "constant-per-group", "singletons", "one-singleton"],
)
def test_anova_from_group_summaries_equals_scipy_f_oneway(samples):
    # Table 1's ANOVA runs statsmodels' anova_generic on the groups' means, variances and sizes;
    # expected: scipy's f_oneway on the values themselves
    from analysis.table1 import _anova_p

    expected = stats.f_oneway(*samples).pvalue
    got = _anova_p(samples)
    if np.isnan(expected):
        assert np.isnan(got)
    else:
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-300)
