"""Every problem of a mapped import points at the source: the mapping's line, or file/row/column."""

import datetime as dt
from pathlib import Path

import pytest

from examples.make_examples import demo_tables, redcap_export, xlsx
from queries.importer import active
from queries.mapping import (
    MappingError,
    apply,
    import_mapped,
    load_mapping,
    problem_lines,
    stage_mapped,
)
from queries.readers import read_source_files

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo"
D = dt.datetime
PATIENTS = [
    ["Patient no.", "Diagnosis", "Gender (F/M)", "Age", "EDSS", "First infusion", "Last visit"],
    [1001, "RRMS", "F", 40, 3.0, D(2020, 1, 1), "01/01/2021"],
    [1002, "SPMS", "M", 50, 6.0, "15/03/2020", D(2021, 3, 15)],
]
INFUSIONS = [
    ["Patient no.", "Date", "Dose (mg)", "Course"],
    [1001, "01/01/2020", 500, 1],
    [1002, "15/03/2020", 500, 1],
]
# line numbers below are counted in this text
MAPPING = """\
[patients]
source = { file = "cohort.xlsx", sheet = "Patients" }
patient_id = "Patient no."
subtype = "Diagnosis"
sex = "Gender (F/M)"
age_at_first_dose = "Age"
baseline_edss = "EDSS"
first_dose_date = "First infusion"
last_followup_date = "Last visit"

[infusions]
source = { file = "cohort.xlsx", sheet = "Infusions" }
patient_id = "Patient no."
dose_date = "Date"
dose_mg = "Dose (mg)"
course = "Course"
"""


def workbook(patients=PATIENTS, infusions=INFUSIONS, **more):
    return read_source_files(
        [("cohort.xlsx", xlsx({"Patients": patients, "Infusions": infusions, **more}))]
    )


def problems_of(text: str, book=None) -> list[str]:
    with pytest.raises(MappingError) as caught:
        apply(load_mapping(text), book or workbook())
    return caught.value.problems


def cell_lines(text: str, book, tmp_path: Path) -> list[str]:
    """Every problem line after staging (the mapping's cells and the contract's rules)."""
    staged = stage_mapped(apply(load_mapping(text), book), tmp_path)
    return problem_lines(staged.problems)


def test_a_column_not_in_the_sheet_names_the_line_and_the_closest_column():
    text = MAPPING.replace('sex = "Gender (F/M)"', 'sex = "Gender"')

    problems = problems_of(text)

    assert problems == [
        'mapping.toml line 5: column "Gender" not in sheet Patients (did you mean "Gender (F/M)"?)'
    ]


def test_an_unknown_sheet_and_an_unknown_file_suggest_the_closest_names():
    text = MAPPING.replace('sheet = "Patients"', 'sheet = "Patient"').replace(
        'file = "cohort.xlsx", sheet = "Infusions"', 'file = "cohort.xls", sheet = "Infusions"'
    )

    problems = problems_of(text)

    assert problems[0] == (
        'mapping.toml line 2: no sheet "Patient" in cohort.xlsx (did you mean '
        '"Patients"?); its sheets are Patients, Infusions'
    )
    assert problems[1].startswith(
        'mapping.toml line 12: file "cohort.xls" was not uploaded (did you mean "cohort.xlsx"?)'
    )


def test_a_toml_syntax_error_names_its_line():
    text = MAPPING.replace('course = "Course"', 'course = "Course')

    with pytest.raises(MappingError) as caught:
        load_mapping(text)

    assert caught.value.problems[0].startswith("mapping.toml line 16: not valid TOML")


def test_a_misspelt_table_column_or_key_is_named_with_a_suggestion():
    text = (
        MAPPING.replace("[infusions]", "[infusion]")
        .replace("sex =", "sexe =")
        .replace('age_at_first_dose = "Age"', 'age_at_first_dose = { colum = "Age" }')
    )

    with pytest.raises(MappingError) as caught:
        load_mapping(text)

    problems = "\n".join(caught.value.problems)
    assert (
        'mapping.toml line 5: "sexe" is not a column of patients (did you mean "sex"?)' in problems
    )
    assert (
        'mapping.toml line 6: unknown key "colum" for patients.age_at_first_dose (did you mean '
        '"column"?)' in problems
    )
    assert (
        'mapping.toml line 11: "infusion" is not a table of the data contract (did you mean '
        '"infusions"?)'
    ) in problems
    assert "no [infusions] section; the infusions table is required" in problems


def test_a_value_map_to_a_value_outside_the_contract_is_refused_with_its_line():
    text = MAPPING + '\n[patients.values.subtype]\n"Relapsing-remitting" = "RMS"\n'

    with pytest.raises(MappingError) as caught:
        load_mapping(text)

    assert caught.value.problems == [
        (
            'mapping.toml line 19: "RMS" is not a subtype of the data contract (RRMS, SPMS, NMOSD, '
            "or "
            '"exclude" to leave the patient out) (did you mean "RRMS"?)'
        )
    ]


def test_a_required_column_left_out_is_named():
    text = MAPPING.replace('baseline_edss = "EDSS"\n', "")

    with pytest.raises(MappingError) as caught:
        load_mapping(text)

    assert caught.value.problems == [
        (
            "mapping.toml line 1: [patients] does not say where baseline_edss comes from "
            "(a required "
            'column); add baseline_edss = "<source column>"'
        )
    ]


def test_a_cell_that_is_not_a_number_names_file_sheet_row_and_column(tmp_path):
    patients = [row[:] for row in PATIENTS]
    patients[2][4] = "n/a?"

    lines = cell_lines(MAPPING, workbook(patients), tmp_path)

    assert lines == ['error: cohort.xlsx › Patients › row 3 › EDSS: "n/a?" is not a number']


