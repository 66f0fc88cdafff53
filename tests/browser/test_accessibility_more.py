"""The states the first accessibility pass did not reach, checked the same way (axe-core's WCAG
2.1 A and AA rules at desktop and phone sizes, no sideways scroll): staff's own home pages after
sign-in, a supervisor's teams and hours, two admin forms refused, and, for a client, the
out-of-hours welcome, the queue note and the mailing unsubscribe page; a bot question the
client answered and a destroyed client's conversation in the console. See docs/ui.md,
«Accessibility».
"""

from __future__ import annotations

import re
import secrets
import urllib.parse

import asyncpg
from playwright.async_api import expect

from okno.platform.staff.roles import Role
from tests.browser.conftest import PageErrors, client_page, staff_page
from tests.browser.test_accessibility_client import at_both_sizes
from tests.browser.test_accessibility_staff import Checks, signed_in
from tests.browser.test_chat_ui import bubble, conversation_of, open_menu, operator_opens
from tests.browser.test_console_state import client_says
from tests.browser.test_hours_ui import NEXT_OPENING, admin_page, clock, okno  # noqa: F401
from tests.chat_support import Staff, join_team
from tests.conftest import ADMIN_PASSWORD, staff_client
from tests.test_mailings import (  # noqa: F401 (fixtures)
    email_subscriber,
    mail_server,
    mailbox,
    okno_cli,
    send_email_mailing,
    until_sent,
)

SPECIAL_TEXT = "У меня астма, нужна консультация"


async def test_the_operator_and_the_dpo_home_pages_after_sign_in(
    browser, base_url, make_staff
) -> None:
    checks = Checks()
    for role, state in ((Role.OPERATOR, "operator"), (Role.DPO, "DPO")):
        user = await make_staff(role)
        page = await signed_in(browser, base_url, user.login)
        await page.wait_for_load_state()
        assert urllib.parse.urlsplit(page.url).path.rstrip("/") == "/admin", (
            page.url
        )  # their own home
        await checks.check(page, f"{state}, home after sign-in")
        assert page.errors.errors == []
        await page.context.close()
    checks.done()


async def test_a_supervisors_home_teams_and_hours(browser, base_url, make_staff) -> None:
    boss = await make_staff(Role.SUPERVISOR)
    checks = Checks()
    page = await signed_in(browser, base_url, boss.login)
    await page.wait_for_load_state()
    await checks.check(page, "supervisor, home after sign-in")
    await page.goto(f"{base_url}/admin/teams/")
    await checks.check(page, "supervisor, teams")
    await page.locator("table a[href^='/admin/teams/']").first.click()
    await page.wait_for_load_state()
    await expect(page.locator("h1")).to_be_visible()
    await checks.check(page, "supervisor, a team (its members)")
    await page.goto(f"{base_url}/admin/hours/")
    await expect(page.locator("h1")).to_contain_text("Часы работы")
    await checks.check(page, "supervisor, working hours")
    checks.done()
    assert page.errors.errors == []
    await page.context.close()


async def test_two_admin_forms_refused(browser, base_url, make_staff) -> None:
    admin = await make_staff(Role.ADMIN)
    checks = Checks()
    page = await signed_in(browser, base_url, admin.login)

    # A team named only with spaces (the browser's «required» lets it through, the server not).
    await page.goto(f"{base_url}/admin/teams/")
    await page.fill("form[action='/admin/teams/'] input[name=name]", "   ")
    async with page.expect_navigation():
        await page.locator("form[action='/admin/teams/'] button").first.click()
    await expect(page.locator(".alert")).to_be_visible()
    await checks.check(page, "admin, a team with an empty name refused")

    # A staff account with a weak password: long enough, but one letter repeated.
    await page.goto(f"{base_url}/admin/staff/")
    form = page.locator("form[action='/admin/staff/']")
    await form.locator("input[name=login]").fill(f"weak{secrets.token_hex(3)}")
    await form.locator("input[name=password]").fill("aaaaaaaaaaaa")
    async with page.expect_navigation():
        await form.locator("button").first.click()
    await expect(page.locator(".alert")).to_be_visible()
    await checks.check(page, "admin, a staff account with a weak password refused")
    checks.done()
    assert page.errors.errors == []
    await page.context.close()


async def test_the_out_of_hours_welcome_and_the_queue_note(browser, okno, clock) -> None:  # noqa: F811
    # «Поддержка» works 9 to 18 on weekdays; the clock (module fixture) says Tuesday 20:15.
    admin = await admin_page(browser, okno.url)
    await admin.get_by_role("link", name="Часы работы").click()
    team = admin.locator("#team-1")
    await team.get_by_label("Круглосуточно").uncheck()
    await team.get_by_role("button", name="Сохранить часы «Поддержка»").click()
    await expect(admin.locator("#team-1 .chip")).to_contain_text("сейчас не работает")
    await admin.context.close()

    client = await client_page(browser, okno.url)
    await expect(client.locator(".welcome-availability")).to_contain_text("Сейчас нерабочее время")
    await at_both_sizes(client, "/chat out of hours, the welcome")
    await client.locator(".composer-input").fill("Добрый вечер! Можно завтра доставить букет?")
    await client.locator(".composer-input").press("Enter")
    await expect(client.locator(".queue-note")).to_contain_text("Вы в очереди: 1")
    await expect(client.locator(".queue-note")).to_have_attribute("role", "status")  # announced
    await at_both_sizes(client, "/chat out of hours, in the queue")
    assert client.errors.errors == []
    await client.context.close()

    # Moving time (the server's test clock): Wednesday 10:00, open, and no operator online.
    clock.set("2026-12-02T10:00:00+03:00")
    waiting = await client_page(browser, okno.url)
    await waiting.locator(".composer-input").fill("Здравствуйте, где мой заказ?")
    await waiting.locator(".composer-input").press("Enter")
    await expect(waiting.locator(".queue-note")).to_contain_text("Вы в очереди")
    await expect(waiting.locator(".queue-note")).to_have_attribute("role", "status")
    await expect(waiting.locator(".queue-note")).not_to_contain_text("нерабочее время")
    await at_both_sizes(waiting, "/chat in the queue, no operator online")
    assert waiting.errors.errors == []
    await waiting.context.close()


