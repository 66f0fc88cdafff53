"""A mailing composed in the console reaches only the client who agreed, who then unsubscribes."""

from __future__ import annotations

import uuid

from playwright.async_api import expect

from okno.platform import database
from okno.platform.staff.roles import Role
from tests.browser.conftest import client_page, staff_page
from tests.chat_support import Staff


async def started(page, text: str) -> int:
    await page.locator(".composer-input").fill(text)
    await page.locator(".composer-input").press("Enter")
    handle = await page.wait_for_function("() => window.okno.state.conversation")
    return await handle.json_value()


async def test_a_mailing_reaches_only_the_consenting_client_who_can_unsubscribe(
    browser, base_url, make_staff
) -> None:
    tag = f"b{uuid.uuid4().hex[:8]}"
    supervisor_user = await make_staff(Role.SUPERVISOR)
    supervisor = await Staff.open(base_url, supervisor_user.login)
    agreeing = await client_page(browser, base_url)
    declining = await client_page(browser, base_url)
    agreeing_conversation = await started(agreeing, "Здравствуйте, я за скидками")
    declining_conversation = await started(declining, "Здравствуйте, только вопрос")
    for conversation in (agreeing_conversation, declining_conversation):
        await supervisor.open_conversation(conversation)
        await supervisor.http_client.post(
            f"/api/staff/conversations/{conversation}/tags",
            json={"tags": [tag]},
            headers={"x-csrf-token": supervisor.http_client.csrf},
        )

    # Only one of them takes the optional advertising offer, with a deliberate click.
    await supervisor.send(
        type="offer_consent", conversation=agreeing_conversation, purpose="advertising-chat"
    )
    await agreeing.get_by_role("button", name="Да, присылайте").click()
    await expect(agreeing.locator(".msg", has_text="согласие сохранено")).to_have_count(1)

    admin = await make_staff(Role.ADMIN)
    console = await staff_page(browser, base_url, admin.login)
    await console.goto(f"{base_url}/admin/mailings")
    await console.fill("input[name=title]", f"Акция {tag}")
    await console.fill("textarea[name=body]", "Скидка 30% на всё до воскресенья")
    await console.fill("input[name=tags]", tag)
    await console.get_by_role("button", name="Сохранить и посмотреть аудиторию").click()
    await expect(console.locator("text=Подходит под условия")).to_contain_text("2")
    chat_row = console.locator("tr", has_text="чат")
    await expect(chat_row.locator("td").nth(1)).to_have_text("1")  # will receive
    await expect(chat_row.locator("td").nth(2)).to_have_text("1")  # excluded: no consent
    await console.get_by_role("button", name="Отправить").click()

    mailing = agreeing.locator(".msg", has_text="Скидка 30% на всё до воскресенья")
    await expect(mailing).to_have_count(1, timeout=15_000)
    await declining.wait_for_timeout(500)
    await expect(declining.locator(".msg", has_text="Скидка 30%")).to_have_count(0)

    await mailing.get_by_role("button", name="Отписаться").click()
    await expect(
        agreeing.locator(".msg", has_text="Вы отписались от рекламных сообщений")
    ).to_have_count(1)
    async with database.acquire() as conn:
        withdrawn = await conn.fetchval(
            "SELECT count(*) FROM consent_event e JOIN conversation c ON c.subject_id = e.subject_id"
            " WHERE c.id = $1 AND e.kind = 'withdrawn' AND e.purpose_code = 'advertising-chat'",
            agreeing_conversation,
        )
    assert withdrawn == 1
    for page in (agreeing, declining, console):
        assert page.errors.errors == []
        await page.context.close()
    await supervisor.close()
