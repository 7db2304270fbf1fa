"""Check a dataset folder against every rule of the data contract and report all problems."""

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from queries.contract import (
    AE_OUTCOMES,
    EARLIEST_DATE,
    EARLIEST_FIRST_DOSE,
    RELATIONS,
    SEVERITIES,
    SEXES,
    SUBTYPES,
    TABLES,
)
from queries.dataset import (
    MEMORY_LIMIT,
    DatasetError,
    attach,
    inspect_table,
    parse_location,
    view_sql,
)

EXAMPLES = 5


@dataclass(frozen=True)
class Rule:
    table: str
    column: str
    rule: str
    where: str  # SQL predicate over `t` (the table) and `p` (its patient) that marks a violation
    severity: str = "error"
    window: bool = False  # uses p: skipped when patients cannot be read


@dataclass
class Problem:
    severity: str
    table: str
    column: str
    rule: str
    count: int = 1
    # row, patient_id, date, value; "source" (row and column as the user knows them) and "file" when
    # the import knows them
    examples: list[dict] = field(default_factory=list)
    file: str = ""  # the file the rows are numbered in, when not the table's parquet file


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _not_in(column: str, values: tuple[str, ...], nullable: bool = False) -> str:
    absent = "false" if nullable else f"t.{column} is null"
    return f"{absent} or t.{column} not in {_in(values)}"


def _edss_scale(column: str) -> str:
    return f"t.{column} is null or t.{column} < 0 or t.{column} > 10 or t.{column} * 2 <> round(t.{column} * 2)"


def _window_rules(table: str, date: str, first_day_counts: bool) -> list[Rule]:
    after = f"t.{date} < p.first_dose_date" if first_day_counts else f"t.{date} <= p.first_dose_date"
    text = "on or after" if first_day_counts else "after"
    return [
        Rule(table, "patient_id", "patient_id must exist in patients", "p.patient_id is null", window=True),
        Rule(table, date, "date is required", f"t.{date} is null"),
        Rule(
            table, date, f"outside the window ({text} first_dose_date, up to last_followup_date): ignored",
            f"p.patient_id is not null and ({after} or t.{date} > p.last_followup_date)",
            severity="warning", window=True,
        ),
    ]


