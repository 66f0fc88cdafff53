"""The client's chat from the keyboard only (Tab, Shift+Tab, Enter, Space, Escape, arrows):
open the chat, answer the consent offer, send, reply, attach a file and read the history, with
a visible focus indicator on every control reached and no trap; new messages and status
changes go to live regions; prefers-reduced-motion stops the animations.
See docs/ui.md, «Accessibility».
"""

from __future__ import annotations

from playwright.async_api import expect

from okno.platform.staff.roles import Role
from tests.browser.a11y import DESKTOP
from tests.browser.conftest import PageErrors, client_page
from tests.browser.test_chat_ui import bubble, conversation_of, png
from tests.chat_support import Staff

# What has the focus, and whether it shows: an outline, or for a field the ring of its
# box-shadow; the composer's textarea is ringed by the composer around it (.composer's
# :focus-within), as the whole rounded input is what one sees.
FOCUSED = """() => {
  const e = document.activeElement;
  const ring = (node, shadowCounts) => {
    const s = getComputedStyle(node);
    return (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0)
      || (shadowCounts && s.boxShadow !== "none");
  };
  const field = e.matches("input, textarea, select");
  const composer = e.closest(".composer");
  const message = e.closest(".msg");
  return {
    tag: e.tagName.toLowerCase(),
    cls: e.className && e.className.baseVal === undefined ? e.className : "",
    name: e.getAttribute("aria-label") || e.textContent.trim().slice(0, 60),
    message: message ? message.textContent : "",
    visible: ring(e, field) || (!!composer && ring(composer, true)),
    key: e === document.body ? "body" : (e.dataset.focusKey ||= String(Math.random())),
  };
}"""


async def press(page, key: str) -> dict:
    """Presses a key; what has the focus then must show it."""
    before = await page.evaluate(FOCUSED)
    await page.keyboard.press(key)
    now = await page.evaluate(FOCUSED)
    if key in ("Tab", "Shift+Tab"):
        assert now["key"] != before["key"], f"{key} did not move the focus from {before}"
        assert now["tag"] != "body", f"{key} from {before} left the page's controls"
    assert now["visible"], f"no visible focus indicator on {now}"
    return now


async def tab_to(page, wanted, key: str = "Tab", limit: int = 60) -> dict:
    """Tabs (or Shift+Tabs) until ``wanted(focused)``, each stop with a visible focus."""
    focused = await page.evaluate(FOCUSED)
    if wanted(focused):
        return focused
    for _ in range(limit):
        focused = await press(page, key)
        if wanted(focused):
            return focused
    raise AssertionError(f"{key} × {limit} did not reach the control")


