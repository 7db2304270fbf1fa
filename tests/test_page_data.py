"""The Data page: the team sees the active dataset and its versions and can switch back; viewers cannot."""

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from queries import importer
from ui.auth import hash_password

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
DEMO = ROOT / "data" / "demo"


@pytest.fixture
def two_versions(tmp_path, monkeypatch):
    """A datasets folder with two imported versions, the second (5 relapses only) active."""
    src = tmp_path / "export"
    src.mkdir()
    for table in ("patients", "infusions", "relapses", "edss", "adverse_events"):
        pd.read_parquet(DEMO / f"{table}.parquet").to_csv(src / f"{table}.csv", index=False)
    root = tmp_path / "datasets"
    first = importer.import_files([src], root, user="a").version
    pd.read_csv(src / "relapses.csv").iloc[:5].to_csv(src / "relapses.csv", index=False)
    second = importer.import_files([src], root, user="b").version
    monkeypatch.delenv("RCE_DATA", raising=False)
    monkeypatch.setenv("RCE_DATASETS", str(root))
    return root, first, second


def test_the_app_shows_the_active_imported_version(two_versions):
    _, first, second = two_versions

    at = AppTest.from_file(APP, default_timeout=120).run()

    assert not at.exception
    assert any("99 of 99 patients selected" in m.value for m in at.markdown)
    at.switch_page("app_pages/data.py").run()
    assert any(f"Imported version **{second}**" in m.value for m in at.markdown)
    versions = at.dataframe[2].value if len(at.dataframe) > 2 else at.dataframe[-1].value
    assert set(versions["version"]) == {first, second}


def test_the_team_can_switch_back_to_an_earlier_version(two_versions):
    root, first, _ = two_versions
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/data.py").run()

    at.selectbox(key="version_choice").set_value(first).run()
    at.button(key="version_switch").click().run()

    assert importer.active(root)["version"] == first
    assert not at.exception


def test_viewers_have_no_data_page():
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["passwords"] = {"guest": {"hash": hash_password("pw", iterations=1000), "role": "viewer"}}
    at.run()
    at.text_input(key="signin_user").input("guest")
    at.text_input(key="signin_password").input("pw")
    at.button[0].click().run()
    assert at.session_state["role"] == "viewer"

    with pytest.raises(ValueError, match=r"Could not find a navigation page for .*app_pages/data.py"):
        at.switch_page("app_pages/data.py")
