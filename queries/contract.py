"""The cohort data contract (v1 and its v2 rules): tables, columns, types, categories, definitions.

This module is the one source of truth for the data dictionary (docs/data-dictionary.md, written by
queries/dictionary.py): the words below are what a study coordinator reads.
"""

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # logical type: string, date, double, integer, boolean
    required: bool = True
    description: str = ""  # what the value means, in plain words
    unit: str = ""
    allowed: tuple[str, ...] = ()  # a closed list of values (stored in this spelling)
    suggested: tuple[str, ...] = ()  # usual values of an open list (others are kept as given)
    rule: str = ""  # the validation rule in words

    @property
    def choices(self) -> tuple[str, ...]:
        """The values a spreadsheet drop-down offers: the closed list, or true/false."""
        return self.allowed or (BOOLEAN_VALUES if self.type == "boolean" else ())


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    required: bool = True
    # the date column that places a row in a patient's window, and whether the first-dose day counts
    date_column: str | None = None
    first_day_counts: bool = True
    row: str = ""  # what one row is
    description: str = ""
    may_be_empty: bool = False  # a required table that may hold no rows
    examples: tuple[tuple[object, ...], ...] = ()  # synthetic rows, values in column order

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def example_rows(self) -> list[dict[str, object]]:
        """The example rows as {column: value} dicts."""
        names = [c.name for c in self.columns]
        return [dict(zip(names, row, strict=True)) for row in self.examples]


SUBTYPES = ("RRMS", "SPMS", "NMOSD")
SEXES = ("F", "M")
SEVERITIES = ("mild", "moderate", "severe")
RELATIONS = ("during_infusion", "post_infusion", "not_infusion_related")
AE_OUTCOMES = ("resolved", "resolving", "ongoing", "fatal", "unknown")
BOOLEAN_VALUES = ("true", "false")

DUCKDB_TYPES = {
    "string": "varchar",
    "date": "date",
    "double": "double",
    "integer": "bigint",
    "boolean": "boolean",
}

DAYS_PER_MONTH = 30.4375
DAYS_PER_YEAR = 365.25
EARLIEST_DATE = dt.date(1900, 1, 1)  # no date before this; none after the day of validation
EARLIEST_FIRST_DOSE = dt.date(1990, 1, 1)  # rituximab exists since 1997

TYPE_WORDS = {
    "string": "text",
    "date": "a date: an Excel date cell, or text as YYYY-MM-DD (2019-03-04) or DD/MM/YYYY",
    "double": "a number; decimals allowed (34.2)",
    "integer": "a whole number (0, 1, 2, …)",
    "boolean": "true or false",
}


def _patient_id() -> Column:
    return Column("patient_id", "string",
                  description="The patient's study code, exactly as in patients.",
                  rule="required; must be a patient_id of the patients table")


def _date(name: str, meaning: str) -> Column:
    return Column(name, "date", description=meaning,
                  rule="required; a real date, not in the future")


