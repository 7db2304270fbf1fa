"""Opening a dataset under DuckDB's memory limit: a cohort too large for the limit is still built
(under DuckDB's own limit) with the same figures, never an out-of-memory error."""

import pytest

import queries.dataset as dataset_module
from analysis.summary import summary
from queries import Dataset, Filters
from tests.random_cohort import write_random_cohort


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    return write_random_cohort(tmp_path_factory.mktemp("cohort"), 11, n_patients=3000)


def test_a_build_over_the_memory_limit_falls_back_and_gives_the_same_figures(cohort, monkeypatch):
    roomy = Dataset(cohort)
    expected = summary(roomy, Filters())
    engagement = roomy.run("engagement_totals", Filters())
    roomy.close()
    # 1 MB: too little for the builds and queries of 3,000 patients
    monkeypatch.setattr(dataset_module, "MEMORY_LIMIT", "1MB")

    tight = Dataset(cohort)

    assert summary(tight, Filters()) == expected
    assert tight.run("engagement_totals", Filters()).equals(engagement)
    # the limit is back after each fallback (DuckDB shows 1 MB as 976.5 KiB)
    assert tight.sql("select current_setting('memory_limit') as m")["m"].iloc[0] == "976.5 KiB"
    tight.close()
