"""Browser tests: Playwright's async API drives Debian's chromium against the real server.

`playwright install` cannot download browsers on these machines, so the tests use the system
chromium. Where it is missing they skip (`apt-get install chromium`), unless
OKNO_REQUIRE_BROWSER=1 (CI), where a missing browser fails the run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import STAFF_PASSWORD

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HERE = Path(__file__).resolve().parent


def chromium_path() -> str | None:
    for candidate in (
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        reason = "chromium is not installed: apt-get install chromium"
        if os.environ.get("OKNO_REQUIRE_BROWSER") == "1":
            pytest.fail(f"OKNO_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
async def browser(chromium: str) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


class PageErrors:
    """JavaScript errors and CSP violations on a page: every test asserts there are none."""

    def __init__(self, page: object) -> None:
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on(
            "console",
            lambda message: (
                self.errors.append(f"console: {message.text}")
                if message.type == "error" and "Content Security Policy" in message.text
                else None
            ),
        )


async def client_page(browser: object, base_url: str, *, width: int = 1280, height: int = 860):
    """A fresh visitor (its own cookie jar) on /chat, connected."""
    context = await browser.new_context(viewport={"width": width, "height": height}, locale="ru-RU")
    page = await context.new_page()
    page.errors = PageErrors(page)
    await page.goto(f"{base_url}/chat")
    await page.wait_for_function("() => window.okno && window.okno.socket.state === 'open'")
    return page


async def signed_in_staff(
    browser: object, base_url: str, login: str, *, width: int = 1400, height: int = 860
):
    """A staff member signed in through the form (its own cookie jar), on the page it leads to."""
    context = await browser.new_context(viewport={"width": width, "height": height}, locale="ru-RU")
    page = await context.new_page()
    page.errors = PageErrors(page)
    await page.goto(f"{base_url}/admin/login")
    await page.fill("input[name=login]", login)
    await page.fill("input[name=password]", STAFF_PASSWORD)
    async with page.expect_navigation():
        await page.click("form button.primary")
    assert "/admin/login" not in page.url, "sign-in failed"
    return page


async def staff_page(
    browser: object, base_url: str, login: str, *, width: int = 1400, height: int = 860
):
    """A staff member signed in through the form, on the operator console."""
    page = await signed_in_staff(browser, base_url, login, width=width, height=height)
    await page.goto(f"{base_url}/admin/chats")
    await page.wait_for_function("() => window.okno && window.okno.socket.state === 'open'")
    return page
