"""Write the worked examples of a mapped import from the synthetic demo cohort (deterministic).

    python examples/make_examples.py            # examples/<kind>/: source files + mapping.toml

Each builder turns contract tables into the files a study team really has (a clinic workbook, a
REDCap export with its data dictionary, SPSS and Stata files) and returns them with the mapping that
reads them back. The tests call the same builders on the whole demo cohort
(tests/test_mapping_*.py).
"""

import csv
import datetime as dt
import io
import os
import re
import sys
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
DEMO = HERE.parent / "data" / "demo"
TABLES = (
    "patients",
    "infusions",
    "relapses",
    "edss",
    "mri",
    "labs",
    "adverse_events",
    "engagement",
)
EXAMPLE_PATIENTS = 12
FIXED_TIME = (2026, 1, 1, 0, 0, 0)


def demo_tables(demo: Path = DEMO, patients: int | None = None) -> dict[str, pd.DataFrame]:
    """The demo cohort's tables, or those of its first N patients."""
    tables = {t: pd.read_parquet(demo / f"{t}.parquet") for t in TABLES}
    if patients is not None:
        keep = set(tables["patients"]["patient_id"].head(patients))
        tables = {
            t: f[f["patient_id"].isin(keep)].reset_index(drop=True) for t, f in tables.items()
        }
    return tables


def _dmy(date: dt.date) -> str:
    return date.strftime("%d/%m/%Y")


def _mixed_date(date: dt.date, i: int) -> object:
    """Every third date typed as dd/mm/yyyy text, the others real spreadsheet dates."""
    return _dmy(date) if i % 3 == 0 else dt.datetime(date.year, date.month, date.day)


