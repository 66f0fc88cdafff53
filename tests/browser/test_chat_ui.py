"""The client chat and the operator console in a real browser, against the real server."""

from __future__ import annotations

import re
import struct
import zlib

from playwright.async_api import expect

from okno.platform.staff.roles import Role
from tests.browser.conftest import client_page, staff_page
from tests.chat_support import Staff, join_team

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><b>жирный</b>'


def png(width: int = 48, height: int = 32, rgb: tuple[int, int, int] = (42, 158, 241)) -> bytes:
    """A valid PNG made with the standard library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    raw = row * height
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def bubble(page, text: str):
    return page.locator(".msg", has=page.locator(".text", has_text=text))


async def open_menu(page, text: str, item: str) -> None:
    """Opens a message's menu from the keyboard-reachable button and picks an item."""
    message = bubble(page, text).last
    await message.hover()
    await message.locator(".msg-menu-button").click()
    await page.get_by_role("menuitem", name=item).click()


async def conversation_of(client) -> int:
    handle = await client.wait_for_function("() => window.okno.state.conversation")
    return await handle.json_value()


async def operator_opens(operator, conversation: int) -> None:
    await operator.get_by_role("tab", name="Команда").click()
    item = operator.locator(f'.conv-item[data-id="{conversation}"]')
    await item.click()
    await expect(item).to_have_class(has_class("selected"))


def has_class(name: str):
    return re.compile(rf"(^|\s){name}(\s|$)")


async def test_a_client_and_an_operator_talk_in_two_browsers(browser, base_url, make_staff) -> None:
    user = await make_staff(Role.OPERATOR)
    await join_team(user.id)
    client = await client_page(browser, base_url)
    operator = await staff_page(browser, base_url, user.login)

    # The client starts: the welcome card offers topics while there is no conversation yet.
    await expect(client.locator(".chat-welcome")).to_be_visible()
    await expect(client.locator(".topic-button").first).to_be_visible()
    await client.locator(".topic-button").first.click()
    await expect(client.locator(".topic-chosen")).to_contain_text("Тема:")
    composer = client.locator(".composer-input")
    await composer.fill("Здравствуйте, где мой заказ?")
    await composer.press("Enter")
    first = bubble(client, "Здравствуйте, где мой заказ?")
    await expect(first).to_have_count(1)
    await expect(first.locator(".ticks.sent")).to_be_visible()  # ✓ after the ack
    await expect(client.locator(".chat-welcome")).to_be_hidden()
    conversation = await conversation_of(client)
    assert conversation

    # The operator finds it in the team's list and opens it; the client sees ✓✓.
    await operator_opens(operator, conversation)
    await expect(bubble(operator, "Здравствуйте, где мой заказ?")).to_have_count(1)
    await expect(first.locator(".ticks.read")).to_be_visible()

    # Typing shows on the other side, both ways.
    op_composer = operator.locator(".composer-input")
    await op_composer.press_sequentially("Добрый", delay=20)
    await expect(client.locator(".chat-status")).to_contain_text("печатает")
    await op_composer.press_sequentially(" день! Уже смотрю.", delay=5)
    await op_composer.press("Enter")
    answer = bubble(client, "Добрый день! Уже смотрю.")
    await expect(answer).to_have_count(1)
    await expect(client.locator(".chat-name")).to_have_text(user.display_name)
    await expect(
        bubble(operator, "Добрый день! Уже смотрю.").locator(".ticks.read")
    ).to_be_visible()
    await client.wait_for_timeout(3100)  # typing goes at most every 3 s
    await composer.press_sequentially("Спасибо", delay=20)
    await expect(operator.locator(".conv-sub")).to_contain_text("печатает")
    await composer.fill("")

    # The client replies to the operator's message; the quote scrolls to the original.
    await open_menu(client, "Добрый день! Уже смотрю.", "Ответить")
    await expect(client.locator(".context-reply")).to_contain_text("Добрый день!")
    await composer.fill("Номер заказа 1234")
    await composer.press("Enter")
    reply = bubble(operator, "Номер заказа 1234")
    await expect(reply.locator(".reply-quote")).to_contain_text("Добрый день! Уже смотрю.")
    await reply.locator(".reply-quote").click()
    await expect(bubble(operator, "Добрый день! Уже смотрю.")).to_have_class(has_class("flash"))

    # Edit within the window: both sides see the new text marked "изменено".
    await open_menu(client, "Номер заказа 1234", "Изменить")
    await expect(client.locator(".composer")).to_have_class(has_class("editing"))
    await composer.fill("Номер заказа 12345")
    await composer.press("Enter")
    edited = bubble(operator, "Номер заказа 12345")
    await expect(edited.locator(".edited-mark")).to_have_text("изменено")
    await expect(bubble(client, "Номер заказа 12345").locator(".edited-mark")).to_be_visible()

    # Delete: a confirmation, then both sides show the placeholder.
    await composer.fill("лишнее сообщение")
    await composer.press("Enter")
    await expect(bubble(operator, "лишнее сообщение")).to_have_count(1)
    await open_menu(client, "лишнее сообщение", "Удалить")
    await client.get_by_role("button", name="Удалить").click()
    await expect(bubble(operator, "лишнее сообщение")).to_have_count(0)
    await expect(bubble(client, "лишнее сообщение")).to_have_count(0)
    await expect(operator.locator(".msg-deleted")).to_have_count(1)
    await expect(client.locator(".msg-deleted .text")).to_have_text("Сообщение удалено")

    # The operator edits its own message too.
    await open_menu(operator, "Добрый день! Уже смотрю.", "Изменить")
    await op_composer.fill("Добрый день! Уже смотрю ваш заказ.")
    await op_composer.press("Enter")
    await expect(
        bubble(client, "Добрый день! Уже смотрю ваш заказ.").locator(".edited-mark")
    ).to_be_visible()

    # An image: uploaded, sent by id, shown inline on both sides and opened in the viewer.
    await client.locator(".file-input").set_input_files(
        {"name": "photo.png", "mimeType": "image/png", "buffer": png()}
    )
    await expect(client.locator(".context-attachment")).to_contain_text("photo.png")
    await composer.fill("Вот фото")
    await composer.press("Enter")
    image = bubble(operator, "Вот фото").locator(".att-image img")
    await expect(image).to_be_visible()
    await operator.wait_for_function(
        "() => [...document.querySelectorAll('.msgs .att-image img')]"
        ".some((img) => img.naturalWidth === 48)"
    )
    await bubble(client, "Вот фото").locator(".att-image").click()
    await expect(client.locator("dialog.lightbox img")).to_be_visible()
    await client.keyboard.press("Escape")
    await expect(client.locator("dialog.lightbox")).to_have_count(0)

    # Other files are cards with name and size.
    await client.locator(".file-input").set_input_files(
        {"name": "отчёт.txt", "mimeType": "text/plain", "buffer": b"hello " * 300}
    )
    await expect(client.locator(".context-attachment")).to_contain_text("отчёт.txt")
    await composer.press("Enter")
    card = operator.locator(".att-file", has_text="отчёт.txt")
    await expect(card).to_contain_text("1,8 КБ")

    # An operator's internal note never reaches the client.
    await operator.locator(".note-toggle").click()
    await op_composer.fill("Клиент VIP, проверить склад")
    await op_composer.press("Enter")
    await expect(bubble(operator, "Клиент VIP").locator(".internal-label")).to_be_visible()
    await op_composer.fill("")
    await operator.locator(".note-toggle").click()
    await op_composer.fill("Заказ уже в пути.")
    await op_composer.press("Enter")
    await expect(bubble(client, "Заказ уже в пути.")).to_have_count(1)
    await expect(bubble(client, "Клиент VIP")).to_have_count(0)

    assert client.errors.errors == []
    assert operator.errors.errors == []
    await client.context.close()
    await operator.context.close()