RULES: list[Rule] = [
    Rule("patients", "patient_id", "required, non-empty", "t.patient_id is null or trim(t.patient_id) = ''"),
    Rule("patients", "patient_id", "must be unique",
         "t.patient_id in (select patient_id from patients group by 1 having count(*) > 1)"),
    Rule("patients", "subtype", f"must be one of {', '.join(SUBTYPES)}", _not_in("subtype", SUBTYPES)),
    Rule("patients", "sex", "must be F or M", _not_in("sex", SEXES)),
    Rule("patients", "age_at_first_dose", "required, 0 < age < 120",
         "t.age_at_first_dose is null or t.age_at_first_dose <= 0 or t.age_at_first_dose >= 120"),
    Rule("patients", "baseline_edss", "required, 0–10 in steps of 0.5", _edss_scale("baseline_edss")),
    Rule("patients", "first_dose_date", "date is required", "t.first_dose_date is null"),
    Rule("patients", "last_followup_date", "required, on or after first_dose_date",
         "t.last_followup_date is null or t.last_followup_date < t.first_dose_date"),
    Rule("patients", "disease_duration_years", "must be ≥ 0", "t.disease_duration_years < 0"),
    Rule("patients", "prior_treatments", "must be ≥ 0", "t.prior_treatments < 0"),
    *_window_rules("infusions", "dose_date", True),
    Rule("infusions", "dose_mg", "required, > 0", "t.dose_mg is null or t.dose_mg <= 0"),
    Rule("infusions", "course", "required, ≥ 1", "t.course is null or t.course < 1"),
    *_window_rules("relapses", "onset_date", True),
    Rule("relapses", "severity", f"must be one of {', '.join(SEVERITIES)}",
         _not_in("severity", SEVERITIES, nullable=True)),
    *_window_rules("edss", "assessment_date", False),
    Rule("edss", "edss", "required, 0–10 in steps of 0.5", _edss_scale("edss")),
    Rule("edss", "assessment_date", "at most one assessment per patient and date",
         "(t.patient_id, t.assessment_date) in (select (patient_id, assessment_date) from edss "
         "group by all having count(*) > 1)"),
    *_window_rules("mri", "scan_date", False),
    Rule("mri", "new_t2_lesions", "required, ≥ 0", "t.new_t2_lesions is null or t.new_t2_lesions < 0"),
    Rule("mri", "gd_enhancing_lesions", "required, ≥ 0",
         "t.gd_enhancing_lesions is null or t.gd_enhancing_lesions < 0"),
    *_window_rules("labs", "sample_date", False),
    Rule("labs", "test", "required, non-empty", "t.test is null or trim(t.test) = ''"),
    Rule("labs", "value", "required", "t.value is null"),
    Rule("labs", "unit", "required", "t.unit is null"),
    *_window_rules("adverse_events", "onset_date", True),
    Rule("adverse_events", "term", "required, non-empty", "t.term is null or trim(t.term) = ''"),
    Rule("adverse_events", "relation", f"must be one of {', '.join(RELATIONS)}", _not_in("relation", RELATIONS)),
    Rule("adverse_events", "grade", "required, CTCAE grade 1–5", "t.grade is null or t.grade not between 1 and 5"),
    Rule("adverse_events", "serious", "required", "t.serious is null"),
    Rule("adverse_events", "outcome", f"must be one of {', '.join(AE_OUTCOMES)}",
         _not_in("outcome", AE_OUTCOMES, nullable=True)),
    Rule("adverse_events", "course", "must be ≥ 1", "t.course < 1"),
    *_window_rules("engagement", "contact_date", True),
    Rule("engagement", "channel", "required, non-empty", "t.channel is null or trim(t.channel) = ''"),
    Rule("engagement", "kind", "required, non-empty", "t.kind is null or trim(t.kind) = ''"),
    Rule("patients", "patient_id", "patient has no infusions (dose count 0)",
         "t.patient_id not in (select patient_id from infusions where patient_id is not null)",
         severity="warning", window=True),
]


def plausibility_rules(today: dt.date) -> list[Rule]:
    """The contract's v2 rules: every date from 1900-01-01 to today, a first dose after 1990-01-01,
    every number finite (NaN and ±infinity are errors, not values)."""
    rules = []
    for table in TABLES.values():
        for column in table.columns:
            c = f"t.{column.name}"
            if column.type == "date":
                rules.append(Rule(
                    table.name, column.name,
                    f"date must lie between {EARLIEST_DATE} and today ({today})",
                    f"{c} < date '{EARLIEST_DATE}' or {c} > date '{today}'",
                ))
            elif column.type == "double":
                rules.append(Rule(table.name, column.name,
                                  "must be a finite number (NaN and infinity are not values)",
                                  f"not isfinite({c})"))
    rules.append(Rule("patients", "first_dose_date",
                      f"must be after {EARLIEST_FIRST_DOSE} (rituximab exists since 1997)",
                      f"t.first_dose_date <= date '{EARLIEST_FIRST_DOSE}'"))
    return rules


