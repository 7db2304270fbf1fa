"""The direct import (CSV, .xlsx) reads, casts and writes a file in chunks of rows: memory follows
the chunk size, not the file size, and where the chunks fall changes nothing that is staged or
reported. Files are built here; the demo dataset is the reference for what a valid import holds."""

import dataclasses
import io
import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from examples.make_examples import BUILDERS, demo_tables, redcap_export
from queries import importer
from queries.importer import ImportFailed
from queries.readers import read_source_files

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"

PATIENTS = ("patient_id,subtype,sex,age_at_first_dose,baseline_edss,first_dose_date,last_followup_date\n"
            "P1,RRMS,F,34,2.0,2019-03-01,2021-03-01\nP2,NMOSD,M,51,4.5,2020-01-15,2021-07-15\n")
OTHER_TABLES = {"relapses": "patient_id,onset_date,severity\n", "edss": "patient_id,assessment_date,edss\n",
                "adverse_events": "patient_id,onset_date,term,relation,grade,serious\n"}
DOSE = "P1,2019-09-01,500,2,{}\n"  # the note column is ignored by the import: it only adds bytes
NOTE = "given in the day unit, no reaction"


def export(folder: Path, doses: int, bad_at: int | None = None) -> Path:
    """Two patients and `doses` infusion rows (about 50 bytes each); row `bad_at` (0-based) has the
    dose 'lots'."""
    folder.mkdir(parents=True)
    (folder / "patients.csv").write_text(PATIENTS)
    for table, header in OTHER_TABLES.items():
        (folder / f"{table}.csv").write_text(header)
    with open(folder / "infusions.csv", "w") as f:
        f.write("patient_id,dose_date,dose_mg,course,note\n")
        block = DOSE.format(NOTE) * 10_000
        f.writelines(block for _ in range(doses // 10_000))
        f.write(DOSE.format(NOTE) * (doses % 10_000))
    if bad_at is not None:
        lines = (folder / "infusions.csv").read_text().splitlines(keepends=True)
        lines[bad_at + 1] = lines[bad_at + 1].replace(",500,", ",lots,")
        (folder / "infusions.csv").write_text("".join(lines))
    return folder


PROBE = textwrap.dedent("""
    import dataclasses, json, sys
    from pathlib import Path
    from queries import importer

    def high_water_mark():
        with open("/proc/self/status") as status:
            return next(int(l.split()[1]) * 1024 for l in status if l.startswith("VmHWM"))

    importer.CHUNK_ROWS = 5_000
    # the same import of a tiny export first: libraries, DuckDB and the code paths are all loaded
    importer.import_files([Path(sys.argv[1])], Path(sys.argv[3]), user="probe")
    before = high_water_mark()
    result = importer.import_files([Path(sys.argv[2])], Path(sys.argv[3]), user="probe")
    print(json.dumps({"growth": high_water_mark() - before, "version": result.version,
                      "problems": [dataclasses.asdict(p) for p in result.problems]}))
""")


def test_a_large_csv_with_one_bad_cell_is_one_message_and_memory_does_not_follow_its_size(tmp_path):
    small = export(tmp_path / "small", 100)
    large = export(tmp_path / "large", 300_000, bad_at=299_990)
    size = (large / "infusions.csv").stat().st_size
    assert 15_000_000 < size < 17_000_000

    out = subprocess.run([sys.executable, "-c", PROBE, str(small), str(large), str(tmp_path / "sets")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120, check=True).stdout
    found = json.loads(out)

    # one cast error, named by file, line (header is line 1, so row 299,990 is line 299,992) and column
    assert found["version"] is None
    assert [(p["table"], p["column"], p["rule"], p["count"], p["file"], p["examples"][0]["row"],
             p["examples"][0]["value"]) for p in found["problems"] if p["severity"] == "error"] == [
        ("infusions", "dose_mg", "value is not double (not a number)", 1,
         str(large / "infusions.csv"), 299_992, "lots")]
    # the file's bytes are held once (15 MB) and one chunk of 5,000 rows is cast at a time; before
    # chunking, the whole file as Python strings and cast values took about 21 times its size (300 MB)
    assert found["growth"] < size + 40 * 2**20, f"grew {found['growth'] / 2**20:.0f} MB"
    assert [p.name for p in (tmp_path / "sets").iterdir() if p.name.startswith(".staging")] == []


def demo_export(folder: Path, as_excel: tuple[str, ...] = ()) -> Path:
    """The demo dataset written as one CSV per table (the tables in `as_excel` as .xlsx instead)."""
    folder.mkdir()
    for path in sorted(DEMO.glob("*.parquet")):
        frame = pd.read_parquet(path)
        if path.stem in as_excel:
            frame.to_excel(folder / f"{path.stem}.xlsx", sheet_name=path.stem, index=False)
        else:
            frame.to_csv(folder / f"{path.stem}.csv", index=False)
    return folder


def staged_tables(folder: Path, root: Path) -> tuple[dict, list, list, str]:
    """What staging the folder gives: the tables, the problems, the notes and the version id."""
    notes: list[str] = []
    staged = importer.stage(importer.read_sources([folder], notes), root, notes)
    try:
        tables = {p.stem: pq.read_table(p) for p in sorted(staged.path.glob("*.parquet"))}
        return (tables, [dataclasses.asdict(p) for p in staged.problems], staged.notes,
                importer.content_hash(staged.path))
    finally:
        importer.discard(staged)


@pytest.mark.parametrize("as_excel", [(), ("infusions", "edss")])
def test_chunks_of_seven_rows_stage_exactly_the_demo_tables(tmp_path, monkeypatch, as_excel):
    folder = demo_export(tmp_path / "export", as_excel)
    monkeypatch.setattr(importer, "CHUNK_ROWS", 7)

    tables, problems, _, _ = staged_tables(folder, tmp_path / "sets")

    # the reference: the demo parquet files themselves, row for row and value for value
    assert problems == []
    assert set(tables) == {p.stem for p in DEMO.glob("*.parquet")}
    for name, table in tables.items():
        demo = pq.read_table(DEMO / f"{name}.parquet")
        assert table.column_names == demo.column_names
        assert table.to_pylist() == demo.to_pylist(), name


def test_chunk_boundaries_change_no_problem_note_or_row_number(tmp_path, monkeypatch):
    folder = demo_export(tmp_path / "export")
    rows = [line.rstrip("\n").split(",") for line in (folder / "infusions.csv").open()]
    assert rows[0] == ["patient_id", "dose_date", "dose_mg", "course"]
    for i in range(30, 90, 6):  # ten doses that do not cast, across several chunks of seven
        rows[i][2] = "lots"
    rows[100][3] = "first"  # a course that does not cast
    rows[200][3] = "0"  # a validation error: course must be ≥ 1
    rows[300][1] = rows[300][1].replace("-", "/")  # 2017/05/20: not a date
    rows[400:400] = [[""], ["", "", "", ""]]  # two blank rows, skipped and counted
    (folder / "infusions.csv").write_text("".join(",".join(r) + "\n" for r in rows))

    whole = staged_tables(folder, tmp_path / "a")
    monkeypatch.setattr(importer, "CHUNK_ROWS", 7)
    chunked = staged_tables(folder, tmp_path / "b")

    # problems (counts, first five examples, rows) and notes; the version id hashes the parquet
    # files, whose row groups are the chunks, so it is the same only for the same chunk size
    assert chunked[1:3] == whole[1:3]
    assert {n: t.to_pylist() for n, t in chunked[0].items()} == {
        n: t.to_pylist() for n, t in whole[0].items()}
    dose = next(p for p in whole[1] if p["column"] == "dose_mg" and p["rule"].startswith("value"))
    # rows[30] is file line 31; ten bad cells, the first five kept as examples
    assert (dose["count"], [e["row"] for e in dose["examples"]]) == (10, [31, 37, 43, 49, 55])
    assert f"{folder / 'infusions.csv'}: 2 blank row(s) skipped" in whole[2]
    course = next(p for p in whole[1] if p["rule"] == "required, ≥ 1")
    assert [e["row"] for e in course["examples"]] == [201]  # line 101 is reported by the cast only


# The mapped import (a study's own files: REDCap, wide sheets, SPSS/Stata) holds every cell as a
# Python object: a REDCap export built from the demo, its records repeated under new ids.

def redcap_files(folder: Path, copies: int, bad_dose: bool = False) -> list[Path]:
    """The demo's REDCap export (examples/make_examples.py) with its records repeated `copies`
    times (record RTX-001 becomes R0-001, R1-001, …); with bad_dose the last dose given is 'lots'."""
    files, mapping = redcap_export(demo_tables(DEMO))
    lines = [line + "\n" for line in files["STUDY_DATA.csv"].decode("utf-8-sig").splitlines()]
    header, body = lines[0], lines[1:]
    rows = [line.replace("RTX-", f"R{k}-", 1) for k in range(copies) for line in body]
    if bad_dose:
        dose = header.split(",").index("dose_mg")
        last = max(i for i, line in enumerate(rows) if line.split(",")[dose])
        cells = rows[last].split(",")
        cells[dose] = "lots"
        rows[last] = ",".join(cells)
    folder.mkdir(parents=True)
    (folder / "STUDY_DATA.csv").write_text(header + "".join(rows), encoding="utf-8")
    (folder / "STUDY_DataDictionary.csv").write_bytes(files["STUDY_DataDictionary.csv"])
    (folder / "mapping.toml").write_text(mapping)
    return [folder / "STUDY_DATA.csv", folder / "STUDY_DataDictionary.csv"]


MAPPED_PROBE = textwrap.dedent("""
    import dataclasses, json, sys
    from pathlib import Path
    from queries.mapping import import_mapped

    def high_water_mark():
        with open("/proc/self/status") as status:
            return next(int(l.split()[1]) * 1024 for l in status if l.startswith("VmHWM"))

    small, large, root = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    files = ["STUDY_DATA.csv", "STUDY_DataDictionary.csv"]
    # the same import of the demo's export first: libraries, DuckDB and the code paths are loaded
    import_mapped([small / f for f in files], small / "mapping.toml", root, "probe")
    before = high_water_mark()
    result = import_mapped([large / f for f in files], large / "mapping.toml", root, "probe")
    print(json.dumps({"growth": high_water_mark() - before, "version": result.version,
                      "problems": [dataclasses.asdict(p) for p in result.problems]}))
""")


def test_a_large_redcap_export_with_one_bad_cell_is_one_message_and_memory_stays_bounded(tmp_path):
    redcap_files(tmp_path / "small", 1)
    large = redcap_files(tmp_path / "large", 25, bad_dose=True)
    size = large[0].stat().st_size
    assert 14_000_000 < size < 16_000_000  # half the mapped import's limit of 30 MB

    out = subprocess.run([sys.executable, "-c", MAPPED_PROBE, str(tmp_path / "small"),
                          str(tmp_path / "large"), str(tmp_path / "sets")],
                         cwd=ROOT, capture_output=True, text=True, timeout=180, check=True).stdout
    found = json.loads(out)

    # one error, named by the record (of the 25th copy) as REDCap shows it
    assert found["version"] is None
    errors = [p for p in found["problems"] if p["severity"] == "error"]
    assert [(p["table"], p["column"], p["rule"], p["count"]) for p in errors] == [
        ("infusions", "dose_mg", "is not a number", 1)]
    example = errors[0]["examples"][0]
    assert example["value"] == "lots"
    assert example["source"].startswith("STUDY_DATA.csv › record R24-")
    # measured 10.6 times the file's size (158 MB for this 14.9 MB export; before, about 19
    # times); at the 30 MB mapped limit that is under 400 MB, twice the 200 MB upload limit
    assert found["growth"] < 13 * size, f"grew {found['growth'] / 2**20:.0f} MB"
    assert [p.name for p in (tmp_path / "sets").iterdir() if p.name.startswith(".staging")] == []


def test_files_over_the_mapped_limit_are_refused_with_one_message_before_they_are_read(tmp_path):
    paths = redcap_files(tmp_path / "export", 2)
    data, dictionary = (p.stat().st_size for p in paths)
    assert 1_000_000 < data < 2_000_000
    limit = (data + 1) / 2**20  # the export alone fits; with its dictionary it does not

    with pytest.raises(ImportFailed) as refused:
        read_source_files(paths, mapped_mb=limit)
    assert str(refused.value) == (
        f"the files together: {(data + dictionary) / 2**20:.1f} MB is over the {limit:g} MB limit "
        "for a study's own files read through a mapping (REDCap, wide sheets, SPSS, Stata); split "
        "the export (by records or by form) or ask the administrator to raise the limit "
        "(RCE_MAX_MAPPED_MB)")
    # a file alone over the limit is refused from its size on disk, before its bytes are read
    with pytest.raises(ImportFailed, match=r"^STUDY_DATA.csv: 1\.\d MB is over the 1 MB limit"):
        read_source_files(paths[:1], mapped_mb=1)
    # the headers alone (the Data page's first look) are not held to it
    assert read_source_files(paths, mapped_mb=1, head=30).redcap


def test_an_spss_file_counts_twice_and_an_xlsx_as_expanded_against_the_mapped_limit():
    # numbers are 8 bytes in a .sav and a Python object once read; an .xlsx is compressed XML
    files, _ = BUILDERS["spss"](demo_tables(DEMO))
    workbook, _ = BUILDERS["wide_workbook"](demo_tables(DEMO))
    raw = workbook["cohort.xlsx"]
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        expanded = sum(i.file_size for i in z.infolist())
    assert expanded > 5 * len(raw)
    size = sum(2 * len(b) for b in files.values()) + expanded
    limit = size / 2**20 - 0.01
    with pytest.raises(ImportFailed, match=rf"^the files together: {size / 2**20:.1f} MB \(an "
                       r"\.xlsx counted as expanded, an SPSS or Stata file twice\) is over"):
        read_source_files([*files.items(), ("cohort.xlsx", raw)], mapped_mb=limit)
    book = read_source_files([*files.items(), ("cohort.xlsx", raw)], mapped_mb=limit + 0.02)
    assert {s.file for s in book.sheets} == {*files, "cohort.xlsx"}
