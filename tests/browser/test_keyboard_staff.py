"""The operator's console by keyboard alone: through the folders and the list, open, answer,
resolve, open the next one, answer and transfer it to a colleague. Every control that takes the
focus shows it (an outline or a box-shadow), Tab always moves on (no trap), and the console
announces new messages and status changes in live regions, not the client's typing.
"""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from okno.platform.staff.roles import Role
from tests.browser.conftest import client_page, staff_page
from tests.browser.test_chat_ui import bubble, conversation_of
from tests.chat_support import join_team

FOCUSED = """() => {
  const node = document.activeElement;
  if (!node || node === document.body) return null;
  const style = getComputedStyle(node);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow && style.boxShadow !== "none";
  const label = node.getAttribute("aria-label") || node.textContent.trim().slice(0, 40);
  return {
    visible: outline || shadow,
    tag: node.tagName.toLowerCase(),
    cls: node.className,
    label,
    moved: window.__lastFocused !== node,
    remember: (window.__lastFocused = node) && true,
  };
}"""


async def focused(page: Any) -> dict[str, Any]:
    info = await page.evaluate(FOCUSED)
    assert info is not None, "the focus fell to the page's body"
    assert info["visible"], f"no visible focus indicator on {info}"
    return info


async def tab_to(
    page: Any, selector: str, *, text: str = "", back: bool = False, most: int = 60
) -> None:
    """Press Tab (Shift+Tab with ``back``) until ``selector`` (holding ``text``) has the focus,
    checking on each
    stop that the focus is shown and that it moved (a control that keeps it is a trap)."""
    await page.evaluate("() => { window.__lastFocused = document.activeElement; }")
    for _ in range(most):
        await page.keyboard.press("Shift+Tab" if back else "Tab")
        info = await focused(page)
        assert info["moved"], f"Tab did not move the focus from {info}"
        if await page.evaluate(
            "([s, t]) => document.activeElement.matches(s)"
            " && document.activeElement.textContent.includes(t)",
            [selector, text],
        ):
            return
    raise AssertionError(f"{selector} not reached by Tab")


async def client_writes(browser: Any, base_url: str, text: str) -> tuple[Any, int]:
    client = await client_page(browser, base_url)
    await client.locator(".composer-input").fill(text)
    await client.locator(".composer-input").press("Enter")
    return client, await conversation_of(client)


