"""Import: every kind of awkward upload, all-or-nothing activation, versions and rollback."""

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from analysis.summary import summary
from queries import Dataset, Filters, importer
from queries.importer import ImportFailed, activate, active, import_files, versions
from queries.validate import problems_frame, report

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo"
REQUIRED = ("patients", "infusions", "relapses", "edss", "adverse_events")


def demo_csvs(folder: Path, tables=REQUIRED, **write_options) -> Path:
    """The demo tables written as CSV files, the way a study export would arrive."""
    folder.mkdir(parents=True, exist_ok=True)
    for table in tables:
        pd.read_parquet(DEMO / f"{table}.parquet").to_csv(folder / f"{table}.csv", index=False, **write_options)
    return folder


def test_a_clean_csv_export_imports_and_gives_the_same_figures(tmp_path):
    result = import_files([demo_csvs(tmp_path / "in")], tmp_path / "sets", user="nurse@example.org")

    assert result.version is not None
    location = importer.active_location(tmp_path / "sets")
    assert summary(Dataset(location), Filters())["doses_total"] == 818
    assert active(tmp_path / "sets")["activated_by"] == "nurse@example.org"


def test_semicolon_delimiter_and_decimal_commas_are_read(tmp_path):
    src = demo_csvs(tmp_path / "in", sep=";", decimal=",")

    result = import_files([src], tmp_path / "sets", user="u")

    assert result.version
    assert any("separated by ';'" in n for n in result.notes)
    ages = pd.read_parquet(importer.active_location(tmp_path / "sets") / "patients.parquet")["age_at_first_dose"]
    assert ages.tolist() == pd.read_parquet(DEMO / "patients.parquet")["age_at_first_dose"].tolist()


def test_a_windows_1252_csv_is_read_and_the_encoding_named(tmp_path):
    src = demo_csvs(tmp_path / "in")
    patients = pd.read_csv(src / "patients.csv")
    patients["site"] = "Hôpital Saint-Étienne"
    (src / "patients.csv").write_bytes(patients.to_csv(index=False).encode("cp1252"))

    result = import_files([src], tmp_path / "sets", user="u")

    assert result.version
    assert any("patients.csv: not UTF-8; read as Windows-1252" in n for n in result.notes)
    sites = pd.read_parquet(importer.active_location(tmp_path / "sets") / "patients.parquet")["site"]
    assert set(sites) == {"Hôpital Saint-Étienne"}


def test_day_first_dates_blank_rows_and_an_excel_workbook_with_several_sheets(tmp_path):
    book = tmp_path / "study export.xlsx"
    with pd.ExcelWriter(book) as xl:
        for table in REQUIRED:
            df = pd.read_parquet(DEMO / f"{table}.parquet")
            for col in df.columns:
                if col.endswith("_date"):
                    df[col] = pd.to_datetime(df[col]).dt.strftime("%d/%m/%Y")
            if table == "patients":
                df = pd.concat([df.iloc[:5], pd.DataFrame([{}] * 2), df.iloc[5:]], ignore_index=True)
            df.to_excel(xl, sheet_name=table.replace("_", " ").title(), index=False)
        pd.DataFrame({"note": ["not a table"]}).to_excel(xl, sheet_name="Read me", index=False)

    result = import_files([book], tmp_path / "sets", user="u")

    assert result.version, result.problems
    assert any("dates read day first" in n for n in result.notes)
    assert any("2 blank row(s) skipped" in n for n in result.notes)
    assert any("[Read me]: no contract table" in n for n in result.notes)
    s = summary(Dataset(importer.active_location(tmp_path / "sets")), Filters())
    assert (s["patients"]["total"], s["doses_total"], s["relapses"]["total"]) == (99, 818, 27)


def test_a_zip_of_csv_files_is_imported(tmp_path):
    src = demo_csvs(tmp_path / "in")
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in src.iterdir():
            z.write(f, f"export/{f.name}")

    assert import_files([archive], tmp_path / "sets", user="u").version


