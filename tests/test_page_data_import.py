"""The Data page's mapped import: suggestion, editing, preview, import with provenance, and the
mapping offered again for the next export. The flow (ui/import_flow.py) is driven directly with
(name, bytes) pairs; the page is driven with AppTest from a flow put in the session (AppTest cannot
upload files). Sources are built from the demo cohort by examples/make_examples.py.
"""

import hashlib
import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from examples.make_examples import (
    BUILDERS,
    EXCLUDED_PATIENT,
    demo_tables,
    redcap_export,
    wide_workbook,
)
from queries import importer
from queries.contract import TABLES
from queries.dictionary import template_xlsx
from tests.apptest import open_page
from ui import import_flow as flows

PATIENTS = 12  # the first 12 demo patients keep the tests quick


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return demo_tables(patients=PATIENTS)


@pytest.fixture(scope="module")
def workbook(tables) -> bytes:
    files, _ = wide_workbook(tables)
    return files["cohort.xlsx"]


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("RCE_DATA", raising=False)
    monkeypatch.setenv("RCE_DATASETS", str(tmp_path / "datasets"))
    return tmp_path / "datasets"


def staging(root: Path) -> list[Path]:
    return list(root.glob(".staging-*"))


def exclude_mogad(flow: flows.Flow) -> None:
    """What the user does in the value map editor: the MOGAD diagnosis becomes exclude."""
    data = flows.parse(flow.text)
    rows = flows.value_rows(data, "patients", "subtype", flow.book)
    rows.loc[rows["source value"] == "MOGAD", "contract value"] = "exclude"
    flows.set_values(data, "patients", "subtype", rows)
    flows.use_text(flow, flows.apply_edits(flow.text, flows.parse(flow.text), data), "edited")


def test_a_wide_workbook_gets_a_suggestion_whose_only_error_points_at_the_source_cell(
    workbook, root
):
    flow = flows.start([("cohort.xlsx", workbook)], root, 200)
    flows.run_preview(flow, root)

    assert not flow.direct and flow.origin == "suggested"
    preview = flow.cache["preview"]
    errors = preview.problems[preview.problems["severity"] == "error"]
    # the workbook: a title line (row 1), an empty row 2, the header on row 3, the 12 patients on
    # rows 4-15 and the MOGAD patient the builder appends last, on row 16
    assert errors[["where", "value"]].values.tolist() == [
        [f"cohort.xlsx › Patients › row {3 + PATIENTS + 1} › Diagnosis", "MOGAD"]
    ]
    assert not preview.ok
    assert len(staging(root)) == 1  # the preview is staged, nothing is activated
    assert importer.active(root) is None


def test_the_value_map_editor_lists_values_still_to_map_first_and_keeps_the_others(
    workbook, root
):
    flow = flows.start([("cohort.xlsx", workbook)], root, 200)
    data = flows.parse(flow.text)

    rows = flows.value_rows(data, "patients", "subtype", flow.book)

    assert rows.iloc[0].tolist() == ["MOGAD", "", 1, None]
    # every diagnosis cell of the sheet is counted once: 12 patients + the MOGAD one
    assert rows["rows"].sum() == PATIENTS + 1
    by_value = dict(zip(rows["source value"], rows["contract value"]))
    assert by_value.get("Relapsing-remitting", "RRMS") == "RRMS"
    assert all(v in ("RRMS", "SPMS", "NMOSD") for k, v in by_value.items() if k != "MOGAD")
    assert flows.target_options("patients", "subtype") == ["RRMS", "SPMS", "NMOSD", "exclude"]


