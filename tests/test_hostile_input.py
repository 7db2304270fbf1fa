"""Hostile input to the import: every kind gets one clear message (file, row, column, what to do) and
changes nothing — the active version, the versions and the datasets folder stay as they were, and no
staging folder (patient data) is left behind. Each hostile file is built here, small."""

import io
import os
import stat
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.summary import summary
from queries import Dataset, Filters, importer
from queries.importer import ImportFailed, active, import_files, read_uploads

ROOT = Path(__file__).resolve().parent.parent

# a tiny valid study export: two patients, three doses, one relapse, one EDSS, one adverse event
TINY = {
    "patients": "patient_id,subtype,sex,age_at_first_dose,baseline_edss,first_dose_date,last_followup_date,"
                "disease_duration_years\n"
                "P1,RRMS,F,34,2.0,2019-03-01,2021-03-01,5.5\n"
                "P2,NMOSD,M,51,4.5,2020-01-15,2021-07-15,2.0\n",
    "infusions": "patient_id,dose_date,dose_mg,course\n"
                 "P1,2019-03-01,500,1\nP1,2019-09-01,500,2\nP2,2020-01-15,1000,1\n",
    "relapses": "patient_id,onset_date,severity\nP1,2020-05-02,mild\n",
    "edss": "patient_id,assessment_date,edss\nP1,2020-03-01,2.5\n",
    "adverse_events": "patient_id,onset_date,term,relation,grade,serious\n"
                      "P2,2020-01-15,Flushing,during_infusion,1,false\n",
}


def export(folder: Path, **changes: str | bytes) -> Path:
    """The tiny export as CSV files, with some tables replaced (text, or bytes as given)."""
    folder.mkdir(parents=True, exist_ok=True)
    for table, text in (TINY | changes).items():
        path = folder / (table if "." in table else f"{table}.csv")
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return folder


def state(sets: Path) -> list[tuple[str, int]]:
    """Everything in the datasets folder (names and sizes) and the active record."""
    files = sorted((str(p.relative_to(sets)), p.stat().st_size) for p in sets.rglob("*") if p.is_file())
    return files + [("active", str(active(sets)))]


@pytest.fixture
def sets(tmp_path) -> Path:
    """A datasets folder with the tiny export imported and active."""
    root = tmp_path / "sets"
    assert import_files([export(tmp_path / "good")], root, user="lead").version
    return root


def refused(sets: Path, paths: list[Path], match: str, **kwargs) -> str:
    """Import paths into sets: it must fail with a message matching `match` and change nothing."""
    before = state(sets)
    with pytest.raises(ImportFailed, match=match) as failure:
        import_files(paths, sets, user="mallory", **kwargs)
    assert state(sets) == before
    assert not list(sets.glob(".staging-*"))
    return str(failure.value)


def not_activated(sets: Path, paths: list[Path]) -> list:
    """Import paths into sets: it must report errors, not activate, and change nothing."""
    before = state(sets)
    result = import_files(paths, sets, user="mallory")
    assert result.version is None
    assert state(sets) == before
    assert not list(sets.glob(".staging-*"))
    return [p for p in result.problems if p.severity == "error"]


def test_the_tiny_export_is_valid_and_counted_by_hand(sets):
    s = summary(Dataset(importer.active_location(sets)), Filters())

    assert (s["patients"]["total"], s["doses_total"], s["relapses"]["total"]) == (2, 3, 1)


# 1. plausible dates and finite numbers (v2 rules)

@pytest.mark.parametrize(("table", "old", "new", "column", "rule"), [
    ("patients", "2021-03-01", "9999-12-31", "last_followup_date", "between 1900-01-01 and today"),
    ("patients", "2019-03-01,2021", "1800-03-01,2021", "first_dose_date", "between 1900-01-01 and today"),
    ("patients", "2019-03-01,2021", "1985-03-01,2021", "first_dose_date", "after 1990-01-01"),
    ("relapses", "2020-05-02", "2999-05-02", "onset_date", "between 1900-01-01 and today"),
])
def test_an_implausible_date_is_an_error_and_nothing_is_activated(tmp_path, sets, table, old, new, column,
                                                                    rule):
    src = export(tmp_path / "in", **{table: TINY[table].replace(old, new, 1)})

    errors = not_activated(sets, [src])

    problem = next(p for p in errors if p.column == column and rule in p.rule)
    assert problem.examples[0]["row"] == 2 and problem.file.endswith(f"{table}.csv")


