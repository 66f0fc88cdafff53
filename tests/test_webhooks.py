"""Webhooks end to end: an admin registers an endpoint on «Вебхуки», okno's surfaces make the
changes, and a real HTTP receiver started by the test gets the events: signed, each once by id,
in order per conversation, none for a change that rolled back, none lost when the server dies
between commit and send, none sent twice by two workers."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest

from okno.platform import database
from okno.platform.staff.roles import Role
from okno.platform.webhooks.events import EVENTS
from tests.admin_support import Console, admin_console
from tests.chat_support import Client
from tests.conftest import (
    ADMIN_PASSWORD,
    ServerProcess,
    new_database,
    owner_connection,
    staff_client,
)
from tests.test_destruction_requests import approve, newest_request, post
from tests.test_mailings import compose, new_client, send_now
from tests.test_portal import make_person, portal_from_chat
from tests.webhook_support import HOLD, Received, Receiver, receiver, register, remove, verify


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as state:
        yield state


@pytest.fixture
async def console(base_url: str, db: None) -> AsyncIterator[Console]:
    """The session server's admin; the endpoints a test registers are removed after it, so
    later tests' changes are not queued for a receiver that is gone."""
    admin = await admin_console(base_url)
    admin.registered = []  # type: ignore[attr-defined]
    yield admin
    for endpoint_id in admin.registered:  # type: ignore[attr-defined]
        await remove(admin, endpoint_id)
    await admin.close()


async def endpoint(console: Console, url: str, events: list[str], scope: str = "ids"):
    endpoint_id, secret = await register(console, url, events, scope)
    console.registered.append(endpoint_id)  # type: ignore[attr-defined]
    return endpoint_id, secret


@pytest.fixture
async def dpo(base_url, make_staff):
    user = await make_staff(Role.DPO)
    client = await staff_client(base_url, user.login)
    yield client
    await client.aclose()


def of_type(requests: list[Received], kind: str) -> list[dict]:
    return [r.event for r in requests if r.event["type"] == kind]


def in_order_per_conversation(requests: list[Received]) -> None:
    """Every request of a conversation's messages (failed ones too) came in seq order: no
    message was sent before the one before it was delivered."""
    seqs: dict[int, list[int]] = defaultdict(list)
    for r in requests:
        data = r.event["data"]
        if r.event["type"] == "message.created":
            seqs[data["conversation_id"]].append(data["seq"])
    for conversation, got in seqs.items():
        assert got == sorted(got), (conversation, got)


def once_each(requests: list[Received]) -> list[str]:
    """The ids answered 2xx, asserting that none was delivered twice."""
    delivered = [r.id for r in requests if 200 <= r.answered < 300]
    twice = [i for i, n in Counter(delivered).items() if n > 1]
    assert not twice, twice
    return delivered


