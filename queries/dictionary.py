"""The data dictionary (Markdown) and the import template (Excel), both from the contract."""

import datetime as dt
import io
import math
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from queries.contract import (
    DATASET_RULES,
    DAYS_PER_MONTH,
    DAYS_PER_YEAR,
    DEFINITIONS,
    GLOSSARY,
    IMPORT_CONVENTIONS,
    TABLES,
    TYPE_WORDS,
    WINDOW_EVENTS,
    WINDOW_MEASUREMENTS,
    WINDOW_TEXT,
    Column,
    Table,
)

DICTIONARY_FILE = "docs/data-dictionary.md"
REGENERATE = f".venv/bin/python -m queries dictionary --out {DICTIONARY_FILE}"
DICTIONARY_SHEET = "dictionary"
DICTIONARY_HEADER = (
    "table", "column", "type", "required", "allowed values", "unit", "rule", "meaning",
)
LAST_ROW = 1_048_576  # Excel's last row: a drop-down covers every row a user may fill
REQUIRED_FILL = PatternFill("solid", fgColor="DDEBF7")
EXAMPLE_FONT = Font(italic=True, color="808080")  # so that example rows are not taken for data


def _text(value: object) -> str:
    """A cell value as the template and the dictionary write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _allowed(column: Column) -> str:
    if column.choices:
        return ", ".join(column.choices)
    if column.suggested:
        return "e.g. " + ", ".join(column.suggested) + " (others are kept as given)"
    return ""


def _type_words() -> dict[str, str]:
    """The contract's type words, with the spellings of true and false that the import reads."""
    from queries.importer import FALSE, TRUE

    words = dict(TYPE_WORDS)
    words["boolean"] += (f" (also read as true: {', '.join(sorted(TRUE - {'true'}))}; as false: "
                         f"{', '.join(sorted(FALSE - {'false'}))}; upper or lower case)")
    return words


def _table_status(table: Table) -> str:
    if not table.required:
        return "optional: may be left out"
    return "required, may have no rows" if table.may_be_empty else "required"


def _window(table: Table) -> str:
    if table.date_column is None:
        return ""
    if table.first_day_counts:
        when = "on or after the patient's first_dose_date (the first-dose day counts)"
    else:
        when = ("after the patient's first_dose_date (a value on the first-dose day is a "
                "baseline, not a follow-up)")
    return (f"A row counts in the figures when its `{table.date_column}` is {when} and on or "
            "before their last_followup_date; a row outside is ignored by the figures and listed "
            "as a warning by the check.")


def dictionary_rows() -> list[dict[str, str]]:
    """One row per contract column: table, column, type, required, allowed values, unit, rule…"""
    return [
        dict(zip(DICTIONARY_HEADER, (
            table.name, column.name, column.type, "required" if column.required else "optional",
            _allowed(column), column.unit, column.rule, column.description,
        ), strict=True))
        for table in TABLES.values() for column in table.columns
    ]


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return [line(header), "|" + "---|" * len(header), *(line(r) for r in rows)]


def _md_columns(table: Table) -> list[str]:
    rows = [
        [f"`{c.name}`", c.type, "required" if c.required else "optional", c.unit,
         _allowed(c), c.description, c.rule]
        for c in table.columns
    ]
    return _md_table(["column", "type", "required", "unit", "allowed values", "meaning", "rule"],
                     rows)


def _md_examples(table: Table) -> list[str]:
    rows = [[_text(v) for v in row] for row in table.examples]
    return _md_table([c.name for c in table.columns], rows)


