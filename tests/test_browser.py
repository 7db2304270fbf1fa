"""End to end: start the app, open every page in headless Chromium, and fail on any error shown."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PAGES = ["", "subtypes", "survival", "edss", "safety", "virtual-care"]
CHROME_ARGS = [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]

if not Path(CHROMIUM).exists():
    if os.environ.get("REQUIRE_BROWSER"):
        raise RuntimeError("REQUIRE_BROWSER is set but Chromium is not installed")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url():
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
         f"--server.port={port}", "--server.fileWatcherType=none", "--browser.gatherUsageStats=false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the app did not start within 60 s")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS)
        yield b
        b.close()


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(url)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_timeout(500)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    return page


def assert_no_error(page, where: str) -> None:
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, f"{where}: {exceptions.first.inner_text()}"
    errors = page.locator('[data-testid="stAlertContentError"]')
    assert errors.count() == 0, f"{where}: {errors.first.inner_text()}"


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_without_an_error(browser, app_url, path):
    page = open_page(browser, f"{app_url}/{path}")

    page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=30_000)  # charts load lazily
    assert_no_error(page, path or "overview")
    assert "of 99 patients selected" in page.inner_text("body")
    page.close()


def test_a_shared_link_restores_the_filters_on_another_page(browser, app_url):
    page = open_page(browser, f"{app_url}/survival?subtype=RRMS&subtype=NMOSD&followup=12&followup=30")

    body = page.inner_text("body")
    assert_no_error(page, "survival with filters")
    assert "subtypes: RRMS, NMOSD" in body
    assert "follow-up" in body and "of 99 patients selected" in body
    page.close()


def test_bad_values_in_a_link_are_ignored_with_a_notice(browser, app_url):
    page = open_page(browser, f"{app_url}/edss?subtype=XYZ&doses=abc")

    assert_no_error(page, "edss with bad link")
    assert "99 of 99 patients selected" in page.inner_text("body")
    assert page.locator('[data-testid="stToast"]').count() >= 1
    page.close()