def test_a_9999_follow_up_date_cannot_change_the_arr(tmp_path, sets):
    # the issue: one such row turned the ARR from 0.160 into 0.0033 and validate said "no problems"
    src = export(tmp_path / "in", patients=TINY["patients"].replace("2021-03-01", "9999-12-31"))

    not_activated(sets, [src])

    arr = summary(Dataset(importer.active_location(sets)), Filters())["relapses"]["arr"]["all"]["rate"]
    assert arr == pytest.approx(1 / ((731 + 547) / 365.25))  # 1 relapse over P1's 731 + P2's 547 days


@pytest.mark.parametrize("word", ["nan", "NaN", "inf", "-inf", "Infinity", "-Infinity"])
@pytest.mark.parametrize(("table", "old", "column"), [
    ("infusions", ",500,1", "dose_mg"), ("patients", ",5.5", "disease_duration_years"),
])
def test_nan_and_infinity_in_a_csv_are_not_numbers(tmp_path, sets, word, table, old, column):
    src = export(tmp_path / "in", **{table: TINY[table].replace(old, old.replace(
        "500" if "500" in old else "5.5", word), 1)})

    errors = not_activated(sets, [src])

    problem = next(p for p in errors if p.column == column)
    assert "not a finite number" in problem.rule and problem.examples[0]["value"] == word


def test_nan_and_infinity_in_lab_values_are_not_numbers(tmp_path, sets):
    labs = "patient_id,sample_date,test,value,unit\nP1,2020-01-01,IgG,nan,g/L\nP1,2020-02-01,IgG,inf,g/L\n"

    errors = not_activated(sets, [export(tmp_path / "in", labs=labs)])

    problem = next(p for p in errors if p.table == "labs")
    assert (problem.column, problem.count) == ("value", 2)
    assert [e["row"] for e in problem.examples] == [2, 3]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinity_in_a_parquet_file_are_errors(tmp_path, sets, value):
    src = export(tmp_path / "in")
    (src / "infusions.csv").unlink()
    doses = pa.Table.from_pandas(pd.read_csv(io.StringIO(TINY["infusions"])), preserve_index=False)
    # a NaN value, not a null (pandas would write its NaN as a null)
    dose_mg = pa.array([500.0, value, 1000.0], type=pa.float64())
    pq.write_table(doses.set_column(2, "dose_mg", dose_mg), src / "infusions.parquet")

    errors = not_activated(sets, [src])

    problem = next(p for p in errors if p.column == "dose_mg")
    assert "not a finite number" in problem.rule and problem.examples[0]["row"] == 2


def test_an_empty_parquet_cell_is_still_a_missing_value_not_nan(tmp_path, sets):
    src = export(tmp_path / "in")
    (src / "patients.csv").unlink()
    patients = pd.read_csv(io.StringIO(TINY["patients"]))
    table = pa.Table.from_pandas(patients, preserve_index=False)
    durations = pa.array([None, 2.0], type=pa.float64())  # a null, not a NaN
    table = table.set_column(table.schema.get_field_index("disease_duration_years"),
                             "disease_duration_years", durations)
    pq.write_table(table, src / "patients.parquet")

    result = import_files([src], sets, user="u")

    assert result.version, result.problems


def test_an_excel_sheet_with_infinity_text_is_refused(tmp_path, sets):
    book = tmp_path / "export.xlsx"
    with pd.ExcelWriter(book) as xl:
        for table, text in TINY.items():
            frame = pd.read_csv(io.StringIO(text), dtype=str)
            if table == "infusions":
                frame.loc[0, "dose_mg"] = "Infinity"
            frame.to_excel(xl, sheet_name=table, index=False)

    errors = not_activated(sets, [book])

    problem = next(p for p in errors if p.column == "dose_mg")
    assert problem.file.endswith("export.xlsx [infusions]") and problem.examples[0]["row"] == 2


# 2. bounded resources

