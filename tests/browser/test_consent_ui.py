"""Consent in a real browser: nothing pre-checked anywhere, the policy linked in every footer and
in the bot's consent message, and only a deliberate click gives consent."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from okno.platform import database
from okno.platform.staff.roles import Role
from tests.browser.conftest import PageErrors
from tests.chat_support import Staff
from tests.conftest import ServerProcess

PUBLIC_PAGES = ("/", "/chat", "/policy", "/reviews", "/me/login", "/consents/processing-support")


@pytest.fixture(scope="module")
def prechat_server(database_url):
    server = ServerProcess(database_url, OKNO_PRECHAT_FORM="true")
    yield server
    server.stop()


async def test_no_consent_checkbox_is_ever_checked_when_a_page_loads(
    browser, prechat_server
) -> None:
    context = await browser.new_context(locale="ru-RU")
    page = await context.new_page()
    errors = PageErrors(page)
    for path in PUBLIC_PAGES:
        await page.goto(f"{prechat_server.url}{path}")
        checked = await page.locator("input[type=checkbox]:checked").count()
        assert checked == 0, path
        await expect(page.locator("footer a[href='/policy']")).to_have_count(1)
    await page.goto(f"{prechat_server.url}/chat")
    await expect(page.locator("input[type=checkbox]")).to_have_count(2)
    assert errors.errors == []
    await context.close()


async def test_the_prechat_form_and_the_consent_button_flow(
    browser, prechat_server, make_staff
) -> None:
    context = await browser.new_context(locale="ru-RU")
    page = await context.new_page()
    errors = PageErrors(page)
    await page.goto(f"{prechat_server.url}/chat")
    await page.fill("input[name=name]", "Вера")
    await page.fill("input[name=phone]", "+7 916 444-55-66")
    await page.get_by_role("button", name="Начать чат").click()
    await expect(page.locator(".alert")).to_contain_text("отметьте согласие на обработку")
    await page.fill("input[name=phone]", "+7 916 444-55-66")
    await page.check("input[name=processing]")
    await page.get_by_role("button", name="Начать чат").click()
    await page.wait_for_function("() => window.okno && window.okno.socket.state === 'open'")
    handle = await page.wait_for_function("() => window.okno.state.conversation")
    conversation = await handle.json_value()

    # The optional advertising offer in the chat: links to the policy and the text, two buttons.
    user = await make_staff(Role.SUPERVISOR)
    operator = await Staff.open(prechat_server.url, user.login)
    await operator.open_conversation(conversation)
    await operator.send(type="offer_consent", conversation=conversation, purpose="advertising-chat")
    offer = page.locator(".msg", has=page.get_by_role("button", name="Да, присылайте"))
    await expect(offer).to_have_count(1)
    await expect(offer.locator("a[href='/policy']")).to_have_count(1)
    async with database.acquire() as conn:
        before = await conn.fetchval(
            "SELECT count(*) FROM consent_event e JOIN conversation c ON c.subject_id = e.subject_id"
            " WHERE c.id = $1 AND e.purpose_code = 'advertising-chat'",
            conversation,
        )
    assert before == 0  # an offer shown is not consent
    await offer.get_by_role("button", name="Да, присылайте").click()
    await expect(page.locator(".msg", has_text="согласие сохранено")).to_have_count(1)
    async with database.acquire() as conn:
        controls = [
            r["control"]
            for r in await conn.fetch(
                "SELECT e.control FROM consent_event e JOIN conversation c ON c.subject_id = e.subject_id"
                " WHERE c.id = $1 ORDER BY e.id",
                conversation,
            )
        ]
    assert controls == [
        "checkbox:Согласие на обработку персональных данных",
        "button:Да, присылайте",
    ]
    assert errors.errors == []
    await operator.close()
    await context.close()
