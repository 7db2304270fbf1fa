"""The data layer's summary.json equals the independent pandas/lifelines/scipy reference.

For several random cohorts (tests/random_cohort.py) and filter combinations,
``analysis.summary.summary_json`` must give the same object as ``reference_summary.reference_summary``
(the "filters" key aside): same keys, None where None, equal ints, floats within
rel 1e-6 (abs 1e-9 near 0).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from random_cohort import write_random_cohort
from reference_summary import reference_summary

from analysis.summary import summary_json

SEEDS = [1, 2, 3, 4, 5, 6]

# dataset variants: name -> write_random_cohort kwargs (timestamps in odd seeds)
VARIANTS = {
    "full": {},
    "no_mri": {"with_mri": False},
    "no_labs": {"with_labs": False},
    "no_optional_columns": {"with_optional_columns": False},
}

FILTERS = {
    "none": {},
    "followup_range": {"followup_min": 12.0, "followup_max": 36.0},
    "doses_range": {"doses_min": 2, "doses_max": 4},
    "no_doses": {"doses_max": 0},
    "subtype_subset": {"subtypes": ["RRMS", "NMOSD"]},
    "sex": {"sexes": ["F"]},
    "site": {"sites": ["North"]},
    "sites_two": {"sites": ["North", "East"]},
    "age": {"age_min": 30.0, "age_max": 50.0},
    "combination": {
        "followup_min": 6.0,
        "followup_max": 48.0,
        "doses_min": 1,
        "subtypes": ["RRMS", "SPMS"],
        "sexes": ["F", "M"],
        "sites": ["North", "South"],
        "age_max": 60.0,
    },
    "empty": {"followup_min": 1000.0},
    "empty_subtype_list": {"subtypes": []},
    "one_subtype": {"subtypes": ["RRMS"]},
    "two_subtypes": {"subtypes": ["RRMS", "SPMS"]},
    "igg_8": {"igg_threshold": 8.0},
}

# which filters run on which variant (the reduced variants get a few representative ones)
CASES = (
    [("full", f) for f in FILTERS]
    + [("no_mri", f) for f in ("none", "one_subtype", "combination", "empty")]
    + [("no_labs", f) for f in ("none", "igg_8", "sex", "empty")]
    + [("no_optional_columns", f) for f in ("none", "site", "age")]
)


@pytest.fixture(scope="session")
def dataset(tmp_path_factory):
    """Writes each (seed, variant) dataset once per session and returns its folder."""
    cache: dict[tuple[int, str], Path] = {}

    def get(seed: int, variant: str) -> Path:
        key = (seed, variant)
        if key not in cache:
            d = tmp_path_factory.mktemp(f"cohort_s{seed}_{variant}")
            write_random_cohort(d, seed, timestamps=(seed % 2 == 1), **VARIANTS[variant])
            cache[key] = d
        return cache[key]

    return get


def assert_same(actual, expected, path="summary"):
    if expected is None:
        assert actual is None, f"{path}: expected None, got {actual!r}"
        return
    assert actual is not None, f"{path}: expected {expected!r}, got None"
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected a dict, got {type(actual).__name__}"
        assert set(actual) == set(expected), (
            f"{path}: keys differ; missing {sorted(set(expected) - set(actual))}, "
            f"extra {sorted(set(actual) - set(expected))}"
        )
        for k in expected:
            assert_same(actual[k], expected[k], f"{path}.{k}")
        return
    if isinstance(expected, (bool, str)):
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"
        return
    if isinstance(expected, int):
        assert isinstance(actual, int) and not isinstance(actual, bool), (
            f"{path}: expected an int, got {type(actual).__name__} {actual!r}"
        )
        assert actual == expected, f"{path}: {actual} != {expected}"
        return
    if isinstance(expected, float):
        assert isinstance(actual, (int, float)) and not isinstance(actual, bool), (
            f"{path}: expected a number, got {type(actual).__name__} {actual!r}"
        )
        assert not math.isnan(float(actual)), f"{path}: NaN"
        assert math.isclose(float(actual), expected, rel_tol=1e-6, abs_tol=1e-9), (
            f"{path}: {actual!r} != {expected!r}"
        )
        return
    raise AssertionError(f"{path}: unexpected reference type {type(expected).__name__}")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("variant,filter_name", CASES)
def test_summary_matches_reference(dataset, seed, variant, filter_name):
    data_dir = dataset(seed, variant)
    kwargs = FILTERS[filter_name]
    expected = reference_summary(data_dir, **kwargs)
    actual = summary_json(data_dir, **kwargs)
    assert isinstance(actual, dict)
    assert "filters" in actual, "summary.json must echo the filters"
    # the v2 keys have their own independent reference (tests/reference_endpoints.py), compared in
    # tests/test_disability.py and tests/test_models.py to the contract's 1e-4
    actual = {k: v for k, v in actual.items() if k not in ("filters", "disability", "models")}
    assert_same(actual, expected)
