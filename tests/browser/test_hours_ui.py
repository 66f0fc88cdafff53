"""In Chromium: the admin sets the chat's look and the team's working hours on their pages,
and a client who writes after hours sees the greeting, the colour, the bot's auto-reply with
the next opening and an honest queue note. Screenshots of both pages and of the offline chat
(OKNO_SCREENSHOTS=docs/screenshots refreshes the documentation's pictures)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.async_api import expect

from tests.browser.conftest import PageErrors, client_page
from tests.browser.test_chat_ui import bubble
from tests.browser.test_screenshots import shots_folder
from tests.conftest import ADMIN_PASSWORD, ServerProcess
from tests.fresh_okno import ClockFile, fresh_okno

NEXT_OPENING = "завтра, 2 декабря, в 09:00 по московскому времени"


@pytest.fixture(scope="module")
def clock(tmp_path_factory: pytest.TempPathFactory) -> ClockFile:
    return ClockFile(tmp_path_factory.mktemp("clock") / "now")


@pytest.fixture(scope="module")
def okno(database_url: str, clock: ClockFile) -> Iterator[ServerProcess]:
    clock.set("2026-12-01T20:15:00+03:00")  # a Tuesday evening
    with fresh_okno(database_url, OKNO_TEST_CLOCK_FILE=str(clock.path)) as server:
        yield server


async def admin_page(browser, url: str):
    context = await browser.new_context(viewport={"width": 1200, "height": 1000}, locale="ru-RU")
    page = await context.new_page()
    page.errors = PageErrors(page)
    await page.goto(f"{url}/admin/login")
    await page.fill("input[name=login]", "admin")
    await page.fill("input[name=password]", ADMIN_PASSWORD)
    async with page.expect_navigation():
        await page.click("form button.primary")
    return page


async def test_the_admin_shapes_the_chat_and_hours_and_a_client_writes_after_hours(
    browser, okno, tmp_path
) -> None:
    folder = shots_folder(tmp_path)
    admin = await admin_page(browser, okno.url)

    # «Чат и виджет»: title, greeting, colour, the launcher's corner, the shop's site.
    await admin.get_by_role("link", name="Чат и виджет").click()
    await admin.get_by_label("Заголовок чата").fill("Ромашка — помощь")
    await admin.get_by_label("Приветствие").fill(
        "Добрый день! Спросите о букетах, доставке и оплате — ответим здесь же."
    )
    await admin.get_by_label("Цвет").fill("#c2185b")
    await admin.get_by_label("слева внизу").check()
    await admin.get_by_label("Сайты, где разрешён виджет").fill("https://romashka.example.ru")
    await admin.get_by_role("button", name="Сохранить").click()
    await expect(admin.get_by_role("status")).to_have_text("Сохранено.")
    await expect(admin.locator("#widget-snippet")).to_have_text(
        f'<script async src="{okno.url}/widget.js"></script>'
    )
    await admin.screenshot(path=folder / "admin-chat-settings.png", full_page=True)

    # «Часы работы»: «Поддержка» works 9 to 18 on weekdays, Moscow time.
    await admin.get_by_role("link", name="Часы работы").click()
    team = admin.locator("#team-1")
    await team.get_by_label("Круглосуточно").uncheck()
    await expect(team.get_by_label("понедельник: начало")).to_have_value("09:00")
    await team.get_by_label("пятница: конец").fill("17:00")
    await team.get_by_role("button", name="Сохранить часы «Поддержка»").click()
    await expect(admin.locator("#team-1 .chip")).to_have_text(
        f"сейчас не работает — откроется {NEXT_OPENING}"
    )
    await expect(admin.locator("#team-1").get_by_label("пятница: конец")).to_have_value("17:00")
    await admin.screenshot(path=folder / "admin-hours.png", full_page=True)
    assert admin.errors.errors == []

    # The client: the console's title, greeting and colour; after hours, said before writing.
    client = await client_page(browser, okno.url, width=1000, height=760)
    await expect(client.locator(".chat-name")).to_have_text("Ромашка — помощь")
    await expect(client.locator(".welcome-greeting")).to_contain_text("Спросите о букетах")
    await expect(client.locator(".welcome-availability")).to_have_text(
        f"Сейчас нерабочее время. Оставьте сообщение — операторы ответят {NEXT_OPENING}."
    )
    accent = await client.evaluate(
        "() => getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()"
    )
    assert accent == "#c2185b"

    composer = client.locator(".composer-input")
    await composer.fill("Добрый вечер! Можно завтра доставить букет к 12:00?")
    await composer.press("Enter")
    await expect(bubble(client, "Сейчас нерабочее время. Операторы ответят")).to_have_count(1)
    note = client.locator(".queue-note")
    await expect(note).to_have_text(
        f"Вы в очереди: 1. Сейчас нерабочее время: ответим {NEXT_OPENING}."
        " Сообщение дождётся оператора."
    )
    await expect(client.locator(".chat-status")).to_have_text("Вы в очереди: 1")
    await expect(client.get_by_text("Оператор скоро ответит")).to_have_count(0)
    await client.screenshot(path=folder / "chat-outside-hours.png")
    assert client.errors.errors == []
    await client.context.close()
    await admin.context.close()
