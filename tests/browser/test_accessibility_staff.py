"""Everything staff reach, checked by axe-core's WCAG 2.1 A and AA rules at desktop and phone
sizes (and, at the phone's width, that the page does not scroll sideways): the sign-in (and its
error), the operator console with a conversation open, the DPO console and every admin page.

State is arranged as users make it: a client writes on /chat, staff sign in and use the forms.
"""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from okno.platform.staff.roles import Role
from tests.browser.a11y import DESKTOP, PHONE, violations
from tests.browser.conftest import PageErrors, client_page, signed_in_staff, staff_page
from tests.browser.test_chat_ui import bubble, conversation_of
from tests.chat_support import Staff
from tests.test_destruction import make_person

# The elements that stick out past the right edge (the page then scrolls sideways), if any.
SIDEWAYS = """() => {
  const edge = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= edge) return null;
  return [...document.querySelectorAll("body *")]
    .filter((node) => node.getBoundingClientRect().right > edge + 1)
    .slice(0, 5)
    .map((node) => `${node.tagName.toLowerCase()}.${node.className}`)
    .join(", ");
}"""


class Checks:
    """Runs axe on each state at both sizes and keeps every violation, so one run lists them
    all; ``done`` fails the test with the list."""

    def __init__(self) -> None:
        self.found: list[str] = []

    async def check(self, page: Any, state: str) -> None:
        for name, size in (("desktop", DESKTOP), ("phone", PHONE)):
            await page.set_viewport_size(size)
            await page.wait_for_timeout(100)  # a layout pass for the media queries
            self.found += [f"{state} ({name}): {line}" for line in await violations(page)]
            wide = await page.evaluate(SIDEWAYS)
            if wide:  # a phone's width is also a desktop at 200-300 % zoom (WCAG 1.4.10)
                self.found.append(f"{state} ({name}): scrolls sideways, past the edge: {wide}")
        await page.set_viewport_size(DESKTOP)

    def done(self) -> None:
        assert self.found == [], "\n".join(self.found)


async def signed_in(browser: Any, base_url: str, login: str) -> Any:
    return await signed_in_staff(browser, base_url, login, **DESKTOP)


async def visit(page: Any, url: str, checks: Checks, state: str) -> None:
    response = await page.goto(url)
    assert response is not None, url
    assert response.status == 200, f"{url}: {response.status}"
    await checks.check(page, state)


async def test_the_staff_sign_in_is_accessible(browser, base_url, make_staff) -> None:
    user = await make_staff(Role.OPERATOR)
    checks = Checks()
    context = await browser.new_context(viewport=DESKTOP, locale="ru-RU")
    page = await context.new_page()
    page.errors = PageErrors(page)
    await page.goto(f"{base_url}/admin/login")
    await checks.check(page, "sign-in")
    await page.fill("input[name=login]", user.login)
    await page.fill("input[name=password]", "not-the-password")
    async with page.expect_navigation():
        await page.click("form button.primary")
    await expect(page.locator(".alert")).to_be_visible()
    await checks.check(page, "sign-in with an error")
    checks.done()
    assert page.errors.errors == []
    await context.close()


