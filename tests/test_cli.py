"""The command line: summary prints exactly the contract's keys; --help explains each command; filter values
and sizes are checked (no NaN reaches summary.json; the import honours the app's size limit)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.summary import summary
from queries import Dataset, Filters

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"
KEYS = {"filters", "patients", "female_pct", "age_mean", "followup_months_mean", "doses_total",
        "patient_years", "relapses", "rfs", "edss_change", "mri", "neda3", "igg_low", "safety"}
V2_KEYS = {"disability", "models"}  # optional keys of the contract's v2 additions


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "queries", *args], cwd=ROOT, capture_output=True, text=True,
                          check=False, env=None if env is None else os.environ | env)


def test_summary_prints_the_contract_keys_for_the_given_filters():
    result = cli("summary", "--data", str(DEMO), "--followup-min", "18", "--doses-max", "10",
                 "--subtype", "rrms", "SPMS", "--igg-threshold", "8")

    printed = json.loads(result.stdout)
    assert result.returncode == 0
    assert KEYS <= set(printed) <= KEYS | V2_KEYS
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


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--followup-min", "nan", "argument --followup-min: 'nan' is not a number of months from 0 to 1200"),
    ("--followup-max", "inf", "argument --followup-max: 'inf' is not a number of months"),
    ("--age-min", "-Infinity", "argument --age-min: '-Infinity' is not a number of years from 0 to 120"),
    ("--age-max", "1e400", "argument --age-max: '1e400' is not a number of years"),
    ("--doses-min", "2.5", "argument --doses-min: '2.5' is not a whole number of doses"),
    ("--igg-threshold", "NaN", "argument --igg-threshold: 'NaN' is not a threshold in g/L"),
    ("--followup-min", "-3", "argument --followup-min: '-3' is not a number of months from 0 to 1200"),
])
def test_a_filter_value_that_is_not_a_finite_number_in_range_is_refused(option, value, message):
    result = cli("summary", "--data", str(DEMO), f"{option}={value}")

    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""  # no summary.json at all, never one with NaN


def test_a_minimum_above_its_maximum_is_refused():
    result = cli("summary", "--data", str(DEMO), "--followup-min", "30", "--followup-max", "10")

    assert result.returncode == 2
    assert result.stderr.strip() == "error: --followup-min 30 is above --followup-max 10"


def test_summary_json_never_holds_nan_even_for_an_empty_selection():
    result = cli("summary", "--data", str(DEMO), "--age-min", "119", "--age-max", "120")

    assert result.returncode == 0
    assert "NaN" not in result.stdout and "Infinity" not in result.stdout
    assert json.loads(result.stdout)["patients"]["total"] == 0


def test_the_import_honours_the_size_limit_given_or_set_for_the_app(tmp_path):
    src = tmp_path / "patients.csv"
    src.write_text("patient_id\n" + "P1\n" * 10_000)  # 30 kB

    given = cli("import", "--from", str(src), "--to", str(tmp_path / "sets"), "--max-mb", "0.01")
    set_for_app = cli("import", "--from", str(src), "--to", str(tmp_path / "sets"),
                      env={"RCE_MAX_UPLOAD_MB": "0.01"})

    for result in (given, set_for_app):
        assert result.returncode == 1
        assert "over the 0.01 MB limit" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "sets").exists()


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-1"])
def test_a_size_limit_that_is_not_a_positive_number_is_refused(tmp_path, value):
    result = cli("import", "--from", str(tmp_path), "--to", str(tmp_path / "sets"), "--max-mb", value)

    assert result.returncode == 2 and "is not a size in MB" in result.stderr


def test_a_hostile_import_from_the_command_line_is_one_line_without_traceback(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "relapses.csv").write_bytes(b"patient_id,onset_date\nP1,2020-01-01\x81\n")

    result = cli("import", "--from", str(src), "--to", str(tmp_path / "sets"))

    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().endswith("relapses.csv: line 2 holds a byte (0x81) that is neither "
                                          "UTF-8 nor Windows-1252 text; save the file again as UTF-8 "
                                          "and import it again")
