"""The optional pre-chat form: two separate unchecked consents, contacts only under consent."""

from __future__ import annotations

import re

import httpx
import pytest

from okno.platform import database
from okno.platform.chat import visitors
from tests.conftest import ServerProcess, csrf_from


@pytest.fixture(scope="module")
def prechat_server(database_url):
    server = ServerProcess(database_url, OKNO_PRECHAT_FORM="true")
    yield server
    server.stop()


async def visitor_subject(http: httpx.AsyncClient) -> object:
    async with database.acquire() as conn:
        return await conn.fetchval(
            "SELECT subject_id FROM visitor WHERE token_hash = $1",
            visitors.token_hash(http.cookies["okno_visitor"]),
        )


async def open_form(server: ServerProcess) -> tuple[httpx.AsyncClient, str]:
    http = httpx.AsyncClient(base_url=server.url, headers={"accept": "text/html"})
    page = (await http.get("/chat")).text
    return http, page


async def test_the_form_offers_two_unchecked_consents_with_links(prechat_server, db) -> None:
    http, page = await open_form(prechat_server)
    boxes = re.findall(r"<input type=\"checkbox\"[^>]*>", page)
    assert [re.search(r'name="(\w+)"', box).group(1) for box in boxes] == [
        "processing",
        "advertising",
    ]
    assert not any("checked" in box for box in boxes)
    assert 'href="/policy"' in page
    assert 'href="/consents/processing-support/v' in page
    assert 'href="/consents/advertising-chat/v' in page
    await http.aclose()


async def test_contacts_without_the_processing_consent_are_refused_and_nothing_is_kept(
    prechat_server, db
) -> None:
    http, page = await open_form(prechat_server)
    response = await http.post(
        "/chat/prechat",
        data={
            "name": "Олег",
            "phone": "+7 916 222-33-44",
            "advertising": "on",
            "_csrf_token": csrf_from(page),
        },
    )
    assert response.status_code == 400
    assert "отметьте согласие на обработку" in response.text
    assert 'name="processing">' in response.text  # shown again, still unchecked
    assert await visitor_subject(http) is None
    await http.aclose()


async def test_contacts_under_consent_start_the_chat_and_advertising_stays_separate(
    prechat_server, db
) -> None:
    http, page = await open_form(prechat_server)
    response = await http.post(
        "/chat/prechat",
        data={
            "name": "Олег",
            "phone": "8 916 222-33-44",
            "topic": "orders",
            "processing": "on",
            "_csrf_token": csrf_from(page),
        },
    )
    assert response.status_code == 303
    assert 'class="chat-' in (await http.get("/chat")).text  # the chat itself now
    subject = await visitor_subject(http)
    async with database.acquire() as conn:
        fields = dict(
            await conn.fetch(
                "SELECT field, value FROM subject_field WHERE subject_id = $1", subject
            )
        )
        sources = {
            r["source"]
            for r in await conn.fetch(
                "SELECT source FROM subject_field WHERE subject_id = $1", subject
            )
        }
        events = await conn.fetch(
            "SELECT purpose_code, channel, control, ip FROM consent_event WHERE subject_id = $1",
            subject,
        )
        note = await conn.fetchval(
            "SELECT body FROM message m JOIN conversation c ON c.id = m.conversation_id WHERE c.subject_id = $1",
            subject,
        )
    assert fields == {"name": "Олег", "phone": "+79162223344"}
    assert sources == {"form"}
    assert [(e["purpose_code"], e["channel"], e["control"]) for e in events] == [
        ("support", "prechat_form", "checkbox:Согласие на обработку персональных данных")
    ]
    assert str(events[0]["ip"]) == "127.0.0.1"
    assert note == "Клиент заполнил анкету перед чатом: Имя, Телефон"
    await http.aclose()


async def test_advertising_alone_needs_no_contacts(prechat_server, db) -> None:
    http, page = await open_form(prechat_server)
    response = await http.post(
        "/chat/prechat", data={"advertising": "on", "_csrf_token": csrf_from(page)}
    )
    assert response.status_code == 303
    subject = await visitor_subject(http)
    async with database.acquire() as conn:
        purposes = [
            r["purpose_code"]
            for r in await conn.fetch(
                "SELECT purpose_code FROM consent_event WHERE subject_id = $1", subject
            )
        ]
        held = await conn.fetchval(
            "SELECT count(*) FROM subject_field WHERE subject_id = $1", subject
        )
    assert purposes == ["advertising-chat"]
    assert held == 0
    await http.aclose()
