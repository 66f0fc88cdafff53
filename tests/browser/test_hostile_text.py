"""Hostile text wherever people type it: a staff member's name, a client's name, a file name, a
canned reply. Each renders as exactly the text that was typed, and nothing in it runs."""

from __future__ import annotations

import secrets
from urllib.parse import quote

import pytest
from playwright.async_api import expect

from okno.platform.staff.roles import Role
from tests.browser.conftest import PageErrors, staff_page
from tests.browser.test_chat_ui import bubble, conversation_of
from tests.conftest import STAFF_PASSWORD, ServerProcess

STAFF_NAME = 'Игорь <img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
# The name field refuses < > = and digits, so the client's weapons are quotes and entities.
CLIENT_NAME = "Анна \"Ж\" 'К' &lt;b&gt;жирная&lt;&sol;b&gt; &amp;"
FILE_NAME = '<img src=x onerror="window.__pwned=4"> отчёт?a&b#c%41.txt'
CANNED_TEXT = '<svg onload="window.__pwned=5"></svg></textarea><b>шаблон</b> &amp; {{ 7*7 }}'
INJECTED = "img[src='x'], script:not([src]), svg[onload], b, [onerror], [onmouseover]"


@pytest.fixture(scope="module")
def prechat_server(database_url):
    server = ServerProcess(database_url, OKNO_PRECHAT_FORM="true")
    yield server
    server.stop()


async def nothing_ran(page) -> None:
    assert await page.evaluate("window.__pwned") is None
    assert await page.locator(f"body :is({INJECTED})").count() == 0
    assert page.errors.errors == []


async def test_names_file_names_and_canned_replies_render_as_text(
    browser, prechat_server, make_staff
) -> None:
    url = prechat_server.url

    # An admin adds an operator whose name is markup: the accounts table shows it as text.
    admin = await staff_page(browser, url, (await make_staff(Role.ADMIN)).login)
    await admin.goto(f"{url}/admin/staff")
    login = f"hostile-{secrets.token_hex(3)}"
    await admin.fill("input[name=login]", login)
    await admin.fill("input[name=display_name]", STAFF_NAME)
    await admin.select_option("select[name=role]", "supervisor")
    await admin.fill("input[name=password]", STAFF_PASSWORD)
    await admin.get_by_role("button", name="Добавить").click()
    await expect(admin.locator("td", has_text="onerror")).to_have_text(STAFF_NAME)
    await nothing_ran(admin)

    # A client gives a name of quotes and entities in the pre-chat form and sends a file.
    client = await browser.new_context(locale="ru-RU")
    chat = await client.new_page()
    chat.errors = PageErrors(chat)
    await chat.goto(f"{url}/chat")
    await chat.fill("input[name=name]", CLIENT_NAME)
    await chat.check("input[name=processing]")
    await chat.get_by_role("button", name="Начать чат").click()
    await chat.wait_for_function("() => window.okno && window.okno.socket.state === 'open'")
    await chat.locator(".file-input").set_input_files(
        {"name": FILE_NAME, "mimeType": "text/plain", "buffer": b"hello " * 10}
    )
    await expect(chat.locator(".context-attachment")).to_contain_text(FILE_NAME)
    await chat.locator(".composer-input").fill("Файл во вложении")
    await chat.locator(".composer-input").press("Enter")
    conversation = await conversation_of(chat)
    await expect(chat.locator(".att-file .att-name")).to_have_text(FILE_NAME)

    # The hostile operator signs in: the client's name, the file name and the own name are text.
    console = await staff_page(browser, url, login)
    await expect(console.locator(".me-name")).to_have_text(STAFF_NAME)
    await console.get_by_role("tab", name="Все").click()
    await console.locator(f'.conv-item[data-id="{conversation}"]').click()
    # Lists say «Клиент #N»; the name is shown (and its viewing logged) in the profile only.
    name = console.locator(".profile-content dd", has_text="жирная")
    await expect(name).to_have_text(CLIENT_NAME)
    card = console.locator(".att-file", has_text="отчёт")
    await expect(card.locator(".att-name")).to_have_text(FILE_NAME)
    await expect(card).to_have_attribute("download", FILE_NAME)
    href = await card.get_attribute("href")
    assert href is not None
    assert href.endswith("/" + quote(FILE_NAME, safe=""))
    download = await console.request.get(f"{url}{href}")
    assert download.status == 200
    assert await download.body() == b"hello " * 10

    # Taking the conversation shows the operator's name to the client, as text.
    take = console.locator(".take-button")
    if await take.is_visible():
        await take.click()
    await expect(chat.locator(".chat-name")).to_have_text(STAFF_NAME)
    await expect(chat.locator(".msg", has_text="подключился оператор").last).to_contain_text(
        STAFF_NAME
    )

    # A canned reply of markup: listed, inserted with a slash and delivered, all as text.
    await console.get_by_role("button", name="Шаблоны ответов").click()
    dialog = console.locator("dialog.canned-dialog")
    await dialog.locator("input[name=shortcut]").fill("xss")
    await dialog.locator("textarea[name=text]").fill(CANNED_TEXT)
    await dialog.get_by_role("button", name="Добавить").click()
    await expect(dialog.locator(".canned-list")).to_contain_text(CANNED_TEXT)
    await dialog.get_by_role("button", name="Закрыть").click()
    composer = console.locator(".composer-input")
    await composer.press_sequentially("/xs")
    await expect(console.locator(".canned-popup").get_by_role("option").first).to_contain_text(
        CANNED_TEXT
    )
    await composer.press("Enter")
    await expect(composer).to_have_value(CANNED_TEXT)
    await composer.press("Enter")
    await expect(bubble(chat, "шаблон").locator(".text")).to_have_text(CANNED_TEXT)
    await expect(bubble(console, "шаблон").locator(".text")).to_have_text(CANNED_TEXT)

    for page in (admin, chat, console):
        await nothing_ran(page)
    for context in (admin.context, client, console.context):
        await context.close()
