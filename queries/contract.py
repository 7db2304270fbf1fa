"""The cohort data contract (v1): tables, columns, logical types and categories."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # logical type: string, date, double, integer, boolean
    required: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    required: bool = True
    # the date column that places a row in a patient's window, and whether the first-dose day counts
    date_column: str | None = None
    first_day_counts: bool = True

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "patients",
            (
                Column("patient_id", "string"),
                Column("subtype", "string"),
                Column("sex", "string"),
                Column("age_at_first_dose", "double"),
                Column("baseline_edss", "double"),
                Column("first_dose_date", "date"),
                Column("last_followup_date", "date"),
                Column("disease_duration_years", "double", required=False),
                Column("prior_treatments", "integer", required=False),
                Column("site", "string", required=False),
            ),
        ),
        Table(
            "infusions",
            (
                Column("patient_id", "string"),
                Column("dose_date", "date"),
                Column("dose_mg", "double"),
                Column("course", "integer"),
            ),
            date_column="dose_date",
        ),
        Table(
            "relapses",
            (
                Column("patient_id", "string"),
                Column("onset_date", "date"),
                Column("severity", "string", required=False),
            ),
            date_column="onset_date",
        ),
        Table(
            "edss",
            (
                Column("patient_id", "string"),
                Column("assessment_date", "date"),
                Column("edss", "double"),
            ),
            date_column="assessment_date",
            first_day_counts=False,
        ),
        Table(
            "mri",
            (
                Column("patient_id", "string"),
                Column("scan_date", "date"),
                Column("new_t2_lesions", "integer"),
                Column("gd_enhancing_lesions", "integer"),
            ),
            required=False,
            date_column="scan_date",
            first_day_counts=False,
        ),
        Table(
            "labs",
            (
                Column("patient_id", "string"),
                Column("sample_date", "date"),
                Column("test", "string"),
                Column("value", "double"),
                Column("unit", "string"),
            ),
            required=False,
            date_column="sample_date",
            first_day_counts=False,
        ),
        Table(
            "adverse_events",
            (
                Column("patient_id", "string"),
                Column("onset_date", "date"),
                Column("term", "string"),
                Column("relation", "string"),
                Column("grade", "integer"),
                Column("serious", "boolean"),
                Column("infection", "boolean", required=False),
                Column("opportunistic", "boolean", required=False),
                Column("outcome", "string", required=False),
                Column("course", "integer", required=False),
            ),
            date_column="onset_date",
        ),
        Table(
            "engagement",
            (
                Column("patient_id", "string"),
                Column("contact_date", "date"),
                Column("channel", "string"),
                Column("kind", "string"),
            ),
            required=False,
            date_column="contact_date",
        ),
    )
}

SUBTYPES = ("RRMS", "SPMS", "NMOSD")
SEXES = ("F", "M")
SEVERITIES = ("mild", "moderate", "severe")
RELATIONS = ("during_infusion", "post_infusion", "not_infusion_related")
AE_OUTCOMES = ("resolved", "resolving", "ongoing", "fatal", "unknown")

DUCKDB_TYPES = {
    "string": "varchar",
    "date": "date",
    "double": "double",
    "integer": "bigint",
    "boolean": "boolean",
}

DAYS_PER_MONTH = 30.4375
DAYS_PER_YEAR = 365.25
