"""«Чат и виджет»: an admin's settings reach the client's page and the widget on every worker;
bad input is refused with a clear message and changes nothing; other staff are refused; the
environment's overrides win and the page says so."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from tests.conftest import ADMIN_PASSWORD, ServerProcess, add_staff, csrf_from, staff_client
from tests.fresh_okno import fresh_okno

DEFAULTS = {
    "title": "Поддержка",
    "greeting": "Здравствуйте! Напишите вопрос — ответит живой оператор.",
    "accent": "#2a9ef1",
    "launcher": "right",
    "widget_origins": "",
}


@pytest.fixture(scope="module")
def okno(database_url: str) -> Iterator[ServerProcess]:
    # Two workers: a change made through one must reach pages served by the other.
    with fresh_okno(database_url, workers=2) as server:
        yield server


async def save(admin: httpx.AsyncClient, **fields: str) -> httpx.Response:
    form = {**DEFAULTS, **fields, "_csrf_token": admin.csrf}  # type: ignore[attr-defined]
    return await admin.post("/admin/settings/chat/", data=form)


async def on_every_worker(url: str, path: str, expected: str) -> str:
    """GET ``path`` on fresh connections (so on either worker) until ten in a row carry
    ``expected``; a worker that missed the change would keep its old copy for 30 s."""
    in_a_row, body = 0, ""
    for _ in range(100):
        async with httpx.AsyncClient(base_url=url) as fresh:
            body = (await fresh.get(path)).text
        in_a_row = in_a_row + 1 if expected in body else 0
        if in_a_row == 10:
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} does not carry {expected!r} on every worker: {body[:300]}")


async def test_each_setting_reaches_the_clients_page_and_the_widget(
    okno: ServerProcess, admin: httpx.AsyncClient, okno_db: asyncpg.Connection
) -> None:
    saved = await save(
        admin,
        title="Ромашка — помощь",
        greeting="Добрый день! Спросите о букетах и доставке.",
        accent="#C2185B",
        launcher="left",
        widget_origins="https://shop.example.ru\nhttps://Www.Example.ru/",
        prechat_form="on",
    )
    assert saved.status_code == 303, saved.text
    page = await admin.get(saved.headers["location"])
    assert "Сохранено." in page.text

    # The pre-chat form is on: a new visitor gets it instead of the chat.
    prechat = await on_every_worker(okno.url, "/chat", 'action="/chat/prechat')
    assert "/chat/theme.css" in prechat
    async with httpx.AsyncClient(base_url=okno.url) as visitor:
        page = await visitor.get("/chat")
        answered = await visitor.post(
            "/chat/prechat", data={"topic": "orders", "_csrf_token": csrf_from(page.text)}
        )
    assert answered.status_code == 303, answered.text  # the form is live, not only shown
    await save(
        admin,
        title="Ромашка — помощь",
        greeting="Добрый день! Спросите о букетах и доставке.",
        accent="#c2185b",
        launcher="left",
        widget_origins="https://shop.example.ru https://www.example.ru",
    )
    chat = await on_every_worker(okno.url, "/chat", "<title>Ромашка — помощь — окно</title>")
    assert '<strong class="chat-name">Ромашка — помощь</strong>' in chat
    assert "Добрый день! Спросите о букетах и доставке." in chat
    theme = await on_every_worker(okno.url, "/chat/theme.css", "--accent: #c2185b;")
    assert "--accent-dark:" in theme

    widget = await on_every_worker(okno.url, "/widget.js", '"side":"left"')
    config = json.loads(re.search(r"var config = (\{.*?\});", widget).group(1))
    assert config == {
        "accent": "#c2185b",
        "side": "left",
        "origins": ["https://shop.example.ru", "https://www.example.ru"],
    }
    async with httpx.AsyncClient(base_url=okno.url) as visitor:
        framed = await visitor.get("/chat?embed=1")
    assert (
        "frame-ancestors 'self' https://shop.example.ru https://www.example.ru"
        in framed.headers["content-security-policy"]
    )

    # Each change is one entry in the staff audit log: who, which setting, old -> new.
    rows = await okno_db.fetch(
        "SELECT actor_login, entity_key, before, after FROM staff_audit"
        " WHERE entity = 'setting' ORDER BY id"
    )
    changed = [row["entity_key"] for row in rows]
    assert changed == [
        "title",
        "greeting",
        "accent",
        "launcher",
        "widget_origins",
        "prechat_form",
        "prechat_form",
    ]
    assert {row["actor_login"] for row in rows} == {"admin"}
    assert json.loads(rows[0]["before"]) == {"заголовок чата": "Поддержка"}
    assert json.loads(rows[0]["after"]) == {"заголовок чата": "Ромашка — помощь"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "   ", "заголовок чата: от 1 до 60 символов"),
        ("title", "Я" * 61, "заголовок чата: от 1 до 60 символов"),
        ("greeting", "", "приветствие: от 1 до 500 символов"),
        ("accent", "red", "цвет: шесть шестнадцатеричных цифр"),
        ("accent", "#12345g", "цвет: шесть шестнадцатеричных цифр"),
        ("launcher", "top", "кнопка виджета: выберите"),
        ("widget_origins", "shop.example.ru", "«shop.example.ru» — не адрес сайта"),
        ("widget_origins", "https://shop.example.ru/page", "не адрес сайта"),
        ("widget_origins", "https://a.ru; script-src *", "не адрес сайта"),
        ("widget_origins", "javascript:alert(1)", "не адрес сайта"),
    ],
)
async def test_bad_input_is_refused_with_a_clear_message_and_changes_nothing(
    okno: ServerProcess,
    admin: httpx.AsyncClient,
    okno_db: asyncpg.Connection,
    field: str,
    value: str,
    message: str,
) -> None:
    before = await okno_db.fetch("SELECT key, value FROM chat_setting ORDER BY key")
    logged = await okno_db.fetchval("SELECT count(*) FROM staff_audit")
    refused = await save(admin, **{"title": "Другой заголовок", field: value})
    assert refused.status_code == 400
    assert "Не сохранено: " in refused.text
    assert message in refused.text
    assert await okno_db.fetch("SELECT key, value FROM chat_setting ORDER BY key") == before
    assert await okno_db.fetchval("SELECT count(*) FROM staff_audit") == logged


@pytest.mark.parametrize("role", ["operator", "supervisor", "dpo"])
async def test_other_staff_can_neither_see_nor_change_the_settings(
    okno: ServerProcess, admin: httpx.AsyncClient, okno_db: asyncpg.Connection, role: str
) -> None:
    login = f"{role}-settings"
    await add_staff(admin, login, role)
    member = await staff_client(okno.url, login)
    before = await okno_db.fetch("SELECT key, value FROM chat_setting ORDER BY key")
    assert (await member.get("/admin/settings/chat/")).status_code == 403
    refused = await member.post(
        "/admin/settings/chat/",
        data={**DEFAULTS, "title": "Взлом", "_csrf_token": member.csrf},  # type: ignore[attr-defined]
    )
    assert refused.status_code == 403
    assert await okno_db.fetch("SELECT key, value FROM chat_setting ORDER BY key") == before
    await member.aclose()


async def test_nobody_signed_out_reaches_the_settings(okno: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=okno.url) as anonymous:
        page = await anonymous.get("/admin/login")
        answer = await anonymous.post(
            "/admin/settings/chat/",
            data={**DEFAULTS, "_csrf_token": csrf_from(page.text)},
        )
        assert answer.status_code in (401, 303)
        assert (await anonymous.get("/admin/settings/chat/")).status_code in (401, 303)


async def test_the_snippet_is_copy_ready_and_says_when_https_is_needed(
    okno: ServerProcess, admin: httpx.AsyncClient
) -> None:
    page = (await admin.get("/admin/settings/chat/")).text
    snippet = re.search(r'<code id="widget-snippet">(.*?)</code>', page).group(1)
    assert snippet == f'&lt;script async src="{okno.url}/widget.js"&gt;&lt;/script&gt;'
    assert "okno сейчас открыт по HTTP" in page
    assert "OKNO_PUBLIC_URL=https://" in page


async def test_without_allowed_sites_the_widget_explains_instead_of_a_refused_frame(
    okno: ServerProcess, admin: httpx.AsyncClient
) -> None:
    await save(admin, widget_origins="")
    widget = await on_every_worker(okno.url, "/widget.js", '"origins":[]')
    assert "Чат пока не подключён к этому сайту" in widget
    page = (await admin.get("/admin/settings/chat/")).text
    assert "Список сайтов пуст" in page


def test_the_environment_overrides_the_console_and_the_page_says_so(
    database_url: str,
) -> None:
    env = {"OKNO_WIDGET_ORIGINS": "https://from-env.example", "OKNO_PRECHAT_FORM": "false"}
    with fresh_okno(database_url, **env) as server:

        async def check() -> None:
            admin = await staff_client(server.url, "admin", ADMIN_PASSWORD)
            saved = await save(admin, widget_origins="https://console.example", prechat_form="on")
            assert saved.status_code == 303
            page = (await admin.get("/admin/settings/chat/")).text
            assert "Сейчас действует переменная окружения <code>OKNO_WIDGET_ORIGINS</code>" in page
            assert "переменная окружения <code>OKNO_PRECHAT_FORM</code>" in page
            async with httpx.AsyncClient(base_url=server.url) as visitor:
                framed = await visitor.get("/chat?embed=1")
                widget = (await visitor.get("/widget.js")).text
            assert "composer" in framed.text  # the env turned the pre-chat form off
            csp = framed.headers["content-security-policy"]
            assert "frame-ancestors 'self' https://from-env.example" in csp
            assert "console.example" not in csp
            assert '"origins":["https://from-env.example"]' in widget
            await admin.aclose()

        asyncio.run(check())
