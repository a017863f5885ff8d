"""Playwright (sync API) driving Debian's chromium against pytest-django's live server.

Every test here is marked `browser`. Without chromium the tests are skipped on a workstation
but FAIL in CI (env CI set): a CI run must never go green by silently not testing the browser.
Screenshots land in tests/browser/screenshots/ (git-ignored) for a human to look at.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("KB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture(scope="module")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        message = f"chromium not found at {CHROMIUM}: apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the ORM calls the tests
    # make (fixtures, assertions) are still plain synchronous code, so Django's async guard does
    # not apply. Set only while the browser runs, so it never leaks into later tests or into
    # subprocesses they start (check --deploy rejects it).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


# Desktop, and a 390 px wide phone (the width the mobile checks are stated at).
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "mobile": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
# axe-core, vendored (tests/browser/vendor/README.md): injected into every document through the
# DevTools protocol, which the page's Content-Security-Policy does not apply to.
AXE = Path(__file__).parent / "vendor" / "axe.min.js"


@pytest.fixture
def open_page(browser, live_server):
    """`open_page("mobile")` gives a page in a fresh context at that viewport; console errors
    (CSP violations included) and uncaught exceptions collect in `page.console_errors`."""
    contexts = []

    def open_page(viewport: str = "desktop", **options):
        context = browser.new_context(base_url=live_server.url, **VIEWPORTS[viewport], **options)
        contexts.append(context)
        context.add_init_script(path=str(AXE))
        page = context.new_page()
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.console_errors = errors
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page):
    return open_page("desktop")


def axe_violations(page, impacts=("serious", "critical")) -> list[str]:
    """axe-core's violations of the given impact on the current page, one line each."""
    results = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:3]]}"
        for v in results
        if v["impact"] in impacts
    ]


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