def test_a_rule_of_the_contract_broken_by_a_cell_names_the_source_cell(tmp_path):
    patients = [row[:] for row in PATIENTS]
    patients[1][4] = 3.3  # EDSS comes in steps of 0.5

    lines = cell_lines(MAPPING, workbook(patients), tmp_path)

    assert any(
        line.startswith("error: cohort.xlsx › Patients › row 2 › EDSS")
        and "3.3" in line
        and "0.5" in line
        for line in lines
    ), lines


def test_a_value_with_no_value_map_names_the_cell_and_where_to_add_it(tmp_path):
    patients = [row[:] for row in PATIENTS]
    patients[2][1] = "Relapsing remitting"

    lines = cell_lines(MAPPING, workbook(patients), tmp_path)

    assert lines == [
        (
            'error: cohort.xlsx › Patients › row 3 › Diagnosis: "Relapsing remitting" has no value '
            "map: add it under [patients.values.subtype] in mapping.toml (allowed: RRMS, SPMS, "
            "NMOSD, or "
            '"exclude")'
        )
    ]


def test_an_impossible_date_in_a_redcap_repeat_names_record_event_and_instance(tmp_path):
    demo = demo_tables(DEMO, patients=2)  # RTX-001 has two relapses
    files, mapping = redcap_export(demo)
    second = str(demo["relapses"]["onset_date"].iloc[1]).encode()
    files["STUDY_DATA.csv"] = files["STUDY_DATA.csv"].replace(second, b"2031-02-30")
    book = read_source_files(list(files.items()))

    lines = cell_lines(mapping, book, tmp_path)

    assert (
        "error: STUDY_DATA.csv › record RTX-001, event treatment_arm_1, relapse #2 › "
        'relapse_onset: "2031-02-30" is not a date (dd/mm/yyyy or YYYY-MM-DD)'
    ) in lines
    assert len(lines) == 1  # reported once: not again as a missing onset date


def test_an_unknown_redcap_event_or_instrument_suggests_the_closest(tmp_path):
    files, mapping = redcap_export(demo_tables(DEMO, patients=2))
    text = mapping.replace('event = "end_arm_1"', 'event = "end_arm1"').replace(
        'instrument = "relapse"', 'instrument = "relapses"'
    )

    problems = problems_of(text, read_source_files(list(files.items())))

    assert any(
        'no instrument "relapses" in STUDY_DATA.csv (did you mean "relapse"?)' in p
        for p in problems
    )
    assert any(
        p.startswith("mapping.toml line 12:")
        and 'no event "end_arm1" in STUDY_DATA.csv (did you mean "end_arm_1"?)' in p
        for p in problems
    )


def test_a_failed_import_activates_nothing_and_leaves_the_active_version(tmp_path):
    (tmp_path / "in").mkdir()
    good = tmp_path / "in" / "cohort.xlsx"
    good.write_bytes(xlsx({"Patients": PATIENTS, "Infusions": INFUSIONS}))
    (tmp_path / "mapping.toml").write_text(MAPPING)
    first = import_mapped([good], tmp_path / "mapping.toml", tmp_path / "sets", "u")
    patients = [row[:] for row in PATIENTS]
    patients[1][3] = "forty"
    good.write_bytes(xlsx({"Patients": patients, "Infusions": INFUSIONS}))

    second = import_mapped([good], tmp_path / "mapping.toml", tmp_path / "sets", "u")

    assert first.version is not None
    assert second.version is None
    assert active(tmp_path / "sets")["version"] == first.version
    assert problem_lines(second.problems) == [
        'error: cohort.xlsx › Patients › row 2 › Age: "forty" is not a number'
    ]
    assert not list((tmp_path / "sets").glob(".staging-*"))


@pytest.mark.parametrize(
    "line, replacement",
    [
        ('patient_id = "Patient no."', "patient_id = 5"),
        ('patient_id = "Patient no."', 'patient_id = ["a", "b"]'),
        ('patient_id = "Patient no."', "patient_id = { column = 5 }"),
        ('patient_id = "Patient no."', 'patient_id = { count_ticked = [1, "x"] }'),
        ('patient_id = "Patient no."', 'patient_id = { value = ["x"] }'),
        ('patient_id = "Patient no."', 'patient_id = { column = "Patient no.", value = 1 }'),
        ('patient_id = "Patient no."', 'patient_id = { birth_date = "Patient no." }'),
        ('sex = "Gender (F/M)"', 'sex = { column = "Gender (F/M)", factor = "x" }'),
        ('sex = "Gender (F/M)"', 'sex = { column = "Gender (F/M)", date_format = "yyyy" }'),
        ('source = { file = "cohort.xlsx", sheet = "Patients" }', "source = 3"),
        (
            'source = { file = "cohort.xlsx", sheet = "Patients" }',
            'source = { file = "cohort.xlsx", sheet = "Patients", header_row = "3" }',
        ),
        (
            'source = { file = "cohort.xlsx", sheet = "Patients" }',
            'source = { file = "cohort.xlsx", sheets = "Patients" }',
        ),
        ('course = "Course"', 'course = "Course"\n[infusions.values.course]\n"1" = { a = 1 }'),
        ('course = "Course"', 'course = "Course"\n[infusions.values.course]\n"1" = "one"'),
        ('course = "Course"', 'course = "Course"\n[[infusions.convert]]\ntest = "IgG"'),
        ('course = "Course"', 'course = "Course"\n[settings]\ndate_fromat = "dd/mm/yyyy"'),
    ],
)
def test_a_malformed_mapping_line_is_a_mapping_problem_with_its_line(line, replacement):
    text = MAPPING.replace(line, replacement, 1)

    problems = problems_of(text)

    assert problems and all(p.startswith("mapping.toml line ") for p in problems), problems