async def test_the_operator_console_with_a_conversation_open_is_accessible(
    browser, base_url, make_staff
) -> None:
    boss = await make_staff(Role.SUPERVISOR)
    checks = Checks()
    console = await staff_page(browser, base_url, boss.login)
    await checks.check(console, "console, no conversation")

    client = await client_page(browser, base_url)
    await client.locator(".composer-input").fill("Здравствуйте, нужна помощь с заказом")
    await client.locator(".composer-input").press("Enter")
    conversation = await conversation_of(client)
    await console.get_by_role("tab", name="Все").click()
    item = console.locator(f'.conv-item[data-id="{conversation}"]')
    await item.click()
    await expect(bubble(console, "нужна помощь с заказом")).to_have_count(1)
    take = console.locator(".take-button")
    if await take.is_visible():
        if await take.text_content() == "Взять":  # it waits in the queue: that was announced
            await expect(console.locator(".queue-status")).to_contain_text("В очереди: ")
        await take.click()
    await expect(console.locator(".conv-sub")).to_contain_text("ведёте вы")
    await console.locator(".composer-input").fill("Добрый день! Сейчас посмотрю.")
    await console.locator(".composer-input").press("Enter")
    await expect(bubble(client, "Сейчас посмотрю")).to_have_count(1)
    await checks.check(console, "console, conversation open")

    # An internal note, the consent offer and the bot's buttons (disabled for staff).
    await console.locator(".internal-toggle").check()
    await console.locator(".composer-input").fill("Клиент ждёт возврата с прошлой недели")
    await console.locator(".composer-input").press("Enter")
    await expect(bubble(console, "ждёт возврата")).to_have_count(1)
    await console.locator(".internal-toggle").uncheck()
    await console.locator(".request-button").click()
    offer = console.get_by_role("menuitem", name="Предложить согласие на обработку ПДн")
    await expect(offer).to_be_visible()
    await checks.check(console, "console, the «Данные» menu open")
    if not await offer.is_visible():  # a resize closes the menu
        await console.locator(".request-button").click()
    await offer.click()
    await expect(console.locator(".bot-button:disabled").first).to_be_visible()
    await console.locator(".request-button").click()
    await console.get_by_role("menuitem", name="Запросить: Телефон").click()
    await expect(console.locator(".toast-error")).to_be_visible()
    await checks.check(console, "console, a note, the consent offer and a refusal")
    if await console.locator(".profile-button").get_attribute("aria-pressed") != "true":
        await console.locator(".profile-button").click()
    await expect(console.locator(".profile-pane")).to_be_visible()
    await checks.check(console, "console, the client's profile")
    await console.locator(".status-button").click()
    await expect(console.get_by_role("menuitem").first).to_be_visible()
    await checks.check(console, "console, the status menu open")
    if await console.get_by_role("menuitem").first.is_visible():
        await console.keyboard.press("Escape")
    await console.get_by_role("button", name="Шаблоны ответов").click()
    await expect(console.locator("dialog.canned-dialog")).to_be_visible()
    await checks.check(console, "console, canned replies")
    await console.locator("dialog.canned-dialog").get_by_role("button", name="Закрыть").click()

    await console.locator(".transfer-button").click()
    await expect(console.locator("dialog.transfer-dialog")).to_be_visible()
    await checks.check(console, "console, transfer dialog")
    await console.keyboard.press("Escape")

    # The connection drops: the header says so, and the status region announces it.
    await console.evaluate("window.okno.socket.stopped = true; window.okno.socket.drop()")
    await expect(console.locator(".console.offline")).to_have_count(1)
    await expect(console.locator(".console-status")).to_have_text(
        "Нет соединения, переподключаемся"
    )
    await checks.check(console, "console, offline")

    checks.done()
    assert console.errors.errors == []
    assert client.errors.errors == []
    await client.context.close()
    await console.context.close()


async def test_the_dpo_console_is_accessible(browser, base_url, make_staff) -> None:
    boss = await make_staff(Role.SUPERVISOR)
    supervisor = await Staff.open(base_url, boss.login)
    person = await make_person(base_url, supervisor)
    dpo = await make_staff(Role.DPO)
    checks = Checks()
    page = await signed_in(browser, base_url, dpo.login)

    # A request by letter, entered on the DPO's form: first without the identity document
    # Art. 14 p.3 asks for (refused, with why), then complete.
    new = page.locator("form[action='/admin/dpo/requests'] button.primary")
    await page.goto(f"{base_url}/admin/dpo/requests/new")
    await checks.check(page, "DPO, new request")
    await page.locator("select[name=kind]").select_option("destruction")
    await page.fill("input[name=full_name]", "Заявитель по письму")
    await page.fill("input[name=subject]", str(person.subject))
    async with page.expect_navigation():
        await new.click()
    await expect(page.locator(".alert")).to_be_visible()
    await checks.check(page, "DPO, new request refused")
    await page.fill("input[name=document]", "паспорт 4510 123456, выдан 01.02.2010")
    await page.fill("input[name=relation]", f"диалог № {person.conversation}")
    await page.fill("input[name=address]", "Москва, ул. Тверская, 1")
    await page.fill("textarea[name=details]", "Прошу сообщить, какие мои данные обрабатываются")
    async with page.expect_navigation():
        await new.click()
    await expect(page.locator("h1")).to_contain_text("Запрос №")
    await checks.check(page, "DPO, a rights request")

    # Taken through its steps and executed: the execution form, then the act.
    for step in ("проверка личности", "рассмотрение", "одобрен"):
        await page.locator("select[name=to]").select_option(label=step)
        async with page.expect_navigation():
            await page.get_by_role("button", name="Сохранить шаг").click()
        await expect(page.locator(".dpo-status")).to_have_text(step)
    await checks.check(page, "DPO, an approved request")
    execute = page.locator("form.dpo-execute")
    await execute.locator("input[name=reference]").fill("заявление по почте")
    await execute.locator("input[name=confirm]").check()
    async with page.expect_navigation():
        await execute.get_by_role("button", name="Уничтожить и составить акт").click()
    await expect(page.locator(".dpo-act")).to_be_visible()
    await checks.check(page, "DPO, an act")

    await visit(page, f"{base_url}/admin/dpo", checks, "DPO, queue")
    await visit(page, f"{base_url}/admin/dpo/subjects/{person.subject}", checks, "DPO, subject")
    await visit(page, f"{base_url}/admin/dpo/log", checks, "DPO, processing log")
    async with page.expect_navigation():
        await page.locator("button.dpo-verify").click()
    await checks.check(page, "DPO, the log's hash chain checked")
    await visit(page, f"{base_url}/admin/dpo/acts", checks, "DPO, acts")
    await visit(page, f"{base_url}/admin/dpo/retention", checks, "DPO, retention")
    await visit(page, f"{base_url}/admin/dpo/special", checks, "DPO, special categories")
    await visit(page, f"{base_url}/admin/consent/", checks, "DPO, consent documents")
    await visit(page, f"{base_url}/admin/incidents/", checks, "DPO, incidents")
    await page.fill("input[name=detected_at]", "2026-11-30T10:00")
    await page.fill("textarea[name=summary]", "Письмо с данными клиента ушло не тому адресату")
    await page.fill("input[name=contact_person]", "Иванова Мария, +7 495 000-00-00")
    async with page.expect_navigation():
        await page.locator("form[action='/admin/incidents/'] button.primary").click()
    await checks.check(page, "DPO, an incident")

    checks.done()
    assert page.errors.errors == []
    await page.context.close()
    await person.client.close()
    await supervisor.close()


