"""Each source kind, built from the demo cohort, imports through its mapping to the demo's tables.

The expected values are the demo's parquet files themselves (data/demo): a mapped import of a
workbook, a REDCap export, an SPSS or a Stata file made from them must give them back value for
value, and the same summary.json when the source covers every table.
"""

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis.summary import summary_json
from examples.make_examples import (
    BUILDERS,
    EXCLUDED_PATIENT,
    demo_tables,
    numeric_ids,
    redcap_export,
)
from queries.importer import active, active_location, versions
from queries.mapping import apply, import_mapped, load_mapping, saved_mapping
from queries.readers import read_source_files
from queries.suggest import suggest_mapping

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo"
REQUIRED_EMPTY = ("relapses", "edss", "adverse_events")


def write_files(folder: Path, files: dict[str, bytes], mapping: str) -> tuple[list[Path], Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, raw in files.items():
        (folder / name).write_bytes(raw)
        paths.append(folder / name)
    (folder / "mapping.toml").write_text(mapping)
    return paths, folder / "mapping.toml"


def assert_same_table(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same columns in the contract's order and the same rows (order of rows aside)."""
    assert list(got.columns) == list(expected.columns)
    key = list(expected.columns)
    got = got.astype(object).sort_values(key).reset_index(drop=True)
    expected = expected.astype(object).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


@pytest.fixture(scope="module")
def demo():
    return demo_tables(DEMO)


@pytest.fixture(scope="module")
def built(demo):
    """Each kind's files and mapping, made once from the whole demo cohort."""
    return {kind: build(demo) for kind, build in BUILDERS.items()}


@pytest.fixture(scope="module")
def imported(built, tmp_path_factory):
    """Each kind imported once through its mapping into its own datasets folder."""
    done = {}
    for kind, (files, mapping_text) in built.items():
        folder = tmp_path_factory.mktemp(kind)
        paths, mapping = write_files(folder / "in", files, mapping_text)
        result = import_mapped(paths, mapping, folder / "sets", "nurse@example.org")
        done[kind] = (result, folder / "sets")
    return done


@pytest.mark.parametrize("kind", ["wide_workbook", "redcap"])
def test_a_source_covering_every_table_gives_back_the_demo_and_its_summary(kind, demo, imported):
    result, sets = imported[kind]

    assert result.version is not None, result.problems
    location = active_location(sets)
    for table, expected in demo.items():
        assert_same_table(pd.read_parquet(location / f"{table}.parquet"), expected)
    assert summary_json(location) == summary_json(DEMO)


@pytest.mark.parametrize("kind", ["spss", "stata"])
def test_statistics_files_give_back_patients_and_infusions_with_numeric_ids_as_text(
    kind, demo, imported
):
    result, sets = imported[kind]
    # the files hold RTX-001 as patient number 1001.0; the contract writes it as "1001"
    ids = {pid: str(int(n)) for pid, n in numeric_ids(demo).items()}

    assert result.version is not None, result.problems
    location = active_location(sets)
    for table in ("patients", "infusions"):
        expected = demo[table].assign(patient_id=demo[table]["patient_id"].map(ids))
        assert_same_table(pd.read_parquet(location / f"{table}.parquet"), expected)


@pytest.mark.parametrize("kind", ["spss", "stata"])
def test_required_tables_without_a_source_are_written_empty_with_a_warning(kind, imported):
    result, sets = imported[kind]

    for table in REQUIRED_EMPTY:
        assert pd.read_parquet(active_location(sets) / f"{table}.parquet").empty
        assert f"warning: the mapping has no source for {table}; written empty" in result.notes


def test_the_version_keeps_its_provenance_files_hashes_mapping_and_exclusions(imported):
    _, sets = imported["wide_workbook"]

    meta = versions(sets)[0]
    provenance = meta["provenance"]
    assert meta["imported_by"] == "nurse@example.org"
    assert list(provenance["files"]) == ["cohort.xlsx"]
    assert len(provenance["files"]["cohort.xlsx"]) == 64  # sha256 hex
    assert "[patients.values.subtype]" in provenance["mapping"]
    assert provenance["excluded"]["count"] == 1
    assert EXCLUDED_PATIENT in provenance["excluded"]["patients"]
    assert any("adverse_events.course" in d for d in provenance["derived"])
    json.dumps(provenance)  # stored as JSON in version.json


def test_the_excluded_patient_is_dropped_from_every_table_and_counted(imported):
    result, sets = imported["wide_workbook"]

    location = active_location(sets)
    for table in ("patients", "infusions"):
        ids = set(pd.read_parquet(location / f"{table}.parquet")["patient_id"])
        assert EXCLUDED_PATIENT not in ids
    assert any(n.startswith("1 patient(s) excluded") and "MOGAD" in n for n in result.notes)


def test_the_igg_conversion_gives_g_per_litre_without_floating_point_noise(demo, imported):
    _, sets = imported["wide_workbook"]

    labs = pd.read_parquet(active_location(sets) / "labs.parquet")
    igg = labs[labs["test"] == "IgG"]
    expected = demo["labs"][demo["labs"]["test"] == "IgG"]
    # the workbook holds value × 100 in mg/dL; × 0.01 must give the demo's g/L values exactly
    assert sorted(igg["value"]) == sorted(expected["value"])
    assert set(igg["unit"]) == {"g/L"}


@pytest.mark.parametrize("kind", ["redcap", "spss", "stata"])
def test_the_suggested_mapping_reads_the_source_without_edits(kind, demo, built):
    files, _ = built[kind]
    book = read_source_files(list(files.items()))

    text = suggest_mapping(book)

    applied = apply(load_mapping(text, "suggested.toml"), book)
    assert applied.ok, applied.problems
    tables = applied.tables()
    assert len(tables["patients"]) == len(demo["patients"])
    assert len(tables["infusions"]) == len(demo["infusions"])


def test_the_suggestion_for_the_workbook_finds_groups_maps_and_leaves_unknown_values_open(built):
    files, _ = built["wide_workbook"]

    text = suggest_mapping(read_source_files(list(files.items())))

    assert '"Relapsing-remitting" = "RRMS"' in text or 'Relapsing-remitting = "RRMS"' in text
    assert '# MOGAD = "?"' in text  # no guess: the user decides (a subtype or "exclude")
    assert text.count("[[edss.repeat]]") == 7
    assert 'onset_date = "Relapse 1 date"' in text
    assert 'missing = ["-", "n/a"]' in text
    assert "[[labs.convert]]" in text
    load_mapping(text)  # parses back


def test_redcap_and_spss_suggestions_use_choices_labels_checkboxes_and_other_events(built):
    redcap = suggest_mapping(read_source_files(list(built["redcap"][0].items())))
    spss = suggest_mapping(read_source_files(list(built["spss"][0].items())))

    assert 'prior_treatments = { count_ticked = "prior_dmt" }' in redcap
    assert 'last_followup_date = { column = "last_visit", event = "end_arm_1" }' in redcap
    assert 'instrument = "edss_visit", event = "visit_arm_1"' in redcap
    assert 'Female = "F"' in redcap and 'Female = "F"' in spss
    assert 'patient_id = "id"' in spss


def test_a_second_export_of_the_same_study_imports_with_the_saved_mapping(demo, imported, tmp_path):
    result, sets = imported["redcap"]
    name, mapping = saved_mapping(sets)  # what the Data page offers for the next export
    later = {t: f for t, f in demo.items()}
    later["relapses"] = demo["relapses"].head(20)  # next month's export: a different content
    files, _ = redcap_export(later)
    paths, path = write_files(tmp_path / "next", files, mapping)

    second = import_mapped(paths, path, sets, "nurse@example.org")

    assert name == "mapping.toml"
    assert second.version not in (None, result.version)
    assert active(sets)["version"] == second.version
    assert len(pd.read_parquet(active_location(sets) / "relapses.parquet")) == 20
