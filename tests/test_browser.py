"""End to end: start the app, open every page in headless Chromium, and fail on any error shown."""


import pytest

from tests.browser import app_server, chromium, require_chromium

PAGES = ["", "subtypes", "survival", "edss", "safety", "virtual-care"]

require_chromium()


@pytest.fixture(scope="module")
def app_url():
    with app_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


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
