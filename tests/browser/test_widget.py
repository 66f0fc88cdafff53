"""The embeddable widget on a company's own site: the button, the panel, the chat inside it."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.async_api import expect

from okno.platform.staff import accounts
from okno.platform.staff.roles import Role
from tests.browser.test_chat_ui import bubble
from tests.browser.test_screenshots import shots_folder
from tests.chat_support import Staff
from tests.conftest import STAFF_PASSWORD, ServerProcess


class ShopSite:
    """A company's site on its own origin, with the one-line snippet pasted in."""

    def __init__(self) -> None:
        self.okno_origin = ""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                page = (
                    "<!doctype html><html lang=ru><meta charset=utf-8><title>Магазин «Ромашка»</title>"
                    "<body style='font-family:sans-serif;margin:40px;background:#faf7f2'>"
                    "<h1>Магазин «Ромашка»</h1><p>Цветы с доставкой по городу.</p>"
                    f'<script src="{site.okno_origin}/widget.js" async></script>'
                ).encode()
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def shop() -> Iterator[ShopSite]:
    site = ShopSite()
    yield site
    site.close()


@pytest.fixture(scope="module")
def widget_server(database_url: str, shop: ShopSite) -> Iterator[ServerProcess]:
    """okno allowing the shop to embed its chat (OKNO_WIDGET_ORIGINS)."""
    process = ServerProcess(database_url, OKNO_WIDGET_ORIGINS=shop.origin)
    yield process
    process.stop()


async def test_the_widget_runs_cross_site_and_contacts_only_okno(
    browser, widget_server, shop
) -> None:
    # "localhost" and "127.0.0.1" are different sites, as a company's site and okno will be.
    shop.okno_origin = widget_server.url.replace("127.0.0.1", "localhost")
    context = await browser.new_context()
    page = await context.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    try:
        await page.goto(shop.origin)
        button = page.get_by_role("button", name="Открыть чат с компанией")
        await expect(button).to_be_visible()
        box = await button.bounding_box()
        assert box["x"] > page.viewport_size["width"] - 120
        assert box["y"] > page.viewport_size["height"] - 120
        await button.click()
        frame = page.locator("[data-okno-widget] iframe")
        await expect(frame).to_have_attribute("src", f"{shop.okno_origin}/chat?embed=1")
        toggle = page.get_by_role("button", name="Свернуть чат")
        await expect(toggle).to_have_attribute("aria-expanded", "true")
        await toggle.click()
        await expect(frame).to_be_hidden()
        assert hosts <= {shop.origin.split("/")[2], shop.okno_origin.split("/")[2]}, hosts
    finally:
        await context.close()


async def test_on_a_site_okno_does_not_allow_the_panel_explains_instead_of_a_refused_frame(
    browser, base_url, shop, tmp_path
) -> None:
    # The suite's shared server lists no sites («Чат и виджет» empty, no OKNO_WIDGET_ORIGINS).
    shop.okno_origin = base_url.replace("127.0.0.1", "localhost")
    context = await browser.new_context(viewport={"width": 1100, "height": 760}, locale="ru-RU")
    page = await context.new_page()
    try:
        await page.goto(shop.origin)
        await page.get_by_role("button", name="Открыть чат с компанией").click()
        panel = page.get_by_role("dialog", name="Чат с компанией")
        await expect(panel).to_contain_text("Чат пока не подключён к этому сайту")
        await expect(panel).to_contain_text(f"Адрес {shop.origin} не указан в настройках чата")
        link = panel.get_by_role("link", name="Открыть чат в новой вкладке")
        await expect(link).to_have_attribute("href", f"{shop.okno_origin}/chat")
        await expect(page.locator("[data-okno-widget] iframe")).to_have_count(0)
        await page.screenshot(path=shots_folder(tmp_path) / "widget-not-allowed.png")
    finally:
        await context.close()