_D = dt.date

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "patients",
            (
                Column("patient_id", "string",
                       description="The patient's pseudonymous study code (e.g. P-001). Never a "
                                   "name, initials, date of birth or hospital number.",
                       rule="required; not empty; unique: one row per patient"),
                Column("subtype", "string", allowed=SUBTYPES,
                       description="Disease subtype: RRMS = relapsing-remitting multiple "
                                   "sclerosis, SPMS = secondary progressive multiple sclerosis, "
                                   "NMOSD = neuromyelitis optica spectrum disorder.",
                       rule="required; one of the allowed values; upper or lower case is "
                            "accepted on import and stored in upper case"),
                Column("sex", "string", allowed=SEXES, description="F = female, M = male.",
                       rule="required; F or M"),
                Column("age_at_first_dose", "double", unit="years",
                       description="Age on the day of the first rituximab dose, decimals "
                                   "allowed.",
                       rule="required; more than 0 and less than 120"),
                Column("baseline_edss", "double", unit="EDSS points",
                       description="EDSS score at the start of treatment: the reference that "
                                   "every later EDSS is compared with.",
                       rule="required; from 0 to 10 in steps of 0.5 (0, 0.5, 1, 1.5, …, 10)"),
                Column("first_dose_date", "date",
                       description="Date of the first rituximab dose: day 0 of the patient's "
                                   "window.",
                       rule="required; after 1990-01-01 and not in the future"),
                Column("last_followup_date", "date",
                       description="Date of the last follow-up (visit or contact): the end of "
                                   "the patient's window.",
                       rule="required; on or after first_dose_date; not in the future"),
                Column("disease_duration_years", "double", required=False, unit="years",
                       description="Years the patient had had the disease at the first dose.",
                       rule="optional; 0 or more"),
                Column("prior_treatments", "integer", required=False, unit="treatments",
                       description="Number of earlier disease-modifying treatments that failed "
                                   "before rituximab.",
                       rule="optional; 0 or more"),
                Column("site", "string", required=False,
                       description="Name of the centre, for data from several centres.",
                       rule="optional; any text"),
            ),
            row="one row per patient",
            description="Who is in the study, their subtype, age and baseline, and the dates "
                        "that open and close their window.",
            examples=(
                ("P-001", "RRMS", "F", 34.2, 2.0, _D(2019, 3, 4), _D(2022, 3, 1), 6.5, 1,
                 "Site A"),
                ("P-002", "NMOSD", "M", 41.7, 3.5, _D(2019, 6, 17), _D(2021, 12, 13), 2.1, 0,
                 "Site A"),
            ),
        ),
        Table(
            "infusions",
            (
                _patient_id(),
                Column("dose_date", "date", description="Date the dose was given.",
                       rule="required; not in the future; from first_dose_date to "
                            "last_followup_date (a dose outside that window is ignored by the "
                            "figures and reported as a warning)"),
                Column("dose_mg", "double", unit="mg", description="Dose given, in milligrams.",
                       rule="required; more than 0"),
                Column("course", "integer",
                       description="Number of the treatment course the dose belongs to (1 = "
                                   "first course); a course may hold more than one dose, e.g. "
                                   "two infusions two weeks apart.",
                       rule="required; 1 or more"),
            ),
            date_column="dose_date",
            row="one row per rituximab dose given",
            description="Every rituximab dose given.",
            examples=(
                ("P-001", _D(2019, 3, 4), 500.0, 1),
                ("P-002", _D(2019, 6, 17), 1000.0, 1),
            ),
        ),
        Table(
            "relapses",
            (
                _patient_id(),
                _date("onset_date", "Date the attack began."),
                Column("severity", "string", required=False, allowed=SEVERITIES,
                       description="How severe the attack was.",
                       rule="optional; one of the allowed values"),
            ),
            date_column="onset_date",
            row="one row per clinical attack (relapse)",
            description="Clinical attacks (relapses) after the first dose.",
            may_be_empty=True,
            examples=(
                ("P-001", _D(2020, 2, 11), "mild"),
                ("P-002", _D(2020, 10, 5), "moderate"),
            ),
        ),
        Table(
            "edss",
            (
                _patient_id(),
                Column("assessment_date", "date", description="Date of the EDSS examination.",
                       rule="required; not in the future; at most one assessment per patient "
                            "and date"),
                Column("edss", "double", unit="EDSS points",
                       description="EDSS score found at that examination.",
                       rule="required; from 0 to 10 in steps of 0.5"),
            ),
            date_column="assessment_date",
            first_day_counts=False,
            row="one row per follow-up EDSS assessment (the baseline is "
                "patients.baseline_edss)",
            description="Follow-up disability scores. The baseline score is not repeated here: "
                        "it is baseline_edss in patients.",
            may_be_empty=True,
            examples=(
                ("P-001", _D(2019, 9, 2), 3.0),
                ("P-002", _D(2019, 12, 16), 3.0),
            ),
        ),
        Table(
            "mri",
            (
                _patient_id(),
                _date("scan_date", "Date of the MRI scan."),
                Column("new_t2_lesions", "integer", unit="lesions",
                       description="Number of new or enlarging T2 lesions compared with the "
                                   "previous scan.",
                       rule="required; 0 or more"),
                Column("gd_enhancing_lesions", "integer", unit="lesions",
                       description="Number of gadolinium-enhancing lesions (lesions that take "
                                   "up contrast: active inflammation).",
                       rule="required; 0 or more"),
            ),
            required=False,
            date_column="scan_date",
            first_day_counts=False,
            row="one row per follow-up MRI scan",
            description="Follow-up brain/spinal MRI results. Without this table the MRI and "
                        "NEDA-3 figures say that they have no data.",
            examples=(
                ("P-001", _D(2020, 3, 9), 1, 0),
                ("P-002", _D(2020, 6, 22), 0, 0),
            ),
        ),
        Table(
            "labs",
            (
                _patient_id(),
                _date("sample_date", "Date the sample was taken."),
                Column("test", "string",
                       suggested=("IgG", "platelets", "IgM", "CD19", "lymphocytes"),
                       description="Name of the test. IgG and platelets are used in figures "
                                   "(low IgG, platelet counts); other tests (IgM, CD19, "
                                   "lymphocytes, …) are shown as they come.",
                       rule="required; not empty"),
                Column("value", "double", description="The result, as a number.",
                       rule="required; a finite number"),
                Column("unit", "string", suggested=("g/L", "10^9/L", "cells/uL"),
                       description="Unit of the value. IgG is in g/L and platelets in 10^9/L "
                                   "(that is ×10⁹ per litre); other tests keep the unit they "
                                   "come with.",
                       rule="required; not empty"),
            ),
            required=False,
            date_column="sample_date",
            first_day_counts=False,
            row="one row per laboratory value",
            description="Laboratory values after the first dose (IgG, platelets, …).",
            examples=(
                ("P-001", _D(2019, 9, 2), "IgG", 6.4, "g/L"),
                ("P-002", _D(2019, 12, 16), "platelets", 231.0, "10^9/L"),
            ),
        ),
        Table(
            "adverse_events",
            (
                _patient_id(),
                _date("onset_date", "Date the event began."),
                Column("term", "string", suggested=("Flushing", "Thrombocytopenia"),
                       description="Name of the event, e.g. Flushing, Thrombocytopenia; the "
                                   "MedDRA preferred term where known (MedDRA is the standard "
                                   "medical dictionary for adverse events).",
                       rule="required; not empty"),
                Column("relation", "string", allowed=RELATIONS,
                       description="When the event happened relative to an infusion: "
                                   "during_infusion = during the infusion; post_infusion = "
                                   "after an infusion and related to it; not_infusion_related = "
                                   "not related to an infusion.",
                       rule="required; one of the allowed values"),
                Column("grade", "integer", allowed=("1", "2", "3", "4", "5"),
                       description="CTCAE grade (Common Terminology Criteria for Adverse "
                                   "Events): 1 mild, 2 moderate, 3 severe, 4 life-threatening, "
                                   "5 death.",
                       rule="required; a whole number from 1 to 5"),
                Column("serious", "boolean",
                       description="true when the event was serious (led to death, was "
                                   "life-threatening, needed or prolonged a hospital stay, or "
                                   "caused lasting disability).",
                       rule="required; true or false"),
                Column("infection", "boolean", required=False,
                       description="true when the event is an infection.",
                       rule="optional; true or false"),
                Column("opportunistic", "boolean", required=False,
                       description="true when the infection is opportunistic (caused by a germ "
                                   "that rarely harms people with a normal immune system).",
                       rule="optional; true or false"),
                Column("outcome", "string", required=False, allowed=AE_OUTCOMES,
                       description="How the event ended, as last known.",
                       rule="optional; one of the allowed values"),
                Column("course", "integer", required=False,
                       description="The treatment course after which the event happened (see "
                       "infusions.course).",
                       rule="optional; 1 or more"),
            ),
            date_column="onset_date",
            row="one row per adverse event",
            description="Adverse events (side effects and other harms) after the first dose.",
            may_be_empty=True,
            examples=(
                ("P-001", _D(2019, 3, 4), "Flushing", "during_infusion", 1, False, False, False,
                 "resolved", 1),
                ("P-002", _D(2020, 1, 20), "Urinary tract infection", "not_infusion_related", 2,
                 False, True, False, "resolved", 1),
            ),
        ),
        Table(
            "engagement",
            (
                _patient_id(),
                _date("contact_date", "Date of the contact."),
                Column("channel", "string", suggested=("skype", "whatsapp"),
                       description="How the contact happened, e.g. skype (video education "
                                   "sessions) or whatsapp (peer groups).",
                       rule="required; not empty"),
                Column("kind", "string",
                       suggested=("education_session", "question", "peer_support"),
                       description="What the contact was, e.g. education_session, question, "
                                   "peer_support.",
                       rule="required; not empty"),
            ),
            required=False,
            date_column="contact_date",
            row="one row per virtual-care contact",
            description="Virtual-care contacts: the study's Skype education sessions and "
                        "WhatsApp peer groups.",
            examples=(
                ("P-001", _D(2019, 3, 11), "skype", "education_session"),
                ("P-002", _D(2019, 7, 2), "whatsapp", "question"),
            ),
        ),
    )
}

