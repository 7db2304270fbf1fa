"""Readers of a study's own files keep the cells as given and know each row as the user does."""

import datetime as dt

import pandas as pd
import pytest

from examples.make_examples import demo_tables, redcap_export, stats_files, xlsx
from queries.importer import ImportFailed
from queries.readers import read_source_files

T = dt.datetime


def test_a_title_line_above_the_header_is_skipped_and_rows_keep_their_spreadsheet_numbers():
    rows = [
        ["Cohort follow-up (exported 2026-01-01)"],
        [],
        ["ID", "EDSS 6m", "Date"],
        ["A", 3.5, T(2020, 1, 1)],
        [None, None, None],
        ["B", "n/a", "02/03/2020"],
    ]

    book = read_source_files([("cohort.xlsx", xlsx({"Patients": rows}))])

    [sheet] = book.sheets
    assert sheet.header_row == 3
    assert list(sheet.frame.columns) == ["ID", "EDSS 6m", "Date"]
    assert sheet.rows == ["row 4", "row 6"]  # the blank row 5 is skipped, numbering is kept
    assert sheet.frame["Date"].tolist() == [T(2020, 1, 1), "02/03/2020"]  # cells as given
    assert "header read on row 3" in book.notes[0]


def test_the_header_row_can_be_moved_and_repeated_names_are_told_apart():
    rows = [
        ["Visit", "", "Visit", ""],
        ["Date", "EDSS", "Date", "EDSS"],
        [T(2020, 1, 1), 3, T(2020, 7, 1), 3.5],
    ]
    book = read_source_files([("wide.xlsx", xlsx({"Visits": rows}))])

    sheet = book.sheets[0].with_header(2)

    assert list(sheet.frame.columns) == ["Date", "EDSS", "Date (2)", "EDSS (2)"]
    assert sheet.rows == ["row 3"]


def test_a_csv_with_a_byte_order_mark_semicolons_and_a_title_line():
    raw = "\ufeffStudy export\r\nID;Dose (mg);Date\r\nA;500;01/02/2020\r\n".encode()

    book = read_source_files([("doses.csv", raw)])

    [sheet] = book.sheets
    assert list(sheet.frame.columns) == ["ID", "Dose (mg)", "Date"]
    assert sheet.frame.iloc[0].tolist() == ["A", "500", "01/02/2020"]
    assert sheet.rows == ["row 3"]


def test_a_redcap_export_is_paired_with_its_dictionary_choices_and_checkboxes():
    demo = demo_tables(patients=2)
    files, _ = redcap_export(demo)

    book = read_source_files(list(files.items()))

    project = book.redcap["STUDY_DATA.csv"]
    assert project.dictionary == "STUDY_DataDictionary.csv"
    assert project.fields["subtype"].choices == {"1": "RRMS", "2": "SPMS", "3": "NMOSD"}
    assert project.fields["ae_serious"].choices == {"1": "Yes", "0": "No"}
    assert project.data.labels["prior_dmt___2"] == (
        "Earlier disease-modifying treatments: Glatiramer acetate"
    )
    assert project.events == ["baseline_arm_1", "visit_arm_1", "treatment_arm_1", "end_arm_1"]
    assert "relapse" in project.instruments and "edss_visit" in project.instruments
    assert "record RTX-001, event treatment_arm_1, relapse #2" in project.data.rows
    assert "record RTX-001, event visit_arm_1, #1" in project.data.rows  # a repeating event


def test_redcap_form_rows_ignore_unticked_checkboxes_exported_on_every_event():
    header = "record_id,redcap_event_name,dmt___1,dmt___2,visit_date,form_a_complete\r\n"
    rows = "1,baseline_arm_1,1,0,,2\r\n1,visit_arm_1,0,0,2020-01-01,2\r\n"
    dictionary = (
        '"Variable / Field Name","Form Name","Section Header","Field Type","Field Label",'
        '"Choices, Calculations, OR Slider Labels"\r\n'
        "record_id,form_a,,text,ID,\r\n"
        'dmt,form_a,,checkbox,DMT,"1, IFN | 2, GA"\r\n'
        "visit_date,form_b,,text,Visit,\r\n"
    )

    book = read_source_files(
        [("export.csv", (header + rows).encode()), ("dict.csv", dictionary.encode())]
    )

    project = book.redcap["export.csv"]
    assert project.form_rows("form_a") == [0]
    assert project.form_rows("form_b") == [1]


@pytest.mark.parametrize("suffix", [".sav", ".dta"])
def test_spss_and_stata_files_keep_value_labels_variable_labels_and_dates(suffix):
    files, _ = stats_files(demo_tables(patients=3), suffix)

    book = read_source_files(list(files.items()))

    sheet = next(s for s in book.sheets if s.file == f"patients{suffix}")
    assert sheet.value_labels["sex"] == {"1": "Female", "2": "Male"}
    assert sheet.labels["rtx1"] == "Date of first rituximab infusion"
    assert sheet.frame["id"].tolist() == [1001.0, 1002.0, 1003.0]
    assert isinstance(sheet.frame["rtx1"].iloc[0], (dt.date, pd.Timestamp))


@pytest.mark.parametrize(
    "name, raw, message",
    [
        ("cohort.xlsx", b"not a workbook", "cohort.xlsx: not a readable Excel file"),
        ("study.sav", b"not spss", "study.sav: not a readable .sav file"),
    ],
)
def test_a_damaged_file_is_named(name, raw, message):
    with pytest.raises(ImportFailed, match=message):
        read_source_files([(name, raw)])


def test_two_files_of_the_same_name_are_refused_and_other_kinds_are_noted():
    with pytest.raises(ImportFailed, match="two files have this name"):
        read_source_files([("a/x.csv", b"ID\r\n1\r\n"), ("b/x.csv", b"ID\r\n2\r\n")])

    book = read_source_files([("notes.docx", b"..."), ("x.csv", b"ID\r\n1\r\n")])

    assert book.notes == [
        ("notes.docx: not CSV, Excel (.xlsx), SPSS (.sav), Stata (.dta) or zip; ignored")
    ]


def test_moving_a_csv_header_reads_the_file_again_with_the_same_row_numbers():
    # the rows as read are not kept beside the frame: with_header reads the file's bytes again
    raw = b"Study export,,\nID,Dose,Date\nA,500,01/02/2020\n,,\nB,250,03/04/2020\n"
    book = read_source_files([("doses.csv", raw)])
    [sheet] = book.sheets
    assert (sheet.header_row, sheet.rows) == (2, ["row 3", "row 5"])  # row 4 is blank

    moved = sheet.with_header(3)

    assert list(moved.frame.columns) == ["A", "500", "01/02/2020"]
    assert moved.frame.values.tolist() == [["B", "250", "03/04/2020"]]
    assert (moved.header_row, moved.rows) == (3, ["row 5"])
    assert sheet.frame.values.tolist() == [["A", "500", "01/02/2020"], ["B", "250", "03/04/2020"]]
