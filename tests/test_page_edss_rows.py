"""The EDSS page's rows, computed in SQL and analysis/, equal a direct pandas / scipy computation over
the per-patient and per-value rows, on the demo cohort and on random cohorts."""

import hashlib

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from analysis.figures import edss_change_statistics, group_intervals
from analysis.stats import rate
from queries import Dataset, Filters
from tests.apptest import DEMO
from tests.random_cohort import write_random_cohort

FILTERS = [
    Filters(),
    Filters(subtypes=("RRMS", "NMOSD"), followup_min=18.0),
    Filters(subtypes=("SPMS",)),
    Filters(subtypes=()),
]


@pytest.fixture(scope="module", params=["demo", 1, 2, 3])
def ds(request, tmp_path_factory):
    if request.param == "demo":
        folder = DEMO
    else:
        folder = write_random_cohort(tmp_path_factory.mktemp("c"), request.param, n_patients=80)
    dataset = Dataset(folder)
    yield dataset
    dataset.close()


@pytest.mark.parametrize("f", FILTERS)
def test_change_statistics_per_group_equal_pandas_and_scipy_on_every_change(ds, f):
    outcomes = ds.run("patient_outcome", f)
    assessed = outcomes[outcomes["edss_change"].notna()]
    groups = {"all": assessed} if len(assessed) else {}
    groups |= dict(list(assessed.groupby("subtype")))

    rows = edss_change_statistics(ds, f).set_index("group")

    assert rows.index.tolist() == list(groups)
    for g, d in groups.items():
        x, r = d["edss_change"], rows.loc[g]
        assert r["n"] == len(x)
        # the box by hand: pandas' (linear) quartiles, whiskers to the furthest value within 1.5 × IQR
        q1, q3 = x.quantile(0.25), x.quantile(0.75)
        assert_allclose(r[["mean", "q1", "median", "q3"]].astype(float),
                        [x.mean(), q1, x.median(), q3], rtol=1e-12)
        assert r["low"] == x[x >= q1 - 1.5 * (q3 - q1)].min()
        assert r["high"] == x[x <= q3 + 1.5 * (q3 - q1)].max()
        if len(x) < 2:
            assert pd.isna(r["sd"]) and pd.isna(r["ci_low"])
            continue
        assert_allclose(r["sd"], x.std(ddof=1), rtol=1e-12)
        if x.nunique() > 1:  # scipy's t interval on the values
            low, high = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
            assert_allclose([r["ci_low"], r["ci_high"]], [low, high], rtol=1e-12)


@pytest.mark.parametrize("f", FILTERS)
def test_change_lists_are_every_change_per_subtype_in_patient_id_order(ds, f):
    # edss_change_values returns one list per subtype: pooled in (subtype, patient id) order they
    # are the per-patient changes the summary's tests and the statistics read, value for value
    from analysis.summary import edss_changes

    outcomes = ds.run("patient_outcome", f)
    assessed = outcomes[outcomes["edss_change"].notna()].sort_values(["subtype", "patient_id"])

    pooled, by_subtype = edss_changes(ds, f)

    assert pooled.tolist() == assessed["edss_change"].tolist()
    assert sorted(by_subtype) == sorted(assessed["subtype"].unique())
    for g, x in by_subtype.items():
        assert x.tolist() == assessed.loc[assessed["subtype"] == g, "edss_change"].tolist()


def first_by_hash(ids, n: int) -> list[str]:
    """The n ids with the smallest sha256 (hashlib): the sample every per-patient chart draws."""
    return sorted(ids, key=lambda x: hashlib.sha256(x.encode()).hexdigest())[:n]


def binomtest_ci(k: int, n: int) -> dict | None:
    """The exact 95 % CI of k of n in percent from scipy's binomtest (its root search)."""
    if not n:
        return None
    ci = stats.binomtest(k, n).proportion_ci(method="exact")
    return {"n": k, "pct": 100 * k / n, "ci_low": 100 * ci.low, "ci_high": 100 * ci.high}


@pytest.mark.parametrize("f", FILTERS[:3])  # an empty selection has no groups to draw
def test_neda_and_adverse_event_intervals_equal_scipy_binomtest_and_the_poisson_rate(ds, f):
    groups = ds.run("group_summary", f)

    got = group_intervals(ds, f)

    assert len(got) == len(groups)
    for _, r in groups.iterrows():
        g = got["all" if pd.isna(r["subtype"]) else r["subtype"]]
        # scipy's binomtest(...).proportion_ci(method="exact") and the chi-square Poisson
        # interval (analysis.stats.rate), one group at a time
        expected = binomtest_ci(int(r["neda"]), int(r["neda_evaluable"]))
        if expected is None:
            assert g["neda3"] is None
        else:
            assert g["neda3"]["n"] == expected["n"]
            assert_allclose(
                [g["neda3"][k] for k in ("pct", "ci_low", "ci_high")],
                [expected[k] for k in ("pct", "ci_low", "ci_high")], rtol=0, atol=1e-9,
            )
        assert g["ae_per_1000_doses"] == rate(int(r["adverse_events"]), int(r["doses"]), per=1000)


