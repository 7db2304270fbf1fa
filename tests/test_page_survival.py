"""The relapse-free survival page shows lifelines' Kaplan–Meier fit and the summary's figures."""

import html

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test, multivariate_logrank_test
from numpy.testing import assert_allclose
from streamlit.testing.v1 import AppTest

from analysis.summary import summary
from queries import Dataset, Filters
from tests.apptest import (
    DEMO,
    chart_specs,
    elements,
    open_page,
    page_text,
    plotly_values,
    table_with,
)

PAGE = "relapse_free_survival"


@pytest.fixture(scope="module")
def demo():
    ds = Dataset(DEMO)
    yield ds
    ds.close()


def values(array) -> np.ndarray:
    """A plotly JSON array as an ndarray."""
    return plotly_values(array, as_array=True)


def traces(at: AppTest, chart: int = 0) -> list[dict]:
    return chart_specs(at)[chart]["data"]


def trace(at: AppTest, group: str, meta: str) -> dict:
    (found,) = [t for t in traces(at) if t.get("legendgroup") == group and t.get("meta") == meta]
    return found


def estimates(at: AppTest) -> pd.DataFrame:
    """The 'Estimates per group' table (the other dataframes are the tables behind charts)."""
    return table_with(at, "S(12 months) (95 % CI)", unique=True)


def test_curves_are_lifelines_kaplan_meier_fits_on_demo(demo):
    outcomes = demo.run("patient_outcome")

    at = open_page(PAGE)

    for subtype in ("RRMS", "SPMS", "NMOSD"):
        group = outcomes[outcomes["subtype"] == subtype]
        kmf = KaplanMeierFitter().fit(group["rfs_months"], group["rfs_event"].astype(bool))
        sf = kmf.survival_function_.iloc[:, 0]
        curve = trace(at, subtype, "curve")
        assert curve["line"]["shape"] == "hv"
        assert_allclose(values(curve["x"]), sf.index.to_numpy())
        assert_allclose(values(curve["y"]), sf.to_numpy())
        low = kmf.confidence_interval_.iloc[:, 0].to_numpy()
        assert_allclose(values(trace(at, subtype, "ci_low")["y"]), np.where(sf == 1.0, 1.0, low))
        censored = np.unique(group.loc[~group["rfs_event"].astype(bool), "rfs_months"])
        assert_allclose(values(trace(at, subtype, "censor")["x"]), censored)
        at_risk = trace(at, subtype, "at_risk")
        assert at_risk["text"][0] == str(len(group))  # everyone is at risk at month 0


def test_s_at_12_months_and_medians_shown_equal_the_summary(demo):
    expected = summary(demo, Filters())["rfs"]

    at = open_page(PAGE)

    table = estimates(at).set_index("Group")
    for group in ("all", "RRMS", "SPMS", "NMOSD"):
        e = expected[group]["at_months"]["12"]
        shown = table.loc["All" if group == "all" else group, "S(12 months) (95 % CI)"]
        assert shown == (
            f"{100 * e['s']:.1f} % ({100 * e['ci_low']:.1f}–{100 * e['ci_high']:.1f})"
        )
    # the demo's NMOSD follow-up ends before 24 months: no estimate there, as in the summary
    assert expected["NMOSD"]["at_months"]["24"] is None
    assert table.loc["NMOSD", "S(24 months) (95 % CI)"].startswith("—")
    assert (table["Median RFS (months, 95 % CI)"] == "not reached").all()


def test_logrank_p_shown_equals_lifelines_multivariate_logrank(demo):
    outcomes = demo.run("patient_outcome")
    p = multivariate_logrank_test(
        outcomes["rfs_months"], outcomes["subtype"], outcomes["rfs_event"]
    ).p_value

    at = open_page(PAGE)

    assert f"p = {p:.3f}" in page_text(at)
    assert "exploratory" not in page_text(at)


def test_two_subtype_filter_labels_the_logrank_exploratory(demo):
    outcomes = demo.run("patient_outcome")
    a, b = outcomes[outcomes["subtype"] == "RRMS"], outcomes[outcomes["subtype"] == "SPMS"]
    p = logrank_test(a["rfs_months"], b["rfs_months"], a["rfs_event"], b["rfs_event"]).p_value

    at = open_page(PAGE, {"subtype": ["RRMS", "SPMS"]})

    assert f"p = {p:.3f} (exploratory — subgroup)" in page_text(at)
    assert "85 of 99 patients selected" in page_text(at)
    assert {t["legendgroup"] for t in traces(at) if t.get("meta") == "curve"} == {"RRMS", "SPMS"}