def test_excluding_the_unknown_diagnosis_imports_the_cohort_with_its_provenance(
    workbook, tables, root
):
    flow = flows.start([("cohort.xlsx", workbook)], root, 200)
    exclude_mogad(flow)
    flows.run_preview(flow, root)
    assert flow.cache["preview"].ok, flow.cache["preview"].problems

    version = flows.import_version(flow, root, "nurse@clinic.org")

    assert importer.active(root)["version"] == version
    imported = pd.read_parquet(root / "versions" / version / "patients.parquet")
    expected = tables["patients"]
    assert sorted(imported["patient_id"]) == sorted(expected["patient_id"])  # MOGAD left out
    assert EXCLUDED_PATIENT not in set(imported["patient_id"])
    merged = imported.merge(expected, on="patient_id", suffixes=("", "_demo"))
    assert (merged["subtype"] == merged["subtype_demo"]).all()  # three spellings mapped back
    meta = importer.versions(root)[0]
    assert meta["imported_by"] == "nurse@clinic.org"
    prov = meta["provenance"]
    assert prov["files"] == {"cohort.xlsx": hashlib.sha256(workbook).hexdigest()}
    assert prov["mapping"] == flow.text
    assert flows.parse(prov["mapping"])["patients"]["values"]["subtype"]["MOGAD"] == "exclude"
    assert prov["excluded"]["count"] == 1
    assert {"file": "cohort.xlsx", "sheet": "Patients"}.items() <= prov["sheets"][0].items()
    assert staging(root) == []


def test_the_next_export_of_the_same_study_is_offered_the_previous_versions_mapping(
    workbook, root
):
    first = flows.start([("cohort.xlsx", workbook)], root, 200)
    exclude_mogad(first)
    flows.run_preview(first, root)
    version = flows.import_version(first, root, "a")

    again = flows.start([("cohort.xlsx", workbook)], root, 200)
    renamed = flows.start([("cohort 2026-12.xlsx", workbook)], root, 200)
    flows.run_preview(renamed, root)

    assert again.origin == f"version {version}" and again.previous["same_files"]
    assert again.text == first.text
    assert renamed.origin == f"version {version}"
    assert renamed.previous["renamed"] == {"cohort.xlsx": "cohort 2026-12.xlsx"}
    assert '"cohort 2026-12.xlsx"' in renamed.text
    assert renamed.cache["preview"].ok  # one upload, one click: no edit needed


def test_files_of_another_shape_get_a_suggestion_not_an_earlier_mapping(workbook, tables, root):
    first = flows.start([("cohort.xlsx", workbook)], root, 200)
    exclude_mogad(first)
    flows.run_preview(first, root)
    flows.import_version(first, root, "a")
    files, _ = redcap_export(tables)

    other = flows.start(list(files.items()), root, 200)

    assert other.origin == "suggested" and other.previous is None


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_every_example_mapping_survives_the_forms_round_trip_to_toml(kind, tables):
    _, text = BUILDERS[kind](tables)
    data = flows.parse(text)

    assert flows.parse(flows.to_toml(data)) == data


def test_contract_shaped_files_keep_the_direct_import(workbook):
    template = flows.read_files([("template.xlsx", template_xlsx())], 200)
    csvs = flows.read_files(
        [(f"{t}.csv", pd.read_parquet(f"data/demo/{t}.parquet").to_csv(index=False).encode())
         for t in ("patients", "infusions", "relapses", "edss", "adverse_events")], 200)
    wide = flows.read_files([("cohort.xlsx", workbook)], 200)

    assert flows.contract_shaped(template) and flows.contract_shaped(csvs)
    assert not flows.contract_shaped(wide)


def test_contract_shaped_uploads_are_told_from_their_first_rows_and_only_those_are_kept(
    workbook, root
):
    # the whole demo as one CSV per table: infusions has 872 rows (data/demo/infusions.parquet)
    files = [(f"{t}.csv", pd.read_parquet(f"data/demo/{t}.parquet").to_csv(index=False).encode())
             for t in ("patients", "infusions", "relapses", "edss", "adverse_events")]
    assert len(pd.read_parquet("data/demo/infusions.parquet")) > 800

    flow = flows.start(files, root, 200)

    # the direct import reads the files itself, in chunks: the flow keeps their headers, at most
    # the 30 rows a header is looked for in, and the hashes saved with the version
    assert flow.direct
    assert max(len(s.frame) for s in flow.book.sheets) <= 30
    assert flow.book.files == {n: hashlib.sha256(raw).hexdigest() for n, raw in files}
    assert flows.sheet_columns(flow.book) == flows.sheet_columns(
        flows.read_files(files, 200))
    # a study's own workbook is read whole: its mapping is applied to every row
    mapped = flows.start([("cohort.xlsx", workbook)], root, 200)
    assert not mapped.direct
    assert len(next(s for s in mapped.book.sheets if s.name == "Infusions").frame) > 30


