"""The contract's Import conventions as a mapping applies them, each on a tiny hand-made source.

Expected values are worked out by hand in each test (or by plain date arithmetic on the same dates).
"""

import datetime as dt

import pytest

from examples.make_examples import xlsx
from queries.contract import DAYS_PER_MONTH, DAYS_PER_YEAR
from queries.mapping import apply, load_mapping
from queries.readers import read_source_files

D = dt.date
T = dt.datetime
HEAD = ["ID", "Dx", "Sex", "Age", "EDSS", "First", "Last"]
INFUSIONS = """
[infusions]
source = { file = "cohort.xlsx", sheet = "Doses" }
patient_id = "ID"
dose_date = "Date"
dose_mg = "mg"
course = "Course"
"""


def patients_mapping(**columns: str) -> str:
    base = {
        "patient_id": '"ID"',
        "subtype": '"Dx"',
        "sex": '"Sex"',
        "age_at_first_dose": '"Age"',
        "baseline_edss": '"EDSS"',
        "first_dose_date": '"First"',
        "last_followup_date": '"Last"',
    }
    base.update(columns)
    body = "\n".join(f"{k} = {v}" for k, v in base.items())
    return f'[patients]\nsource = {{ file = "cohort.xlsx", sheet = "Patients" }}\n{body}\n'


def run(mapping: str, patients: list[list], doses: list[list] | None = None, **sheets):
    doses = doses or [["ID", "Date", "mg", "Course"]] + [
        [row[0], row[5], 500, 1] for row in patients[1:]
    ]
    book = read_source_files(
        [("cohort.xlsx", xlsx({"Patients": patients, "Doses": doses, **sheets}))]
    )
    applied = apply(load_mapping(mapping + INFUSIONS), book)
    return applied, applied.tables()


def test_integral_patient_numbers_lose_the_decimal_part_and_text_is_trimmed():
    patients = [
        HEAD,
        [1001.0, "RRMS", "F", 40, 3, T(2020, 1, 1), T(2021, 1, 1)],
        ["  RTX-7 ", "RRMS", "F", 40, 3, T(2020, 1, 1), T(2021, 1, 1)],
        ["1003.0", "RRMS", "F", 40, 3, T(2020, 1, 1), T(2021, 1, 1)],
    ]

    _, tables = run(patients_mapping(), patients)

    assert tables["patients"]["patient_id"].tolist() == ["1001", "RTX-7", "1003"]
    assert tables["infusions"]["patient_id"].tolist() == ["1001", "RTX-7", "1003"]


def test_enumerations_compare_case_insensitively_and_are_stored_in_the_contract_spelling():
    patients = [
        HEAD,
        ["A", "rrms", "f", 40, 3, T(2020, 1, 1), T(2021, 1, 1)],
        ["B", "Nmosd", "m", 40, 3, T(2020, 1, 1), T(2021, 1, 1)],
    ]

    applied, tables = run(patients_mapping(), patients)

    assert applied.ok
    assert tables["patients"]["subtype"].tolist() == ["RRMS", "NMOSD"]
    assert tables["patients"]["sex"].tolist() == ["F", "M"]


def test_age_from_a_date_of_birth_is_days_over_365_25_unrounded():
    patients = [
        [*HEAD, "Born"],
        ["A", "RRMS", "F", None, 3, T(2020, 3, 1), T(2021, 1, 1), "15/06/1985"],
    ]

    _, tables = run(patients_mapping(age_at_first_dose='{ birth_date = "Born" }'), patients)

    # 1985-06-15 to 2020-03-01 is 12678 days; 12678 / 365.25 = 34.710472279260780...
    expected = (D(2020, 3, 1) - D(1985, 6, 15)).days / DAYS_PER_YEAR
    assert (D(2020, 3, 1) - D(1985, 6, 15)).days == 12678
    assert tables["patients"]["age_at_first_dose"].tolist() == [expected]


def test_first_dose_from_the_earliest_infusion_and_ticked_boxes_counted():
    patients = [
        [*HEAD, "DMT 1", "DMT 2", "DMT 3", "Other 1", "Other 2"],
        ["A", "RRMS", "F", 40, 3, None, T(2021, 1, 1), "x", None, "x", "IFN", "-"],
    ]
    doses = [
        ["ID", "Date", "mg", "Course"],
        ["A", "01/03/2020", 500, 1],
        ["A", T(2020, 2, 14), 500, 1],
    ]
    mapping = patients_mapping(
        first_dose_date="{ earliest_infusion = true }",
        prior_treatments='{ count_ticked = ["DMT 1", "DMT 2", "DMT 3"] }',
        disease_duration_years='{ count_filled = ["Other 1", "Other 2"], missing = ["-"] }',
    )

    applied, tables = run(mapping, patients, doses)

    row = tables["patients"].iloc[0]
    assert row["first_dose_date"] == D(2020, 2, 14)  # the earlier of the two infusions
    assert row["prior_treatments"] == 2  # two boxes marked x
    assert row["disease_duration_years"] == 1  # one filled cell ("-" is missing)
    assert "patients.first_dose_date: earliest infusion" in applied.provenance["derived"]