def test_nmosd_only_filter_has_no_logrank_and_shows_its_figures(demo):
    expected = summary(demo, Filters(subtypes=("NMOSD",)))

    at = open_page(PAGE, {"subtype": ["NMOSD"]})

    assert "Log-rank test: p n/a" in page_text(at)
    assert f"{expected['patients']['total']} of 99 patients selected" in page_text(at)
    table = estimates(at)
    assert table["Group"].tolist() == ["All", "NMOSD"]
    e = expected["rfs"]["NMOSD"]["at_months"]["18"]
    assert e["s"] < 1  # the one NMOSD relapse falls before 18 months
    arr = expected["relapses"]["arr"]["NMOSD"]
    arr_text = traces(at, 1)[-1]["text"][0]
    assert arr_text == f"{arr['rate']:.2f} ({arr['ci_low']:.2f}–{arr['ci_high']:.2f})"


def test_pooled_toggle_draws_one_curve_of_all_patients(demo):
    outcomes = demo.run("patient_outcome")
    kmf = KaplanMeierFitter().fit(outcomes["rfs_months"], outcomes["rfs_event"].astype(bool))
    at = open_page(PAGE)

    at.radio(key="km_group").set_value("Pooled").run()

    curves = [t for t in traces(at) if t.get("meta") == "curve"]
    assert [c["legendgroup"] for c in curves] == ["All"]
    assert_allclose(values(curves[0]["y"]), kmf.survival_function_.iloc[:, 0].to_numpy())


def test_attacks_per_patient_equal_the_summary(demo):
    s = summary(demo, Filters())
    relapse_free = s["patients"]["total"] - s["relapses"]["patients_with_relapse"]["all"]
    expected = [relapse_free, *s["relapses"]["attacks_per_patient"].values()]

    at = open_page(PAGE)

    totals = next(t for t in traces(at, 2) if t.get("mode") == "text")
    assert totals["text"] == [f"{n:,}" for n in expected]


def test_empty_selection_explains_itself(demo):
    assert summary(demo, Filters(doses_min=14, doses_max=14, subtypes=("NMOSD",)))[
        "patients"]["total"] == 0

    at = open_page(PAGE, {"doses": ["14", "14"], "subtype": ["NMOSD"]})

    assert "No patients match" in at.info[0].value
    assert not at.get("plotly_chart")


def test_viewer_mode_cuts_curves_below_k_at_risk_and_shows_no_patient_id(demo):
    outcomes = demo.run("patient_outcome")
    k = 5

    at = open_page(PAGE, viewer=True)

    for subtype in ("RRMS", "SPMS", "NMOSD"):
        durations = outcomes.loc[outcomes["subtype"] == subtype, "rfs_months"].to_numpy()
        x = values(trace(at, subtype, "curve")["x"])
        at_risk = np.array([(durations >= t).sum() for t in x])
        assert (at_risk >= k).all()
        assert x.max() == pytest.approx(np.sort(durations)[-k])  # drawn right up to the cut
        assert x.max() < durations.max()
        shown = trace(at, subtype, "at_risk")["text"]
        assert not any(t.isdigit() and 0 < int(t) < k for t in shown)
    # chart text is escaped for plotly ("&lt; 5"), which draws it as "< 5"
    assert "< 5" in [html.unescape(t) for t in trace(at, "RRMS", "at_risk")["text"]]
    for node in elements(at):
        assert "RTX-" not in str(getattr(node, "proto", ""))
    for df in at.dataframe:
        assert not df.value.astype(str).apply(lambda c: c.str.contains("RTX-")).any().any()


def test_viewer_mode_pools_small_attack_counts_into_a_tail(demo):
    # demo: 80 relapse-free, 13 with one attack, 4 with two and 2 with three (summary); two and
    # three attacks fall below k = 5 and, with the relapse total shown, could be solved for
    attacks = summary(demo, Filters())["relapses"]["attacks_per_patient"]
    assert attacks == {"1": 13, "2": 4, "3": 2}

    at = open_page(PAGE, viewer=True)

    (bars,) = traces(at, 2)
    assert list(bars["x"]) == ["0", "1", "≥ 2"]
    assert bars["text"] == ["80", "13", "6"]


def test_viewer_mode_hides_estimates_with_few_at_risk():
    at = open_page(PAGE, viewer=True)

    table = estimates(at).set_index("Group")
    # RRMS: 4 patients still at risk at 24 months in the demo (see the at-risk row)
    assert table.loc["RRMS", "S(24 months) (95 % CI)"] == "hidden (< 5 at risk)"