def zip_of(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in members.items():
            z.writestr(name, content)
    return path


def test_a_zip_bomb_is_refused_by_its_declared_size(tmp_path, sets):
    bomb = zip_of(tmp_path / "export.zip", {"patients.csv": b"0" * (30 * 1024 * 1024)})
    assert bomb.stat().st_size < 100_000  # 30 MB of zeros compress to about 30 KB

    message = refused(sets, [bomb], r"expands to 30 MB, over the 5 MB limit", max_mb=5)

    assert message.startswith(f"{bomb}:")


def test_a_zip_that_lies_about_its_size_is_stopped_while_reading(tmp_path, sets):
    bomb = zip_of(tmp_path / "export.zip", {"patients.csv": b"0" * (8 * 1024 * 1024)})
    raw = bytearray(bomb.read_bytes())
    # write 1,000 bytes as the declared size in the local header and in the central directory
    local, central = raw.find(b"PK\x03\x04"), raw.find(b"PK\x01\x02")
    raw[local + 22:local + 26] = (1000).to_bytes(4, "little")
    raw[central + 24:central + 28] = (1000).to_bytes(4, "little")
    bomb.write_bytes(bytes(raw))

    refused(sets, [bomb], r"export\.zip: not a readable zip file", max_mb=5)


def test_zips_together_are_bounded_across_members(tmp_path, sets):
    members = {f"{t}.csv": TINY[t].encode() for t in TINY} | {
        f"filler{i}.txt": b"x" * (2 * 1024 * 1024) for i in range(3)
    }
    archive = zip_of(tmp_path / "export.zip", members)

    refused(sets, [archive], "over the 5 MB limit", max_mb=5)


def test_a_zip_inside_a_zip_is_refused(tmp_path, sets):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        for table, text in TINY.items():
            z.writestr(f"{table}.csv", text)
    outer = zip_of(tmp_path / "export.zip", {"inner.zip": inner.getvalue()})

    refused(sets, [outer], r"export\.zip/inner\.zip: a zip inside a zip is not read")


def test_a_corrupt_zip_stream_is_one_clear_message(tmp_path, sets):
    archive = zip_of(tmp_path / "export.zip", {f"{t}.csv": TINY[t].encode() * 50 for t in TINY})
    raw = bytearray(archive.read_bytes())
    start = raw.find(b"PK\x03\x04") + 30 + len("patients.csv")
    raw[start + 10:start + 40] = b"\xff" * 30  # damage the compressed data of the first member
    archive.write_bytes(bytes(raw))

    refused(sets, [archive], r"export\.zip: not a readable zip file \(.*\); make the zip again")


def test_a_symbolic_link_inside_a_zip_is_refused(tmp_path, sets):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for table, text in TINY.items():
            z.writestr(f"{table}.csv", text)
        link = zipfile.ZipInfo("labs.csv")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(link, "/etc/passwd")

    refused(sets, [archive], r"export\.zip/labs\.csv: is a symbolic link")


def test_a_symbolic_link_in_an_import_folder_is_refused(tmp_path, sets):
    src = export(tmp_path / "in")
    (src / "labs.csv").symlink_to("/etc/passwd")

    refused(sets, [src], r"labs\.csv: is a symbolic link; give the file itself")


def test_a_named_pipe_in_an_import_folder_is_refused_without_blocking(tmp_path, sets):
    src = export(tmp_path / "in")
    os.mkfifo(src / "labs.csv")

    refused(sets, [src], r"labs\.csv: not a plain file")


def test_a_million_column_csv_is_refused_from_its_header(tmp_path, sets):
    header = ",".join(f"c{i}" for i in range(1_000_000))
    src = export(tmp_path / "in", labs=header + "\n" + "," * 999_999 + "\n")

    start = time.perf_counter()
    refused(sets, [src], r"labs\.csv: line 1 \(the header\) is longer than 1,000,000 characters")
    assert time.perf_counter() - start < 5  # was 36 s and 3.6 GB


def test_a_wide_csv_is_refused_by_its_number_of_columns(tmp_path, sets):
    src = export(tmp_path / "in", labs=",".join(["c"] * 6_000) + "\n")

    refused(sets, [src], r"labs\.csv: the header has 6,000 columns; at most 5,000 are read")


def test_a_200_kb_cell_is_one_clear_message(tmp_path, sets):
    text = TINY["adverse_events"] + 'P1,2020-02-01,"' + "x" * 200_000 + '",post_infusion,1,false\n'

    refused(sets, [export(tmp_path / "in", adverse_events=text)],
            r"adverse_events\.csv: line 3: a cell longer than 32,767 characters")


def test_a_40_kb_cell_names_its_line_and_column(tmp_path, sets):
    text = TINY["adverse_events"] + "P1,2020-02-01," + "x" * 40_000 + ",post_infusion,1,false\n"

    refused(sets, [export(tmp_path / "in", adverse_events=text)],
            r"adverse_events\.csv: line 3, column 'term': a cell of 40,000 characters")


def test_a_line_of_many_long_cells_is_refused(tmp_path, sets):
    header = ",".join(f"c{i}" for i in range(100))
    text = header + "\n" + ",".join(["y" * 20_000] * 100) + "\n"

    refused(sets, [export(tmp_path / "in", labs=text)],
            r"labs\.csv: line 2 is longer than 1,000,000 characters")


def test_a_file_over_the_limit_is_refused(tmp_path, sets):
    src = export(tmp_path / "in", labs="patient_id\n" + "P1\n" * 400_000)

    refused(sets, [src / "labs.csv"], r"labs\.csv: 1\.1 MB is over the 1 MB limit", max_mb=1)


def test_a_parquet_file_that_expands_beyond_the_limit_is_refused(tmp_path, sets):
    src = export(tmp_path / "in")
    pq.write_table(pa.table({"patient_id": pa.array(["P1"] * 400_000)}), src / "labs.parquet")
    assert (src / "labs.parquet").stat().st_size < 10_000  # run-length encoded

    refused(sets, [src], r"labs\.parquet \(expanded\): .* MB is over the 1 MB limit", max_mb=1)


MEMORY_PROBE = textwrap.dedent("""
    import sys, tempfile, tracemalloc
    from pathlib import Path
    from queries.importer import ImportFailed, read_sources, stage
    tracemalloc.start()
    try:  # rows are read while staging: a cell limit is met there
        stage(read_sources([Path(sys.argv[1])], [], max_mb=float(sys.argv[2])), tempfile.mkdtemp())
        print("accepted")
    except ImportFailed:
        print(tracemalloc.get_traced_memory()[1])
""")


def peak_bytes(path: Path, max_mb: float) -> int:
    """Peak Python memory while a fresh process reads and stages (and refuses) the file, in bytes."""
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(path), str(max_mb)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=True).stdout.strip()
    assert out != "accepted"
    return int(out)