def test_a_visit_without_its_own_date_takes_first_dose_plus_months_marked_approximate():
    patients = [
        [*HEAD, "EDSS 6m", "EDSS 12m"],
        ["A", "RRMS", "F", 40, 3, T(2020, 1, 1), T(2021, 6, 1), 3.5, "n/a"],
    ]
    mapping = (
        patients_mapping()
        + """
[edss]
source = { file = "cohort.xlsx", sheet = "Patients" }
missing = ["n/a"]
patient_id = "ID"

[[edss.repeat]]
assessment_date = { months_after_first_dose = 6 }
edss = "EDSS 6m"

[[edss.repeat]]
assessment_date = { months_after_first_dose = 12 }
edss = "EDSS 12m"
"""
    )

    applied, tables = run(mapping, patients)

    # 6 months = 6 × 30.4375 = 182.625 days, rounded to 183: 2020-01-01 + 183 days = 2020-07-02
    assert round(6 * DAYS_PER_MONTH) == 183
    edss = tables["edss"]
    assert edss["assessment_date"].tolist() == [D(2020, 7, 2)]  # the 12-month visit is n/a
    assert edss["edss"].tolist() == [3.5]
    approximate = applied.provenance["approximate_dates"]
    assert [a["rows"] for a in approximate] == [1]
    assert "first_dose_date + 6 months" in approximate[0]["rule"]


def test_assessments_on_or_before_the_first_dose_are_baselines_and_may_give_baseline_edss():
    patients = [HEAD, ["A", "RRMS", "F", 40, None, T(2020, 1, 10), T(2021, 1, 1)]]
    visits = [
        ["ID", "Date", "Score"],
        ["A", "01/12/2019", 2.5],
        ["A", "10/01/2020", 3.0],
        ["A", "10/07/2020", 3.5],
    ]
    mapping = (
        patients_mapping(baseline_edss="{ last_edss_before_first_dose = true }")
        + """
[edss]
source = { file = "cohort.xlsx", sheet = "Visits" }
patient_id = "ID"
assessment_date = "Date"
edss = "Score"
"""
    )

    applied, tables = run(mapping, patients, Visits=visits)

    # the visit on the first-dose day (3.0) is the latest on or before it: the baseline
    assert tables["patients"]["baseline_edss"].tolist() == [3.0]
    assert tables["edss"]["assessment_date"].tolist() == [D(2020, 7, 10)]
    assert any("2 assessment(s) on or before the first dose" in n for n in applied.notes)


def test_an_adverse_event_course_is_that_of_the_last_dose_on_or_before_onset():
    patients = [HEAD, ["A", "RRMS", "F", 40, 3, T(2020, 1, 1), T(2021, 1, 1)]]
    doses = [
        ["ID", "Date", "mg", "Course"],
        ["A", "01/01/2020", 500, 1],
        ["A", "01/07/2020", 500, 2],
    ]
    events = [
        ["ID", "Onset", "Term", "Relation", "Grade", "Serious"],
        ["A", "30/06/2020", "Flushing", "during_infusion", 1, "no"],
        ["A", "01/07/2020", "Rash", "post_infusion", 2, "yes"],
    ]
    mapping = (
        patients_mapping()
        + """
[adverse_events]
source = { file = "cohort.xlsx", sheet = "AE" }
patient_id = "ID"
onset_date = "Onset"
term = "Term"
relation = "Relation"
grade = "Grade"
serious = "Serious"
"""
    )

    _, tables = run(mapping, patients, doses, AE=events)

    # 30/06 follows the course-1 dose only; 01/07 is the day of the course-2 dose (same day counts)
    assert tables["adverse_events"]["course"].tolist() == [1, 2]
    assert tables["adverse_events"]["serious"].tolist() == [False, True]