async def test_html_in_a_message_shows_as_text(browser, base_url, make_staff) -> None:
    user = await make_staff(Role.OPERATOR)
    await join_team(user.id)
    client = await client_page(browser, base_url)
    composer = client.locator(".composer-input")
    await composer.fill(HOSTILE)
    await composer.press("Enter")
    mine = client.locator(".msg .text", has_text="<script>")
    await expect(mine).to_have_text(HOSTILE)
    conversation = await conversation_of(client)

    operator = await staff_page(browser, base_url, user.login)
    await operator_opens(operator, conversation)
    theirs = operator.locator(".msg .text", has_text="<script>")
    await expect(theirs).to_have_text(HOSTILE)
    # Search finds it by the text, markup and all.
    await operator.locator(".conv-search").fill("<b>жирный")
    await expect(operator.locator(".conv-item")).to_have_count(1)
    await expect(operator.locator(f'.conv-item[data-id="{conversation}"]')).to_be_visible()
    for page in (client, operator):
        assert await page.evaluate("window.__pwned") is None
        assert await page.locator(".msgs b, .msgs script, .msgs img[src='x']").count() == 0
        assert page.errors.errors == []
    await client.context.close()
    await operator.context.close()


async def test_sends_while_offline_arrive_once_after_reconnect(browser, base_url) -> None:
    client = await client_page(browser, base_url)
    composer = client.locator(".composer-input")
    await composer.fill("первое")
    await composer.press("Enter")
    await expect(bubble(client, "первое").locator(".ticks.sent")).to_be_visible()

    # The connection drops: a message waits with a clock, then goes once on reconnect.
    await client.evaluate("window.okno.socket.stopped = true; window.okno.socket.drop()")
    await client.wait_for_function("() => window.okno.socket.ws === null")
    await composer.fill("второе, без сети")
    await composer.press("Enter")
    await expect(bubble(client, "второе, без сети").locator(".ticks.sending")).to_be_visible()
    await client.evaluate("window.okno.socket.stopped = false; window.okno.socket.connect()")
    await client.wait_for_function("() => window.okno.socket.state === 'open'")
    await expect(bubble(client, "второе, без сети").locator(".ticks.sent")).to_be_visible()

    # A second tab of the same visitor shows the same history, nothing doubled.
    second = await client.context.new_page()
    await second.goto(f"{base_url}/chat")
    await expect(bubble(second, "второе, без сети")).to_have_count(1)
    await expect(bubble(second, "первое")).to_have_count(1)
    await composer.fill("из первой вкладки")
    await composer.press("Enter")
    await expect(bubble(second, "из первой вкладки")).to_have_count(1)
    await expect(bubble(client, "из первой вкладки")).to_have_count(1)
    assert client.errors.errors == []
    await client.context.close()