async def test_every_event_type_arrives_signed_with_ids_and_the_scope_s_pd(
    base_url, console, hook, supervisor, dpo
) -> None:
    endpoint_id, secret = await endpoint(console, hook.url, list(EVENTS), scope="pd")
    # A client chats, consents, leaves an e-mail; the operator answers, transfers, closes.
    person = await make_person(base_url, supervisor)
    conversation = person.conversation
    subject = uuid.UUID(person.subject_id)
    await supervisor.say(conversation, "Добрый день, смотрю заказ")
    await supervisor.send(type="transfer", conversation=conversation, to_team=1)
    await supervisor.send(type="status", conversation=conversation, status="resolved")
    await hook.until(lambda h: of_type(h.delivered(), "conversation.resolved"))
    # «Мои данные»: the consent is withdrawn, which files a request; the DPO executes it.
    portal = await portal_from_chat(base_url, person)
    portal.timeout = dpo.timeout = httpx.Timeout(30)  # a loaded machine: slow, not broken
    withdrawn = await portal.post(
        f"/me/consents/{person.consent}/withdraw", data={"_csrf_token": portal.csrf}
    )
    assert withdrawn.status_code == 303, withdrawn.text
    request_id = await newest_request(subject, "consent_withdrawn")
    await approve(dpo, request_id)
    done = await post(
        dpo,
        f"/admin/dpo/requests/{request_id}/execute",
        confirm="yes",
        scope="subject",
        reference="вх. письмо",
    )
    assert done.status_code == 303, done.text
    # A mailing to another client who agreed to advertising.
    tag = f"w{uuid.uuid4().hex[:8]}"
    subscriber, _ = await new_client(base_url, supervisor, tag, advertising=True)
    admin_http = await staff_client(base_url, "admin", ADMIN_PASSWORD)
    report = await send_now(admin_http, await compose(admin_http, tag, "Скидка для своих"))
    assert report["delivered"] == 1

    await hook.until(lambda h: {r.event["type"] for r in h.delivered()} == set(EVENTS))
    got = hook.delivered()
    for r in got:
        assert verify(secret, r.headers["okno-signature"], r.body), r.headers
        assert r.headers["okno-event"] == r.event["type"]
        assert r.id == r.event["id"]
    once_each(got)
    ours = [r for r in got if r.event["data"].get("subject_id") == str(subject)]
    messages = of_type(ours, "message.created")
    assert {m["data"]["author"] for m in messages} == {"client", "staff", "bot"}
    client_first = next(m for m in messages if m["data"]["author"] == "client")
    assert client_first["data"]["text"] == "Здравствуйте, вопрос по заказу"  # scope: pd
    assert of_type(ours, "conversation.created")[0]["data"]["conversation_id"] == conversation
    assert of_type(ours, "conversation.transferred")[0]["data"]["to_team_id"] == 1
    assert of_type(ours, "consent.withdrawn")[0]["data"]["given_id"] == person.consent
    closed = of_type(ours, "rights_request.closed")[0]["data"]
    assert (closed["request_id"], closed["status"]) == (request_id, "done")
    destroyed = of_type(ours, "subject.destroyed")[0]["data"]
    assert destroyed["scope"] == "subject"
    in_order_per_conversation(ours)
    kinds = [r.event["type"] for r in ours]
    assert kinds.index("subject.destroyed") > kinds.index("consent.withdrawn")
    async with database.acquire() as conn:
        # Destruction emptied the PD part of the subject's deliveries, delivered ones too.
        left = await conn.fetchval(
            "SELECT count(*) FROM webhook_delivery WHERE subject_id = $1 AND pd <> '{}'", subject
        )
        provided = await conn.fetchval(
            "SELECT count(*) FROM processing_log WHERE subject_id = $1 AND action = 'provision'"
            " AND 'message_text' = ANY (fields)",
            subject,
        )
        audited = await conn.fetchval(
            "SELECT after->>'pd_scope' FROM staff_audit WHERE entity = 'webhook'"
            " AND entity_key = $1 AND change = 'создан'",
            str(endpoint_id),
        )
        stored = await conn.fetchval(
            "SELECT secret FROM webhook_endpoint WHERE id = $1", endpoint_id
        )
    assert left == 0
    assert provided > 0, "a message text handed to the receiver is logged as a provision"
    assert audited == "pd"
    assert secret.encode() not in stored
    await portal.aclose()
    await admin_http.aclose()
    await subscriber.close()
    await person.client.close()


async def move_retries_to_now(endpoint_id: int) -> None:
    async with database.acquire() as conn:
        # Moving time: the back-off's wait is over (the delays themselves are settings).
        await conn.execute(
            "UPDATE webhook_delivery SET next_attempt_at = now()"
            " WHERE endpoint_id = $1 AND status = 'pending'",
            endpoint_id,
        )