def test_a_unit_conversion_and_an_igg_in_a_unit_the_mapping_does_not_convert():
    patients = [HEAD, ["A", "RRMS", "F", 40, 3, T(2020, 1, 1), T(2021, 1, 1)]]
    labs = [
        ["ID", "Date", "Test", "Result", "Unit"],
        ["A", "01/02/2020", "igg", 850, "mg/dL"],
        ["A", "01/03/2020", "IgG", 8.1, "g/L"],
        ["A", "01/04/2020", "IgG", 9, "mmol/L"],
        ["A", "01/04/2020", "CD19", 0, "cells/uL"],
    ]
    mapping = (
        patients_mapping()
        + """
[labs]
source = { file = "cohort.xlsx", sheet = "Labs" }
patient_id = "ID"
sample_date = "Date"
test = "Test"
value = "Result"
unit = "Unit"

[[labs.convert]]
test = "IgG"
from = "mg/dL"
factor = 0.01
"""
    )

    applied, tables = run(mapping, patients, Labs=labs)

    rows = tables["labs"].to_dict("records")
    assert rows[0] | {"sample_date": None} == {
        "patient_id": "A",
        "sample_date": None,
        "test": "IgG",
        "value": 8.5,
        "unit": "g/L",
    }
    assert rows[3]["unit"] == "cells/uL"  # other tests keep the source's unit
    [problem] = applied.problems
    assert problem.examples[0]["source"] == "cohort.xlsx › Labs › row 4"
    assert problem.rule.startswith("is not g/L, the unit IgG is stored in")


def test_a_value_mapped_to_exclude_drops_the_patient_everywhere_and_is_counted():
    patients = [
        HEAD,
        ["A", "RRMS", "F", 40, 3, T(2020, 1, 1), T(2021, 1, 1)],
        ["B", "MOGAD", "F", 40, 3, T(2020, 1, 1), T(2021, 1, 1)],
    ]
    mapping = patients_mapping() + '\n[patients.values.subtype]\nMOGAD = "exclude"\n'

    applied, tables = run(mapping, patients)

    assert tables["patients"]["patient_id"].tolist() == ["A"]
    assert tables["infusions"]["patient_id"].tolist() == ["A"]
    assert applied.provenance["excluded"]["count"] == 1


@pytest.mark.parametrize(
    "text, expected",
    [
        ("05/03/2020", D(2020, 3, 5)),
        ("5.3.2020", D(2020, 3, 5)),
        ("05-03-2020", D(2020, 3, 5)),
        ("05/03/2020 14:30", D(2020, 3, 5)),
        ("2020-03-05", D(2020, 3, 5)),
    ],
)
def test_day_first_text_dates_with_any_separator_or_a_time(text, expected):
    from queries.mapping import parse_date

    assert parse_date(text, "dd/mm/yyyy", excel=True) == expected


@pytest.mark.parametrize("text", ["31/02/2020", "05/03/20", "13/13/2020", "yesterday"])
def test_a_text_that_is_no_date_in_the_format_is_refused(text):
    from queries.mapping import parse_date

    with pytest.raises(ValueError, match="is not a date"):
        parse_date(text, "dd/mm/yyyy", excel=True)


def test_text_dates_follow_the_mapping_format_and_spreadsheet_dates_stay_as_they_are():
    patients = [
        HEAD,
        ["A", "RRMS", "F", 40, 3, "03/04/2020", T(2021, 1, 1)],
        ["B", "RRMS", "F", 40, 3, 43831, "12/31/2020"],
    ]
    mapping = '[settings]\ndate_format = "mm/dd/yyyy"\n' + patients_mapping()

    _, tables = run(mapping, patients)

    # 03/04/2020 month first is 4 March; 43831 is Excel's serial number of 2020-01-01
    assert tables["patients"]["first_dose_date"].tolist() == [D(2020, 3, 4), D(2020, 1, 1)]
    assert tables["patients"]["last_followup_date"].tolist() == [D(2021, 1, 1), D(2020, 12, 31)]


@pytest.mark.parametrize(
    "events, expected",
    [(['"end_arm_1"'], D(2021, 1, 1)), (['"end_arm_1"', '"baseline_arm_1"'], D(2021, 1, 1))],
)
def test_a_patient_field_kept_in_another_redcap_event(events, expected):
    header = "record_id,redcap_event_name,diag,sex,age,edss,first,last\r\n"
    rows = "1,baseline_arm_1,RRMS,F,40,3,2020-01-01,\r\n1,end_arm_1,,,,,,2021-01-01\r\n"
    doses = "record_id,date,mg,course\r\n1,2020-01-01,500,1\r\n"
    book = read_source_files(
        [("DATA.csv", (header + rows).encode()), ("doses.csv", doses.encode())]
    )
    mapping = f"""
[patients]
source = {{ file = "DATA.csv", event = "baseline_arm_1" }}
patient_id = "record_id"
subtype = "diag"
sex = "sex"
age_at_first_dose = "age"
baseline_edss = "edss"
first_dose_date = "first"
last_followup_date = {{ column = "last", event = [{", ".join(events)}] }}

[infusions]
source = "doses.csv"
patient_id = "record_id"
dose_date = "date"
dose_mg = "mg"
course = "course"
"""

    applied = apply(load_mapping(mapping), book)

    assert applied.ok
    assert applied.tables()["patients"]["last_followup_date"].tolist() == [expected]