# Rules that hold in every table (v2 of the contract); each breach is an error.
DATASET_RULES: tuple[str, ...] = (
    "Every date lies between 1900-01-01 and the day of the import or check: no future dates.",
    ("A patient's first_dose_date is after 1990-01-01 (rituximab exists since 1997, and its "
     "off-label use in MS since the 2000s)."),
    ("Every number is finite: NaN (not a number), +infinity and −infinity are errors wherever a "
     "number is required or given."),
    ("When the source has a date of birth, age_at_first_dose agrees with it (see the import "
    "conventions)."),
    "Required columns may not hold empty cells; optional columns may.",
    "Every patient_id in another table exists in patients.",
    ("A row whose date lies outside its patient's window (below) is not an error: the figures "
     "ignore it and the check lists it as a warning. A patient with no infusions is also a "
     "warning."),
)

# The window, in words; each table's own wording follows from date_column and first_day_counts.
WINDOW_TEXT = (
    "Every figure looks only inside each patient's window: from the patient's first_dose_date "
    "to their last_followup_date, both days included."
)
WINDOW_EVENTS = (
    "Infusions, relapses, adverse events and virtual-care contacts count when their date is on "
    "or after first_dose_date and on or before last_followup_date: an event on the first-dose "
    "day counts."
)
WINDOW_MEASUREMENTS = (
    "EDSS assessments, MRI scans and laboratory values (follow-up measurements) count when "
    "their date is after first_dose_date and on or before last_followup_date: a value on the "
    "first-dose day is a baseline, not a follow-up."
)