def test_a_study_export_over_the_mapped_limit_is_one_message_and_stages_nothing(
    workbook, root, monkeypatch
):
    with zipfile.ZipFile(io.BytesIO(workbook)) as z:  # an .xlsx counts as expanded
        expanded = sum(i.file_size for i in z.infolist())
    monkeypatch.setenv("RCE_MAX_MAPPED_MB", "0.25")
    assert expanded > 0.25 * 2**20

    with pytest.raises(importer.ImportFailed) as refused:
        flows.start([("cohort.xlsx", workbook)], root, 200)
    assert str(refused.value) == (
        f"cohort.xlsx: {expanded / 2**20:.1f} MB (an .xlsx counted as expanded, an SPSS or Stata "
        "file twice) is over the 0.25 MB limit for a study's own files read through a mapping "
        "(REDCap, wide sheets, SPSS, Stata); split the export (by records or by form) or ask the "
        "administrator to raise the limit (RCE_MAX_MAPPED_MB)")
    assert staging(root) == []


def test_a_bad_mapping_gives_line_numbered_problems_and_stages_nothing(workbook, root):
    flow = flows.start([("cohort.xlsx", workbook)], root, 200)
    flows.use_text(flow, flow.text.replace('sex = "Gender (F/M)"', 'sex = "Gender"'), "edited")
    line = flow.text.splitlines().index('sex = "Gender"') + 1

    flows.run_preview(flow, root)

    assert flow.staged is None and staging(root) == []
    assert any(f"mapping.toml line {line}" in p and 'did you mean "Gender (F/M)"' in p
               for p in flow.error), flow.error


def test_a_new_preview_discards_only_this_sessions_staged_import(workbook, tables, root):
    other_user = importer.stage([], root)  # another session's import in progress
    flow = flows.start([("cohort.xlsx", workbook)], root, 200)
    flows.run_preview(flow, root)
    first = flow.staged.path

    flows.run_preview(flow, root)

    assert not first.exists() and flow.staged.path.exists()
    assert other_user.path.exists()
    importer.discard(other_user)


def test_a_constant_from_the_form_fills_the_column(workbook, root):
    flow = flows.start([("cohort.xlsx", workbook)], root, 200)
    data = flows.parse(flow.text)
    flows.set_column(data, "patients", "site", "constant", flows.constant("Shiraz", "patients", "site"))
    flows.set_column(data, "patients", "prior_treatments", "none", None)
    flows.use_text(flow, flows.to_toml(data), "edited")
    exclude_mogad(flow)

    flows.run_preview(flow, root)

    head = flow.cache["preview"].heads["patients"]
    assert set(head["site"]) == {"Shiraz"}
    assert "prior_treatments" not in head  # an optional column left unmapped is not written
    assert flows.constant("2", "patients", "prior_treatments") == 2
    assert flows.constant("4,5", "patients", "baseline_edss") == 4.5


# The page (AppTest): a flow in the session stands for the uploaded files


def page_with(flow: flows.Flow):
    return open_page("data", state={"import_flow": flow}, timeout=120)


def test_the_page_offers_the_dictionary_and_the_template(root):
    at = open_page("data", timeout=120)

    assert any(e.label == "Data dictionary" for e in at.expander)
    assert any(m.value.startswith("# Data dictionary") for m in at.markdown)
    assert at.get("download_button")  # the template (AppTest cannot read a download's content)