def xlsx(sheets: dict[str, list[list]]) -> bytes:
    """A workbook with one sheet per entry, byte-identical on every run."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
        for cell in (c for r in ws.iter_rows() for c in r):
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "dd/mm/yyyy"
    raw = io.BytesIO()
    book.save(raw)
    return _fixed_zip(raw.getvalue())


def _fixed_zip(raw: bytes) -> bytes:
    """The same zip with fixed timestamps (openpyxl stamps the time of saving)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*",
                    rb"\g<1>2026-01-01T00:00:00Z",
                    data,
                )
            dst.writestr(zipfile.ZipInfo(info.filename, FIXED_TIME), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


# A clinic workbook: one row per patient with repeated visit columns, and a sheet per event list

SUBTYPE_SPELLINGS = {
    "RRMS": ["Relapsing-remitting", "RRMS", "rrms"],
    "SPMS": ["Secondary progressive", "SPMS", "spms"],
    "NMOSD": ["NMO", "NMOSD", "nmosd"],
}
RELATION_WORDS = {
    "during_infusion": "During infusion",
    "post_infusion": "After infusion",
    "not_infusion_related": "Not related",
}
EXCLUDED_PATIENT = "RTX-900"  # a MOGAD patient the mapping leaves out


def wide_workbook(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, bytes], str]:
    """A clinic's cohort.xlsx: a title line, units in headers, n/a and -, mixed date cells."""
    p = tables["patients"]
    edss = tables["edss"].sort_values(["patient_id", "assessment_date"])
    relapses = tables["relapses"].sort_values(["patient_id", "onset_date"])
    n_edss = max(1, int(edss.groupby("patient_id").size().max()) if len(edss) else 1)
    n_rel = max(1, int(relapses.groupby("patient_id").size().max()) if len(relapses) else 1)
    header = [
        "Patient no.",
        "Diagnosis",
        "Gender (F/M)",
        "Age (years)",
        "EDSS baseline",
        "First infusion",
        "Last visit",
        "Disease duration (years)",
        "Prior DMTs",
        "Centre",
    ]
    for k in range(1, n_edss + 1):
        header += [f"EDSS {k} date", f"EDSS {k}"]
    for k in range(1, n_rel + 1):
        header += [f"Relapse {k} date", f"Relapse {k} severity"]
    rows = [["Rituximab cohort: clinic follow-up sheet (synthetic)"], [], header]
    for i, r in enumerate(p.itertuples()):
        row = [
            r.patient_id,
            SUBTYPE_SPELLINGS[r.subtype][i % 3],
            r.sex.lower() if i % 7 == 0 else r.sex,
            r.age_at_first_dose,
            r.baseline_edss,
            _mixed_date(r.first_dose_date, i),
            _mixed_date(r.last_followup_date, i + 1),
            r.disease_duration_years,
            r.prior_treatments,
            r.site,
        ]
        visits = edss[edss["patient_id"] == r.patient_id]
        for k in range(n_edss):
            if k < len(visits):
                v = visits.iloc[k]
                row += [_mixed_date(v["assessment_date"], i + k), v["edss"]]
            else:
                row += ["-", "n/a"] if k % 2 else [None, "-"]
        attacks = relapses[relapses["patient_id"] == r.patient_id]
        for k in range(n_rel):
            if k < len(attacks):
                a = attacks.iloc[k]
                row += [_mixed_date(a["onset_date"], i + k), str(a["severity"]).capitalize()]
            else:
                row += [None, None]
        rows.append(row)
    rows.append(
        [EXCLUDED_PATIENT, "MOGAD", "F", 30.0, 2.0, "01/02/2019", "01/02/2020", 1.0, 0, "Tehran"]
    )
    inf = [["Patient no.", "Infusion date", "Dose (mg)", "Course"]]
    for i, r in enumerate(tables["infusions"].itertuples()):
        inf.append([r.patient_id, _mixed_date(r.dose_date, i), r.dose_mg, r.course])
    inf.append([EXCLUDED_PATIENT, "01/02/2019", 500.0, 1])
    mri = [["Patient no.", "Scan date", "New T2 lesions", "Gd+ lesions"]] + [
        [r.patient_id, _mixed_date(r.scan_date, i), r.new_t2_lesions, r.gd_enhancing_lesions]
        for i, r in enumerate(tables["mri"].itertuples())
    ]
    labs = [["Patient no.", "Date", "Test", "Result", "Unit"]]
    for i, r in enumerate(tables["labs"].itertuples()):
        if r.test == "IgG":  # the laboratory reports IgG in mg/dL
            labs.append(
                [
                    r.patient_id,
                    _mixed_date(r.sample_date, i),
                    "IgG",
                    round(r.value * 100, 6),
                    "mg/dL",
                ]
            )
        else:
            labs.append([r.patient_id, _mixed_date(r.sample_date, i), r.test, r.value, r.unit])
    aes = [
        [
            "Patient no.",
            "Onset",
            "Event",
            "Relation",
            "CTCAE grade",
            "Serious",
            "Infection",
            "Opportunistic",
            "Outcome",
        ]
    ] + [
        [
            r.patient_id,
            _mixed_date(r.onset_date, i),
            r.term,
            RELATION_WORDS[r.relation],
            r.grade,
            "Yes" if r.serious else "No",
            "Yes" if r.infection else "No",
            "Yes" if r.opportunistic else "No",
            r.outcome.capitalize(),
        ]
        for i, r in enumerate(tables["adverse_events"].itertuples())
    ]
    contacts = [["Patient no.", "Date", "Channel", "Type"]] + [
        [r.patient_id, _mixed_date(r.contact_date, i), r.channel, r.kind]
        for i, r in enumerate(tables["engagement"].itertuples())
    ]
    book = xlsx(
        {
            "Patients": rows,
            "Infusions": inf,
            "MRI": mri,
            "Labs": labs,
            "Adverse events": aes,
            "Contacts": contacts,
        }
    )
    mapping = WIDE_MAPPING_HEAD
    for k in range(1, n_edss + 1):
        mapping += f'\n[[edss.repeat]]\nassessment_date = "EDSS {k} date"\nedss = "EDSS {k}"\n'
    mapping += WIDE_MAPPING_RELAPSES
    for k in range(1, n_rel + 1):
        mapping += (
            f'\n[[relapses.repeat]]\nonset_date = "Relapse {k} date"\n'
            f'severity = "Relapse {k} severity"\n'
        )
    mapping += WIDE_MAPPING_TAIL
    return {"cohort.xlsx": book}, mapping


