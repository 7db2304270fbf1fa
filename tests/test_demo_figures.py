"""The demo dataset reproduces the published figures (Nabiuni et al. 2023, Interdiscip J Virtual Learn Med
Sci 14(3):206-215, doi:10.30476/ijvlms.2023.99354.1240), computed by the data layer's definitions."""

import hashlib
import math
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.summary import summary
from queries import Dataset, Filters

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"


def trunc1(x: float) -> float:
    """The paper truncates percentages to one decimal (10/43 = 23.26 % is printed 23.2 %)."""
    return math.floor(x * 10 + 1e-9) / 10


@pytest.fixture(scope="module")
def s() -> dict:
    return summary(Dataset(DEMO), Filters())


def test_cohort_size_and_demographics(s):
    assert s["patients"] == {"total": 99, "by_subtype": {"RRMS": 42, "SPMS": 43, "NMOSD": 14}}
    assert round(s["age_mean"], 1) == 39.5
    assert round(s["female_pct"] * 99 / 100) == 67
    assert round(s["followup_months_mean"], 1) == 20.4
    assert s["doses_total"] == 818


def test_relapses(s):
    assert s["relapses"]["patients_with_relapse"] == {"all": 19, "RRMS": 8, "SPMS": 10, "NMOSD": 1}
    assert s["relapses"]["attacks_per_patient"] == {"1": 13, "2": 4, "3": 2}
    assert s["relapses"]["total"] == 27
    assert round(s["relapses"]["relapse_free_pct"], 1) == 80.8


@pytest.mark.parametrize(
    ("subtype", "mean", "p", "digits"),
    [("RRMS", -0.32, 0.06, 2), ("SPMS", 0.19, 0.23, 2), ("NMOSD", -0.57, 0.004, 3)],
)
def test_edss_change_means_and_t_test_p_values(s, subtype, mean, p, digits):
    e = s["edss_change"][subtype]

    assert round(e["mean"], 2) == mean
    assert round(e["p_ttest"], digits) == p


def test_mri_igg_and_safety(s):
    assert s["mri"]["new_t2_patients"] == 9 and s["mri"]["gd_patients"] == 4
    assert trunc1(s["igg_low"]["SPMS"]["pct"]) == 13.9
    assert (s["igg_low"]["SPMS"]["n"], s["igg_low"]["SPMS"]["tested"]) == (6, 43)
    assert (s["igg_low"]["NMOSD"]["n"], s["igg_low"]["NMOSD"]["tested"]) == (1, 10)
    assert s["igg_low"]["RRMS"]["n"] == 0
    assert s["safety"]["events"] == 2
    assert s["safety"]["by_term"] == {"Flushing": 1, "Thrombocytopenia": 1}
    assert s["safety"]["opportunistic_infections"] == 0


def test_thrombocytopenia_case_is_in_the_labs():
    platelets = Dataset(DEMO).sql("select value from labs where test = 'platelets' order by value limit 1")

    assert platelets["value"].iloc[0] == 11.5


def test_the_generator_is_deterministic(tmp_path):
    subprocess.run(
        [sys.executable, str(ROOT / "data" / "generate_demo.py"), "--out", str(tmp_path)],
        check=True, capture_output=True,
    )

    for f in DEMO.glob("*.parquet"):
        assert hashlib.sha256((tmp_path / f.name).read_bytes()).hexdigest() == hashlib.sha256(
            f.read_bytes()
        ).hexdigest(), f.name