def _worked_example() -> list[str]:
    """Hand-checkable figures computed from the example rows, step by step."""
    from scipy.stats import chi2  # only here: the rest of the dictionary needs no scipy

    patients = TABLES["patients"].example_rows()
    infusions = TABLES["infusions"].example_rows()
    relapses = TABLES["relapses"].example_rows()
    edss = TABLES["edss"].example_rows()
    lines = [
        ("The example rows above make a complete, tiny dataset (the same rows as the template). "
        "Here is how the dashboard's figures come out of them, so that you can redo the "
        "arithmetic on your own data."),
        "",
    ]
    years = 0.0
    times: list[tuple[float, bool, str]] = []
    for p in patients:
        pid, first, last = p["patient_id"], p["first_dose_date"], p["last_followup_date"]
        days = (last - first).days
        years += days / DAYS_PER_YEAR
        doses = sum(first <= i["dose_date"] <= last for i in infusions if i["patient_id"] == pid)
        onsets = sorted(r["onset_date"] for r in relapses
                        if r["patient_id"] == pid and first <= r["onset_date"] <= last)
        end = onsets[0] if onsets else last
        times.append(((end - first).days / DAYS_PER_MONTH, bool(onsets), pid))
        lines.append(
            f"- **{pid}**: follow-up = ({last} − {first}) = {days} days; {days} / 30.4375 = "
            f"{days / DAYS_PER_MONTH:.2f} months; {days} / 365.25 = {days / DAYS_PER_YEAR:.3f} "
            f"patient-years; {doses} dose(s) inside the window; "
            + (f"first relapse on {end}: relapse-free time = {(end - first).days} days = "
               f"{(end - first).days / DAYS_PER_MONTH:.2f} months (an event)."
               if onsets else
               f"no relapse: relapse-free time = {days / DAYS_PER_MONTH:.2f} months (censored).")
        )
    k = sum(t[1] for t in times)
    low = chi2.ppf(0.025, 2 * k) / 2 if k else 0.0
    high = chi2.ppf(0.975, 2 * k + 2) / 2
    lines += [
        (f"- **patient-years** = {years:.3f}; **ARR** = {k} relapse(s) / {years:.3f} = "
        f"{k / years:.3f} per patient-year; exact Poisson 95 % interval for k = {k}: "
        f"χ²(0.025; {2 * k}) / 2 = {low:.4f} and χ²(0.975; {2 * k + 2}) / 2 = {high:.4f}, divided "
        f"by {years:.3f}: {low / years:.3f} to {high / years:.3f}."),
    ]
    at_risk, s, median = len(times), 1.0, None
    steps = []
    for months, event, pid in sorted(times):
        if event:
            s *= 1 - 1 / at_risk
            steps.append(f"at {months:.2f} months ({pid}) {at_risk} patient(s) followed, "
                         f"1 relapse: S = {s:.2f}")
            if median is None and s <= 0.5:
                median = months
        at_risk -= 1
    lines.append(
        "- **relapse-free survival** (Kaplan–Meier): " + "; ".join(steps) + _km_interval(times)
        + (f". Median = {median:.2f} months (the first time S ≤ 0.5)." if median is not None
           else ". The curve stays above 0.5: no median.")
    )
    for p in patients:
        pid, first, last = p["patient_id"], p["first_dose_date"], p["last_followup_date"]
        follow = sorted((e["assessment_date"], e["edss"]) for e in edss
                        if e["patient_id"] == pid and first < e["assessment_date"] <= last)
        if not follow:
            continue
        (date, score), base = follow[-1], p["baseline_edss"]
        change = score - base
        lines.append(
            f"- **EDSS change** of {pid}: latest follow-up EDSS {score:g} (on {date}) − baseline "
            f"{base:g} = {change:+.1f}: {_edss_class(base, change)}."
        )
    lines += _worked_labs_and_safety(patients)
    return lines


def _km_interval(times: list[tuple[float, bool, str]], at: float = 12.0) -> str:
    """The log(-log) interval of the Kaplan–Meier curve at `at` months, step by step."""
    if at > max(t for t, _, _ in times):
        return f". No value at {at:g} months: beyond the longest follow-up"
    s, v, at_risk = 1.0, 0.0, len(times)
    for months, event, _ in sorted(times):
        if months > at:
            break
        if event:
            s *= 1 - 1 / at_risk
            v += 1 / (at_risk * (at_risk - 1)) if at_risk > 1 else math.inf
        at_risk -= 1
    if s == 1.0:
        return f". At {at:g} months S = 1 and its interval is [1, 1]"
    if s == 0.0 or math.isinf(v):
        return ""
    half = 1.959964 * math.sqrt(v) / abs(math.log(s))
    low, high = sorted(math.exp(-math.exp(math.log(-math.log(s)) + sign * half))
                       for sign in (1, -1))
    return (f". At {at:g} months S = {s:.2f}, V = {v:.4f}, √V / |log S| = "
            f"{math.sqrt(v) / abs(math.log(s)):.4f}; 95 % interval {low:.3f} to {high:.3f}")


