"""Cross-site WebSocket hijacking, in a real browser: a page of another origin (served by the
test), or of a sibling host of the same site (Chromium's host resolver maps both names to this
machine), opens okno's sockets with the signed-in operator's and the visitor's cookies. The
browser sends those cookies (the same site); okno refuses the handshake by its Origin."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from okno.platform.staff.roles import Role
from tests.browser.conftest import CHROMIUM_ARGS
from tests.chat_support import join_team
from tests.conftest import STAFF_PASSWORD, free_port

pytestmark = pytest.mark.timeout(90)

ATTACK = """<!doctype html><meta charset="utf-8"><title>attack</title><script>
window.results = {};
for (const path of ["/ws/staff", "/ws/client"]) {
  const ws = new WebSocket("ws://%(okno)s" + path);
  ws.onopen = () => {
    window.results[path] = "opened";
    ws.send(JSON.stringify(path === "/ws/staff" ? {type: "ping"} : {type: "resume", after: 0}));
  };
  ws.onmessage = (event) => { window.results[path] = "read: " + event.data.slice(0, 80); };
  ws.onclose = () => { window.results[path] = window.results[path] || "refused"; };
}
</script>"""


@contextlib.asynccontextmanager
async def attacker_site(okno_host: str) -> AsyncIterator[int]:
    """A tiny web server of the attacker's: every path answers the attacking page."""
    page = (ATTACK % {"okno": okno_host}).encode()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while (await reader.readline()) not in (b"\r\n", b""):
                pass
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n" % len(page) + page
            )
            await writer.drain()
        writer.close()

    port = free_port()
    server = await asyncio.start_server(answer, "127.0.0.1", port)
    try:
        yield port
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("sibling", [False, True], ids=["another-origin", "sibling-host"])
async def test_a_foreign_page_cannot_use_the_operators_or_visitors_cookies(
    chromium, base_url, make_staff, sibling
) -> None:
    from playwright.async_api import async_playwright

    user = await make_staff(Role.OPERATOR)
    await join_team(user.id)  # the teams surface is being built: SQL until then
    port = int(base_url.rsplit(":", 1)[1])
    args = list(CHROMIUM_ARGS)
    okno = f"127.0.0.1:{port}"
    if sibling:
        args.append("--host-resolver-rules=MAP okno.test 127.0.0.1, MAP evil.okno.test 127.0.0.1")
        okno = f"okno.test:{port}"
    async with async_playwright() as playwright, attacker_site(okno) as attacker_port:
        browser = await playwright.chromium.launch(executable_path=chromium, args=args)
        try:
            context = await browser.new_context(locale="ru-RU")
            page = await context.new_page()
            # The victim: a visitor of the chat and a signed-in operator, in one browser.
            await page.goto(f"http://{okno}/chat")
            await page.wait_for_function("() => window.okno && window.okno.socket.state === 'open'")
            await page.goto(f"http://{okno}/admin/login")
            await page.fill("input[name=login]", user.login)
            await page.fill("input[name=password]", STAFF_PASSWORD)
            async with page.expect_navigation():
                await page.click("form button.primary")
            await page.goto(f"http://{okno}/admin/chats")
            await page.wait_for_function("() => window.okno && window.okno.socket.state === 'open'")
            # The attacker's page, in the same browser with the same cookies.
            attacker = "evil.okno.test" if sibling else "127.0.0.1"
            evil = await context.new_page()
            await evil.goto(f"http://{attacker}:{attacker_port}/")
            await evil.wait_for_function("() => Object.keys(window.results).length === 2")
            await evil.wait_for_timeout(500)  # what an opened socket would read meanwhile
            results = await evil.evaluate("() => window.results")
            assert results == {"/ws/staff": "refused", "/ws/client": "refused"}, results
            # okno's own pages still work.
            assert await page.evaluate("() => window.okno.socket.state") == "open"
        finally:
            await browser.close()


async def test_the_console_lets_go_of_a_conversation_transferred_away(
    browser, base_url, make_staff, supervisor
) -> None:
    from playwright.async_api import expect

    from tests.browser.conftest import staff_page
    from tests.chat_support import Client, new_team

    user = await make_staff(Role.OPERATOR)
    await join_team(user.id)  # the teams surface is being built: SQL until then
    client = await Client.open(base_url)
    conversation = (await client.say("вопрос про доставку"))["conversation"]
    console = await staff_page(browser, base_url, user.login)
    await console.goto("about:blank")  # then a full load that opens the conversation by URL
    await console.goto(f"{base_url}/admin/chats#{conversation}")
    await expect(console.locator(".msg", has_text="вопрос про доставку")).to_have_count(1)

    team = await new_team("Доставка")
    await supervisor.send(type="transfer", conversation=conversation, to_team=team)
    await expect(console.locator(".toasts")).to_contain_text("Диалог вам больше недоступен")
    await expect(console.locator(f'.conv-item[data-id="{conversation}"]')).to_have_count(0)
    await expect(console.locator(".msg")).to_have_count(0)
    await client.say("это уже не для этого оператора")
    await console.wait_for_timeout(500)
    await expect(console.locator(".msg")).to_have_count(0)
    assert console.errors.errors == []
    await console.context.close()
    await client.close()
