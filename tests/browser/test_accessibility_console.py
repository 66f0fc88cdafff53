"""The operator console's triage, notification and collision states, checked as every page is
(axe-core's WCAG 2.1 A and AA rules at desktop and phone sizes, no sideways scroll; docs/ui.md,
«Accessibility»): the filters open, the notifications dialog, the snooze menu and its time
dialog, a snoozed conversation, a colleague on the same conversation, a supervisor's bulk
selection, and the SLA timers of the lists (counting down, and breached, selected or not).
"""

from __future__ import annotations

import os
from pathlib import Path

import asyncpg
from playwright.async_api import expect

from okno.platform.staff.roles import Role
from tests.browser.conftest import staff_page
from tests.browser.test_accessibility_staff import Checks
from tests.browser.test_console_triage import move_back, sla_desk
from tests.chat_support import Client, resolve


async def screenshot(page, name: str) -> None:
    """With OKNO_SCREENSHOTS=docs/screenshots, the documentation's pictures of these states."""
    if folder := os.environ.get("OKNO_SCREENSHOTS"):
        await page.screenshot(path=Path(folder) / name)


async def test_the_console_triage_and_collision_states_are_accessible(
    browser, base_url, make_staff
) -> None:
    checks = Checks()
    boss = await make_staff(Role.SUPERVISOR)
    colleague = await make_staff(Role.SUPERVISOR)
    clients = [await Client.open(base_url) for _ in range(2)]
    ids = [
        (await client.say(text))["conversation"]
        for client, text in zip(clients, ("Где мой заказ?", "Не проходит оплата"), strict=True)
    ]
    console = await staff_page(browser, base_url, boss.login)
    other = await staff_page(browser, base_url, colleague.login)
    for page in (console, other):
        await page.get_by_role("tab", name="Все").click()
        await page.locator(f'.conv-item[data-id="{ids[0]}"]').click()
    await expect(console.locator(".colleagues")).to_contain_text(colleague.display_name)

    await console.get_by_text("Фильтры и порядок").click()
    await checks.check(console, "console, the filters open and a colleague on the conversation")
    await screenshot(console, "console-triage.png")

    await console.get_by_role("button", name="Уведомления").click()
    await expect(console.get_by_role("dialog", name="Уведомления")).to_be_visible()
    await checks.check(console, "console, the notifications dialog")
    await screenshot(console, "console-notifications.png")
    await console.keyboard.press("Escape")

    await console.get_by_role("button", name="Отложить").click()
    await expect(console.get_by_role("menuitem", name="На 1 час")).to_be_visible()
    await checks.check(console, "console, the snooze menu open")
    if not await console.get_by_role("menuitem", name="Выбрать время…").is_visible():
        await console.get_by_role("button", name="Отложить").click()  # resizing closed it
    await console.get_by_role("menuitem", name="Выбрать время…").click()
    await expect(console.get_by_role("dialog", name="Отложить диалог")).to_be_visible()
    await checks.check(console, "console, the snooze time dialog")
    await console.keyboard.press("Escape")
    await console.get_by_role("button", name="Отложить").click()
    await console.get_by_role("menuitem", name="На 1 час").click()
    await expect(console.locator(".snoozed-note")).to_be_visible()
    await checks.check(console, "console, a snoozed conversation")

    await console.get_by_role("button", name="Выбрать несколько").click()
    await console.locator(f'.conv-item[data-id="{ids[1]}"]').click()
    await expect(console.locator(".bulk-count")).to_have_text("Выбрано: 1")
    await checks.check(console, "console, a supervisor's bulk selection")
    await screenshot(console, "console-bulk.png")

    checks.done()
    assert console.errors.errors == []
    assert other.errors.errors == []
    await resolve(base_url, boss.login, ids)  # no chat left waiting for a later test
    for client in clients:
        await client.close()
    await console.context.close()
    await other.context.close()


async def test_the_lists_sla_timers_are_accessible(browser, base_url, make_staff, database_url):
    checks = Checks()
    boss = await make_staff(Role.SUPERVISOR)
    late = await sla_desk(base_url, "Где мой заказ?")
    early = await sla_desk(base_url, "Не проходит оплата")
    reader = await asyncpg.connect(database_url)
    await move_back(reader, late.conversation, 30)  # one of the two is past its target
    await reader.close()
    console = await staff_page(browser, base_url, boss.login)
    await console.get_by_role("tab", name="Все").click()
    for desk, shown in ((late, "SLA нарушен"), (early, "SLA: первый ответ через")):
        chip = console.locator(f'.conv-item[data-id="{desk.conversation}"] .chip-sla')
        await expect(chip).to_contain_text(shown)
    await checks.check(console, "console, SLA timers in the list")
    await console.locator(f'.conv-item[data-id="{late.conversation}"]').click()
    await checks.check(console, "console, a breached SLA on the selected chat")
    await screenshot(console, "console-sla.png")

    checks.done()
    assert console.errors.errors == []
    for desk in (late, early):
        await desk.close(base_url, boss.login)
    await console.context.close()