def test_a_cell_that_is_not_of_its_type_names_file_row_and_column(tmp_path):
    src = demo_csvs(tmp_path / "in")
    edss = pd.read_csv(src / "edss.csv", dtype=str)
    edss.loc[9, "edss"] = "three"
    edss.to_csv(src / "edss.csv", index=False)

    result = import_files([src], tmp_path / "sets", user="u")

    assert result.version is None and active(tmp_path / "sets") is None
    problem = next(p for p in result.problems if p.column == "edss")
    assert problem.file.endswith("edss.csv")
    assert problem.examples[0]["row"] == 11  # line 11: header on line 1, frame row 9 is the 10th record
    assert problem.examples[0]["value"] == "three"


def test_a_rule_violation_is_reported_in_the_rows_of_the_uploaded_file(tmp_path):
    src = demo_csvs(tmp_path / "in")
    patients = pd.read_csv(src / "patients.csv")
    patients.loc[3, "sex"] = "X"
    patients.to_csv(src / "patients.csv", index=False)

    result = import_files([src], tmp_path / "sets", user="u")

    problem = next(p for p in result.problems if p.column == "sex")
    assert (problem.severity, problem.examples[0]["row"], problem.examples[0]["value"]) == ("error", 5, "X")


def test_duplicated_header_names_are_refused(tmp_path):
    src = demo_csvs(tmp_path / "in")
    text = (src / "relapses.csv").read_text().replace("severity", "onset_date", 1)
    (src / "relapses.csv").write_text(text)

    with pytest.raises(ImportFailed, match="relapses.csv: the column name 'onset_date' appears twice"):
        import_files([src], tmp_path / "sets", user="u")


def test_a_file_over_the_size_limit_is_refused(tmp_path):
    src = demo_csvs(tmp_path / "in")

    with pytest.raises(ImportFailed, match=r"over the 0\.01 MB limit"):
        import_files([src], tmp_path / "sets", user="u", max_mb=0.01)


def test_a_broken_file_and_a_missing_table_are_clear(tmp_path):
    src = demo_csvs(tmp_path / "in", tables=("patients", "infusions", "relapses", "edss"))
    (src / "mri.parquet").write_bytes(b"not parquet")

    with pytest.raises(ImportFailed, match="mri.parquet: not a readable parquet file"):
        import_files([src], tmp_path / "sets", user="u")
    (src / "mri.parquet").unlink()
    result = import_files([src], tmp_path / "sets", user="u")
    assert result.version is None
    assert any("required table 'adverse_events' is missing" in p.rule for p in result.problems)


def test_an_import_killed_half_way_leaves_the_active_dataset_intact(tmp_path, monkeypatch):
    sets = tmp_path / "sets"
    first = import_files([demo_csvs(tmp_path / "in")], sets, user="u").version
    changed = demo_csvs(tmp_path / "in2")
    pd.read_csv(changed / "relapses.csv").iloc[:5].to_csv(changed / "relapses.csv", index=False)
    real_write = importer.pq.ParquetWriter.write_table
    calls = []

    def killed(*args, **kwargs):  # the process dies while the third table is being written
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_write(*args, **kwargs)

    monkeypatch.setattr(importer.pq.ParquetWriter, "write_table", killed)
    with pytest.raises(KeyboardInterrupt):
        import_files([changed], sets, user="u")
    monkeypatch.undo()

    assert active(sets)["version"] == first
    assert summary(Dataset(importer.active_location(sets)), Filters())["relapses"]["total"] == 27
    assert [v["id"] for v in versions(sets)] == [first]


def test_versions_are_kept_and_any_can_be_switched_back_to(tmp_path):
    sets = tmp_path / "sets"
    first = import_files([demo_csvs(tmp_path / "in")], sets, user="a").version
    changed = demo_csvs(tmp_path / "in2")
    pd.read_csv(changed / "relapses.csv").iloc[:5].to_csv(changed / "relapses.csv", index=False)
    second = import_files([changed], sets, user="b").version

    assert first != second and active(sets)["version"] == second
    activate(sets, first, user="c")

    assert active(sets) | {"activated_at": None} == {"version": first, "activated_by": "c", "activated_at": None}
    assert {v["id"] for v in versions(sets)} == {first, second}
    assert len((sets / "history.jsonl").read_text().splitlines()) == 3