def test_the_page_shows_the_problem_at_its_source_and_no_import_button(workbook, root):
    flow = flows.start([("cohort.xlsx", workbook)], root, 200)
    flows.run_preview(flow, root)

    at = page_with(flow)

    problems = next(d.value for d in at.dataframe if "where" in d.value.columns)
    assert problems["where"].tolist() == [f"cohort.xlsx › Patients › row {3 + PATIENTS + 1} › Diagnosis"]
    assert not [b for b in at.button if b.key == "import_activate"]
    assert any("Fix the errors above" in w.value for w in at.warning)


def test_editing_the_mapping_text_previewing_and_importing_activates_a_version(workbook, root):
    flow = flows.start([("cohort.xlsx", workbook)], root, 200)
    flows.run_preview(flow, root)
    at = page_with(flow)
    fixed = flow.text.replace("[patients.values.subtype]",
                              '[patients.values.subtype]\n"MOGAD" = "exclude"')

    at.text_area(key="map0-text").set_value(fixed).run()
    at.button(key="map_preview").click().run()
    assert not at.exception
    at.button(key="import_activate").click().run()

    assert not at.exception
    record = importer.active(root)
    assert record is not None
    assert any(f"Version {record['version']} is now active" in s.value for s in at.success)
    assert importer.versions(root)[0]["provenance"]["mapping"] == fixed
    assert staging(root) == []


def test_choosing_a_constant_in_the_column_form_reaches_the_preview(workbook, root):
    flow = flows.start([("cohort.xlsx", workbook)], root, 200)
    exclude_mogad(flow)
    flows.run_preview(flow, root)
    at = page_with(flow)
    gen = flow.generation

    at.selectbox(key=f"map{gen}-patients-site").set_value(flows.CONSTANT).run()
    at.text_input(key=f"map{gen}-patients-site-constant").set_value("Shiraz").run()
    at.button(key="map_preview").click().run()

    assert not at.exception
    assert set(flow.cache["preview"].heads["patients"]["site"]) == {"Shiraz"}
    assert 'site = { value = "Shiraz" }' in flow.text


def test_file_names_and_mapping_problems_are_shown_as_text(workbook, root):
    flow = flows.start([("cohort.xlsx", workbook)], root, 200)
    flow.files = ["**bold** [link](http://example.org) <b>x</b>.xlsx"]
    flows.use_text(flow, flow.text.replace('sex = "Gender (F/M)"', 'sex = "*Gender*"'), "edited")
    flows.run_preview(flow, root)

    at = page_with(flow)

    files = next(m.value for m in at.markdown if m.value.startswith("**1. Files:**"))
    assert "\\*\\*bold\\*\\*" in files and "\\[link\\]" in files and "\\<b\\>" in files
    assert len(at.error) == 1 and '\\*Gender\\*' in at.error[0].value
    assert not at.exception


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_the_form_left_as_it_is_changes_nothing_in_the_suggestion(kind, tables, root):
    files, _ = BUILDERS[kind](tables)
    flow = flows.start(list(files.items()), root, 200)
    data = flows.parse(flow.text)
    edited = flows.parse(flow.text)

    # what the page does with every widget at its initial value
    for table in (t for t in TABLES if isinstance(edited.get(t), dict)):
        for column in TABLES[table].columns:
            kind_, value = flows.choice(edited[table].get(column.name))
            if kind_ != "advanced":
                flows.set_column(edited, table, column.name, kind_, value)
        if flows.repeat_rows(edited, table) is not None:
            flows.set_repeat(edited, table, flows.repeat_rows(edited, table))
    for table, column in flows.enumerated(edited):
        flows.set_values(edited, table, column, flows.value_rows(edited, table, column, flow.book))

    assert edited == data


