"""A real browser: Debian's chromium driven by Playwright (never a downloaded browser)."""

import os

import pytest
from django.db import connections

from tests.conftest import CHROMIUM, service_missing

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # The machine has no network: stop Chromium from trying to reach Google's services.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def _playwright_browser():
    """One Chromium for the whole run (the suite orders browser tests last)."""
    if not CHROMIUM:
        service_missing("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the Django ORM calls made
    # by the tests themselves are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def browser(_playwright_browser):
    yield _playwright_browser
    # While Playwright's loop runs, Django keeps this thread's connections in loop-local
    # storage; close them after each test or they outlive the test database.
    connections.close_all()
    for context in _playwright_browser.contexts:
        context.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    page = context.new_page()
    page.console_problems = []
    page.on(
        "console",
        lambda message: (
            message.type in {"error", "warning"} and page.console_problems.append(message.text)
        ),
    )
    page.on("pageerror", lambda error: page.console_problems.append(str(error)))
    yield page
    context.close()
