"""The command line: summary prints exactly the contract's keys; --help explains each command."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from queries import Dataset, Filters, summary

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"
KEYS = {"filters", "patients", "female_pct", "age_mean", "followup_months_mean", "doses_total",
        "patient_years", "relapses", "rfs", "edss_change", "mri", "neda3", "igg_low", "safety"}


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "queries", *args], cwd=ROOT, capture_output=True, text=True)


def test_summary_prints_the_contract_keys_for_the_given_filters():
    result = cli("summary", "--data", str(DEMO), "--followup-min", "18", "--doses-max", "10",
                 "--subtype", "rrms", "SPMS", "--igg-threshold", "8")

    printed = json.loads(result.stdout)
    assert result.returncode == 0
    assert set(printed) == KEYS
    assert set(printed["relapses"]) == {"total", "patients_with_relapse", "relapse_free_pct",
                                        "attacks_per_patient", "arr"}
    assert set(printed["safety"]) == {"events", "per_1000_doses", "patients_with_event", "serious",
                                      "opportunistic_infections", "by_term", "by_relation"}
    expected = summary(Dataset(DEMO), Filters(followup_min=18, doses_max=10, subtypes=("RRMS", "SPMS"),
                                              igg_threshold=8.0))
    assert printed == json.loads(json.dumps(expected))


def test_a_missing_dataset_is_one_clear_line():
    result = cli("summary", "--data", "/nonexistent/folder")

    assert result.returncode == 1
    assert result.stderr.strip() == "error: /nonexistent/folder: no such dataset folder"


@pytest.mark.parametrize("command", ["summary", "validate", "import"])
def test_help_explains_each_command(command):
    result = cli(command, "--help")

    assert result.returncode == 0
    assert "--data" in result.stdout or "--from" in result.stdout
