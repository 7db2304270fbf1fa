"""Dataset locations: a folder, a DuckDB database file, a remote parquet prefix, a MotherDuck database."""

from pathlib import Path

import duckdb
import pytest

from analysis.summary import summary
from queries import Dataset, DatasetError, Filters
from queries.dataset import parse_location
from queries.validate import validate

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo"


@pytest.mark.parametrize(
    ("text", "kind", "patients_sql"),
    [
        (str(DEMO), "folder", f"read_parquet('{DEMO}/patients.parquet')"),
        ("s3://study-bucket/cohort/v3/", "remote", "read_parquet('s3://study-bucket/cohort/v3/patients.parquet')"),
        ("https://data.example.org/cohort", "remote", "read_parquet('https://data.example.org/cohort/patients.parquet')"),
        ("md:rituximab_registry", "motherduck", 'dataset_db.main."patients"'),
        ("/srv/cohort/study.duckdb", "duckdb", 'dataset_db.main."patients"'),
        ("/srv/it's here", "folder", "read_parquet('/srv/it''s here/patients.parquet')"),
    ],
)
def test_a_location_is_classified_by_its_form_and_read_from_the_right_place(text, kind, patients_sql):
    loc = parse_location(text)

    assert loc.kind == kind
    assert loc.relation("patients") == patients_sql


def test_a_duckdb_database_file_gives_the_same_summary_as_the_parquet_folder(tmp_path):
    db = tmp_path / "study.duckdb"
    with duckdb.connect(str(db)) as con:
        for f in DEMO.glob("*.parquet"):
            con.execute(f"create table {f.stem} as select * from read_parquet('{f}')")

    from_db = summary(Dataset(db), Filters(subtypes=("SPMS",)))

    assert from_db == summary(Dataset(DEMO), Filters(subtypes=("SPMS",)))
    assert validate(db) == []


def test_an_unreachable_remote_location_is_one_clear_error():
    # No network here: loading httpfs (or reading the bucket) fails, and says so in one line.
    with pytest.raises(DatasetError, match=r"^s3://study-bucket/cohort: "):
        Dataset("s3://study-bucket/cohort")


def test_the_app_setting_keeps_remote_locations_and_resolves_local_ones(monkeypatch):
    from ui import settings

    monkeypatch.setenv("RCE_DATA", "s3://study-bucket/cohort")
    assert settings.data_location() == "s3://study-bucket/cohort"
    monkeypatch.setenv("RCE_DATA", "md:registry")
    assert settings.data_location() == "md:registry"
    monkeypatch.setenv("RCE_DATA", "data/demo")
    assert settings.data_location() == str(DEMO)