def test_a_classic_redcap_project_with_a_repeating_instrument_and_coded_choices():
    export = (
        "record_id,redcap_repeat_instrument,redcap_repeat_instance,dx,sex,age,edss,first,last,"
        "dose_date,dose_mg,course,patient_complete,infusion_complete\r\n"
        "7,,,2,1,40,7,2020-01-01,2021-01-01,,,,2,\r\n"
        "7,infusion,1,,,,,,,2020-01-01,500,1,,2\r\n"
        "7,infusion,2,,,,,,,2020-07-01,500.0,2,,2\r\n"
    )
    dictionary = (
        '"Variable / Field Name","Form Name","Section Header","Field Type","Field Label",'
        '"Choices, Calculations, OR Slider Labels"\r\n'
        "record_id,patient,,text,ID,\r\n"
        'dx,patient,,radio,Diagnosis,"1, RRMS | 2, SPMS | 3, NMOSD"\r\n'
        'sex,patient,,radio,Sex,"1, Female | 2, Male"\r\n'
        'age,patient,,text,Age,\r\nedss,patient,,dropdown,EDSS,"6, 2.5 | 7, 3.0 | 8, 3.5"\r\n'
        "first,patient,,text,First,\r\nlast,patient,,text,Last,\r\n"
        "dose_date,infusion,,text,Date,\r\ndose_mg,infusion,,text,mg,\r\n"
        "course,infusion,,text,Course,\r\n"
    )
    book = read_source_files([("DATA.csv", export.encode()), ("DICT.csv", dictionary.encode())])
    mapping = """
[patients]
source = "DATA.csv"
patient_id = "record_id"
subtype = "dx"
sex = "sex"
age_at_first_dose = "age"
baseline_edss = "edss"
first_dose_date = "first"
last_followup_date = "last"

[patients.values.sex]
"1.0" = "F"

[infusions]
source = { file = "DATA.csv", instrument = "infusion" }
patient_id = "record_id"
dose_date = "dose_date"
dose_mg = "dose_mg"
course = "course"
"""

    applied = apply(load_mapping(mapping), book)

    tables = applied.tables()
    assert applied.ok, applied.problems
    # dx code 2 is labelled SPMS in the dictionary; sex code 1 is mapped by "1.0" = "F";
    # EDSS code 7 is the choice labelled 3.0
    assert tables["patients"][["patient_id", "subtype", "sex"]].values.tolist() == [
        ["7", "SPMS", "F"]
    ]
    assert tables["patients"]["baseline_edss"].tolist() == [3.0]
    assert tables["infusions"]["dose_date"].tolist() == [D(2020, 1, 1), D(2020, 7, 1)]
    assert tables["infusions"]["course"].tolist() == [1, 2]


def test_an_age_given_beside_a_date_of_birth_must_agree_with_it():
    patients = [
        [*HEAD, "Born"],
        ["A", "RRMS", "F", 34, 3, T(2020, 3, 1), T(2021, 1, 1), "15/06/1985"],
        ["B", "RRMS", "F", 52, 3, T(2020, 3, 1), T(2021, 1, 1), "15/06/1985"],
    ]
    mapping = patients_mapping(age_at_first_dose='{ column = "Age", birth_date = "Born" }')

    applied, tables = run(mapping, patients)

    # born 1985-06-15, first dose 2020-03-01: 12678 / 365.25 = 34.7 years; 34 (completed years)
    # agrees, 52 does not
    assert tables["patients"]["age_at_first_dose"].tolist() == [34.0, 52.0]
    [problem] = applied.problems
    assert problem.examples[0]["source"] == "cohort.xlsx › Patients › row 3 › Age"
    assert (
        problem.rule == "does not agree with the date of birth in Born (1985-06-15: 34.7 years "
        "at the first dose)"
    )