async def test_a_visitor_chats_inside_the_widget(
    browser, widget_server, shop, db, tmp_path
) -> None:
    shop.okno_origin = widget_server.url
    boss = await accounts.create_user(
        f"maria-{secrets.token_hex(3)}", Role.SUPERVISOR, STAFF_PASSWORD, "Мария Соколова"
    )
    context = await browser.new_context(viewport={"width": 1100, "height": 760}, locale="ru-RU")
    page = await context.new_page()
    staff = None
    try:
        await page.goto(shop.origin)
        await page.get_by_role("button", name="Открыть чат с компанией").click()
        chat = page.frame_locator("[data-okno-widget] iframe")
        await expect(chat.locator(".chat-welcome")).to_be_visible()
        await expect(chat.locator(".topbar")).to_have_count(0)  # no site header in the frame
        composer = chat.locator(".composer-input")
        await composer.fill("Можно заказать букет к 18:00?")
        await composer.press("Enter")
        await expect(bubble(chat, "Можно заказать букет").locator(".ticks.sent")).to_be_visible()
        conversation = (
            await page.frame_locator("[data-okno-widget] iframe")
            .locator("#chat")
            .evaluate("() => window.okno.state.conversation")
        )

        # The operator answers while the panel is closed: the button shows a badge.
        await chat.get_by_role("button", name="Свернуть чат").click()
        staff = await Staff.open(widget_server.url, boss.login)
        await staff.open_conversation(conversation)
        await staff.say(conversation, "Да, конечно! Какие цветы вы хотите?")
        button = page.locator("[data-okno-widget] button[aria-controls='okno-panel']")
        await expect(button).to_have_attribute("aria-label", "Открыть чат с компанией")
        await expect(button).to_contain_text("1")
        await button.click()
        await expect(bubble(chat, "Какие цветы")).to_have_count(1)
        await expect(button).not_to_contain_text("1")
        if os.environ.get("OKNO_SCREENSHOTS"):
            await page.screenshot(path=shots_folder(tmp_path) / "widget.png")
    finally:
        if staff is not None:
            await staff.close()
        await context.close()


async def test_a_reply_shows_on_the_badge_of_the_next_page_without_opening_the_panel(
    browser, widget_server, shop, db
) -> None:
    shop.okno_origin = widget_server.url
    boss = await accounts.create_user(
        f"oleg-{secrets.token_hex(3)}", Role.SUPERVISOR, STAFF_PASSWORD, "Олег Петров"
    )
    context = await browser.new_context(viewport={"width": 1100, "height": 760}, locale="ru-RU")
    page = await context.new_page()
    staff = await Staff.open(widget_server.url, boss.login)
    button = page.locator("[data-okno-widget] button[aria-controls='okno-panel']")
    try:
        await page.goto(shop.origin)
        await button.click()
        chat = page.frame_locator("[data-okno-widget] iframe")
        await chat.locator(".composer-input").fill("Есть ли ромашки?")
        await chat.locator(".composer-input").press("Enter")
        await expect(bubble(chat, "Есть ли ромашки?").locator(".ticks.sent")).to_be_visible()
        conversation = await chat.locator("#chat").evaluate("() => window.okno.state.conversation")
        await chat.get_by_role("button", name="Свернуть чат").click()

        # The visitor goes to another page of the site; the operator answers meanwhile.
        await page.goto(f"{shop.origin}/catalog")
        await staff.open_conversation(conversation)
        await staff.say(conversation, "Есть, белые и полевые.")
        await expect(button).to_contain_text("1")
        # ... and on the page after that, the reply still waits on the badge: it was not read.
        await page.goto(f"{shop.origin}/delivery")
        await expect(button).to_contain_text("1")
        await button.click()
        await expect(bubble(chat, "белые и полевые")).to_have_count(1)
        await expect(button).not_to_contain_text("1")
        await page.goto(f"{shop.origin}/contacts")
        await expect(page.locator("[data-okno-widget] iframe")).to_have_count(1)
        await page.wait_for_timeout(500)  # the preloaded chat has synced: nothing is unread
        await expect(button).not_to_contain_text("1")
    finally:
        await staff.close()
        await context.close()