@pytest.mark.parametrize("kind", ["zip bomb", "lying zip", "wide csv", "long cell", "parquet rle"])
def test_peak_memory_of_a_refused_input_stays_under_twice_the_limit(tmp_path, kind):
    limit_mb = 4
    path = tmp_path / ("export.zip" if "zip" in kind else "labs.parquet" if "parquet" in kind
                       else "labs.csv")
    if kind == "zip bomb":  # 100 MB of zeros (about 100 KB compressed); declared size honest
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z, z.open("labs.csv", "w",
                                                                           force_zip64=True) as f:
            for _ in range(100):
                f.write(b"0" * (1024 * 1024))
    elif kind == "lying zip":  # the central directory says 1 KB per member; 30 members of 3 MB
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for i in range(30):
                z.writestr(f"labs{i}.csv", b"1" * (3 * 1024 * 1024))
        raw = bytearray(path.read_bytes())
        at = raw.find(b"PK\x01\x02")
        while at >= 0:
            raw[at + 24:at + 28] = (1024).to_bytes(4, "little")
            at = raw.find(b"PK\x01\x02", at + 4)
        path.write_bytes(bytes(raw))
    elif kind == "wide csv":  # 3.9 MB of header
        path.write_text(",".join(["col"] * 1_000_000))
    elif kind == "long cell":
        path.write_text("patient_id,test\nP1," + "x" * 3_000_000 + "\n")
    else:
        pq.write_table(pa.table({"patient_id": pa.array(["P1"] * 2_000_000)}), path)

    peak = peak_bytes(path, limit_mb)

    assert peak < 2 * limit_mb * 1024 * 1024, f"{kind}: peak {peak / 2**20:.1f} MB"


# 3. tracebacks become messages

def test_a_30_digit_integer_is_a_cell_error_not_a_traceback(tmp_path, sets):
    text = TINY["infusions"].replace(",500,2", ",500,123456789012345678901234567890")

    errors = not_activated(sets, [export(tmp_path / "in", infusions=text)])

    problem = next(p for p in errors if p.column == "course")
    assert "too large a number" in problem.rule and problem.examples[0]["row"] == 3


