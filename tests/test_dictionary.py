"""Data dictionary and import template: generated from the contract, complete, and importable."""

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from analysis.summary import summary_json
from queries import importer
from queries.contract import (
    AE_OUTCOMES,
    DEFINITIONS,
    GLOSSARY,
    IMPORT_CONVENTIONS,
    RELATIONS,
    SEVERITIES,
    SEXES,
    SUBTYPES,
    TABLES,
)
from queries.dictionary import dictionary_markdown, template_xlsx, write_template

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "data-dictionary.md"
BOOLEAN = ("true", "false")
# the enumerated columns and their values, written out here from the data contract's tables
DROP_DOWNS = {
    ("patients", "subtype"): SUBTYPES,
    ("patients", "sex"): SEXES,
    ("relapses", "severity"): SEVERITIES,
    ("adverse_events", "relation"): RELATIONS,
    ("adverse_events", "grade"): ("1", "2", "3", "4", "5"),
    ("adverse_events", "serious"): BOOLEAN,
    ("adverse_events", "infection"): BOOLEAN,
    ("adverse_events", "opportunistic"): BOOLEAN,
    ("adverse_events", "outcome"): AE_OUTCOMES,
}


@pytest.fixture(scope="module")
def markdown() -> str:
    return dictionary_markdown()


@pytest.fixture(scope="module")
def workbook():
    return load_workbook(io.BytesIO(template_xlsx()))


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("template")
    path = write_template(folder / "template.xlsx")
    return importer.import_files([path], folder / "sets", user="coordinator"), folder / "sets"


def _section(markdown: str, table: str) -> str:
    start = markdown.index(f"## Table `{table}`")
    end = markdown.find("\n## ", start + 1)
    return markdown[start:end]


def test_the_committed_dictionary_is_the_text_generated_from_the_contract(markdown):
    committed = DOC.read_text(encoding="utf-8")

    assert committed == markdown, (
        "docs/data-dictionary.md is out of date: run "
        "`.venv/bin/python -m queries dictionary --out docs/data-dictionary.md`"
    )
    assert "python -m queries dictionary --out docs/data-dictionary.md" in committed.splitlines()[3]


def test_every_contract_column_is_listed_in_its_table_with_type_requirement_and_rule(markdown):
    for table in TABLES.values():
        section = _section(markdown, table.name)

        for column in table.columns:
            needed = "required" if column.required else "optional"
            row = next(line for line in section.splitlines()
                       if line.startswith(f"| `{column.name}` | "))
            cells = [c.strip() for c in row.strip("|").split(" | ")]
            assert cells[1:3] == [column.type, needed]
            assert column.rule in row and column.description in row
            for value in column.allowed:
                assert value in cells[4]


def test_each_table_has_two_example_rows_sharing_the_same_patients(markdown):
    patients = {row["patient_id"] for row in TABLES["patients"].example_rows()}

    for table in TABLES.values():
        section = _section(markdown, table.name)
        example = section[section.index("Example rows:"):].splitlines()[2:]

        assert example[0] == "| " + " | ".join(c.name for c in table.columns) + " |"
        assert len([line for line in example if line.startswith("| P-")]) == 2
        assert {row["patient_id"] for row in table.example_rows()} <= patients


def test_v2_rules_windows_definitions_and_conventions_are_written_out(markdown):
    rules = markdown[markdown.index("## Rules for every table"):markdown.index("## The window")]
    window = markdown[markdown.index("## The window"):markdown.index("## How every figure")]

    assert "between 1900-01-01 and the day of the import" in rules
    assert "first_dose_date is after 1990-01-01" in rules
    assert "NaN" in rules and "infinity" in rules
    assert "an event on the first-dose day counts" in window
    assert "a value on the first-dose day is a baseline, not a follow-up" in window
    for term, text in (*DEFINITIONS, *IMPORT_CONVENTIONS, *GLOSSARY):
        assert term in markdown and text in markdown
    for needed in ("30.4375", "365.25", "log(−log)", "Clopper–Pearson", "χ²(0.025; 2k)", "D = 84",
                   "D = 168", "90 days", "1.959964"):
        assert needed in markdown


def test_the_dictionary_names_no_path_outside_the_repository():
    own = [DOC, ROOT / "queries" / "contract.py", ROOT / "queries" / "dictionary.py"]
    # an absolute path into the machine, a step out of the repository, or the contract's source file
    outside = re.compile(r"(^|[\s(`'\"])/(work|home|srv|mnt|tmp)/|\.\./|data-contract\.md")

    for path in own:
        text = path.read_text(encoding="utf-8")

        assert not outside.search(text), (path, outside.search(text))


def test_template_has_a_sheet_per_table_with_header_two_example_rows_and_a_dictionary(workbook):
    assert workbook.sheetnames == [*TABLES, "dictionary"]
    for table in TABLES.values():
        rows = list(workbook[table.name].iter_rows(values_only=True))

        assert rows[0] == tuple(c.name for c in table.columns)
        assert len(rows) == 3
        assert rows[1][0] == "P-001" and rows[2][0] == "P-002"


def test_template_dates_are_excel_dates_and_booleans_the_drop_down_words(workbook):
    ws = workbook["adverse_events"]

    assert ws["B2"].is_date and ws["B2"].value.date().isoformat() == "2019-03-04"
    assert [ws[f"{c}3"].value for c in "FGH"] == ["false", "true", "false"]
    assert ws["A2"].font.italic and "Example row" in ws["A2"].comment.text
    assert "Rule: required; one of the allowed values." in ws["D1"].comment.text


