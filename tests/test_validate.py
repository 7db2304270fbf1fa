"""Validation: every kind of contract violation is reported with its table and column; valid data passes."""

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from queries.__main__ import main
from queries.validate import validate
from tests.cohort import D, patient, write


def base() -> dict:
    """A small valid dataset with every table."""
    return {
        "patients": [patient("P1"), patient("P2", "NMOSD", sex="M")],
        "infusions": [
            {"patient_id": p, "dose_date": D(2020, 1, 1), "dose_mg": 500.0, "course": 1} for p in ("P1", "P2")
        ],
        "relapses": [{"patient_id": "P1", "onset_date": D(2020, 5, 1), "severity": "mild"}],
        "edss": [{"patient_id": "P1", "assessment_date": D(2020, 7, 1), "edss": 3.5}],
        "mri": [{"patient_id": "P1", "scan_date": D(2020, 12, 1), "new_t2_lesions": 0, "gd_enhancing_lesions": 0}],
        "labs": [{"patient_id": "P1", "sample_date": D(2020, 7, 1), "test": "IgG", "value": 9.1, "unit": "g/L"}],
        "adverse_events": [
            {"patient_id": "P2", "onset_date": D(2020, 1, 1), "term": "Flushing", "relation": "during_infusion",
             "grade": 1, "serious": False, "outcome": "resolved"}
        ],
        "engagement": [{"patient_id": "P1", "contact_date": D(2020, 2, 1), "channel": "skype",
                        "kind": "education_session"}],
    }


def broken(tmp_path, table: str, row: int = 0, **changes) -> list:
    tables = base()
    tables[table][row] = tables[table][row] | changes
    return validate(write(tmp_path / "d", **tables))


def errors(problems) -> set[tuple[str, str]]:
    return {(p.table, p.column) for p in problems if p.severity == "error"}


def test_a_valid_dataset_has_no_problems(tmp_path):
    assert validate(write(tmp_path / "d", **base())) == []


@pytest.mark.parametrize(
    ("table", "changes", "column"),
    [
        ("patients", {"patient_id": ""}, "patient_id"),
        ("patients", {"patient_id": "P2"}, "patient_id"),  # duplicate
        ("patients", {"subtype": "PPMS"}, "subtype"),
        ("patients", {"sex": "X"}, "sex"),
        ("patients", {"age_at_first_dose": 130.0}, "age_at_first_dose"),
        ("patients", {"baseline_edss": 3.3}, "baseline_edss"),
        ("patients", {"baseline_edss": 10.5}, "baseline_edss"),
        ("patients", {"last_followup_date": D(2019, 1, 1)}, "last_followup_date"),
        ("patients", {"first_dose_date": None}, "first_dose_date"),
        ("infusions", {"patient_id": "NOBODY"}, "patient_id"),
        ("infusions", {"dose_mg": 0.0}, "dose_mg"),
        ("infusions", {"course": 0}, "course"),
        ("relapses", {"severity": "awful"}, "severity"),
        ("relapses", {"onset_date": None}, "onset_date"),
        ("edss", {"edss": 11.0}, "edss"),
        ("mri", {"new_t2_lesions": -1}, "new_t2_lesions"),
        ("labs", {"value": None}, "value"),
        ("adverse_events", {"relation": "unrelated"}, "relation"),
        ("adverse_events", {"grade": 6}, "grade"),
        ("adverse_events", {"serious": None}, "serious"),
        ("adverse_events", {"outcome": "gone"}, "outcome"),
        ("engagement", {"channel": ""}, "channel"),
    ],
)
def test_each_rule_violation_is_an_error_naming_table_and_column(tmp_path, table, changes, column):
    problems = broken(tmp_path, table, **changes)

    assert (table, column) in errors(problems)
    problem = next(p for p in problems if (p.table, p.column) == (table, column))
    assert problem.count >= 1 and problem.examples[0]["row"] >= 1


def test_duplicate_edss_assessment_on_one_date_is_an_error(tmp_path):
    tables = base()
    tables["edss"].append({"patient_id": "P1", "assessment_date": D(2020, 7, 1), "edss": 4.0})

    problems = validate(write(tmp_path / "d", **tables))

    assert ("edss", "assessment_date") in errors(problems)


def test_records_outside_windows_and_patients_without_infusions_are_warnings(tmp_path):
    tables = base()
    tables["relapses"][0]["onset_date"] = D(2019, 6, 1)
    tables["labs"][0]["sample_date"] = D(2020, 1, 1)  # the first-dose day is a baseline, not follow-up
    tables["infusions"] = tables["infusions"][:1]

    problems = validate(write(tmp_path / "d", **tables))

    assert errors(problems) == set()
    warnings = {(p.table, p.column) for p in problems if p.severity == "warning"}
    assert warnings == {("relapses", "onset_date"), ("labs", "sample_date"), ("patients", "patient_id")}