async def test_a_client_chats_with_the_keyboard_only(browser, base_url, make_staff) -> None:
    context = await browser.new_context(viewport=DESKTOP, locale="ru-RU")
    page = await context.new_page()
    page.errors = PageErrors(page)
    # Playwright turns on catching file choosers when the first listener is added, in the
    # background: added here, long before the key press that opens one.
    page.on("filechooser", lambda chooser: None)
    user = await make_staff(Role.SUPERVISOR)
    operator = await Staff.open(base_url, user.login)
    try:
        # Open the chat from the home page.
        await page.goto(f"{base_url}/")
        await tab_to(page, lambda f: f["tag"] == "a" and f["name"].startswith("Написать в чат"))
        async with page.expect_navigation():
            await page.keyboard.press("Enter")
        await page.wait_for_function("() => window.okno && window.okno.socket.state === 'open'")

        # Announced: the thread is a live region (once the history is in: it is not read out),
        # the connection and the queue are status regions.
        thread = page.locator("ol.msgs")
        await expect(thread).to_have_attribute("aria-live", "polite")
        assert await thread.get_attribute("aria-label") == "Сообщения"
        assert await page.locator(".chat-status").get_attribute("aria-live") == "polite"
        assert await page.locator(".conn-banner").get_attribute("role") == "status"
        assert await page.locator(".queue-note").get_attribute("role") == "status"

        # The composer has the focus; a topic is a Tab away (Shift+Tab back), chosen with Enter.
        composer = page.locator(".composer-input")
        await expect(composer).to_be_focused()
        await tab_to(page, lambda f: "topic-button" in f["cls"], key="Shift+Tab")
        await page.keyboard.press("Enter")
        await expect(page.locator(".topic-chosen")).to_contain_text("Тема:")
        await expect(composer).to_be_focused()
        await page.keyboard.type("Здравствуйте, где мой заказ?")
        await press(page, "Tab")
        await expect(page.get_by_role("button", name="Отправить")).to_be_focused()
        await press(page, "Shift+Tab")
        await expect(composer).to_be_focused()
        await page.keyboard.press("Enter")
        first = bubble(page, "где мой заказ")
        await expect(first.locator(".ticks.sent")).to_be_visible()
        conversation = await conversation_of(page)

        # The consent offer: Shift+Tab back to its button, Space presses it.
        await operator.open_conversation(conversation)
        await operator.send(type="offer_consent", conversation=conversation, purpose="support")
        await expect(page.get_by_role("button", name="Даю согласие")).to_be_visible()
        await tab_to(page, lambda f: f["name"] == "Даю согласие", key="Shift+Tab")
        await page.keyboard.press("Space")
        await expect(page.locator(".msg", has_text="согласие сохранено")).to_have_count(1)

        # Reply to the operator: the message's "⋯" button, its menu (arrows, Escape, Enter).
        await operator.say(conversation, "Добрый день! Заказ уже в пути.")
        await expect(bubble(page, "Заказ уже в пути")).to_have_count(1)
        await tab_to(page, lambda f: "composer-input" in f["cls"])

        def menu_of(text: str):
            return lambda f: "msg-menu-button" in f["cls"] and text in f["message"]

        await tab_to(page, menu_of("Заказ уже в пути"), key="Shift+Tab")
        await press(page, "Enter")
        await expect(page.get_by_role("menuitem", name="Ответить")).to_be_focused()
        await press(page, "ArrowDown")
        await press(page, "ArrowUp")
        await expect(page.get_by_role("menuitem", name="Ответить")).to_be_focused()
        await press(page, "Escape")
        await expect(page.get_by_role("menu")).to_have_count(0)
        await press(page, "Enter")
        await press(page, "Enter")  # Ответить
        await expect(composer).to_be_focused()
        await expect(page.locator(".context-reply")).to_contain_text("Заказ уже в пути")
        await page.keyboard.type("Номер заказа 1234")
        await page.keyboard.press("Enter")
        reply = await operator.message(text="Номер заказа 1234")
        assert reply["reply_to"], reply

        # Attach a file: Shift+Tab to the clip, Enter opens the file chooser.
        await tab_to(page, lambda f: f["name"] == "Прикрепить файл", key="Shift+Tab")
        async with page.expect_file_chooser() as chooser:
            await page.keyboard.press("Enter")
        await (await chooser.value).set_files(
            {"name": "чек.png", "mimeType": "image/png", "buffer": png()}
        )
        await expect(page.locator(".context-attachment")).to_contain_text("чек.png")
        await expect(composer).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.locator(".msg .att-image img")).to_have_count(1)
        sent = await operator.message(wait=10)
        assert sent["attachment"]["name"] == "чек.png", sent

        # Read the history: a long answer pushes the first message out of view; Shift+Tab
        # through the messages brings it back, and Tab goes on down to the composer.
        for n in range(1, 13):
            await operator.say(conversation, f"Строка ответа {n}")
        await expect(bubble(page, "Строка ответа 12")).to_have_count(1)
        await page.set_viewport_size({"width": 1280, "height": 520})
        await page.evaluate("() => window.okno.thread.scrollToBottom(false)")
        await expect(first).not_to_be_in_viewport()
        await tab_to(page, lambda f: "composer-input" in f["cls"])
        await tab_to(page, menu_of("где мой заказ"), key="Shift+Tab")
        await expect(first).to_be_in_viewport()
        await tab_to(page, lambda f: "composer-input" in f["cls"])
        await page.keyboard.type("Спасибо!")
        await press(page, "Tab")
        await expect(page.get_by_role("button", name="Отправить")).to_be_focused()
        await press(page, "Space")
        await expect(bubble(page, "Спасибо!").locator(".ticks.sent")).to_be_visible()
        await expect(composer).to_be_focused()  # the next message starts where the last did
        assert page.errors.errors == []
    finally:
        await operator.close()
        await context.close()


async def test_reduced_motion_stops_animations_and_transitions(browser, base_url) -> None:
    context = await browser.new_context(viewport=DESKTOP, locale="ru-RU", reduced_motion="reduce")
    page = await context.new_page()
    page.errors = PageErrors(page)
    await page.goto(f"{base_url}/chat")
    await page.wait_for_function("() => window.okno && window.okno.socket.state === 'open'")
    durations = await page.evaluate(
        """() => [".send-button", ".msg-menu-button", ".composer"].flatMap((selector) => {
             const probe = document.querySelector(selector) || document.body;
             const s = getComputedStyle(probe);
             return [s.transitionDuration, s.animationDuration];
           })"""
    )
    assert all(float(d.split(",")[0].rstrip("s")) < 0.001 for d in durations), durations
    assert page.errors.errors == []
    await context.close()

    regular = await client_page(browser, base_url)
    duration = await regular.evaluate(
        "() => getComputedStyle(document.querySelector('.send-button')).transitionDuration"
    )
    assert float(duration.split(",")[0].rstrip("s")) >= 0.1, duration
    await regular.context.close()
