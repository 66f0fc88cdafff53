"""Screenshots of the client chat (desktop and phone) and of the operator console.

They go to a temporary folder; with OKNO_SCREENSHOTS=docs/screenshots they refresh the
documentation's pictures:

    OKNO_SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest tests/browser -k screenshots
"""

from __future__ import annotations

import os
import secrets
import struct
import zlib
from pathlib import Path

from playwright.async_api import expect

from okno.platform.staff import accounts
from okno.platform.staff.roles import Role
from tests.browser.conftest import client_page, staff_page
from tests.browser.test_chat_ui import bubble, conversation_of, open_menu, operator_opens
from tests.chat_support import join_team
from tests.conftest import ROOT, STAFF_PASSWORD


def picture(width: int = 360, height: int = 240) -> bytes:
    """A PNG "photo": a sky-to-field gradient with a sun, made with the standard library."""
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")
        for x in range(width):
            if (x - 270) ** 2 + (y - 60) ** 2 < 28**2:
                pixel = (255, 214, 90)
            elif y < height * 0.62:
                t = y / (height * 0.62)
                pixel = (int(120 + 100 * t), int(180 + 50 * t), 250)
            else:
                t = (y - height * 0.62) / (height * 0.38)
                pixel = (int(110 - 40 * t), int(170 - 50 * t), int(80 - 30 * t))
            row += bytes(pixel)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def shots_folder(tmp_path: Path) -> Path:
    target = os.environ.get("OKNO_SCREENSHOTS")
    folder = (ROOT / target) if target else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def say(page, text: str) -> None:
    composer = page.locator(".composer-input")
    await composer.fill(text)
    await composer.press("Enter")
    await expect(bubble(page, text)).to_have_count(1)
    await expect(page.locator(".msg-sending, .msg-sent")).to_have_count(0)


async def test_screenshots(browser, base_url, db, tmp_path) -> None:
    folder = shots_folder(tmp_path)
    anna = await accounts.create_user(
        f"anna-{secrets.token_hex(3)}", Role.OPERATOR, STAFF_PASSWORD, "Анна Петрова"
    )
    await join_team(anna.id)

    # A new visitor: the welcome card with topics.
    welcome = await client_page(browser, base_url)
    await expect(welcome.locator(".topic-button").first).to_be_visible()
    await welcome.screenshot(path=folder / "chat-welcome.png")
    await welcome.context.close()

    client = await client_page(browser, base_url)
    operator = await staff_page(browser, base_url, anna.login)
    await client.locator(".topic-button").first.click()
    await say(
        client, "Здравствуйте! Заказ №48213 должен был приехать вчера, но его до сих пор нет."
    )
    conversation = await conversation_of(client)
    await operator_opens(operator, conversation)
    await expect(operator.locator(".profile-button")).to_have_attribute("aria-pressed", "true")
    await expect(operator.locator(".profile-content .facts").first).to_be_visible()
    await say(operator, "Добрый день! Сейчас проверю, одну минуту.")
    # 152-FZ: consent first (the bot links the documents), then the bot asks for the phone.
    await operator.locator(".request-button").click()
    await operator.get_by_role("menuitem", name="Предложить согласие на обработку ПДн").click()
    await client.get_by_role("button", name="Даю согласие").click()
    await expect(client.locator(".msg", has_text="согласие сохранено")).to_have_count(1)
    await operator.locator(".request-button").click()
    await operator.get_by_role("menuitem", name="Запросить: Телефон").click()
    form = client.locator("form.bot-form")
    await form.get_by_role("textbox", name="Телефон").fill("+7 912 345-67-89")
    await form.get_by_role("button", name="Отправить").click()
    await expect(operator.locator(".profile-content")).to_contain_text("+7912")
    await say(
        operator,
        "Посылка задержалась на сортировочном центре. Курьер привезёт её сегодня до 18:00.",
    )
    await open_menu(client, "Посылка задержалась", "Ответить")
    await say(client, "Спасибо! А можно перенести доставку на завтра? Сегодня меня не будет дома.")
    await client.locator(".file-input").set_input_files(
        {"name": "подъезд.png", "mimeType": "image/png", "buffer": picture()}
    )
    await expect(client.locator(".context-attachment")).to_be_visible()
    await say(client, "Вот вход в подъезд, домофон не работает")
    await operator.locator(".note-toggle").click()
    await say(operator, "Постоянный клиент — предложить промокод на следующий заказ")
    await operator.locator(".note-toggle").click()
    await say(operator, "Перенесла на завтра, 10:00–14:00. Трек-номер: RU123456789")
    await open_menu(operator, "Перенесла на завтра", "Изменить")
    await operator.locator(".composer-input").fill(
        "Перенесла на завтра, 10:00–14:00. Курьер позвонит за час. Трек-номер: RU123456789"
    )
    await operator.locator(".composer-input").press("Enter")
    await expect(bubble(client, "Курьер позвонит").locator(".edited-mark")).to_be_visible()
    await client.wait_for_timeout(3100)  # typing is sent at most every 3 s
    await client.locator(".composer-input").press_sequentially("Отлично", delay=30)
    await expect(operator.locator(".conv-sub")).to_contain_text("печатает")
    await operator.screenshot(path=folder / "console.png")

    await client.locator(".composer-input").fill("")
    await operator.wait_for_timeout(3100)
    await operator.locator(".composer-input").press_sequentially("Хорошего", delay=30)
    await expect(client.locator(".chat-status")).to_contain_text("печатает")
    await client.screenshot(path=folder / "chat-desktop.png")
    await client.set_viewport_size({"width": 390, "height": 844})
    await client.evaluate("() => window.okno.thread.scrollToBottom(false)")
    await client.screenshot(path=folder / "chat-phone.png")

    # The widget's panel: the same conversation in /chat?embed=1, no site header.
    embed = await client.context.new_page()
    await embed.set_viewport_size({"width": 380, "height": 600})
    await embed.goto(f"{base_url}/chat?embed=1")
    await expect(bubble(embed, "Курьер позвонит")).to_have_count(1)
    await embed.evaluate("() => window.okno.thread.scrollToBottom(false)")
    await embed.screenshot(path=folder / "widget-panel.png")

    await operator.set_viewport_size({"width": 390, "height": 844})
    await operator.screenshot(path=folder / "console-phone.png")
    await operator.locator(".back-button").click()
    await operator.screenshot(path=folder / "console-phone-list.png")
    assert client.errors.errors == []
    assert operator.errors.errors == []
    await client.context.close()
    await operator.context.close()