def test_the_template_is_activated_through_the_direct_import_with_its_file_hash(root):
    raw = template_xlsx()
    flow = flows.start([("template.xlsx", raw)], root, 200)
    assert flow.direct
    flow.staged = importer.stage(
        importer.read_uploads([("template.xlsx", raw)], [], 200), root, [])
    flow.cache["preview"] = flows.preview_of(flow.staged)
    at = page_with(flow)

    assert any(m.value.startswith("**2. Preview:**") for m in at.markdown)
    at.button(key="import_activate").click().run()

    assert not at.exception
    meta = importer.versions(root)[0]
    assert importer.active(root)["version"] == meta["id"]
    # the template's two example rows per table (queries/dictionary.py)
    assert meta["rows"]["patients"] == 2
    assert meta["provenance"]["files"] == {"template.xlsx": hashlib.sha256(raw).hexdigest()}
    assert staging(root) == []


def test_a_next_export_with_an_added_column_is_offered_the_mapping_and_told_of_the_column(
    workbook, root
):
    first = flows.start([("cohort.xlsx", workbook)], root, 200)
    exclude_mogad(first)
    flows.run_preview(first, root)
    version = flows.import_version(first, root, "a")
    book = openpyxl.load_workbook(io.BytesIO(workbook))
    sheet = book["Patients"]
    sheet.cell(row=3, column=sheet.max_column + 1, value="Comment")  # the header is on row 3
    raw = io.BytesIO()
    book.save(raw)

    nxt = flows.start([("cohort 2026-12.xlsx", raw.getvalue())], root, 200)
    flows.run_preview(nxt, root)

    assert nxt.origin == f"version {version}"
    assert nxt.previous["new_columns"] == {"cohort 2026-12.xlsx › Patients": ["Comment"]}
    assert nxt.cache["preview"].ok


def test_groups_of_repeated_columns_are_edited_as_rows(workbook, root):
    flow = flows.start([("cohort.xlsx", workbook)], root, 200)
    data = flows.parse(flow.text)
    rows = flows.repeat_rows(data, "edss")
    assert rows.iloc[0].tolist() == ["EDSS 1 date", "EDSS 1"]

    rows.loc[0, "assessment_date"] = "{ months_after_first_dose = 6 }"  # a visit without its date
    flows.set_repeat(data, "edss", rows.iloc[:2])

    assert data["edss"]["repeat"] == [
        {"assessment_date": {"months_after_first_dose": 6}, "edss": "EDSS 1"},
        {"assessment_date": "EDSS 2 date", "edss": "EDSS 2"},
    ]
    flows.use_text(flow, flows.to_toml(data), "edited")
    exclude_mogad(flow)
    flows.run_preview(flow, root)
    assert flow.cache["preview"].ok, flow.error or flow.cache["preview"].problems
    assert flow.applied.provenance["approximate_dates"][0]["table"] == "edss"


def test_a_value_map_edit_keeps_the_suggestions_comments(workbook, root):
    flow = flows.start([("cohort.xlsx", workbook)], root, 200)
    suggested = flow.text

    exclude_mogad(flow)

    # the suggestion's hint line for MOGAD becomes the chosen value; every other line is kept
    hint = next(line for line in suggested.splitlines() if line.startswith("# MOGAD ="))
    assert flow.text.splitlines() == [
        '"MOGAD" = "exclude"' if line == hint else line for line in suggested.splitlines()
    ]


def test_a_mapping_file_uploaded_with_the_files_is_used(workbook, tables, root):
    _, mapping = wide_workbook(tables)  # the worked example's mapping, MOGAD excluded

    flow = flows.start([("cohort.xlsx", workbook), ("cohort.toml", mapping.encode())], root, 200)
    flows.run_preview(flow, root)

    assert flow.origin == "file cohort.toml" and flow.mapping_name == "cohort.toml"
    assert flow.text == mapping
    assert flow.cache["preview"].ok
    with pytest.raises(importer.ImportFailed, match="one mapping file at a time"):
        flows.start([("cohort.xlsx", workbook), ("a.toml", b""), ("b.toml", b"")], root, 200)
