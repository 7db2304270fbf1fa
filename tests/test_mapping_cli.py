"""Command line of the mapped import: convert, import --mapping, suggest-mapping."""

import datetime as dt

import pandas as pd

from examples.make_examples import xlsx
from queries.__main__ import main
from queries.importer import active_location
from queries.mapping import load_mapping

T = dt.datetime
PATIENTS = [
    ["Study cohort"],
    ["ID", "Diagnosis", "Sex", "Age (years)", "EDSS at start", "First infusion", "Last visit"],
    [1001, "Relapsing-remitting", "Female", 40, 3.0, T(2020, 1, 1), "01/01/2021"],
]
DOSES = [["ID", "Infusion date", "Dose (mg)", "Course"], [1001, "01/01/2020", 500, 1]]
MAPPING = """\
[patients]
source = { file = "clinic.xlsx", sheet = "Patients" }
patient_id = "ID"
subtype = "Diagnosis"
sex = "Sex"
age_at_first_dose = "Age (years)"
baseline_edss = "EDSS at start"
first_dose_date = "First infusion"
last_followup_date = "Last visit"

[patients.values.subtype]
Relapsing-remitting = "RRMS"

[patients.values.sex]
Female = "F"

[infusions]
source = { file = "clinic.xlsx", sheet = "Doses" }
patient_id = "ID"
dose_date = "Infusion date"
dose_mg = "Dose (mg)"
course = "Course"
"""


def files(tmp_path, patients=PATIENTS, mapping=MAPPING):
    (tmp_path / "clinic.xlsx").write_bytes(xlsx({"Patients": patients, "Doses": DOSES}))
    (tmp_path / "mapping.toml").write_text(mapping)
    return str(tmp_path / "clinic.xlsx"), str(tmp_path / "mapping.toml")


def test_convert_writes_the_dataset_folder_and_warns_of_empty_tables(tmp_path, capsys):
    source, mapping = files(tmp_path)

    code = main(["convert", "--from", source, "--mapping", mapping, "--out", str(tmp_path / "ds")])

    out = capsys.readouterr().out
    assert code == 0
    patients = pd.read_parquet(tmp_path / "ds" / "patients.parquet")
    assert patients[["patient_id", "subtype", "sex"]].values.tolist() == [["1001", "RRMS", "F"]]
    assert pd.read_parquet(tmp_path / "ds" / "relapses.parquet").empty
    assert "warning: the mapping has no source for relapses; written empty" in out


def test_convert_exits_1_with_the_problems_and_writes_nothing(tmp_path, capsys):
    patients = [row[:] for row in PATIENTS]
    patients[2][4] = "3,3?"
    source, mapping = files(tmp_path, patients)

    code = main(["convert", "--from", source, "--mapping", mapping, "--out", str(tmp_path / "ds")])

    err = capsys.readouterr().err
    assert code == 1
    assert 'clinic.xlsx › Patients › row 3 › EDSS at start: "3,3?" is not a number' in err
    assert not (tmp_path / "ds").exists()


def test_a_mapping_problem_is_printed_with_its_line_and_exit_1(tmp_path, capsys):
    source, mapping = files(tmp_path, mapping=MAPPING.replace('"Age (years)"', '"Age"'))

    code = main(["convert", "--from", source, "--mapping", mapping, "--out", str(tmp_path / "ds")])

    assert code == 1
    assert capsys.readouterr().err.strip() == (
        'mapping.toml line 6: column "Age" not in sheet Patients (did you mean "Age (years)"?)'
    )


def test_import_with_a_mapping_activates_a_version(tmp_path, capsys):
    source, mapping = files(tmp_path)

    code = main(
        [
            "import",
            "--from",
            source,
            "--mapping",
            mapping,
            "--to",
            str(tmp_path / "sets"),
            "--user",
            "nurse",
        ]
    )

    assert code == 0
    assert "activated version" in capsys.readouterr().out
    assert (active_location(tmp_path / "sets") / "patients.parquet").exists()


def test_suggest_mapping_prints_a_mapping_that_parses_back(tmp_path, capsys):
    source, _ = files(tmp_path)

    code = main(["suggest-mapping", "--from", source])

    text = capsys.readouterr().out
    assert code == 0
    mapping = load_mapping(text)
    assert mapping.tables["patients"].header_row == 2
    assert mapping.tables["patients"].columns["baseline_edss"].arg == "EDSS at start"
    assert mapping.tables["patients"].values["sex"] == {"female": "F"}
    assert mapping.tables["patients"].values["subtype"] == {"relapsing-remitting": "RRMS"}


def test_convert_into_an_earlier_dataset_folder_leaves_no_table_of_the_earlier_run(tmp_path):
    source, mapping = files(tmp_path)
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "labs.parquet").write_bytes(b"an earlier conversion's labs")

    code = main(["convert", "--from", source, "--mapping", mapping, "--out", str(tmp_path / "ds")])

    assert code == 0
    assert not (tmp_path / "ds" / "labs.parquet").exists()
    assert (tmp_path / "ds" / "patients.parquet").exists()