def _worked_labs_and_safety(patients: list[dict[str, object]]) -> list[str]:
    """The low-IgG and adverse-event figures of the example rows."""
    from scipy.stats import beta

    from queries.filters import DEFAULT_IGG_THRESHOLD

    window = {p["patient_id"]: (p["first_dose_date"], p["last_followup_date"]) for p in patients}
    igg = [row for row in TABLES["labs"].example_rows() if row["test"] == "IgG"
           and window[row["patient_id"]][0] < row["sample_date"] <= window[row["patient_id"]][1]]
    tested = sorted({row["patient_id"] for row in igg})
    low = sorted({row["patient_id"] for row in igg if row["value"] < DEFAULT_IGG_THRESHOLD})
    events = [row for row in TABLES["adverse_events"].example_rows()
              if window[row["patient_id"]][0] <= row["onset_date"] <= window[row["patient_id"]][1]]
    doses = [row for row in TABLES["infusions"].example_rows()
             if window[row["patient_id"]][0] <= row["dose_date"] <= window[row["patient_id"]][1]]
    with_event = sorted({row["patient_id"] for row in events})
    k, n = len(with_event), len(patients)
    ci_low = beta.ppf(0.025, k, n - k + 1) if k else 0.0
    ci_high = beta.ppf(0.975, k + 1, n - k) if k < n else 1.0
    lines = []
    if tested:
        lines.append(
            f"- **low IgG** (below {DEFAULT_IGG_THRESHOLD:g} g/L): {', '.join(low) or 'nobody'} "
            f"of the {len(tested)} patient(s) with an IgG value after the first dose "
            f"({', '.join(tested)}): {len(low)} / {len(tested)} = "
            f"{100 * len(low) / len(tested):.0f} %."
        )
    if doses:
        lines.append(
            f"- **safety**: {len(events)} adverse event(s) inside the windows over {len(doses)} "
            f"dose(s): {len(events)} / {len(doses)} × 1,000 = "
            f"{1000 * len(events) / len(doses):g} events per 1,000 doses; patients with an event: "
            f"{k} of {n} = {100 * k / n:.1f} %, exact 95 % interval BETA.INV(0.025; {k}; "
            f"{n - k + 1}) = {100 * ci_low:.1f} % to "
            + (f"BETA.INV(0.975; {k + 1}; {n - k}) = " if k < n else "")
            + f"{100 * ci_high:.1f} %."
        )
    return lines


def _edss_class(baseline: float, change: float) -> str:
    step = 1.5 if baseline == 0 else 1.0 if baseline <= 5.5 else 0.5
    better = -1.0 if baseline <= 5.5 else -0.5
    if change >= step:
        return f"worsened (baseline {baseline:g} needs a change of +{step:g} or more)"
    if change <= better:
        return f"improved (baseline {baseline:g} needs a change of {better:g} or less)"
    return (f"stable (with baseline {baseline:g}, worsened needs +{step:g} or more and improved "
            f"{better:g} or less)")


def dictionary_markdown() -> str:
    """The data dictionary as Markdown: the text of docs/data-dictionary.md."""
    out = [
        "# Data dictionary",
        "",
        "> Generated from `queries/contract.py` by `queries/dictionary.py`: do not edit by hand.",
        f"> Regenerate with `{REGENERATE}`.",
        "",
        ("This page lists every table and column the dashboard reads: what each value means, which "
        "values are accepted, and how every figure is computed from them. The import checks "
        "exactly these rules."),
        "",
        "## How to give your data",
        "",
        "- One sheet of a workbook (or one CSV file) per table, named after the table: "
        + ", ".join(f"`{t}`" for t in TABLES) + ". The first row holds the column names exactly "
        "as below; each row under it is one record. Columns not listed here are ignored (the "
        "import says which).",
        ("- The easiest start is the template: the **Data** page's download button, or "
        "`python -m queries template --out template.xlsx`. It has one sheet per table with the "
        "column names, the two example rows shown below, drop-down lists for the columns with "
        "fixed values, and a `dictionary` sheet with the table of columns (the import skips that "
        "sheet). Replace the example rows with your data."),
        "- Leave a cell empty when a value is missing; only optional columns may have empty cells.",
        ("- `patient_id` is a pseudonymous study code. Never put names, initials, dates of birth "
         "or hospital numbers in any table."),
        "",
        "What the types mean:",
        "",
        *(f"- **{name}**: {words}" for name, words in _type_words().items()),
        "",
        ("A **required** column must be present and filled on every row; an **optional** column "
        "may be missing or have empty cells (the figures that need it then say so). A required "
        "table must be given; one marked *may have no rows* may be empty (e.g. no relapses yet); "
        "an optional table may be left out."),
        "",
        "## Tables at a glance",
        "",
        *_md_table(
            ["table", "one row is", "table is", "columns"],
            [[f"`{t.name}`", t.row, _table_status(t), ", ".join(c.name for c in t.columns)]
             for t in TABLES.values()],
        ),
    ]
    for table in TABLES.values():
        row = table.row[0].upper() + table.row[1:]
        out += ["", f"## Table `{table.name}`", "",
                f"{table.description} {row}; this table is {_table_status(table)}.", ""]
        if table.date_column:
            out += [_window(table), ""]
        out += _md_columns(table)
        out += ["", "Example rows:", "", *_md_examples(table)]
    out += [
        "", "## Rules for every table", "",
        ("Each of these is an error (the import refuses the dataset until it is fixed), except "
        "where it says warning."), "",
        *(f"- {rule}" for rule in DATASET_RULES),
        "", "## The window", "",
        WINDOW_TEXT, "",
        f"- {WINDOW_EVENTS}",
        f"- {WINDOW_MEASUREMENTS}",
        ("- Rows outside the window are not errors: the figures ignore them and the check lists "
        "them as warnings."),
        "", "## How every figure is computed", "",
        *(line for term, text in DEFINITIONS for line in (f"**{term}.** {text}", "")),
        "## Worked example", "",
        *_worked_example(),
        "", "## Import conventions", "",
        ("When a study's own export (a clinic spreadsheet, a REDCap export, an SPSS or Stata file) "
        "is imported through a mapping, the values are written in the form above as follows."), "",
        *(f"- **{term}**: {text}" for term, text in IMPORT_CONVENTIONS),
        "", "## Words used here", "",
        *(f"- **{word}**: {meaning}" for word, meaning in GLOSSARY),
        "",
    ]
    return "\n".join(out)