async def test_a_receiver_that_fails_then_recovers_gets_every_event_once_in_order(
    base_url, console, hook
) -> None:
    hook.statuses.extend([500, 503])
    endpoint_id, _ = await endpoint(console, hook.url, ["message.created"])
    first, second = await Client.open(base_url), await Client.open(base_url)
    for n in range(3):
        await first.say(f"первый {n}")
        await second.say(f"второй {n}")
    await hook.until(lambda h: len(h.all()) >= 2)
    page = await console.open(f"/admin/webhooks/{endpoint_id}")
    assert "получатель упал: база CRM недоступна" in page
    assert "500" in page
    assert "повтор" in page

    deadline = asyncio.get_running_loop().time() + 30
    while len(hook.delivered()) < 6:
        assert asyncio.get_running_loop().time() < deadline, [r.answered for r in hook.all()]
        await move_retries_to_now(endpoint_id)
        await asyncio.sleep(0.2)
    requests = hook.all()
    assert len(once_each(requests)) == 6
    in_order_per_conversation(requests)
    async with database.acquire() as conn:
        rows = await conn.fetch(
            "SELECT status, attempts FROM webhook_delivery WHERE endpoint_id = $1", endpoint_id
        )
    assert {r["status"] for r in rows} == {"delivered"}
    assert sum(r["attempts"] for r in rows) == 8  # two refused, then each once
    await first.close()
    await second.close()


async def test_a_rolled_back_change_sends_nothing(base_url, console, hook) -> None:
    endpoint_id, _ = await endpoint(console, hook.url, ["conversation.created", "message.created"])
    marker = f"сбой-{uuid.uuid4().hex[:8]}"
    async with owner_connection() as conn:
        # Fault injection: storing this one message fails, after its new conversation was
        # queued (conversation.created) in the same transaction.
        await conn.execute(
            "CREATE FUNCTION webhook_test_fail() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'injected'; END $$;"
            f"CREATE TRIGGER webhook_test_fail BEFORE INSERT ON message FOR EACH ROW"
            f" WHEN (NEW.body = '{marker}') EXECUTE FUNCTION webhook_test_fail()"
        )
    try:
        client = await Client.open(base_url)
        await client.send(type="send", client_id=str(uuid.uuid4()), text=marker)
        assert (await client.until("error"))["code"] == "internal"
    finally:
        async with owner_connection() as conn:
            await conn.execute(
                "DROP TRIGGER webhook_test_fail ON message; DROP FUNCTION webhook_test_fail()"
            )
    async with database.acquire() as conn:
        queued = await conn.fetchval(
            "SELECT count(*) FROM webhook_delivery WHERE endpoint_id = $1", endpoint_id
        )
    assert queued == 0
    ack = await client.say("теперь получится")
    await hook.until(lambda h: len(h.delivered()) == 2)
    created, message = (r.event for r in hook.delivered())
    assert created["type"] == "conversation.created"
    assert created["data"]["conversation_id"] == ack["conversation"]
    assert message["data"]["seq"] == ack["seq"]
    assert len(hook.all()) == 2
    await client.close()


async def test_two_workers_never_send_one_twice(database_url, base_url, console, hook) -> None:
    second_worker = ServerProcess(database_url)  # a second server: its jobs compete
    try:
        await endpoint(console, hook.url, ["conversation.created", "message.created"])
        clients = [await Client.open(base_url) for _ in range(4)]

        async def chat(client: Client, n: int) -> None:
            for i in range(5):
                await client.say(f"клиент {n}, сообщение {i}")

        await asyncio.gather(*(chat(c, n) for n, c in enumerate(clients)))
        await hook.until(lambda h: len(h.delivered()) >= 24)
        await asyncio.sleep(1.5)  # one more poll of both workers: a repeat would show now
        requests = hook.all()
        assert len(once_each(requests)) == 24
        assert len(requests) == 24
        in_order_per_conversation(requests)
        for client in clients:
            await client.close()
    finally:
        second_worker.stop()


@pytest.fixture(scope="module")
def own_database(database_url: str):
    """A database of the module's own for the tests that stop servers or change settings;
    each such test removes its endpoint, so the next one's receiver gets only its own."""
    with new_database() as fresh:
        yield fresh


def own_server(fresh, **env: str) -> ServerProcess:
    server = ServerProcess(fresh.url, OKNO_MIGRATION_DATABASE_URL=fresh.owner_url, **env)
    server.database_url = fresh.url  # type: ignore[attr-defined]
    return server


