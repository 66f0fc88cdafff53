"""The client's chat keeps its answers and its reading place: a pressed button leaves its echo,
a superseded consent offer can no longer be pressed, the date chip and the offline banner
hide nothing being read."""

from __future__ import annotations

from playwright.async_api import expect

from okno.platform.staff.roles import Role
from tests.browser.test_chat_ui import bubble
from tests.browser.test_console_state import client_says
from tests.chat_support import Staff

# Pairs of a visible date chip and a message bubble that overlap on screen.
COVERED = """() => {
  const chips = [...document.querySelectorAll('.msgs > .day span')].filter(
    (chip) => getComputedStyle(chip).opacity !== '0');
  const bubbles = [...document.querySelectorAll('.msgs .bubble')];
  const overlap = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  return chips.flatMap((chip) => bubbles
    .filter((b) => overlap(chip.getBoundingClientRect(), b.getBoundingClientRect()))
    .map((b) => b.textContent.slice(0, 40)));
}"""

# How far the newest message's bottom is below the thread's visible bottom (> 0: cut off).
CUT_OFF = """() => {
  const body = document.querySelector('.chat-body').getBoundingClientRect();
  const last = [...document.querySelectorAll('.msgs .msg')].pop().getBoundingClientRect();
  return last.bottom - body.bottom;
}"""


async def test_a_pressed_button_leaves_its_echo_and_a_superseded_offer_is_retired(
    browser, base_url, make_staff
) -> None:
    boss = await make_staff(Role.SUPERVISOR)
    client, conversation = await client_says(browser, base_url, "Хочу оставить телефон")
    staff = await Staff.open(base_url, boss.login)
    try:
        await staff.open_conversation(conversation)
        await staff.send(type="offer_consent", conversation=conversation, purpose="support")
        offers = client.locator(".msg.by-bot", has_text="Нажимая кнопку «Даю согласие»")
        await expect(offers).to_have_count(1)
        await expect(offers.first.locator(".bot-button")).to_have_count(2)

        # Offered again: only the newest offer can be answered.
        await staff.send(type="offer_consent", conversation=conversation, purpose="support")
        await expect(offers).to_have_count(2)
        await expect(offers.first.locator(".bot-button")).to_have_count(0)
        await expect(offers.last.locator(".bot-button")).to_have_count(2)

        # The answer stays under the question, in words, and nothing is left to press.
        await offers.last.get_by_role("button", name="Даю согласие").click()
        await expect(offers.last.locator(".bot-choice")).to_have_text("Выбрано: Даю согласие")
        await expect(offers.last.locator(".bot-button")).to_have_count(0)
        await expect(client.locator(".msg", has_text="согласие сохранено")).to_have_count(1)
        # A reload shows the same: the echo is the server's, not the page's.
        await client.reload()
        await client.wait_for_function("() => window.okno.socket.state === 'open'")
        await expect(offers.last.locator(".bot-choice")).to_have_text("Выбрано: Даю согласие")
        await expect(client.locator(".bot-button")).to_have_count(0)
        assert client.errors.errors == []
    finally:
        await staff.close()
        await client.context.close()


async def test_the_date_chip_and_the_offline_banner_hide_nothing(
    browser, base_url, make_staff
) -> None:
    boss = await make_staff(Role.SUPERVISOR)
    client, conversation = await client_says(browser, base_url, "Вопрос", height=560)
    staff = await Staff.open(base_url, boss.login)
    try:
        await staff.open_conversation(conversation)
        for n in range(1, 16):
            await staff.say(conversation, f"Строка ответа номер {n}")
        await expect(bubble(client, "Строка ответа номер 15")).to_have_count(1)

        # Scrolled to put a message right under the chip: once the scrolling stops, the
        # chip steps aside.
        await client.evaluate(
            """() => {
              const body = document.querySelector('.chat-body');
              const target = [...document.querySelectorAll('.msgs .bubble')][6];
              body.scrollTop += target.getBoundingClientRect().top - body.getBoundingClientRect().top - 4;
            }"""
        )
        await client.wait_for_function(f"() => ({COVERED})().length === 0")

        # At the bottom, the offline banner takes its height from above, not the newest lines.
        await client.evaluate("() => window.okno.thread.scrollToBottom(false)")
        assert await client.evaluate(CUT_OFF) <= 1
        await client.evaluate("window.okno.socket.stopped = true; window.okno.socket.drop()")
        await expect(client.locator(".conn-banner")).to_be_visible()
        await client.wait_for_function(f"() => ({CUT_OFF})() <= 1")
        await client.evaluate("window.okno.socket.stopped = false; window.okno.socket.connect()")
        await expect(client.locator(".conn-banner")).to_be_hidden()
        assert client.errors.errors == []
    finally:
        await staff.close()
        await client.context.close()
