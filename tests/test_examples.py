"""The worked examples in examples/ convert without a problem, produce what examples/README.md says,
and are exactly what examples/make_examples.py writes."""

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from examples.make_examples import BUILDERS, EXAMPLE_PATIENTS, demo_tables, main
from queries.mapping import convert

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
ALL = ("patients", "infusions", "relapses", "edss", "mri", "labs", "adverse_events", "engagement")
COVERED = {"wide_workbook": ALL, "redcap": ALL, "spss": ("patients", "infusions"),
           "stata": ("patients", "infusions")}


@pytest.mark.parametrize("kind", list(BUILDERS))
def test_each_example_converts_to_the_demo_tables_it_covers(kind, tmp_path):
    folder = EXAMPLES / kind
    # the first 12 demo patients, read straight from data/demo
    expected = demo_tables(ROOT / "data" / "demo", EXAMPLE_PATIENTS)

    ok, problems, notes = convert([folder], folder / "mapping.toml", tmp_path / "ds")

    assert ok, problems
    assert [p for p in problems if p.severity == "error"] == []
    for table in ALL:
        path = tmp_path / "ds" / f"{table}.parquet"
        if table in COVERED[kind]:
            assert len(pd.read_parquet(path)) == len(expected[table]), table
        elif table in ("relapses", "edss", "adverse_events"):
            assert pd.read_parquet(path).empty
            assert f"warning: the mapping has no source for {table}; written empty" in notes


def test_the_readme_has_a_line_for_each_example_with_its_counts():
    readme = (EXAMPLES / "README.md").read_text()
    demo = demo_tables(ROOT / "data" / "demo", EXAMPLE_PATIENTS)

    for kind in BUILDERS:
        assert f"| `{kind}/` |" in readme
    assert f"{len(demo['infusions'])} infusions" in readme
    assert f"{len(demo['engagement'])} contacts" in readme


def content(path: Path) -> object:
    """A file's content; a workbook's as its unpacked parts (compressed bytes vary with zlib)."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return {name: z.read(name) for name in sorted(z.namelist())}
    return path.read_bytes()


def test_the_committed_examples_are_what_the_generator_writes(tmp_path):
    main(tmp_path)

    for written in sorted(tmp_path.rglob("*")):
        if written.is_file():
            committed = EXAMPLES / written.relative_to(tmp_path)
            assert content(committed) == content(written), committed