WIDE_MAPPING_HEAD = """\
# cohort.xlsx: the clinic's follow-up workbook -> the cohort tables.

[settings]
missing = ["n/a", "-"]            # cells that mean "no value"
date_format = "dd/mm/yyyy"        # dates typed as text; real spreadsheet dates are read as they are

[patients]
source = { file = "cohort.xlsx", sheet = "Patients" }   # the header is found under the title line
patient_id = "Patient no."
subtype = "Diagnosis"
sex = "Gender (F/M)"
age_at_first_dose = "Age (years)"
baseline_edss = "EDSS baseline"
first_dose_date = "First infusion"
last_followup_date = "Last visit"
disease_duration_years = "Disease duration (years)"
prior_treatments = "Prior DMTs"
site = "Centre"

[patients.values.subtype]
"Relapsing-remitting" = "RRMS"
"Secondary progressive" = "SPMS"
"NMO" = "NMOSD"
"MOGAD" = "exclude"               # not part of this analysis: the patient is left out and counted

[infusions]
source = { file = "cohort.xlsx", sheet = "Infusions" }
patient_id = "Patient no."
dose_date = "Infusion date"
dose_mg = "Dose (mg)"
course = "Course"

# The EDSS visits are repeated columns on the patients sheet: each group gives one row.
[edss]
source = { file = "cohort.xlsx", sheet = "Patients" }
patient_id = "Patient no."
"""

WIDE_MAPPING_RELAPSES = """
[relapses]
source = { file = "cohort.xlsx", sheet = "Patients" }
patient_id = "Patient no."
"""

WIDE_MAPPING_TAIL = """
[mri]
source = { file = "cohort.xlsx", sheet = "MRI" }
patient_id = "Patient no."
scan_date = "Scan date"
new_t2_lesions = "New T2 lesions"
gd_enhancing_lesions = "Gd+ lesions"

[labs]
source = { file = "cohort.xlsx", sheet = "Labs" }
patient_id = "Patient no."
sample_date = "Date"
test = "Test"
value = "Result"
unit = "Unit"

[[labs.convert]]                  # the cohort stores IgG in g/L
test = "IgG"
from = "mg/dL"
factor = 0.01

[adverse_events]                  # no course column: the course of the last dose before onset
source = { file = "cohort.xlsx", sheet = "Adverse events" }
patient_id = "Patient no."
onset_date = "Onset"
term = "Event"
relation = "Relation"
grade = "CTCAE grade"
serious = "Serious"
infection = "Infection"
opportunistic = "Opportunistic"
outcome = "Outcome"

[adverse_events.values.relation]
"During infusion" = "during_infusion"
"After infusion" = "post_infusion"
"Not related" = "not_infusion_related"

[engagement]
source = { file = "cohort.xlsx", sheet = "Contacts" }
patient_id = "Patient no."
contact_date = "Date"
channel = "Channel"
kind = "Type"
"""


# A REDCap project: longitudinal, repeating instruments, a repeating event, a checkbox field