def test_neda_interval_at_the_edges_equals_binomtest():
    # 0 of 7, 7 of 7, 1 of 1: the bounds that the beta quantiles leave undefined are 0 and 100 %
    class Rows:
        def run(self, name, filters):
            return pd.DataFrame({
                "subtype": [None, "RRMS", "SPMS", "NMOSD"], "neda": [0, 7, 1, 0],
                "neda_evaluable": [7, 7, 1, 0], "adverse_events": [0, 3, 0, 0],
                "doses": [10, 10, 0, 5],
            })

    got = group_intervals(Rows(), Filters())

    for group, (k, n) in {"all": (0, 7), "RRMS": (7, 7), "SPMS": (1, 1)}.items():
        expected = binomtest_ci(k, n)
        assert_allclose([got[group]["neda3"][c] for c in ("pct", "ci_low", "ci_high")],
                        [expected[c] for c in ("pct", "ci_low", "ci_high")], rtol=0, atol=1e-9)
    assert got["NMOSD"]["neda3"] is None
    assert got["SPMS"]["ae_per_1000_doses"] is None


@pytest.mark.parametrize("f", FILTERS)
@pytest.mark.parametrize("max_patients", [5, 1000])
def test_change_sample_holds_the_first_by_hash_with_their_waterfall_rank(ds, f, max_patients):
    outcomes = ds.run("patient_outcome", f)
    assessed = outcomes[outcomes["edss_change"].notna()]
    # the waterfall by hand: largest increase first, ties by subtype, then id
    order = assessed.sort_values(["edss_change", "subtype", "patient_id"],
                                 ascending=[False, True, True])
    rank = dict(zip(order["patient_id"], range(1, len(order) + 1)))

    rows = ds.run("edss_change_per_patient", f, max_patients=max_patients)

    expected = first_by_hash(assessed["patient_id"], max_patients)
    assert sorted(rows["patient_id"]) == sorted(expected)
    assert rows["rank"].tolist() == [rank[p] for p in rows["patient_id"]]
    assert (rows["sampled"] == (len(assessed) > max_patients)).all()
    by_id = assessed.set_index("patient_id")
    for column in ("subtype", "baseline_edss", "edss_last", "edss_change", "edss_class"):
        assert rows[column].tolist() == by_id.loc[rows["patient_id"], column].tolist()


@pytest.mark.parametrize("f", FILTERS)
def test_trajectory_sample_is_every_value_of_the_first_patients_by_hash(ds, f):
    values = ds.run("edss_trajectory", f)
    selected = ds.run("patient_outcome", f)["patient_id"]

    rows = ds.run("edss_trajectory_sample", f, max_patients=5)

    drawn = first_by_hash(selected, 5)
    expected = values[values["patient_id"].isin(drawn)].reset_index(drop=True)
    pd.testing.assert_frame_equal(rows, expected)


def test_trajectory_values_are_the_edss_table_inside_each_window(ds):
    # by hand from the raw tables: the baseline, then every assessment after the first-dose day up to
    # the last follow-up, at (days since first dose) / 30.4375 months
    patients = ds.sql("select patient_id, subtype, baseline_edss, first_dose_date, last_followup_date "
                      "from patients")
    edss = ds.sql("select patient_id, assessment_date, edss from edss").merge(patients, on="patient_id")
    inside = edss[(edss["assessment_date"] > edss["first_dose_date"])
                  & (edss["assessment_date"] <= edss["last_followup_date"])]
    days = (pd.to_datetime(inside["assessment_date"]) - pd.to_datetime(inside["first_dose_date"])).dt.days
    expected = pd.concat([
        patients.assign(months=0.0, edss=patients["baseline_edss"], baseline=True),
        inside.assign(months=days / 30.4375, baseline=False),
    ])[["patient_id", "subtype", "months", "edss", "baseline"]]
    expected = expected.sort_values(["subtype", "patient_id", "months", "edss"]).reset_index(drop=True)

    rows = ds.run("edss_trajectory", Filters())

    assert rows[["patient_id", "subtype", "baseline"]].values.tolist() == (
        expected[["patient_id", "subtype", "baseline"]].values.tolist()
    )
    assert_allclose(rows["months"], expected["months"], rtol=1e-12)
    assert_allclose(rows["edss"], expected["edss"])
    assert np.isfinite(rows["months"]).all()
