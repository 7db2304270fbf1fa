"""Every page works on any valid dataset, not only the demo: random contract cohorts with edge cases
(a one-patient subtype, patients without infusions or follow-up EDSS, records outside windows, missing
optional tables and columns), in team and viewer mode. The report page draws every page in one run."""

import pytest

from tests.apptest import elements, open_page
from tests.random_cohort import write_random_cohort

VARIANTS = {
    "full": {},
    "no optional tables or columns": {"with_mri": False, "with_labs": False, "with_optional_columns": False},
}


@pytest.mark.parametrize("viewer", [False, True], ids=["team", "viewer"])
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("seed", [2, 3])
def test_every_page_draws_on_a_random_dataset(tmp_path, monkeypatch, seed, variant, viewer):
    folder = write_random_cohort(tmp_path / "cohort", seed, timestamps=seed % 2 == 1, **VARIANTS[variant])
    monkeypatch.setenv("RCE_DATA", str(folder))

    at = open_page("report", viewer=viewer, timeout=180)

    failed = [e.value for e in elements(at) if "could not be drawn" in str(getattr(e, "value", ""))]
    assert failed == []
    document = at.session_state["report_html"]
    assert "could not be drawn" not in document
    assert document.count("<h2>") == 6
