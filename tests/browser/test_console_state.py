"""The console shows what the server knows, whatever the browser did: ✓✓ after a reload, the
conversation the address names, a client whose data were destroyed."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from okno.platform import database
from okno.platform.staff.roles import Role
from tests.browser.conftest import client_page, staff_page
from tests.browser.test_chat_ui import bubble, conversation_of, png
from tests.conftest import staff_client


async def client_says(browser, base_url: str, text: str, **size: int):
    """A fresh visitor who writes ``text``: its page and the conversation it started."""
    client = await client_page(browser, base_url, **size)
    await client.locator(".composer-input").fill(text)
    await client.locator(".composer-input").press("Enter")
    return client, await conversation_of(client)


async def test_read_ticks_and_the_address_survive_a_reload_and_back_and_forward(
    browser, base_url, make_staff
) -> None:
    boss = await make_staff(Role.SUPERVISOR)
    first, one = await client_says(browser, base_url, "Вопрос первого клиента")
    second, two = await client_says(browser, base_url, "Вопрос второго клиента")
    console = await staff_page(browser, base_url, boss.login)
    await console.get_by_role("tab", name="Все").click()
    await console.locator(f'.conv-item[data-id="{one}"]').click()
    composer = console.locator(".composer-input")
    await composer.fill("Ответ первому")
    await composer.press("Enter")
    await expect(bubble(first, "Ответ первому")).to_have_count(1)
    answer = bubble(console, "Ответ первому")
    await expect(answer.locator(".ticks.read")).to_be_visible()

    # A reload keeps what the client has read: the ✓✓ come from the server.
    await console.reload()
    await console.wait_for_function("() => window.okno.socket.state === 'open'")
    await expect(console.locator(".conv-title")).to_have_text(f"Клиент #{one}")
    await expect(answer.locator(".ticks.read")).to_be_visible()

    # The address bar and the history switch the conversation.
    await console.evaluate(f"() => {{ location.hash = '#{two}'; }}")
    await expect(console.locator(".conv-title")).to_have_text(f"Клиент #{two}")
    await expect(bubble(console, "Вопрос второго клиента")).to_have_count(1)
    await console.go_back()
    await expect(console.locator(".conv-title")).to_have_text(f"Клиент #{one}")
    await expect(bubble(console, "Вопрос первого клиента")).to_have_count(1)
    await expect(bubble(console, "Вопрос второго клиента")).to_have_count(0)
    await console.go_forward()
    await expect(console.locator(".conv-title")).to_have_text(f"Клиент #{two}")
    # A click on the list is a step of the history too.
    await console.locator(f'.conv-item[data-id="{one}"]').click()
    await console.go_back()
    await expect(console.locator(".conv-title")).to_have_text(f"Клиент #{two}")

    assert console.errors.errors == []
    for page in (first, second, console):
        await page.context.close()


async def test_a_destroyed_clients_conversation_is_closed_and_fetches_no_removed_file(
    browser, base_url, make_staff
) -> None:
    boss = await make_staff(Role.SUPERVISOR)
    dpo = await staff_client(base_url, (await make_staff(Role.DPO)).login)
    dpo.timeout = httpx.Timeout(60)  # a destruction rebuilds tables before it answers
    client, conversation = await client_says(browser, base_url, "Вот фото чека")
    await client.locator(".file-input").set_input_files(
        {"name": "check.png", "mimeType": "image/png", "buffer": png()}
    )
    await expect(client.locator(".context-attachment")).to_contain_text("check.png")
    await client.locator(".composer-input").press("Enter")  # the picture alone, no text

    console = await staff_page(browser, base_url, boss.login)
    await console.get_by_role("tab", name="Все").click()
    await console.locator(f'.conv-item[data-id="{conversation}"]').click()
    await expect(console.locator(".msgs .att-image img")).to_have_count(1)
    subject = await console.evaluate(
        f"() => window.okno.state.convs.get({conversation}).client.subject_id"
    )
    missing: list[str] = []
    console.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)

    response = await dpo.post(
        f"/admin/dpo/subjects/{subject}/destroy",
        data={"confirm": "yes", "reason": "отзыв согласия", "_csrf_token": dpo.csrf},
    )
    assert response.status_code == 303, response.text

    # The open conversation updates: closed, marked destroyed, nothing left to answer.
    await expect(console.locator(".conv-sub")).to_contain_text("данные клиента уничтожены")
    await expect(console.locator(".conv-destroyed")).to_be_visible()
    await expect(console.locator(".composer")).to_be_hidden()
    await expect(console.locator(".status-button")).to_be_hidden()
    await expect(console.locator(".msgs .att-image")).to_have_count(0)
    item = console.locator(f'.conv-item[data-id="{conversation}"]')
    await expect(item.locator(".chip-destroyed")).to_have_text("данные уничтожены")
    await expect(item.locator(".status-resolved")).to_have_text("Решён")

    # Opened afresh, the console asks for no file that is gone.
    await console.reload()
    await console.wait_for_function("() => window.okno.socket.state === 'open'")
    await expect(console.locator(".conv-destroyed")).to_be_visible()
    await expect(console.locator(".msgs .msg").first).to_be_visible()
    await expect(console.locator(".msgs .att-image")).to_have_count(0)
    assert missing == []
    async with database.acquire() as conn:
        status = await conn.fetchval("SELECT status FROM conversation WHERE id = $1", conversation)
    assert status == "resolved"
    assert console.errors.errors == []
    await dpo.aclose()
    await client.context.close()
    await console.context.close()