# How a mapped import turns a study's own export into the contract's form.
IMPORT_CONVENTIONS: tuple[tuple[str, str], ...] = (
    (
        "age",
        ("From a date of birth: age_at_first_dose = (first_dose_date − date of birth) in days / "
         "365.25, not rounded."),
    ),
    (
        "patient_id",
        ("A number without decimals is written without a decimal part (1001.0 becomes 1001); text "
         "is trimmed of leading and trailing spaces."),
    ),
    (
        "categories",
        ("subtype, sex, severity, relation, outcome, channel and kind are compared without regard "
         "to upper or lower case and stored in the spelling of this dictionary; any other spelling"
         " (e.g. 'Relapsing-remitting') needs a value map."),
    ),
    (
        "units",
        ("IgG is stored in g/L and platelets in 10^9/L (unit 'g/L', '10^9/L'); the mapping gives "
         "the conversion factor (IgG in mg/dL × 0.01 = g/L). Other tests keep the unit they come "
         "with."),
    ),
    (
        "baseline EDSS",
        ("The baseline is patients.baseline_edss. EDSS assessments dated on or before the first "
         "dose are not follow-up assessments (the mapping may name one of them as the baseline)."),
    ),
    (
        "prior_treatments",
        ("When the source lists earlier treatments instead of giving a count, the mapping counts "
         "them and the dataset's provenance says so."),
    ),
    (
        "adverse-event course",
        "When not given: the course of the patient's last dose on or before the event's onset.",
    ),
    (
        "a missing table",
        ("No source for infusions or patients is an error; relapses, edss and adverse_events are "
         "written empty, with a warning naming the table."),
    ),
    (
        "empty cells",
        "Optional columns may be empty; required columns may not.",
    ),
)