def test_a_uint64_maximum_in_parquet_is_a_cell_error_not_a_traceback(tmp_path, sets):
    src = export(tmp_path / "in")
    (src / "infusions.csv").unlink()
    doses = pd.read_csv(io.StringIO(TINY["infusions"]))
    table = pa.Table.from_pandas(doses, preserve_index=False)
    course = pa.array([1, 2**64 - 1, 1], type=pa.uint64())
    pq.write_table(table.set_column(3, "course", course), src / "infusions.parquet")

    errors = not_activated(sets, [src])

    problem = next(p for p in errors if p.column == "course")
    assert problem.examples[0]["value"] == str(2**64 - 1)


def test_a_damaged_excel_file_is_one_clear_message(tmp_path, sets):
    book = tmp_path / "export.xlsx"
    book.write_bytes(b"PK\x03\x04 this is not a workbook")

    refused(sets, [book], r"export\.xlsx: not a readable Excel file \(.*\); save it again from Excel")


def test_a_day_that_is_not_in_the_calendar_is_a_cell_error(tmp_path, sets):
    text = TINY["relapses"].replace("2020-05-02", "2020-02-30")

    errors = not_activated(sets, [export(tmp_path / "in", relapses=text)])

    assert "no such day in the calendar" in next(p for p in errors if p.column == "onset_date").rule