DICTIONARY_HEADER = [
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
]
PRIOR_DMTS = (
    "Interferon beta",
    "Glatiramer acetate",
    "Teriflunomide",
    "Dimethyl fumarate",
    "Fingolimod",
    "Natalizumab",
    "Azathioprine",
    "Mycophenolate",
    "Other",
)
SITES = ("Tehran", "Isfahan")
# form -> (event, repeating instrument?, fields: name, type, label, choices, validation)
FORMS = {
    "demographics": (
        "baseline_arm_1",
        False,
        [
            ("record_id", "text", "Record ID", "", ""),
            ("subtype", "radio", "Diagnosis", "1, RRMS | 2, SPMS | 3, NMOSD", ""),
            ("sex", "radio", "Sex", "1, Female | 2, Male", ""),
            ("age", "text", "Age at first infusion (years)", "", "number"),
            ("edss_bl", "text", "EDSS at first infusion", "", "number"),
            ("first_dose", "text", "First rituximab infusion", "", "date_dmy"),
            ("disease_duration", "text", "Disease duration (years)", "", "number"),
            (
                "prior_dmt",
                "checkbox",
                "Earlier disease-modifying treatments",
                " | ".join(f"{i}, {n}" for i, n in enumerate(PRIOR_DMTS, start=1)),
                "",
            ),
            ("site", "dropdown", "Centre", "1, Tehran | 2, Isfahan", ""),
        ],
    ),
    "end_of_study": (
        "end_arm_1",
        False,
        [("last_visit", "text", "Last follow-up visit", "", "date_dmy")],
    ),
    "infusion": (
        "treatment_arm_1",
        True,
        [
            ("dose_date", "text", "Infusion date", "", "date_dmy"),
            ("dose_mg", "text", "Dose (mg)", "", "number"),
            ("course", "text", "Course", "", "integer"),
        ],
    ),
    "relapse": (
        "treatment_arm_1",
        True,
        [
            ("relapse_onset", "text", "Relapse onset", "", "date_dmy"),
            ("relapse_severity", "radio", "Severity", "1, mild | 2, moderate | 3, severe", ""),
        ],
    ),
    "adverse_event": (
        "treatment_arm_1",
        True,
        [
            ("ae_onset", "text", "Onset", "", "date_dmy"),
            ("ae_term", "text", "Event (MedDRA preferred term)", "", ""),
            (
                "ae_relation",
                "radio",
                "Relation to infusion",
                "1, During infusion | 2, After infusion | 3, Not infusion related",
                "",
            ),
            ("ae_grade", "radio", "CTCAE grade", "1, 1 | 2, 2 | 3, 3 | 4, 4 | 5, 5", ""),
            ("ae_serious", "yesno", "Serious", "", ""),
            ("ae_infection", "yesno", "Infection", "", ""),
            ("ae_opportunistic", "yesno", "Opportunistic infection", "", ""),
            (
                "ae_outcome",
                "dropdown",
                "Outcome",
                "1, resolved | 2, resolving | 3, ongoing | 4, fatal | 9, unknown",
                "",
            ),
        ],
    ),
    "edss_visit": (
        "visit_arm_1",
        False,
        [  # a repeating event: one instance per visit
            ("edss_date", "text", "Assessment date", "", "date_dmy"),
            (
                "edss_score",
                "dropdown",
                "EDSS",
                " | ".join(f"{x:g}, {x:g}" for x in [i / 2 for i in range(21)]),
                "",
            ),
        ],
    ),
    "mri": (
        "treatment_arm_1",
        True,
        [
            ("mri_date", "text", "Scan date", "", "date_dmy"),
            ("mri_new_t2", "text", "New or enlarging T2 lesions", "", "integer"),
            ("mri_gd", "text", "Gd-enhancing lesions", "", "integer"),
        ],
    ),
    "lab": (
        "treatment_arm_1",
        True,
        [
            ("lab_date", "text", "Sample date", "", "date_dmy"),
            ("lab_test", "text", "Test", "", ""),
            ("lab_value", "text", "Result", "", "number"),
            ("lab_unit", "text", "Unit", "", ""),
        ],
    ),
    "contact": (
        "treatment_arm_1",
        True,
        [
            ("contact_date", "text", "Contact date", "", "date_dmy"),
            ("contact_channel", "dropdown", "Channel", "1, skype | 2, whatsapp", ""),
            (
                "contact_kind",
                "dropdown",
                "Kind",
                "1, education_session | 2, question | 3, peer_support",
                "",
            ),
        ],
    ),
}
RELATION_CODES = {"during_infusion": 1, "post_infusion": 2, "not_infusion_related": 3}
OUTCOME_CODES = {"resolved": 1, "resolving": 2, "ongoing": 3, "fatal": 4, "unknown": 9}