async def test_every_admin_page_is_accessible(browser, base_url, make_staff) -> None:
    admin = await make_staff(Role.ADMIN)
    operator = await make_staff(Role.OPERATOR)
    checks = Checks()
    page = await signed_in(browser, base_url, admin.login)
    await checks.check(page, "admin, home")

    await page.goto(f"{base_url}/admin/teams/")
    await page.fill("form[action='/admin/teams/'] input[name=name]", f"Доставка {operator.login}")
    async with page.expect_navigation():
        await page.locator("form[action='/admin/teams/'] button").first.click()
    await checks.check(page, "admin, a team")

    for url, state in (
        ("/admin/staff/", "admin, staff"),
        (f"/admin/staff/{operator.login}", "admin, an account"),
        ("/admin/teams/", "admin, teams"),
        ("/admin/topics/", "admin, topics"),
        ("/admin/hours/", "admin, working hours"),
        ("/admin/settings/chat/", "admin, chat and widget"),
        ("/admin/audit/", "admin, audit log"),
        ("/admin/consent/", "admin, consent documents"),
        ("/admin/mailings/", "admin, mailings"),
        ("/admin/channels/", "admin, channels"),
        ("/admin/api-tokens/", "admin, API tokens"),
    ):
        await visit(page, f"{base_url}{url}", checks, state)
    # A channel refused (the token too short): the page again, with why.
    await page.goto(f"{base_url}/admin/channels/")
    await page.fill("input[name=name]", "Бот MAX")
    await page.fill("input[name=token]", "short")
    async with page.expect_navigation():
        await page.locator("form[action='/admin/channels/'] button.primary").click()
    assert "Не удалось подключить канал" in await page.locator("p.alert").inner_text()
    await checks.check(page, "admin, a channel refused")
    await page.goto(f"{base_url}/admin/api-tokens/")
    await page.fill("form[action='/admin/api-tokens/'] input[name=name]", "CRM")
    await page.locator("input[name=scope][value='conversations:read']").check()
    async with page.expect_navigation():
        await page.locator("form[action='/admin/api-tokens/'] button.primary").click()
    await checks.check(page, "admin, a new API token shown once")
    await page.goto(f"{base_url}/admin/mailings/")
    await page.fill("input[name=title]", "Новые часы работы")
    await page.fill("textarea[name=body]", "С понедельника мы на связи с 8 до 22")
    async with page.expect_navigation():
        await page.locator("form[action='/admin/mailings/'] button.primary").click()
    await checks.check(page, "admin, a mailing")
    await visit(page, f"{base_url}/admin/webhooks/", checks, "admin, webhooks")
    # An address where nothing listens: the endpoint is removed below, its queue with it.
    await page.fill("input[name=url]", "http://127.0.0.1:9/crm/events")
    await page.locator("input[name=events][value='message.created']").check()
    async with page.expect_navigation():
        await page.locator("form[action='/admin/webhooks/'] button.primary").click()
    await checks.check(page, "admin, a new webhook's secret shown once")
    async with page.expect_navigation():
        await page.locator("table a[href^='/admin/webhooks/']").last.click()
    await checks.check(page, "admin, a webhook")
    async with page.expect_navigation():
        await page.locator("form[action$='/remove'] button").click()
    await visit(page, f"{base_url}/admin/password", checks, "admin, password change")

    document = page.locator("a[href^='/admin/consent/documents/']").first
    await page.goto(f"{base_url}/admin/consent/")
    await document.click()
    await page.wait_for_load_state()
    await checks.check(page, "admin, a consent document")

    checks.done()
    assert page.errors.errors == []
    await page.context.close()