def test_earlier_treatments_listed_in_one_cell_are_counted():
    patients = [
        [*HEAD, "Prior DMTs"],
        ["A", "RRMS", "F", 40, 3, T(2020, 1, 1), T(2021, 1, 1), "Interferon; Glatiramer, FTY"],
        ["B", "RRMS", "F", 40, 3, T(2020, 1, 1), T(2021, 1, 1), "none"],
        ["C", "RRMS", "F", 40, 3, T(2020, 1, 1), T(2021, 1, 1), None],
    ]

    applied, tables = run(
        patients_mapping(prior_treatments='{ count_listed = "Prior DMTs" }'), patients
    )

    assert tables["patients"]["prior_treatments"].tolist() == [3, 0, None]
    assert (
        "prior_treatments counted from the listed earlier treatments"
        in (applied.provenance["derived"])
    )


def test_the_suggestion_checks_an_age_against_the_birth_date_and_counts_listed_treatments():
    from queries.suggest import suggest_mapping

    patients = [
        [
            "Patient",
            "Diagnosis",
            "Sex",
            "Age",
            "Date of birth",
            "Baseline EDSS",
            "First dose",
            "Last visit",
            "Previous DMTs",
        ],
        ["A", "RRMS", "F", 34, "15/06/1985", 3, T(2020, 3, 1), T(2021, 1, 1), "IFN; GA"],
        ["B", "SPMS", "M", 50, "01/02/1970", 6, T(2020, 3, 1), T(2021, 1, 1), "none"],
        ["C", "SPMS", "M", 41, "01/02/1979", 6, T(2020, 3, 1), T(2021, 1, 1), "FTY, NTZ, RTX"],
    ]
    doses = [["Patient", "Infusion date", "Dose (mg)", "Course"], ["A", T(2020, 3, 1), 500, 1]]
    book = read_source_files([("clinic.xlsx", xlsx({"Patients": patients, "Infusions": doses}))])

    text = suggest_mapping(book)

    assert 'age_at_first_dose = { column = "Age", birth_date = "Date of birth" }' in text
    assert 'prior_treatments = { count_listed = "Previous DMTs" }' in text
    assert load_mapping(text).tables["patients"].columns["age_at_first_dose"].birth_date == (
        "Date of birth"
    )


def test_unmapped_values_are_listed_and_a_value_map_line_can_be_set_in_the_text():
    from queries.mapping import set_value_map

    patients = [
        HEAD,
        ["A", "Relapsing", "F", 40, 3, T(2020, 1, 1), T(2021, 1, 1)],
        ["B", "MOGAD", "F", 40, 3, T(2020, 1, 1), T(2021, 1, 1)],
        ["C", "Relapsing", "F", 40, 3, T(2020, 1, 1), T(2021, 1, 1)],
    ]
    text = patients_mapping() + '\n[patients.values.subtype]\n# MOGAD = "?"   # decide\n'
    applied, _ = run(text, patients)

    fixed = set_value_map(text, "patients", "subtype", "MOGAD", "exclude")
    fixed = set_value_map(fixed, "patients", "subtype", "Relapsing", "RRMS")
    again, tables = run(fixed, patients)

    assert applied.unmapped == {("patients", "subtype"): ["Relapsing", "MOGAD"]}
    assert '"MOGAD" = "exclude"' in fixed and "# MOGAD" not in fixed
    assert again.ok
    assert tables["patients"]["subtype"].tolist() == ["RRMS", "RRMS"]
    assert set_value_map("", "patients", "sex", 1, "F") == '\n\n[patients.values.sex]\n"1" = "F"\n'


def test_the_suggestion_dates_visit_columns_without_dates_from_the_first_dose():
    from queries.suggest import suggest_mapping

    patients = [
        [*HEAD, "EDSS 6m", "EDSS 12m"],
        ["A", "RRMS", "F", 40, 3, T(2020, 1, 1), T(2021, 6, 1), 3.5, 4],
        ["B", "RRMS", "F", 40, 2, T(2020, 1, 1), T(2021, 6, 1), 2, "n/a"],
    ]
    book = read_source_files(
        [
            (
                "cohort.xlsx",
                xlsx(
                    {
                        "Patients": patients,
                        "Doses": [["ID", "Date", "mg", "Course"], ["A", T(2020, 1, 1), 500, 1]],
                    }
                ),
            )
        ]
    )

    text = suggest_mapping(book)

    assert "assessment_date = { months_after_first_dose = 6 }" in text
    assert "assessment_date = { months_after_first_dose = 12 }" in text
    applied = apply(load_mapping(text), book)
    # 12 months = 365.25 days, rounded to 365: 2020-01-01 + 365 days = 2020-12-31
    assert sorted(applied.tables()["edss"]["assessment_date"]) == [
        D(2020, 7, 2),
        D(2020, 7, 2),
        D(2020, 12, 31),
    ]
