"""The direct import (CSV, .xlsx) reads, casts and writes a file in chunks of rows: memory follows
the chunk size, not the file size, and where the chunks fall changes nothing that is staged or
reported. Files are built here; the demo dataset is the reference for what a valid import holds."""

import dataclasses
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from queries import importer

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