def test_all_problems_are_reported_not_just_the_first(tmp_path):
    tables = base()
    tables["patients"][0] |= {"sex": "X", "baseline_edss": 3.3}
    tables["adverse_events"][0] |= {"grade": 9}

    problems = validate(write(tmp_path / "d", **tables))

    assert errors(problems) >= {("patients", "sex"), ("patients", "baseline_edss"), ("adverse_events", "grade")}


def test_structural_problems_are_one_clear_line_each(tmp_path, capsys):
    folder = write(tmp_path / "d", **base())
    (folder / "relapses.parquet").unlink()
    (folder / "mri.parquet").write_text("not parquet")
    pq.write_table(pa.table({"patient_id": ["P1"], "dose_date": ["2020-01-01"], "dose_mg": [500.0],
                             "course": [1]}), folder / "infusions.parquet")
    edss = pd.DataFrame(base()["edss"]).drop(columns=["edss"])
    pq.write_table(pa.Table.from_pandas(edss, preserve_index=False), folder / "edss.parquet")

    code = main(["validate", "--data", str(folder)])

    out = capsys.readouterr().out
    assert code == 1
    assert "relapses.parquet: required table 'relapses' is missing" in out
    assert "mri.parquet: not a readable parquet file" in out
    assert "column 'dose_date' has type VARCHAR, expected date" in out
    assert "required column 'edss' is missing" in out
    assert "Traceback" not in out


def test_validate_exit_codes(tmp_path, capsys):
    good = write(tmp_path / "good", **base())
    tables = base()
    tables["relapses"][0]["onset_date"] = D(2019, 6, 1)
    warn = write(tmp_path / "warn", **tables)

    assert main(["validate", "--data", str(good)]) == 0
    assert main(["validate", "--data", str(warn)]) == 0
    assert main(["validate", "--data", str(tmp_path / "missing")]) == 1
    assert "no such dataset folder" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("table", "changes", "column", "rule"),
    [
        ("patients", {"last_followup_date": D(9999, 12, 31)}, "last_followup_date", "between 1900-01-01"),
        ("patients", {"first_dose_date": D(1800, 1, 1)}, "first_dose_date", "between 1900-01-01"),
        ("patients", {"first_dose_date": D(1989, 6, 1)}, "first_dose_date", "after 1990-01-01"),
        ("relapses", {"onset_date": D(2999, 1, 1)}, "onset_date", "between 1900-01-01"),
        ("engagement", {"contact_date": D(1899, 12, 31)}, "contact_date", "between 1900-01-01"),
        ("labs", {"value": float("nan")}, "value", "finite number"),
        ("labs", {"value": float("inf")}, "value", "finite number"),
        ("infusions", {"dose_mg": float("inf")}, "dose_mg", "finite number"),
        ("patients", {"disease_duration_years": float("-inf")}, "disease_duration_years", "finite number"),
        ("patients", {"age_at_first_dose": float("nan")}, "age_at_first_dose", "finite number"),
    ],
)
def test_implausible_dates_and_non_finite_numbers_are_errors(tmp_path, table, changes, column, rule):
    problems = broken(tmp_path, table, **changes)

    found = [p for p in problems if (p.table, p.column) == (table, column) and rule in p.rule]
    assert found and found[0].severity == "error" and found[0].examples[0]["row"] == 1


def test_a_date_of_today_is_plausible_and_tomorrow_is_not(tmp_path):
    import datetime as dt

    today = dt.date.today()
    tables = base()
    tables["patients"][0] |= {"last_followup_date": today}
    assert not [p for p in validate(write(tmp_path / "a", **tables)) if "today" in p.rule]

    tables["patients"][0] |= {"last_followup_date": today + dt.timedelta(days=1)}
    problems = validate(write(tmp_path / "b", **tables))

    assert [p.column for p in problems if f"today ({today})" in p.rule] == ["last_followup_date"]


def test_the_demo_dataset_passes_every_v2_rule():
    demo = Path(__file__).resolve().parent.parent / "data" / "demo"

    assert validate(demo) == []


def test_validate_reports_a_9999_date_and_exits_1(tmp_path, capsys):
    folder = write(tmp_path / "d", **(base() | {"patients": [patient("P1") | {
        "last_followup_date": D(9999, 12, 31)}, patient("P2", "NMOSD", sex="M")]}))

    assert main(["validate", "--data", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "last_followup_date: date must lie between 1900-01-01 and today" in out
    assert "'9999-12-31'" in out