def _csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def redcap_export(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, bytes], str]:
    """STUDY_DATA.csv (raw records) and STUDY_DataDictionary.csv of a longitudinal project."""
    p = tables["patients"]
    dictionary = [DICTIONARY_HEADER]
    columns = [
        "record_id",
        "redcap_event_name",
        "redcap_repeat_instrument",
        "redcap_repeat_instance",
    ]
    for form, (_, _, form_fields) in FORMS.items():
        for name, kind, label, choices, validation in form_fields:
            dictionary.append([name, form, "", kind, label, choices, "", validation] + [""] * 10)
            if name == "record_id":
                continue
            if kind == "checkbox":
                columns += [f"{name}___{i}" for i in range(1, len(PRIOR_DMTS) + 1)]
            else:
                columns.append(name)
        columns.append(f"{form}_complete")
    rows = []

    def add(
        pid: str, event: str, instrument: str, instance: object, form: str, values: dict
    ) -> None:
        row = dict.fromkeys(columns, "")
        row.update(
            record_id=pid,
            redcap_event_name=event,
            redcap_repeat_instrument=instrument,
            redcap_repeat_instance=instance,
            **{f"{form}_complete": 2},
            **values,
        )
        rows.append([row[c] for c in columns])

    def iso(d: dt.date) -> str:
        return d.isoformat()

    by = {t: dict(list(f.groupby("patient_id"))) for t, f in tables.items() if t != "patients"}
    for r in p.itertuples():
        ticks = {f"prior_dmt___{i}": int(i <= r.prior_treatments) for i in range(1, 10)}
        add(
            r.patient_id,
            "baseline_arm_1",
            "",
            "",
            "demographics",
            {
                "subtype": {"RRMS": 1, "SPMS": 2, "NMOSD": 3}[r.subtype],
                "sex": 1 if r.sex == "F" else 2,
                "age": r.age_at_first_dose,
                "edss_bl": r.baseline_edss,
                "first_dose": iso(r.first_dose_date),
                "disease_duration": r.disease_duration_years,
                "site": SITES.index(r.site) + 1,
                **ticks,
            },
        )
        for k, v in enumerate(_rows_of(by, "edss", r.patient_id, "assessment_date"), start=1):
            add(
                r.patient_id,
                "visit_arm_1",
                "",
                k,
                "edss_visit",
                {"edss_date": iso(v.assessment_date), "edss_score": f"{v.edss:g}"},
            )
        for k, v in enumerate(_rows_of(by, "infusions", r.patient_id, "dose_date"), start=1):
            add(
                r.patient_id,
                "treatment_arm_1",
                "infusion",
                k,
                "infusion",
                {"dose_date": iso(v.dose_date), "dose_mg": f"{v.dose_mg:g}", "course": v.course},
            )
        for k, v in enumerate(_rows_of(by, "relapses", r.patient_id, "onset_date"), start=1):
            add(
                r.patient_id,
                "treatment_arm_1",
                "relapse",
                k,
                "relapse",
                {
                    "relapse_onset": iso(v.onset_date),
                    "relapse_severity": {"mild": 1, "moderate": 2, "severe": 3}[v.severity],
                },
            )
        for k, v in enumerate(_rows_of(by, "adverse_events", r.patient_id, "onset_date"), start=1):
            add(
                r.patient_id,
                "treatment_arm_1",
                "adverse_event",
                k,
                "adverse_event",
                {
                    "ae_onset": iso(v.onset_date),
                    "ae_term": v.term,
                    "ae_relation": RELATION_CODES[v.relation],
                    "ae_grade": v.grade,
                    "ae_serious": int(v.serious),
                    "ae_infection": int(v.infection),
                    "ae_opportunistic": int(v.opportunistic),
                    "ae_outcome": OUTCOME_CODES[v.outcome],
                },
            )
        for k, v in enumerate(_rows_of(by, "mri", r.patient_id, "scan_date"), start=1):
            add(
                r.patient_id,
                "treatment_arm_1",
                "mri",
                k,
                "mri",
                {
                    "mri_date": iso(v.scan_date),
                    "mri_new_t2": v.new_t2_lesions,
                    "mri_gd": v.gd_enhancing_lesions,
                },
            )
        for k, v in enumerate(_rows_of(by, "labs", r.patient_id, "sample_date"), start=1):
            add(
                r.patient_id,
                "treatment_arm_1",
                "lab",
                k,
                "lab",
                {
                    "lab_date": iso(v.sample_date),
                    "lab_test": v.test,
                    "lab_value": f"{v.value:g}",
                    "lab_unit": v.unit,
                },
            )
        for k, v in enumerate(_rows_of(by, "engagement", r.patient_id, "contact_date"), start=1):
            add(
                r.patient_id,
                "treatment_arm_1",
                "contact",
                k,
                "contact",
                {
                    "contact_date": iso(v.contact_date),
                    "contact_channel": {"skype": 1, "whatsapp": 2}[v.channel],
                    "contact_kind": {"education_session": 1, "question": 2, "peer_support": 3}[
                        v.kind
                    ],
                },
            )
        add(
            r.patient_id,
            "end_arm_1",
            "",
            "",
            "end_of_study",
            {"last_visit": iso(r.last_followup_date)},
        )
    files = {"STUDY_DATA.csv": _csv([columns] + rows), "STUDY_DataDictionary.csv": _csv(dictionary)}
    return files, REDCAP_MAPPING


def _rows_of(by: dict, table: str, pid: str, date: str) -> list:
    frame = by.get(table, {}).get(pid)
    return [] if frame is None else list(frame.sort_values(date, kind="stable").itertuples())