def _sheet(wb: Workbook, table: Table) -> None:
    ws = wb.create_sheet(table.name)
    for col, column in enumerate(table.columns, start=1):
        cell = ws.cell(row=1, column=col, value=column.name)
        cell.font = Font(bold=column.required, italic=not column.required)
        if column.required:
            cell.fill = REQUIRED_FILL
        note = [column.description, f"Type: {TYPE_WORDS[column.type]}.",
                f"Rule: {column.rule}."]
        if column.unit:
            note.insert(1, f"Unit: {column.unit}.")
        cell.comment = Comment("\n".join(note), "data dictionary", width=320, height=160)
        width = max([len(column.name)] + [len(_text(r[col - 1])) for r in table.examples])
        ws.column_dimensions[get_column_letter(col)].width = width + 3
    for r, row in enumerate(table.examples, start=2):
        for col, (column, value) in enumerate(zip(table.columns, row, strict=True), start=1):
            # booleans as the drop-down's words; dates as real Excel dates
            shown = _text(value) if column.type == "boolean" else value
            cell = ws.cell(row=r, column=col, value=shown)
            cell.font = EXAMPLE_FONT
            if column.type == "date":
                cell.number_format = "yyyy-mm-dd"
        ws.cell(row=r, column=1).comment = Comment(
            "Example row (synthetic): replace it with your own data.", "data dictionary")
    for col, column in enumerate(table.columns, start=1):
        if not column.choices:
            continue
        letter = get_column_letter(col)
        dv = DataValidation(
            type="list", formula1='"' + ",".join(column.choices) + '"', allow_blank=True,
            showErrorMessage=True, errorTitle=f"{column.name}: not an allowed value",
            error=f"Choose one of: {', '.join(column.choices)}",
        )
        dv.add(f"{letter}2:{letter}{LAST_ROW}")
        ws.add_data_validation(dv)
    ws.freeze_panes = "A2"


def template_xlsx() -> bytes:
    """The import template: a sheet per table (header, example rows, drop-downs), a dictionary."""
    wb = Workbook()
    wb.remove(wb.active)
    for table in TABLES.values():
        _sheet(wb, table)
    ws = wb.create_sheet(DICTIONARY_SHEET)
    ws.append(list(DICTIONARY_HEADER))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in dictionary_rows():
        ws.append(list(row.values()))
    widths = {"table": 16, "column": 24, "type": 9, "required": 10, "allowed values": 40,
              "unit": 12, "rule": 60, "meaning": 80}
    for col, name in enumerate(DICTIONARY_HEADER, start=1):
        ws.column_dimensions[get_column_letter(col)].width = widths[name]
        for cell in ws[get_column_letter(col)][1:]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def write_template(path: str | Path) -> Path:
    """Write the import template workbook to path."""
    path = Path(path)
    path.write_bytes(template_xlsx())
    return path


def write_dictionary(path: str | Path) -> Path:
    """Write the data dictionary Markdown to path (docs/data-dictionary.md in the repository)."""
    path = Path(path)
    path.write_text(dictionary_markdown(), encoding="utf-8")
    return path
