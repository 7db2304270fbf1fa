"""The rows the pages draw, computed in SQL and analysis/, equal a direct pandas / scipy computation
over the demo cohort's per-patient and per-value rows (the way the pages computed them before)."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from analysis.engagement import tertile_edges
from analysis.stats import mean_ci_of
from queries import Dataset, Filters
from tests.apptest import DEMO

FILTERS = [Filters(), Filters(subtypes=("RRMS", "NMOSD"), followup_min=18.0)]


@pytest.fixture(scope="module")
def demo():
    ds = Dataset(DEMO)
    yield ds
    ds.close()


@pytest.mark.parametrize("f", FILTERS)
def test_exposure_quartiles_and_whiskers_equal_pandas(demo, f):
    patients = demo.run("patient_outcome", f)

    rows = demo.run("exposure_by_subtype", f).set_index("subtype")

    for g, d in patients.groupby("subtype"):
        x = d["followup_months"]
        q1, q3 = x.quantile(0.25), x.quantile(0.75)
        assert_allclose(rows.loc[g, ["followup_q1", "followup_median", "followup_q3"]].astype(float),
                        [q1, x.median(), q3])
        assert rows.at[g, "followup_low"] == x[x >= q1 - 1.5 * (q3 - q1)].min()
        assert rows.at[g, "followup_high"] == x[x <= q3 + 1.5 * (q3 - q1)].max()
        assert rows.at[g, "doses_total"] == d["doses"].sum()
        assert rows.at[g, "patients"] == len(d)


@pytest.mark.parametrize("f", FILTERS)
def test_edss_visit_means_bin_each_value_to_the_nearest_six_month_visit(demo, f):
    values = demo.run("edss_trajectory", f)
    # by hand: month 0 is the baseline, a follow-up value goes to the nearest multiple of 6, at least 6
    visit = (np.floor(values["months"] / 6 + 0.5).clip(lower=1) * 6).where(~values["baseline"], 0)
    expected = (
        values.assign(visit=visit.astype(int))
        .groupby(["subtype", "visit", "patient_id"])["edss"].mean().reset_index()
        .groupby(["subtype", "visit"])["edss"].agg(mean="mean", patients="count").reset_index()
    )

    rows = demo.run("edss_visit_means", f)

    assert rows[["subtype", "visit"]].values.tolist() == expected[["subtype", "visit"]].values.tolist()
    assert_allclose(rows["mean"], expected["mean"])
    assert rows["patients"].tolist() == expected["patients"].tolist()


def test_contact_bins_equal_the_pandas_binning(demo):
    long = demo.sql(
        # from the contacts themselves: each patient's contacts inside the window per channel with
        # a contact inside some window, zeros included
        """select s.patient_id, c.channel, count(e.contact_date) as contacts
           from selected_patients($f) s
           cross join (select distinct channel from engagement x join patients p using (patient_id)
                       where x.contact_date between p.first_dose_date and p.last_followup_date) c
           left join engagement e on e.patient_id = s.patient_id and e.channel = c.channel
                and e.contact_date between s.first_dose_date and s.last_followup_date
           group by all""",
        {"f": Filters().params()},
    )
    width = max(1, int(np.ceil(long["contacts"].quantile(0.95) / 15)))
    long["bin"] = (long["contacts"].clip(upper=width * 15) // width * width).astype(int)
    expected = long.groupby(["channel", "bin"], as_index=False).size()

    rows = demo.run("contacts_per_patient_bins")

    assert (rows["width"] == width).all()
    assert rows[["channel", "bin", "patients"]].values.tolist() == expected.values.tolist()


@pytest.mark.parametrize("n", [3, 4, 14, 34, 99, 100_000])
def test_tertile_edges_split_ranks_as_pandas_qcut_does(n):
    ranks = pd.Series(np.arange(1, n + 1, dtype=float))
    expected = pd.qcut(ranks, 3, labels=["Low", "Middle", "High"]).astype(str)

    low, high = tertile_edges(n)

    got = np.where(ranks <= low, "Low", np.where(ranks <= high, "Middle", "High"))
    assert (got == expected.to_numpy()).all()


def test_mean_ci_from_n_mean_and_sd_equals_scipy_on_the_values():
    x = np.array([-1.0, 0.5, 0.0, 1.5, -0.5])

    low, high = mean_ci_of(len(x), x.mean(), x.std(ddof=1))

    assert_allclose((low, high), stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x)))
    assert mean_ci_of(1, 0.5, None) is None


def test_a_filter_is_one_struct_bound_once(demo):
    # every query reads the selection through selected_patients($filters): no query names a filter
    from queries.dataset import SQL_DIR, sql_params

    names = [p.stem for p in SQL_DIR.glob("*.sql")]

    for name in names:
        assert not sql_params(name) & {"followup_min", "subtypes", "sexes", "sites", "age_min"}, name