# Every figure the dashboard shows, in plain words: (name, definition).
DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "follow-up (months)",
        ("(last_followup_date − first_dose_date) in days / 30.4375 (the average number of days in "
         "a month)."),
    ),
    (
        "patient-years",
        "The same number of days / 365.25, summed over the selected patients.",
    ),
    (
        "dose count",
        ("Number of the patient's infusions inside the window; doses_total is the sum over the "
         "selected patients. A patient may have 0 doses (the check warns)."),
    ),
    (
        "filters",
        ("Filters choose patients: follow-up months between a minimum and a maximum, dose count "
         "between a minimum and a maximum, subtypes in a chosen set, and optionally sex, site and "
         "age at first dose. Bounds are included (a minimum of 12 months keeps a patient with "
         "exactly 12.0). Every table is then limited to the chosen patients."),
    ),
    (
        "relapse-free survival (RFS)",
        ("For each patient: the time from first_dose_date to the first relapse inside the window "
         "(an event), or to last_followup_date when there is none (censored: followed that long "
         "without a relapse), in months (days / 30.4375). A relapse on the first-dose day is an "
         "event at time 0. The curve is the Kaplan–Meier estimate: at each relapse time it "
         "multiplies the share still relapse-free by (1 − relapses at that time / patients still "
         "followed at that time). Its 95 % confidence interval uses the log(−log) (exponential "
         "Greenwood) formula, lifelines' default: with V = the sum over relapse times up to t of "
         "d / (n × (n − d)) (d relapses among n patients followed), the bounds are "
         "exp(−exp(log(−log S) ± 1.959964 × √V / |log S|)); where the curve is at 1 the interval "
         "is [1, 1]. "
         "The value at a time t (e.g. 12 months) is that of the last step at or before t; beyond "
         "the longest follow-up of the group (last event or censoring time) there is no value. The"
         " median is the first time the curve is at or below 0.5 (none if it stays above). "
         "Subtypes are compared by the log-rank test (no test with one group)."),
    ),
    (
        "relapse-free patients",
        ("Patients with no relapse inside their window, as a number and a percentage of the "
         "selected patients."),
    ),
    (
        "annualised relapse rate (ARR)",
        ("Relapses inside the windows / patient-years, with an exact Poisson 95 % confidence "
         "interval (formula below)."),
    ),
    (
        "EDSS change",
        ("For each patient: the EDSS of their latest assessment inside the window (after the "
         "first-dose day) minus baseline_edss. Patients with no such assessment are left out and "
         "counted as 'no follow-up EDSS'. Per group: n, the mean (none when n = 0), the sample "
         "standard deviation (dividing by n − 1; none when n < 2), and two p-values for 'the mean "
         "change is 0': the one-sample t-test and the Wilcoxon signed-rank test. With fewer than 2"
         " patients, or all changes equal, a p-value is not defined and is shown as n/a."),
    ),
    (
        "EDSS outcome class",
        ("Latest versus baseline EDSS. Worsened: change of +1.5 or more when the baseline is 0; "
         "+1.0 or more when the baseline is above 0 and at most 5.5; +0.5 or more when the "
         "baseline is above 5.5. Improved: change of −1.0 or less when the baseline is at most "
         "5.5; −0.5 or less when the baseline is above 5.5. Otherwise stable."),
    ),
    (
        "MRI activity",
        ("Patients with at least one new T2 lesion on a scan inside the window; patients with at "
         "least one gadolinium-enhancing lesion; and the number of patients with any scan inside "
         "the window."),
    ),
    (
        "NEDA-3 (no evidence of disease activity)",
        ("Among evaluable patients (at least one follow-up EDSS and at least one scan inside the "
         "window): those with no relapse, an EDSS outcome that is not worsened, and no MRI "
         "activity. Not shown when there is no mri table."),
    ),
    (
        "low IgG",
        ("A patient with at least one IgG value inside the window below the threshold (7.0 g/L "
         "unless changed); shown as a number and a percentage of the patients with any IgG value "
         "inside the window."),
    ),
    (
        "safety",
        ("Adverse events inside the window. Events per 1,000 doses = events / doses inside the "
         "window × 1,000, with an exact Poisson 95 % confidence interval. Patients with at least "
         "one event, as a number and a percentage with an exact (Clopper–Pearson) 95 % confidence "
         "interval: for k of n patients, from BETA.INV(0.025; k; n − k + 1) to "
         "BETA.INV(0.975; k + 1; n − k) in Excel's terms (0 when k = 0, 100 % when k = n). "
         "Counts by term, relation, grade and serious; opportunistic infections counted."),
    ),
    (
        "exact Poisson 95 % interval",
        ("For k events: from χ²(0.025; 2k) / 2 to χ²(0.975; 2k + 2) / 2, where χ²(p; d) is the "
         "p-quantile of the chi-squared distribution with d degrees of freedom (Excel: "
         "CHISQ.INV(p, d)); the lower bound is 0 when k = 0. For a rate, divide both bounds by the"
         " patient-years (or doses / 1,000)."),
    ),
    (
        "confirmed disability worsening (CDW)",
        ("Baseline b = baseline_edss. An assessment inside the window meets when EDSS − b is at "
         "least 1.5 (b = 0), 1.0 (b above 0 and at most 5.5) or 0.5 (b above 5.5). A worsening at "
         "an assessment is confirmed over D days when a later assessment at least D days after it "
         "exists and every assessment between the two (both included) meets. The event is the "
         "earliest confirmed one; its time is (its date − first_dose_date) in days / 30.4375. "
         "CDW-3m uses D = 84 days, CDW-6m D = 168 days. A patient without an event is censored at "
         "their last assessment inside the window; a patient with no assessment inside the window "
         "is not evaluable (left out, counted). Curves, intervals and tests as for relapse-free "
         "survival."),
    ),
    (
        "PIRA and RAW",
        ("For a CDW event, the confirming assessment is the first later one that confirms it. The "
         "event is relapse-associated worsening (RAW) when a relapse inside the window began "
         "between 90 days before the event's assessment and the confirming assessment (both "
         "included); otherwise it is progression independent of relapse activity (PIRA)."),
    ),
    (
        "Cox model (time to first relapse)",
        ("Times and events as for relapse-free survival. The hazard ratio (HR) says how much "
         "faster relapses come with each factor: age at first dose (per 10 years), male sex "
         "(versus female), baseline EDSS (per point), each subtype versus RRMS (only subtypes "
         "present; none with a single subtype) and disease duration in years (when given for every"
         " selected patient). Ties handled by the Efron method (as R's coxph). 95 % interval "
         "exp(coefficient ± 1.959964 × standard error) and the Wald p-value. Not shown with fewer "
         "than 2 relapses, fewer patients than 2 × (number of factors + 1), or a fit that does not"
         " converge. Events per variable = relapses / number of factors."),
    ),
    (
        "relapse-rate model",
        ("One row per selected patient: relapses inside the window, with the patient-years as "
         "exposure and the same factors as the Cox model. Negative binomial regression "
         "(statsmodels, dispersion estimated together with the coefficients); rate ratio = "
         "exp(coefficient) with a 95 % Wald interval and p-value. When it does not converge, a "
         "Poisson model is used and named. Not shown with fewer than 2 relapses or fewer patients "
         "than 2 × (number of factors + 1)."),
    ),
    (
        "how results are written",
        ("Percentages are from 0 to 100. Rates are not rounded in the export. A figure over an "
         "empty group (no patients, no patient-years, no doses) is left empty (null)."),
    ),
)