async def test_the_operator_works_by_keyboard_alone(browser, base_url, make_staff) -> None:
    operator = await make_staff(Role.OPERATOR)
    colleague = await make_staff(Role.OPERATOR)
    for user in (operator, colleague):
        await join_team(user.id)
    # The operator is online first, so the router gives both new conversations to them; the
    # colleague comes online after, to be offered in the transfer dialog.
    console = await staff_page(browser, base_url, operator.login)
    first, first_id = await client_writes(browser, base_url, "Где мой заказ?")
    second, second_id = await client_writes(browser, base_url, "Хочу вернуть товар")
    other = await staff_page(browser, base_url, colleague.login)

    # To the folders, then «Команда» with the arrow keys; into the list; ↑/↓ move.
    await tab_to(console, ".tab[aria-selected=true]")
    while not await console.evaluate("() => document.activeElement.dataset.box === 'team'"):
        await console.keyboard.press("ArrowRight")
        await focused(console)
    await expect(console.locator(".tab[data-box=team]")).to_have_attribute("aria-selected", "true")
    await expect(console.locator(f'.conv-item[data-id="{second_id}"]')).to_be_visible()
    await expect(console.locator(f'.conv-item[data-id="{first_id}"]')).to_be_visible()
    await tab_to(console, ".conv-item")
    for _ in range(5):
        if await console.evaluate(f"() => document.activeElement.dataset.id === '{first_id}'"):
            break
        await console.keyboard.press("ArrowDown")
        await focused(console)
    else:
        for _ in range(5):
            await console.keyboard.press("ArrowUp")
            await focused(console)
            if await console.evaluate(f"() => document.activeElement.dataset.id === '{first_id}'"):
                break
    assert await console.evaluate(f"() => document.activeElement.dataset.id === '{first_id}'")

    # Enter opens it and puts the focus in the composer; Enter sends the answer.
    await console.keyboard.press("Enter")
    await expect(bubble(console, "Где мой заказ?")).to_have_count(1)
    await expect(console.locator(".composer-input")).to_be_focused()
    await console.keyboard.type("Сейчас проверю, минуту")
    await console.keyboard.press("Enter")
    await expect(bubble(first, "Сейчас проверю, минуту")).to_have_count(1)
    await expect(console.locator(".conv-sub")).to_contain_text("ведёте вы")
    status = console.locator(".console-status")
    await expect(status).to_contain_text("ведёте вы")

    # The client's new message lands in the thread's live region; typing is not announced.
    messages = console.locator(".conv-body .msgs")
    await expect(messages).to_have_attribute("aria-live", "polite")
    await first.wait_for_timeout(3100)  # the client's composer sends typing at most every 3 s
    await first.locator(".composer-input").press_sequentially("Спасибо, жду", delay=30)
    await expect(console.locator(".conv-sub")).to_contain_text("печатает")
    assert await console.locator(".conv-sub").evaluate("(n) => !n.closest('[aria-live]')")
    await expect(status).not_to_contain_text("печатает")
    await first.locator(".composer-input").press("Enter")
    await expect(messages.locator(".msg", has_text="Спасибо, жду")).to_have_count(1)

    # Resolve it: Shift+Tab back to «Статус», Enter, ↓ to «Решён — закрыть», Enter.
    await tab_to(console, ".status-button", back=True)
    await console.keyboard.press("Enter")
    for _ in range(6):
        if "Решён" in (await focused(console))["label"]:
            break
        await console.keyboard.press("ArrowDown")
    await console.keyboard.press("Enter")
    await expect(console.locator(".status-button")).to_contain_text("Решён")
    await expect(status).to_contain_text("Решён")
    await expect(first.locator(".msg", has_text="Ваш вопрос решён?")).to_have_count(1)

    # Back to the list (Shift+Tab), to the second conversation, open and answer it.
    await tab_to(console, ".conv-item", back=True)
    for key in ("ArrowDown", "ArrowUp") * 3:
        if await console.evaluate(f"() => document.activeElement.dataset.id === '{second_id}'"):
            break
        await console.keyboard.press(key)
        await focused(console)
    assert await console.evaluate(f"() => document.activeElement.dataset.id === '{second_id}'")
    await console.keyboard.press("Enter")
    await expect(bubble(console, "Хочу вернуть товар")).to_have_count(1)
    await console.keyboard.type("Оформим возврат")
    await console.keyboard.press("Enter")
    await expect(bubble(second, "Оформим возврат")).to_have_count(1)
    await expect(console.locator(".conv-sub")).to_contain_text("ведёте вы")

    # Transfer it to the colleague: the dialog takes the focus, Esc would close it, Tab
    # reaches the colleague, Enter transfers.
    await tab_to(console, ".transfer-button", back=True)
    await console.keyboard.press("Enter")
    dialog = console.locator("dialog.transfer-dialog")
    await expect(dialog).to_be_visible()
    await focused(console)
    await console.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(console.locator(".transfer-button")).to_be_focused()
    await console.keyboard.press("Enter")
    await expect(dialog).to_be_visible()
    await tab_to(console, "dialog.transfer-dialog .pick", text=colleague.display_name)
    await console.keyboard.press("Enter")
    await expect(console.locator(".conv-sub")).to_contain_text(f"ведёт {colleague.display_name}")
    await expect(status).to_contain_text(f"ведёт {colleague.display_name}")
    await expect(second.locator(".chat-name")).to_have_text(colleague.display_name)

    for page in (console, other, first, second):
        assert page.errors.errors == []
        await page.context.close()
