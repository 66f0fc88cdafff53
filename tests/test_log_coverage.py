"""Rows of docs/processing-log.md's table that the audit found missing, each tested here, and
exports that must not wait for a second pooled connection while they hold one."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from okno.platform import database
from okno.platform.staff.roles import Role
from tests.chat_support import Client, Staff, subject_of
from tests.conftest import ServerProcess, csrf_from, staff_client
from tests.test_destruction import upload
from tests.test_portal import make_person, portal_from_chat
from tests.test_prechat import open_form, visitor_subject


async def rows_of(subject: uuid.UUID | str) -> list[dict]:
    async with database.acquire() as conn:
        rows = await conn.fetch(
            "SELECT action, actor_kind, actor_id, fields, purpose, legal_basis, reason"
            " FROM processing_log WHERE subject_id = $1 ORDER BY id",
            uuid.UUID(str(subject)),
        )
    return [dict(r) for r in rows]


async def staff_rows(staff_id: int, after: int) -> list[dict]:
    async with database.acquire() as conn:
        rows = await conn.fetch(
            "SELECT action, subject_id, fields, purpose, reason FROM processing_log"
            " WHERE actor_kind = 'staff' AND actor_id = $1 AND id > $2 ORDER BY id",
            str(staff_id),
            after,
        )
    return [dict(r) for r in rows]


async def last_log_id() -> int:
    async with database.acquire() as conn:
        return await conn.fetchval("SELECT coalesce(max(id), 0) FROM processing_log")


@pytest.fixture(scope="module")
def prechat_server(database_url):
    server = ServerProcess(database_url, OKNO_PRECHAT_FORM="true")
    yield server
    server.stop()


async def test_a_conversation_started_from_the_prechat_form_logs_its_collection(
    prechat_server, db
) -> None:
    http, page = await open_form(prechat_server)
    response = await http.post(
        "/chat/prechat", data={"advertising": "on", "_csrf_token": csrf_from(page)}
    )
    assert response.status_code == 303
    subject = await visitor_subject(http)
    collected = [r for r in await rows_of(subject) if r["action"] == "collection"]
    assert {tuple(r["fields"]) for r in collected} >= {("visitor_token",)}
    [token] = [r for r in collected if r["fields"] == ["visitor_token"]]
    assert (token["actor_kind"], token["purpose"], token["legal_basis"]) == (
        "subject",
        "support",
        "152-fz:6.1.5",
    )
    # Its first message then is an ordinary one: the collection is not logged twice.
    client = await Client.open(prechat_server.url, {"okno_visitor": http.cookies["okno_visitor"]})
    await client.say("Здравствуйте")
    tokens = [r for r in await rows_of(subject) if r["fields"] == ["visitor_token"]]
    assert len(tokens) == 1
    await client.close()
    await http.aclose()


async def test_staff_downloading_a_file_of_the_conversation_is_logged_as_access(
    base_url, db, supervisor
) -> None:
    client = await Client.open(base_url)
    attachment = await upload(client, "справка.txt", b"the file's content")
    ack = await client.say("Вот файл", attachment=attachment)
    conversation = ack["conversation"]
    [message] = [m for m in await supervisor.open_conversation(conversation) if m.get("attachment")]
    before = [r for r in await rows_of(await subject_of(conversation)) if r["action"] == "access"]
    response = await supervisor.http_client.get(message["attachment"]["url"])
    assert response.status_code == 200
    assert response.content == b"the file's content"
    rows = await rows_of(await subject_of(conversation))
    accessed = [r for r in rows if r["action"] == "access"][len(before) :]
    assert [(r["fields"], r["actor_kind"], r["reason"]) for r in accessed] == [
        (["attachment"], "staff", "файл из переписки открыт")
    ]
    # The client downloading their own file is not staff access: nothing more is logged.
    async with client.http() as own:
        assert (await own.get(message["attachment"]["url"])).status_code == 200
    assert len(await rows_of(await subject_of(conversation))) == len(rows)
    await client.close()


async def test_a_list_view_and_a_search_are_one_row_set_per_view_without_the_query(
    base_url, db, make_staff
) -> None:
    user = await make_staff(Role.SUPERVISOR)
    supervisor = await Staff.open(base_url, user.login)
    client = await Client.open(base_url)
    marker = f"заказ-{uuid.uuid4().hex[:8]}"
    await client.say(f"Где мой {marker}?")
    api = supervisor.http_client
    after = await last_log_id()
    listed = await api.get("/api/staff/conversations", params={"box": "all"})
    assert listed.status_code == 200
    shown = len(listed.json()["conversations"])
    assert shown >= 1
    rows = await staff_rows(user.id, after)
    assert [(r["action"], r["subject_id"], r["fields"], r["reason"]) for r in rows] == [
        ("systematization", None, ["message_text"], f"список диалогов «all»: показано {shown}"),
        ("access", None, ["message_text"], f"список диалогов «all»: показано {shown}"),
    ]
    after = await last_log_id()
    found = await api.get("/api/staff/conversations", params={"box": "all", "q": marker})
    assert len(found.json()["conversations"]) == 1
    rows = await staff_rows(user.id, after)
    assert [r["action"] for r in rows] == ["extraction", "systematization", "access"]
    assert {r["reason"] for r in rows} == {"поиск по перепискам «all»: показано 1"}
    assert not any(marker in r["reason"] for r in rows)
    after = await last_log_id()
    nothing = await api.get("/api/staff/conversations", params={"box": "all", "q": "нет-такого"})
    assert nothing.json()["conversations"] == []
    assert await staff_rows(user.id, after) == []
    await client.close()
    await supervisor.close()


async def test_the_staff_export_of_consent_proof_is_logged_as_extraction(
    base_url, supervisor, make_staff
) -> None:
    person = await make_person(base_url, supervisor)
    dpo = await make_staff(Role.DPO)
    http = await staff_client(base_url, dpo.login)
    response = await http.get("/admin/consent/proof/", params={"subject": person.subject_id})
    assert response.status_code == 200
    assert response.json()["events"][0]["ip"] == "127.0.0.1"
    [extracted] = [r for r in await rows_of(person.subject_id) if r["action"] == "extraction"]
    assert extracted == {
        "action": "extraction",
        "actor_kind": "staff",
        "actor_id": str(dpo.id),
        "fields": ["ip_address", "user_agent"],
        "purpose": "consent-proof",
        "legal_basis": "152-fz:9.3",
        "reason": "выгрузка доказательств согласия",
    }
    await http.aclose()
    await person.client.close()


async def export_through(url: str, cookies: httpx.Cookies, csrf: str) -> int:
    async with httpx.AsyncClient(
        base_url=url, cookies=cookies, headers={"accept": "text/html"}, timeout=30
    ) as http:
        response = await http.post("/me/export", data={"_csrf_token": csrf})
        return response.status_code


async def test_an_export_completes_on_a_server_with_a_pool_of_one(
    base_url, database_url, supervisor
) -> None:
    person = await make_person(base_url, supervisor)
    portal = await portal_from_chat(base_url, person)
    small = ServerProcess(database_url, OKNO_DB_POOL_SIZE="1")
    try:
        status = await export_through(small.url, portal.cookies, portal.csrf)
    finally:
        small.stop()
    assert status == 303
    async with database.acquire() as conn:
        made = await conn.fetchval(
            "SELECT count(*) FROM portal_export WHERE subject_id = $1",
            uuid.UUID(person.subject_id),
        )
    assert made == 2  # the JSON and the HTML file
    await portal.aclose()
    await person.client.close()


async def test_ten_concurrent_exports_complete_at_the_default_pool(base_url, supervisor) -> None:
    person = await make_person(base_url, supervisor)
    portal = await portal_from_chat(base_url, person)
    statuses = await asyncio.gather(
        *[export_through(base_url, portal.cookies, portal.csrf) for _ in range(10)]
    )
    assert statuses == [303] * 10
    rows = [r for r in await rows_of(person.subject_id) if r["action"] == "provision"]
    assert len([r for r in rows if r["reason"] == "выгрузка ваших данных по вашему запросу"]) == 10
    await portal.aclose()
    await person.client.close()