def test_the_command_line_imports_and_refuses(tmp_path, capsys):
    from queries.__main__ import main

    src = demo_csvs(tmp_path / "in")
    assert main(["import", "--from", str(src), "--to", str(tmp_path / "sets")]) == 0
    assert "activated version" in capsys.readouterr().out
    (src / "patients.csv").write_text("patient_id,subtype\nP1,RRMS\n")
    assert main(["import", "--from", str(src), "--to", str(tmp_path / "sets")]) == 1
    assert "required column 'sex' is missing" in capsys.readouterr().out


# the import interfaces other readers (the mapped import) build on

def frame(rows: list[dict], first_line: int = 2) -> pd.DataFrame:
    df = pd.DataFrame(rows, dtype=object)
    df.index = range(first_line, first_line + len(df))
    return df


def demo_sources(**replace: list[importer.Source]) -> list[importer.Source]:
    """Every required demo table as one Source of text cells, some tables replaced."""
    sources = []
    for table in REQUIRED:
        if table in replace:
            sources += replace[table]
            continue
        df = pd.read_parquet(DEMO / f"{table}.parquet").astype(str).replace({"None": "", "nan": ""})
        df.index = range(2, len(df) + 2)
        sources.append(importer.Source(f"{table}.csv", table, df, 2))
    return sources


def test_several_sources_for_one_table_are_concatenated_and_problems_name_the_source_row(tmp_path):
    edss = pd.read_parquet(DEMO / "edss.parquet").astype(str)
    first, second = frame(edss.iloc[:100].to_dict("records")), frame(edss.iloc[100:].to_dict("records"), 5)
    second.iloc[0, second.columns.get_loc("edss")] = "n/a?"
    second.iloc[1, second.columns.get_loc("edss")] = "11"
    labels = [f"cohort.xlsx › Visits › row {i}" for i in second.index]
    sources = demo_sources(edss=[
        importer.Source("visits.csv", "edss", first, 2),
        importer.Source("cohort.xlsx [Visits]", "edss", second, 5, row_labels=labels,
                        column_labels={"edss": "EDSS 12m"}),
    ])

    staged = importer.stage(sources, tmp_path / "sets", [])

    assert staged.rows["edss"] == len(edss)  # 100 + the rest, in order
    table = problems_frame(staged.problems)
    assert table[["file", "row", "source", "value"]].values.tolist() == [
        ["cohort.xlsx [Visits]", 5, "cohort.xlsx › Visits › row 5 › EDSS 12m", "n/a?"],   # cast
        ["cohort.xlsx [Visits]", 6, "cohort.xlsx › Visits › row 6 › EDSS 12m", "11.0"],   # 0–10 rule
    ]
    assert "cohort.xlsx › Visits › row 5 › EDSS 12m: 'n/a?'" in report(staged.problems)
    importer.discard(staged)
    assert not list((tmp_path / "sets").glob(".staging-*"))


def test_provenance_is_kept_with_the_version(tmp_path):
    staged = importer.stage(demo_sources(), tmp_path / "sets", [])
    provenance = {"files": [{"name": "export.csv", "sha256": "ab" * 32}], "mapping": "edss: EDSS 12m"}

    version = importer.activate_staged(staged, tmp_path / "sets", "lead", provenance=provenance)

    assert versions(tmp_path / "sets")[0]["provenance"] == provenance
    assert versions(tmp_path / "sets")[0]["id"] == version
    assert not list((tmp_path / "sets").glob(".staging-*"))
    assert not (tmp_path / "sets" / "versions" / version / ".owner").exists()


def test_unpack_expands_zips_and_keeps_other_files(tmp_path):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("export/patients.csv", "a\n1\n")
        z.writestr("__MACOSX/._patients.csv", "junk")

    files = importer.unpack([("x.zip", archive.getvalue()), ("edss.csv", b"b\n2\n")], max_mb=1)

    assert files == [("x.zip/export/patients.csv", b"a\n1\n"), ("edss.csv", b"b\n2\n")]


def test_read_csv_cells_keeps_text_and_numbers_lines_as_in_the_file():
    raw = b'id;note;value\n1;"two\nlines";1,5\n\n2;x;3\n'

    df, decimal_comma = importer.read_csv_cells(raw, "a.csv", [])

    assert decimal_comma
    assert df.index.tolist() == [2, 4, 5]  # the quoted cell spans lines 2-3; line 4 is blank
    assert df.loc[2].tolist() == ["1", "two\nlines", "1,5"]
