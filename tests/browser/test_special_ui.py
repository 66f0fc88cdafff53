"""Marking special-category data from the console's message menu, in a real browser."""

from __future__ import annotations

from playwright.async_api import expect

from okno.platform.staff.roles import Role
from tests.browser.conftest import client_page, staff_page
from tests.browser.test_chat_ui import bubble, conversation_of, open_menu, operator_opens
from tests.chat_support import join_team

TEXT = "У меня астма, нужна консультация"


async def test_an_operator_marks_a_message_and_it_is_hidden_at_once(
    browser, base_url, make_staff
) -> None:
    user = await make_staff(Role.OPERATOR)
    await join_team(user.id)
    client = await client_page(browser, base_url)
    operator = await staff_page(browser, base_url, user.login)
    await client.locator(".topic-button").first.click()
    composer = client.locator(".composer-input")
    await composer.fill(TEXT)
    await composer.press("Enter")
    await expect(bubble(client, TEXT).locator(".ticks.sent")).to_be_visible()
    await operator_opens(operator, await conversation_of(client))
    await expect(bubble(operator, TEXT)).to_have_count(1)
    await open_menu(operator, TEXT, "Особая категория данных…")
    await operator.get_by_role("menuitem", name="Сведения о здоровье").click()
    await expect(operator.get_by_text("передано ответственному")).to_be_visible()
    await expect(bubble(operator, "скрыто: особая категория")).to_have_count(1)
    await expect(bubble(operator, TEXT)).to_have_count(0)
    await expect(bubble(client, TEXT)).to_have_count(1)  # the client still sees it
    await client.context.close()
    await operator.context.close()