@pytest.mark.timeout(300)  # two server starts, which a loaded machine makes slow
async def test_a_crash_between_commit_and_send_loses_nothing(own_database, hook) -> None:
    server = own_server(own_database)
    conn = await asyncpg.connect(own_database.url)
    try:
        admin = await admin_console(server.url)
        endpoint_id, _ = await register(admin, hook.url, ["message.created"])
        await admin.close()
        hook.statuses.append(HOLD)  # the first send never gets its answer: the server dies
        client = await Client.open(server.url)
        acks = [await client.say(text) for text in ("раз", "два", "три")]
        await hook.until(lambda h: len(h.all()) == 1)
        server.process.kill()  # mid-send, its three messages committed
        server.process.wait()
        server.output.close()
        hook.release()
        server = own_server(own_database)  # the app restarts
        await hook.until(lambda h: len(h.delivered()) == 3)
        statuses = await conn.fetch(
            "SELECT status FROM webhook_delivery WHERE endpoint_id = $1", endpoint_id
        )
        admin = await admin_console(server.url)
        await remove(admin, endpoint_id)
        await admin.close()
    finally:
        await conn.close()
        server.stop()
    assert [r["status"] for r in statuses] == ["delivered"] * 3
    requests = hook.all()
    delivered = once_each(requests)
    assert [r.event["data"]["seq"] for r in hook.delivered()] == [a["seq"] for a in acks]
    assert requests[0].id == delivered[0], "the unanswered one was sent again, same id"


@pytest.mark.timeout(300)
async def test_an_endpoint_that_keeps_failing_is_paused_and_the_admin_told(
    own_database, hook
) -> None:
    server = own_server(
        own_database, OKNO_WEBHOOK_PAUSE_AFTER_FAILURES="2", OKNO_WEBHOOK_RETRY_SECONDS="1"
    )
    conn = await asyncpg.connect(own_database.url)
    try:
        admin = await admin_console(server.url)
        hook.statuses.extend([500] * 2)
        endpoint_id, secret = await register(admin, hook.url, ["message.created"])
        client = await Client.open(server.url)
        await client.say("алло")
        for _ in range(100):
            paused = await conn.fetchval(
                "SELECT paused_by FROM webhook_endpoint WHERE id = $1", endpoint_id
            )
            if paused:
                break
            await asyncio.sleep(0.2)
        assert paused == "failures"
        home = await admin.open("/admin")
        assert "Приостановлено вебхуков из-за ошибок получателя: 1" in home
        page = await admin.open(f"/admin/webhooks/{endpoint_id}")
        assert "получатель долго не принимал события" in page
        assert "получатель упал: база CRM недоступна" in page
        resumed = await admin.submit(
            f"/admin/webhooks/{endpoint_id}", f"/admin/webhooks/{endpoint_id}/resume"
        )
        assert resumed.status_code == 303
        await hook.until(lambda h: len(h.delivered()) == 1)
        assert verify(
            secret, hook.delivered()[0].headers["okno-signature"], hook.delivered()[0].body
        )
        changes = await conn.fetch(
            "SELECT change FROM staff_audit WHERE entity = 'webhook' AND entity_key = $1"
            " ORDER BY id",
            str(endpoint_id),
        )
        assert [r["change"] for r in changes] == ["создан", "возобновлён"]
        await client.close()
        await admin.close()
    finally:
        await conn.close()
        server.stop()


async def test_bad_endpoint_forms_are_refused_with_a_message(console) -> None:
    for fields, says in (
        ({"url": "ftp://crm.example.ru", "events": ["message.created"]}, "адрес"),
        ({"url": "https://crm.example.ru/h", "events": ["no.such"]}, "событие"),
        (
            {"url": "https://crm.example.ru/h", "events": ["message.created"], "pd_scope": "all"},
            "объём",
        ),
    ):
        response = await console.submit("/admin/webhooks/", **fields)  # type: ignore[arg-type]
        assert response.status_code == 400
        assert says in (console.alert() or ""), console.page[:2000]
    async with database.acquire() as conn:
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM webhook_endpoint WHERE url LIKE '%crm.example.ru%'"
            )
            == 0
        )