REDCAP_MAPPING = """\
# STUDY_DATA.csv (REDCap "export records", raw) + STUDY_DataDictionary.csv -> the cohort tables.
# Choice codes are read with their labels from the data dictionary.

[patients]
source = { file = "STUDY_DATA.csv", event = "baseline_arm_1" }
patient_id = "record_id"
subtype = "subtype"                                     # 1, RRMS | 2, SPMS | 3, NMOSD
sex = "sex"                                             # 1, Female | 2, Male
age_at_first_dose = "age"
baseline_edss = "edss_bl"
first_dose_date = "first_dose"
last_followup_date = { column = "last_visit", event = "end_arm_1" }   # kept in another event
disease_duration_years = "disease_duration"
prior_treatments = { count_ticked = "prior_dmt" }      # ticked prior_dmt___1 ... prior_dmt___9
site = "site"

[patients.values.sex]
Female = "F"
Male = "M"

[infusions]
source = { file = "STUDY_DATA.csv", instrument = "infusion" }
patient_id = "record_id"
dose_date = "dose_date"
dose_mg = "dose_mg"
course = "course"

[relapses]
source = { file = "STUDY_DATA.csv", instrument = "relapse" }
patient_id = "record_id"
onset_date = "relapse_onset"
severity = "relapse_severity"

[edss]                                                  # a repeating event: one instance per visit
source = { file = "STUDY_DATA.csv", instrument = "edss_visit", event = "visit_arm_1" }
patient_id = "record_id"
assessment_date = "edss_date"
edss = "edss_score"

[mri]
source = { file = "STUDY_DATA.csv", instrument = "mri" }
patient_id = "record_id"
scan_date = "mri_date"
new_t2_lesions = "mri_new_t2"
gd_enhancing_lesions = "mri_gd"

[labs]
source = { file = "STUDY_DATA.csv", instrument = "lab" }
patient_id = "record_id"
sample_date = "lab_date"
test = "lab_test"
value = "lab_value"
unit = "lab_unit"

[adverse_events]
source = { file = "STUDY_DATA.csv", instrument = "adverse_event" }
patient_id = "record_id"
onset_date = "ae_onset"
term = "ae_term"
relation = "ae_relation"
grade = "ae_grade"
serious = "ae_serious"
infection = "ae_infection"
opportunistic = "ae_opportunistic"
outcome = "ae_outcome"

[adverse_events.values.relation]
"During infusion" = "during_infusion"
"After infusion" = "post_infusion"
"Not infusion related" = "not_infusion_related"

[engagement]
source = { file = "STUDY_DATA.csv", instrument = "contact" }
patient_id = "record_id"
contact_date = "contact_date"
channel = "contact_channel"
kind = "contact_kind"
"""


# SPSS and Stata: numeric patient numbers, value labels, variable labels


def numeric_ids(tables: dict[str, pd.DataFrame]) -> dict[str, float]:
    """RTX-001 → 1001.0: the patient numbers a statistics file holds."""
    return {pid: 1000.0 + i for i, pid in enumerate(tables["patients"]["patient_id"], start=1)}


def _stats_file(frame: pd.DataFrame, suffix: str, labels: dict, value_labels: dict) -> bytes:
    import pyreadstat

    handle, path = tempfile.mkstemp(suffix=suffix)
    os.close(handle)
    try:
        if suffix == ".sav":
            pyreadstat.write_sav(
                frame, path, column_labels=labels, variable_value_labels=value_labels
            )
        else:
            pyreadstat.write_dta(
                frame, path, column_labels=labels, variable_value_labels=value_labels
            )
        return _fixed_stamp(Path(path).read_bytes())
    finally:
        os.unlink(path)


def _fixed_stamp(raw: bytes) -> bytes:
    """The file with a fixed creation time (SPSS and Stata stamp the time of writing)."""
    if raw.startswith(b"$FL2"):  # SPSS header: creation date (9 bytes) and time (8) at byte 92
        return raw[:92] + b"01 Jan 2600:00:00" + raw[109:]
    fixed = b"<timestamp>\x1101 Jan 2026 00:00</timestamp>"
    return re.sub(rb"<timestamp>\x11[^<]*</timestamp>", fixed, raw)