# Words a study coordinator may not know: (word, meaning).
GLOSSARY: tuple[tuple[str, str], ...] = (
    (
        "EDSS",
        ("Expanded Disability Status Scale: neurological disability from 0 (normal examination) to"
         " 10 (death due to MS) in steps of 0.5."),
    ),
    (
        "window",
        "A patient's follow-up period, from first_dose_date to last_followup_date.",
    ),
    (
        "censored",
        "Followed up to a time without the event; the patient counts as event-free up to then.",
    ),
    (
        "95 % confidence interval (CI)",
        ("The range of values compatible with the data; computed so that it holds the true value "
         "in 95 of 100 studies."),
    ),
    (
        "p-value",
        ("How surprising the data would be if there were no difference or no change; small values "
         "(e.g. below 0.05) speak against 'no change'."),
    ),
    (
        "Kaplan–Meier",
        ("The standard way to estimate the share of patients still free of an event over time when"
         " follow-up lengths differ."),
    ),
    (
        "log-rank test",
        "Compares Kaplan–Meier curves of two or more groups.",
    ),
    (
        "Clopper–Pearson interval",
        "The exact 95 % confidence interval of a percentage.",
    ),
    (
        "CTCAE",
        "Common Terminology Criteria for Adverse Events: grades 1 (mild) to 5 (death).",
    ),
    (
        "MedDRA",
        "The standard medical dictionary of adverse-event terms.",
    ),
)


def subtype_order(subtypes) -> list[str]:
    """Subtypes in the contract's order (RRMS, SPMS, NMOSD), then any others alphabetically."""
    present = set(subtypes)
    return [s for s in SUBTYPES if s in present] + sorted(present - set(SUBTYPES))