def test_a_failure_while_staging_leaves_no_patient_data(tmp_path, sets, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(importer.pq.ParquetWriter, "write_table", broken)
    before = state(sets)

    with pytest.raises(OSError, match="disk full"):
        import_files([export(tmp_path / "in")], sets, user="u")

    assert state(sets) == before and not list(sets.glob(".staging-*"))


# 4. encodings

def test_a_file_mixing_utf8_and_cp1252_names_the_first_bad_line(tmp_path, sets):
    text = (b"patient_id,onset_date,severity\nP1,2020-05-02,mild\n"
            + "P1,2020-06-02,modérée\n".encode()
            + "P1,2020-07-02,sévère\n".encode("cp1252"))

    refused(sets, [export(tmp_path / "in", relapses=text)],
            r"relapses\.csv: line 4 is not UTF-8 but line 3 is: the file mixes two encodings")


def test_a_stray_undecodable_byte_names_its_line(tmp_path, sets):
    text = TINY["edss"].encode() + b"P1,2020-09-01,3.0\x81\n"

    refused(sets, [export(tmp_path / "in", edss=text)],
            r"edss\.csv: line 3 holds a byte \(0x81\) that is neither UTF-8 nor Windows-1252")


def test_a_pure_cp1252_file_is_still_read_and_named(tmp_path, sets):
    text = TINY["patients"].replace("site", "site").replace(",5.5\n", ",5.5\n").encode("cp1252")
    text = text.replace(b"disease_duration_years\n", b"disease_duration_years,site\n")
    text = text.replace(b",5.5\n", ",5.5,Hôpital Saint-Étienne\n".encode("cp1252"))
    text = text.replace(b",2.0\n", b",2.0,Kiel\n")

    result = import_files([export(tmp_path / "in", patients=text)], sets, user="u")

    assert result.version and any("not UTF-8; read as Windows-1252" in n for n in result.notes)
    sites = pd.read_parquet(importer.active_location(sets) / "patients.parquet")["site"]
    assert sites.tolist() == ["Hôpital Saint-Étienne", "Kiel"]


# 7. paths are paths

def write_parquet_dataset(folder: Path, copies: int) -> Path:
    """A valid dataset holding this many copies of the tiny export (2 patients each)."""
    folder.mkdir(parents=True)
    for table, text in TINY.items():
        frame = pd.read_csv(io.StringIO(text))
        out = pd.concat([frame.assign(patient_id=frame["patient_id"] + f"-{i}") for i in range(copies)],
                        ignore_index=True)
        for column in out.columns:
            if column.endswith("_date"):
                out[column] = pd.to_datetime(out[column]).dt.date
        out.to_parquet(folder / f"{table}.parquet")
    return folder


@pytest.mark.parametrize(("name", "neighbour"), [("cohort*", "cohortA"), ("a[1]", "a1"), ("q?", "qx")])
def test_a_dataset_folder_with_glob_characters_is_opened_literally(tmp_path, name, neighbour):
    write_parquet_dataset(tmp_path / neighbour, copies=3)
    own = write_parquet_dataset(tmp_path / name, copies=1)

    total = summary(Dataset(own), Filters())["patients"]["total"]

    assert total == 2  # not 8: the neighbour's files are not read
    assert importer.validate(own) == []


def test_an_import_into_a_datasets_folder_with_glob_characters_keeps_to_it(tmp_path):
    sets = tmp_path / "sets*"
    (tmp_path / "setsA").mkdir()

    version = import_files([export(tmp_path / "in")], sets, user="u").version

    assert summary(Dataset(importer.active_location(sets)), Filters())["patients"]["total"] == 2
    assert version and not list((tmp_path / "setsA").iterdir())


# 3. staging left by a killed import is cleaned at the next start, a running one never

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from queries.importer import read_sources, stage
    staged = stage(read_sources([Path(sys.argv[1])], []), Path(sys.argv[2]), [])
    print(staged.path, flush=True)
    time.sleep(120)
""")


def test_a_running_import_in_another_process_is_never_cleaned_and_a_killed_one_is(tmp_path):
    sets = tmp_path / "sets"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(export(tmp_path / "in")), str(sets)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        staging = Path(holder.stdout.readline().strip())
        assert (staging / "patients.parquet").exists()

        assert importer.clean_staging(sets) == []
        assert (staging / "patients.parquet").exists()  # another user's import goes on

        holder.kill()
        holder.wait(10)
        assert importer.clean_staging(sets) == [staging]
        assert not staging.exists()
    finally:
        holder.kill()
        holder.stdout.close()


def test_a_second_check_in_this_process_keeps_the_other_sessions_import(tmp_path):
    sets = tmp_path / "sets"
    notes: list[str] = []
    first = importer.stage(importer.read_sources([export(tmp_path / "a")], notes), sets, notes)
    second = importer.stage(importer.read_sources([export(tmp_path / "b")], notes), sets, notes)

    importer.clean_staging(sets)
    importer.discard(second)

    assert (first.path / "patients.parquet").exists() and not second.path.exists()
    assert importer.activate_staged(first, sets, "u")
    assert not list(sets.glob(".staging-*"))


def test_a_staged_import_that_is_dropped_leaves_nothing(tmp_path):
    sets = tmp_path / "sets"
    staged = importer.stage(importer.read_sources([export(tmp_path / "a")], []), sets, [])
    path = staged.path

    del staged  # the session that held it ended

    assert not path.exists()


def test_a_leftover_without_an_owner_is_removed_only_when_old(tmp_path):
    sets = tmp_path / "sets"
    young, old = sets / ".staging-young", sets / ".staging-old"
    for folder in (young, old):
        folder.mkdir(parents=True)
        (folder / "patients.parquet").write_bytes(b"patient data")
    past = time.time() - importer.ABANDONED_UNLOCKED_S - 60
    os.utime(old, (past, past))

    assert importer.clean_staging(sets) == [old]
    assert young.exists()


# 6. text from users and links is shown as text

def test_an_upload_name_with_markdown_is_kept_as_the_file_name(tmp_path):
    notes: list[str] = []
    files = [("[x](https://evil.example).csv", b"a\n1\n")]

    read_uploads(files, notes)

    assert notes == ["[x](https://evil.example).csv: no contract table of that name; file ignored"]


def test_an_excel_sheet_wider_than_the_limit_is_refused_before_its_cells_are_read(tmp_path, sets):
    book = tmp_path / "export.xlsx"
    with pd.ExcelWriter(book) as xl:
        for table, text in TINY.items():
            pd.read_csv(io.StringIO(text)).to_excel(xl, sheet_name=table, index=False)
        pd.DataFrame([list(range(6_000))]).to_excel(xl, sheet_name="labs", index=False)

    refused(sets, [book], r"export\.xlsx \[labs\]: 6,000 columns; at most 5,000 are read")


def test_an_excel_workbook_that_expands_beyond_the_limit_is_refused(tmp_path, sets):
    book = tmp_path / "export.xlsx"
    with pd.ExcelWriter(book) as xl:
        pd.DataFrame({"patient_id": ["P1"] * 60_000}).to_excel(xl, sheet_name="patients", index=False)
    assert book.stat().st_size < 500_000

    refused(sets, [book], r"export\.xlsx: expands to .* over the 1 MB limit", max_mb=1)