def validate(location: str | Path) -> list[Problem]:
    """Every problem of the dataset folder: structural ones first, then each rule's violations."""
    loc = parse_location(location)
    if loc.kind == "folder" and not Path(loc.text).is_dir():
        return [Problem("error", "", "", f"{loc.text}: no such dataset folder")]
    # bounded like the app's connection (a large import spills to the system's temporary folder)
    spill = str(Path(tempfile.gettempdir()) / "rce-duckdb")
    con = duckdb.connect(":memory:", config={"memory_limit": MEMORY_LIMIT, "temp_directory": spill})
    # parquet min/max statistics leave NaN out, so a pushed-down filter (isfinite, a range) skips the
    # row group that holds the NaN: validation reads every row instead
    con.execute("set disabled_optimizers = 'filter_pushdown'")
    try:
        attach(con, loc)
    except DatasetError as exc:
        return [Problem("error", "", "", str(exc))]
    problems: list[Problem] = []
    readable: set[str] = set()
    for name in TABLES:
        found, structural = inspect_table(con, loc, name)
        problems += [Problem("error", name, _column_of(msg), msg) for msg in structural]
        if found is not None and not structural:
            readable.add(name)
        # an unreadable table still gets an empty view, so the other tables' rules can run
        ok = name in readable
        con.execute(view_sql(name, loc if ok else None, found if ok else {}, row_numbers=True))
    for rule in [*plausibility_rules(dt.date.today()), *RULES]:
        if rule.table not in readable or (rule.window and "patients" not in readable):
            continue
        problem = _check(con, rule)
        if problem:
            problems.append(problem)
    con.close()
    return problems


def _column_of(message: str) -> str:
    return message.split("column '", 1)[1].split("'", 1)[0] if "column '" in message else ""


def _check(con: duckdb.DuckDBPyConnection, rule: Rule) -> Problem | None:
    table = TABLES[rule.table]
    date = table.date_column or "first_dose_date"
    join = "" if rule.table == "patients" else "left join patients p on p.patient_id = t.patient_id"
    query = f"""
        select t._row as row, t.patient_id, cast(t.{date} as varchar) as date,
               cast(t.{rule.column} as varchar) as value,
               count(*) over () as n
        from {rule.table} t {join}
        where {rule.where}
        order by t._row
        limit {EXAMPLES}
    """
    found = con.execute(query).df()
    if found.empty:
        return None
    examples = [
        {
            "row": int(r.row),
            "patient_id": None if pd.isna(r.patient_id) else r.patient_id,
            "date": None if pd.isna(r.date) else r.date,
            "value": None if pd.isna(r.value) else r.value,
        }
        for r in found.itertuples()
    ]
    return Problem(rule.severity, rule.table, rule.column, rule.rule, int(found["n"].iloc[0]), examples)


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """One row per example (or per problem without examples): severity, table, file, row, source
    (row and column as the user knows them, when the import knows them), column, rule, value."""
    rows = []
    for p in problems:
        for ex in p.examples or [{}]:
            rows.append({
                "severity": p.severity, "table": p.table, "file": ex.get("file") or p.file,
                "row": ex.get("row"), "source": ex.get("source"), "patient_id": ex.get("patient_id"),
                "date": ex.get("date"), "column": p.column, "rule": p.rule, "value": ex.get("value"),
                "rows affected": p.count,
            })
    columns = ["severity", "table", "file", "row", "source", "patient_id", "date", "column", "rule",
               "value", "rows affected"]
    return pd.DataFrame(rows, columns=columns)


def report(problems: list[Problem]) -> str:
    """The problems as text, grouped by table and rule, errors before warnings."""
    if not problems:
        return "valid: no problems found"
    lines = []
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    lines.append(f"{errors} error(s), {warnings} warning(s)")
    for table in dict.fromkeys(p.table for p in problems):
        lines.append(f"\n{table or 'dataset'}:")
        group = sorted((p for p in problems if p.table == table), key=lambda p: p.severity != "error")
        for p in group:
            where = f"{p.column}: " if p.column else ""
            count = f" ({p.count} row{'s' if p.count != 1 else ''})" if p.examples else ""
            lines.append(f"  {p.severity:<7} {where}{p.rule}{count}")
            for ex in p.examples:
                who = ", ".join(str(v) for v in (ex.get("patient_id"), ex.get("date")) if v is not None)
                who = f" ({who})" if who else ""
                if ex.get("source"):
                    lines.append(f"          {ex['source']}: {ex['value']!r}{who}")
                    continue
                file = ex.get("file") or p.file
                of = f" of {file}" if file else ""
                lines.append(f"          row {ex['row']}{of}{who}: {p.column} = {ex['value']!r}")
    return "\n".join(lines)