def test_drop_downs_sit_on_the_enumerated_columns_with_the_contract_values(workbook):
    found = {}
    for table in TABLES.values():
        ws = workbook[table.name]
        letters = {chr(ord("A") + i): c.name for i, c in enumerate(table.columns)}

        for dv in ws.data_validations.dataValidation:
            assert dv.type == "list"
            ranges = str(dv.sqref).split()
            assert len(ranges) == 1
            first, last = re.fullmatch(r"([A-Z])2:([A-Z])1048576", ranges[0]).groups()
            assert first == last
            found[(table.name, letters[first])] = tuple(dv.formula1.strip('"').split(","))

    assert found == DROP_DOWNS


def test_dictionary_sheet_lists_every_column_with_type_requirement_values_and_rule(workbook):
    rows = list(workbook["dictionary"].iter_rows(values_only=True))

    header = rows[0]
    assert header[:7] == ("table", "column", "type", "required", "allowed values", "unit", "rule")
    assert len(rows) - 1 == sum(len(t.columns) for t in TABLES.values())
    by_key = {(r[0], r[1]): dict(zip(header, r, strict=True)) for r in rows[1:]}
    subtype = by_key[("patients", "subtype")]
    assert subtype["allowed values"] == "RRMS, SPMS, NMOSD" and subtype["required"] == "required"
    assert by_key[("patients", "site")]["required"] == "optional"
    assert by_key[("labs", "value")]["rule"] == TABLES["labs"].column("value").rule


def test_the_template_imports_as_it_is_with_no_problem_and_the_dictionary_sheet_noted(imported):
    result, sets = imported

    assert result.version is not None
    assert result.problems == []
    assert any("[dictionary]" in note and "ignored" in note for note in result.notes)
    patients = importer.active_location(sets) / "patients.parquet"
    assert patients.exists()


def test_the_template_uploaded_on_the_data_page_stages_without_a_problem(tmp_path):
    # the Data page's path: read_uploads on the uploaded bytes, then stage (validated, not active)
    notes: list[str] = []

    sources = importer.read_uploads([("template.xlsx", template_xlsx())], notes)
    staged = importer.stage(sources, tmp_path, notes)

    try:
        assert sorted(s.table for s in sources) == sorted(TABLES)
        assert staged.ok and staged.problems == []
        assert staged.rows == {name: 2 for name in TABLES}
    finally:
        importer.discard(staged)


def test_a_template_with_its_optional_and_may_be_empty_sheets_left_empty_imports(tmp_path):
    book = load_workbook(io.BytesIO(template_xlsx()))
    emptied = [t.name for t in TABLES.values() if not t.required or t.may_be_empty]
    for name in emptied:
        book[name].delete_rows(2, 2)
    book.save(tmp_path / "filled.xlsx")

    result = importer.import_files([tmp_path / "filled.xlsx"], tmp_path / "sets", user="u")

    assert emptied == ["relapses", "edss", "mri", "labs", "adverse_events", "engagement"]
    assert result.version is not None and result.problems == []
    summary = summary_json(importer.active_location(tmp_path / "sets"))
    assert summary["patients"]["total"] == 2 and summary["relapses"]["total"] == 0


def test_the_worked_example_gives_the_dashboards_own_figures(imported, markdown):
    # the dashboard's summary() on the imported template against the numbers the dictionary prints
    _, sets = imported

    figures = summary_json(importer.active_location(sets))

    arr = figures["relapses"]["arr"]["all"]
    assert f"**patient-years** = {figures['patient_years']:.3f}" in markdown
    assert f"= {arr['rate']:.3f} per patient-year" in markdown
    assert f": {arr['ci_low']:.3f} to {arr['ci_high']:.3f}." in markdown
    assert f"Median = {figures['rfs']['all']['median_months']:.2f} months" in markdown
    at_12 = figures["rfs"]["all"]["at_months"]["12"]
    assert f"At 12 months S = {at_12['s']:.2f}" in markdown
    assert f"95 % interval {at_12['ci_low']:.3f} to {at_12['ci_high']:.3f}" in markdown
    with_event = figures["safety"]["patients_with_event"]
    assert f"= {with_event['ci_low']:.1f} % to {with_event['ci_high']:.1f} %." in markdown
    assert figures["edss_change"]["all"]["worsened"] == markdown.count(": worsened (")
    assert figures["edss_change"]["all"]["stable"] == markdown.count(": stable (")
    low = figures["igg_low"]["all"]
    assert f"{low['n']} / {low['tested']} = {low['pct']:.0f} %" in markdown
    assert f"= {figures['safety']['per_1000_doses']['rate']:g} events per 1,000 doses" in markdown


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "queries", *args], cwd=ROOT, capture_output=True,
                          text=True, check=False)


def test_cli_template_writes_a_workbook_that_opens(tmp_path):
    out = tmp_path / "template.xlsx"

    result = _cli("template", "--out", str(out))

    assert result.returncode == 0, result.stderr
    assert load_workbook(out).sheetnames == [*TABLES, "dictionary"]


def test_cli_dictionary_prints_the_generated_text_and_writes_it_with_out(tmp_path):
    printed = _cli("dictionary")
    written = _cli("dictionary", "--out", str(tmp_path / "dd.md"))

    assert printed.returncode == 0 and written.returncode == 0
    assert printed.stdout == dictionary_markdown()
    assert (tmp_path / "dd.md").read_text(encoding="utf-8") == dictionary_markdown()