async def test_a_file_over_the_limit_is_refused_in_the_browser(browser, base_url) -> None:
    client = await client_page(browser, base_url)
    limit = int(await client.locator("#chat").get_attribute("data-max-upload"))
    await client.locator(".file-input").set_input_files(
        {"name": "big.bin", "mimeType": "application/octet-stream", "buffer": b"\0" * (limit + 1)}
    )
    await expect(client.locator(".toast-error")).to_contain_text("слишком большой")
    await expect(client.locator(".context-attachment")).to_have_count(0)
    await client.context.close()


async def test_unread_messages_count_in_the_title_and_the_pill(
    browser, base_url, make_staff
) -> None:
    boss = await make_staff(Role.SUPERVISOR)
    client = await client_page(browser, base_url, height=520)
    await client.locator(".composer-input").fill("Вопрос")
    await client.locator(".composer-input").press("Enter")
    conversation = await conversation_of(client)
    staff = await Staff.open(base_url, boss.login)
    try:
        await staff.open_conversation(conversation)
        for n in range(1, 13):
            await staff.say(conversation, f"Строка ответа {n}")
        await expect(bubble(client, "Строка ответа 12")).to_have_count(1)

        # Scrolled up, new messages count in the title and the pill instead of being read.
        await client.evaluate("() => { document.querySelector('.chat-body').scrollTop = 0; }")
        await expect(client.locator(".new-pill")).to_be_visible()
        await staff.say(conversation, "Новое 1")
        newest = await staff.say(conversation, "Новое 2")
        await expect(client.locator(".new-pill")).to_contain_text("2 новых")
        assert (await client.title()).startswith("(2) ")

        # The pill scrolls down: they are read, the counter goes, the operator gets `read`.
        await client.locator(".new-pill").click()
        await expect(client.locator(".new-pill")).to_be_hidden()
        await client.wait_for_function("() => !document.title.startsWith('(')")
        read = await staff.until("read", side="client")
        while read["seq"] < newest["seq"]:
            read = await staff.until("read", side="client")

        # Older pages come from the history endpoint (here: nothing older than the first).
        more = await client.evaluate(
            "() => window.okno.thread.o.onLoadOlder(window.okno.thread.minSeq)"
        )
        assert more is False
        assert client.errors.errors == []
    finally:
        await staff.close()
        await client.context.close()


async def test_error_frames_are_shown(browser, base_url) -> None:
    client = await client_page(browser, base_url)
    # Far more frames than OKNO_WS_RATE allows: the server answers rate_limited.
    await client.evaluate(
        "() => { for (let i = 0; i < 200; i++) window.okno.socket.send({type: 'ping'}); }"
    )
    await expect(client.locator(".toast-error").first).to_contain_text("Слишком часто")
    assert await client.locator(".toast:not(.toast-out)").count() == 1  # once, not 100 times
    await client.context.close()


async def test_the_message_menu_and_the_composer_work_from_the_keyboard(browser, base_url) -> None:
    client = await client_page(browser, base_url)
    composer = client.locator(".composer-input")
    await composer.fill("первая строка")
    await composer.press("Shift+Enter")
    await composer.press_sequentially("вторая строка")
    await composer.press("Enter")
    sent = bubble(client, "вторая строка")
    await expect(sent.locator(".text")).to_have_text("первая строка\nвторая строка")
    await expect(sent.locator(".ticks.sent")).to_be_visible()

    # The "⋯" button is reachable and the menu works with arrows, Enter and Esc.
    await sent.locator(".msg-menu-button").focus()
    await client.keyboard.press("Enter")
    menu = client.get_by_role("menu")
    await expect(client.get_by_role("menuitem", name="Ответить")).to_be_focused()
    await client.keyboard.press("Escape")
    await expect(menu).to_have_count(0)
    await expect(sent.locator(".msg-menu-button")).to_be_focused()
    await client.keyboard.press("Enter")
    await client.keyboard.press("End")
    await expect(client.get_by_role("menuitem", name="Удалить")).to_be_focused()
    await client.keyboard.press("ArrowUp")
    await client.keyboard.press("Enter")  # Изменить
    await expect(client.locator(".composer")).to_have_class(re.compile(r"\bediting\b"))
    await expect(composer).to_be_focused()
    await composer.press("Escape")
    await expect(client.locator(".composer")).not_to_have_class(re.compile(r"\bediting\b"))

    # ↑ in an empty composer edits the last own message.
    await composer.press("ArrowUp")
    await expect(composer).to_have_value("первая строка\nвторая строка")
    await composer.press("Escape")
    await expect(composer).to_have_value("")
    assert client.errors.errors == []
    await client.context.close()
