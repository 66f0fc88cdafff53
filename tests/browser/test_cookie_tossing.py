"""Cookie tossing from a sibling host (issue 13): a page on evil.okno.test plants okno_csrf for
the whole okno.test domain and posts a form to okno. Chromium resolves both names to this
machine (--host-resolver-rules), so the two hosts are the same site, as on a real domain."""

from __future__ import annotations

import asyncio
import html
import secrets

import httpx

from okno.platform import database
from okno.platform.staff.roles import Role
from tests.browser.conftest import CHROMIUM_ARGS
from tests.conftest import STAFF_PASSWORD, csrf_from

RULES = "--host-resolver-rules=MAP okno.test 127.0.0.1, MAP evil.okno.test 127.0.0.1"


async def _serve_once_per_request(page: bytes) -> tuple[asyncio.Server, int]:
    """The sibling host: answers every request with ``page``."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\n"
            b"content-length: " + str(len(page)).encode() + b"\r\nconnection: close\r\n\r\n" + page
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_a_sibling_host_that_plants_a_csrf_cookie_cannot_add_an_admin(
    chromium, server, make_staff
) -> None:
    from playwright.async_api import async_playwright

    admin = await make_staff(Role.ADMIN)
    okno = f"http://okno.test:{server.port}"
    # The attacker's own cookie and its token, from an anonymous visit of their own.
    async with httpx.AsyncClient(base_url=server.url) as attacker:
        token = csrf_from((await attacker.get("/admin/login")).text)
        planted = attacker.cookies["okno_csrf"]
    new_login = f"tossed-{secrets.token_hex(3)}"
    evil_page = f"""<!doctype html><meta charset="utf-8">
<script>document.cookie = "okno_csrf={planted}; domain=okno.test; path=/";</script>
<form id="f" method="post" action="{okno}/admin/staff/">
<input name="login" value="{new_login}"><input name="role" value="admin">
<input name="password" value="{html.escape(STAFF_PASSWORD)}">
<input name="_csrf_token" value="{token}"></form>
<script>document.getElementById("f").submit();</script>""".encode()
    sibling, sibling_port = await _serve_once_per_request(evil_page)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, args=[*CHROMIUM_ARGS, RULES]
        )
        try:
            page = await browser.new_page()
            await page.goto(f"{okno}/admin/login")
            await page.fill("input[name=login]", admin.login)
            await page.fill("input[name=password]", STAFF_PASSWORD)
            async with page.expect_navigation():
                await page.click("form button.primary")
            assert "/admin/login" not in page.url, "sign-in failed"
            async with page.expect_response(f"{okno}/admin/staff/") as posted:
                await page.goto(f"http://evil.okno.test:{sibling_port}/")
            assert (await posted.value).status == 403
            cookies = await page.context.cookies(okno)
            assert any(c["name"] == "okno_csrf" and c["domain"] == ".okno.test" for c in cookies)
        finally:
            await browser.close()
            sibling.close()
            await sibling.wait_closed()
    async with database.acquire() as conn:
        assert (
            await conn.fetchval("SELECT count(*) FROM staff_user WHERE login = $1", new_login) == 0
        )
