"""Hostile input through the app: link values and names are shown as text, settings that are not
numbers fall back to safe defaults, staging left by a killed import is removed when the app starts."""

import os
import time

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import APP
from ui import report, settings
from ui.text import plain

HOSTILE = "[click](https://evil.example) ![x](https://evil.example/a.png) <b>b</b> **s** :red[r]"


def test_plain_escapes_every_markdown_and_html_construct():
    text = plain(HOSTILE + "\n# heading\n- item | a | `code` $x$ www.evil.example a@b.org")

    for construct in ("[click]", "](", "![", "<b>", "**", ":red[", "`code`", "$x$", "\n"):
        assert construct not in text
    # every character is still there, only escaped (and autolinks broken by an invisible joiner)
    assert text.replace("\\", "").replace("\u2060", "") == (
        HOSTILE + " # heading - item | a | `code` $x$ www.evil.example a@b.org"
    )


def test_a_link_with_markdown_in_its_filter_values_is_echoed_as_text():
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["subtype"] = ["RRMS", HOSTILE]
    at.query_params["followup"] = ["nan", "inf"]

    at.run()

    assert not at.exception
    toasts = [t.value for t in at.toast]
    assert len(toasts) == 2
    assert all("](" not in t and "<b>" not in t for t in toasts)
    assert "followup=nan, inf (allowed: two numbers" in toasts[0].replace("\\", "")
    assert at.session_state["filters"].followup_min is None  # the values were not applied


def test_a_long_link_value_is_cut_in_the_notice():
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["site"] = ["x" * 100_000]

    at.run()

    assert len(at.toast[0].value) < 300


def test_the_report_escapes_names_from_the_dataset_and_the_link():
    table = pd.DataFrame({"site": ["<script>alert(1)</script>"], "n": [3]})
    sections = [{"title": "<img src=x onerror=alert(1)>", "figures": [
        {"name": "<b>chart</b>", "caption": "<a href='https://evil.example'>x</a>", "table": table}]}]

    html = report.build(sections, "sites: <script>x</script>", "v<1>", "<i>selected</i>", viewer=False)

    body = html.split("</script></head>", 1)[1]  # after the embedded plotly.js
    for raw in ("<script>alert", "<img src=x", "<b>chart", "<a href='https://evil", "<i>selected",
                "sites: <script>", "v<1>"):
        assert raw not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


@pytest.mark.parametrize("value", ["nan", "inf", "-5", "0", "lots"])
def test_a_size_limit_setting_that_is_not_a_positive_number_falls_back_to_200(monkeypatch, value):
    monkeypatch.setenv("RCE_MAX_UPLOAD_MB", value)

    assert settings.max_upload_mb() == 200.0


def test_staging_left_by_a_killed_import_is_removed_when_the_app_starts(tmp_path, monkeypatch):
    sets = tmp_path / "sets"
    left = sets / ".staging-killed"
    left.mkdir(parents=True)
    (left / ".owner").write_text('{"pid": 999999}')  # no process holds its lock any more
    (left / "patients.parquet").write_bytes(b"patient data")
    old = sets / ".staging-unowned"
    old.mkdir()
    past = time.time() - 3600
    os.utime(old, (past, past))
    monkeypatch.setenv("RCE_DATASETS", str(sets))
    settings.clean_staging_at_start.clear()  # the cleaning runs once per server process

    AppTest.from_file(str(APP), default_timeout=60).run()

    assert not left.exists() and not old.exists()
    settings.clean_staging_at_start.clear()