def stats_files(tables: dict[str, pd.DataFrame], suffix: str) -> tuple[dict[str, bytes], str]:
    """patients<suffix> (one case per patient) and infusions<suffix> (one case per dose)."""
    ids = numeric_ids(tables)
    p = tables["patients"]
    patients = pd.DataFrame(
        {
            "id": p["patient_id"].map(ids),
            "dx": p["subtype"].map({"RRMS": 1, "SPMS": 2, "NMOSD": 3}),
            "sex": p["sex"].map({"F": 1, "M": 2}).astype(float),
            "age": p["age_at_first_dose"],
            "edss0": p["baseline_edss"],
            "rtx1": p["first_dose_date"],
            "lastfu": p["last_followup_date"],
            "dur": p["disease_duration_years"],
            "ndmt": p["prior_treatments"].astype(float),
            "centre": p["site"].map({"Tehran": 1, "Isfahan": 2}).astype(float),
        }
    )
    labels = {
        "id": "Patient number",
        "dx": "Diagnosis",
        "sex": "Sex",
        "age": "Age at first infusion",
        "edss0": "EDSS at first infusion",
        "rtx1": "Date of first rituximab infusion",
        "lastfu": "Date of last follow-up",
        "dur": "Disease duration (years)",
        "ndmt": "Number of failed earlier DMTs",
        "centre": "Centre",
    }
    value_labels = {
        "dx": {1: "RRMS", 2: "SPMS", 3: "NMOSD"},
        "sex": {1: "Female", 2: "Male"},
        "centre": {1: "Tehran", 2: "Isfahan"},
    }
    i = tables["infusions"]
    doses = pd.DataFrame(
        {
            "id": i["patient_id"].map(ids),
            "dosedate": i["dose_date"],
            "dose": i["dose_mg"],
            "course": i["course"].astype(float),
        }
    )
    dose_labels = {
        "id": "Patient number",
        "dosedate": "Infusion date",
        "dose": "Dose (mg)",
        "course": "Treatment course",
    }
    files = {
        f"patients{suffix}": _stats_file(patients, suffix, labels, value_labels),
        f"infusions{suffix}": _stats_file(doses, suffix, dose_labels, {}),
    }
    return files, STATS_MAPPING.replace(".EXT", suffix)


STATS_MAPPING = """\
# patients.EXT (one case per patient) + infusions.EXT (one case per dose) -> the cohort tables.
# Value labels are read from the file: dx 1 = RRMS, sex 1 = Female, centre 1 = Tehran.
# Relapses, EDSS follow-up and adverse events are not in these files: they are written empty.

[patients]
source = "patients.EXT"
patient_id = "id"                 # 1001.0 becomes "1001"
subtype = "dx"
sex = "sex"
age_at_first_dose = "age"
baseline_edss = "edss0"
first_dose_date = "rtx1"
last_followup_date = "lastfu"
disease_duration_years = "dur"
prior_treatments = "ndmt"
site = "centre"

[patients.values.sex]
1 = "F"                           # the code or its label ("Female") may be mapped
2 = "M"

[infusions]
source = "infusions.EXT"
patient_id = "id"
dose_date = "dosedate"
dose_mg = "dose"
course = "course"
"""

BUILDERS = {
    "wide_workbook": lambda t: wide_workbook(t),
    "redcap": lambda t: redcap_export(t),
    "spss": lambda t: stats_files(t, ".sav"),
    "stata": lambda t: stats_files(t, ".dta"),
}
WHAT = {
    "wide_workbook": "cohort.xlsx, a clinic workbook (title line, units in headers, n/a and -, "
    "three "
    "spellings of each diagnosis, Excel dates mixed with dd/mm/yyyy text, EDSS visits "
    "and relapses as repeated columns, IgG in mg/dL) -> all eight tables; one MOGAD "
    "patient excluded by a value map",
    "redcap": "a longitudinal REDCap export (STUDY_DATA.csv) and its data dictionary: repeating "
    "instruments, a repeating event for EDSS visits, a checkbox of earlier treatments "
    "counted, last follow-up kept in another event -> all eight tables",
    "spss": "patients.sav and infusions.sav with value labels and numeric patient numbers -> "
    "patients "
    "and infusions (relapses, edss and adverse events written empty with a warning)",
    "stata": "patients.dta and infusions.dta, the same in Stata format -> patients and infusions",
}


def main(out: Path = HERE) -> None:
    """Write every example's files and mapping.toml under examples/<kind>/."""
    tables = demo_tables(DEMO, EXAMPLE_PATIENTS)
    for kind, build in BUILDERS.items():
        files, mapping = build(tables)
        folder = out / kind
        folder.mkdir(parents=True, exist_ok=True)
        for name, raw in files.items():
            (folder / name).write_bytes(raw)
        (folder / "mapping.toml").write_text(mapping)
        print(f"{folder}: {', '.join(files)} + mapping.toml")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