async def test_the_unsubscribe_page(browser, mail_server, mailbox) -> None:  # noqa: F811
    okno_cli(mail_server.database, "user", "add", "sup", "--role", "supervisor")
    supervisor = await Staff.open(mail_server.url, "sup")
    address = f"client.{secrets.token_hex(4)}@example.ru"
    await email_subscriber(mail_server.url, supervisor, address)
    admin = await staff_client(mail_server.url, "admin", ADMIN_PASSWORD)
    conn = await asyncpg.connect(mail_server.database.url)
    try:
        await until_sent(conn, await send_email_mailing(admin, "Скидка 30% до воскресенья"))
    finally:
        await conn.close()
        await admin.aclose()
        await supervisor.close()
    [letter] = mailbox.to(address)
    link = re.search(r"Отписаться от рекламных писем: (http\S+)", letter.get_content())
    assert link

    context = await browser.new_context(locale="ru-RU")
    page = await context.new_page()
    errors = PageErrors(page)
    # The link names the public address; this server listens on its own port.
    await page.goto(mail_server.url + urllib.parse.urlsplit(link[1]).path)
    await expect(page.get_by_text("Отписаться от рекламных писем?")).to_be_visible()
    await at_both_sizes(page, "/unsubscribe, the question")
    async with page.expect_navigation():
        await page.get_by_role("button").first.click()
    await expect(page.get_by_text("Вы отписались")).to_be_visible()
    await at_both_sizes(page, "/unsubscribe, done")
    assert errors.errors == []
    await context.close()


async def test_the_dpo_decides_on_a_marked_message(browser, base_url, make_staff) -> None:
    """An operator marks a client's message as health data from the console's menu; the DPO
    opens it from the special-categories queue to decide."""
    user = await make_staff(Role.OPERATOR)
    await join_team(user.id)
    client = await client_page(browser, base_url)
    operator = await staff_page(browser, base_url, user.login)
    await client.locator(".topic-button").first.click()
    await client.locator(".composer-input").fill(SPECIAL_TEXT)
    await client.locator(".composer-input").press("Enter")
    await expect(bubble(client, SPECIAL_TEXT).locator(".ticks.sent")).to_be_visible()
    await operator_opens(operator, await conversation_of(client))
    await open_menu(operator, SPECIAL_TEXT, "Особая категория данных…")
    await operator.get_by_role("menuitem", name="Сведения о здоровье").click()
    await expect(operator.get_by_text("передано ответственному")).to_be_visible()
    dpo = await signed_in(browser, base_url, (await make_staff(Role.DPO)).login)
    await dpo.goto(f"{base_url}/admin/dpo/special")
    async with dpo.expect_navigation():
        await dpo.get_by_role("link", name="Открыть и решить").first.click()
    checks = Checks()
    await checks.check(dpo, "DPO, a marked message to decide on")
    checks.done()
    assert dpo.errors.errors == []
    for page in (client, operator, dpo):
        await page.context.close()


async def test_an_answered_bot_question_and_a_destroyed_clients_conversation(
    browser, base_url, make_staff
) -> None:
    boss = await make_staff(Role.SUPERVISOR)
    dpo = await staff_client(base_url, (await make_staff(Role.DPO)).login)
    dpo.timeout = 60  # a destruction rebuilds tables before it answers
    checks = Checks()
    client, conversation = await client_says(browser, base_url, "Хочу оставить e-mail")
    staff = await Staff.open(base_url, boss.login)
    try:
        await staff.open_conversation(conversation)
        await staff.send(type="offer_consent", conversation=conversation, purpose="support")
        await client.get_by_role("button", name="Не сейчас").click()
        await expect(client.locator(".bot-choice")).to_have_text("Выбрано: Не сейчас")
        await checks.check(client, "chat, a bot question answered (its echo)")

        console = await staff_page(browser, base_url, boss.login)
        await console.get_by_role("tab", name="Все").click()
        await console.locator(f'.conv-item[data-id="{conversation}"]').click()
        subject = await console.evaluate(
            f"() => window.okno.state.convs.get({conversation}).client.subject_id"
        )
        destroyed = await dpo.post(
            f"/admin/dpo/subjects/{subject}/destroy",
            data={"confirm": "yes", "reason": "отзыв согласия", "_csrf_token": dpo.csrf},
        )
        assert destroyed.status_code == 303, destroyed.text
        await expect(console.locator(".conv-destroyed")).to_be_visible()
        await checks.check(console, "console, a destroyed client's conversation")
        checks.done()
        assert console.errors.errors == []
        await console.context.close()
    finally:
        await staff.close()
        await dpo.aclose()
        await client.context.close()
