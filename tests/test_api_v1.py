"""The integrations' API (/api/v1) and its tokens, end to end: tokens made and revoked on the
admin's page, calls with each scope allowed or refused, expiry, the rate limit, the log rows
with the token as actor, idempotent sends that reach the client's open chat."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from okno.platform import database
from okno.platform.apitokens.service import SCOPES
from tests.admin_support import Console, create_api_token
from tests.chat_support import Client
from tests.conftest import ADMIN_PASSWORD, ServerProcess, csrf_from

pytestmark = pytest.mark.timeout(60)
RATE = 40  # the module's server's OKNO_API_RATE_PER_MINUTE


@pytest.fixture(scope="module")
def okno(database_url):
    # Its own server: the pre-chat form on (a client gives consent and contacts through it)
    # and a low per-token rate, neither of which the session's server may have.
    server = ServerProcess(
        database_url, OKNO_PRECHAT_FORM="true", OKNO_API_RATE_PER_MINUTE=str(RATE)
    )
    yield server
    server.stop()


@pytest.fixture
async def console(okno: ServerProcess) -> AsyncIterator[Console]:
    console = await Console.sign_in(okno.url, "admin", ADMIN_PASSWORD)
    yield console
    await console.http.aclose()


def api(okno: ServerProcess, secret: str | None) -> httpx.AsyncClient:
    headers = {"accept": "application/json"}
    if secret is not None:
        headers["authorization"] = f"Bearer {secret}"
    return httpx.AsyncClient(base_url=f"{okno.url}/api/v1", headers=headers)


async def conversation_of_a_client(
    okno: ServerProcess, text: str = "где мой заказ?"
) -> tuple[Client, int]:
    client = await Client.open(okno.url)
    ack = await client.say(text)
    return client, ack["conversation"]


async def token_id(secret: str) -> int:
    async with database.acquire() as conn:
        return await conn.fetchval("SELECT id FROM api_token WHERE prefix = $1", secret[:12])


async def test_a_token_is_shown_once_stored_hashed_and_audited(okno, console, db) -> None:
    secret = await create_api_token(console, "CRM продаж", ["conversations:read"])
    assert secret.startswith("okno_")
    assert len(secret) > 40
    again = await console.open("/admin/api-tokens")
    assert secret not in again
    assert "CRM продаж" in again
    assert secret[:12] in again
    async with database.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM api_token WHERE prefix = $1", secret[:12])
        assert secret.encode() not in bytes(row["token_hash"])
        assert len(row["token_hash"]) == 32
        audit = await conn.fetch(
            "SELECT change, after FROM staff_audit WHERE entity = 'api_token' AND entity_key = $1",
            str(row["id"]),
        )
    assert [a["change"] for a in audit] == ["создан API-токен"]
    assert secret not in audit[0]["after"]


async def test_the_form_refuses_what_is_not_offered(okno, console, db) -> None:
    await console.open("/admin/api-tokens")
    async with database.acquire() as conn:
        before = await conn.fetchval("SELECT count(*) FROM api_token")
    for fields in (
        {"name": "x", "purpose": "support", "days": "30", "scope": "everything:write"},
        {"name": "x", "purpose": "support", "days": "30"},
        {"name": "x", "purpose": "nonexistent", "days": "30", "scope": "mailings:read"},
        {"name": "", "purpose": "support", "days": "30", "scope": "mailings:read"},
        {"name": "x", "purpose": "support", "days": "99999", "scope": "mailings:read"},
    ):
        response = await console.http.post(
            "/admin/api-tokens/", data={**fields, "_csrf_token": csrf_from(console.page)}
        )
        assert response.status_code == 400, fields
        assert 'id="new-token"' not in response.text
        assert "Не удалось создать токен" in response.text
    async with database.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM api_token") == before


async def test_each_scope_admits_exactly_its_calls(okno, console, db) -> None:
    client, conversation = await conversation_of_a_client(okno)
    reader = await create_api_token(console, "только диалоги", ["conversations:read"])
    writer = await create_api_token(console, "пишет", ["messages:write"])
    body = {"client_id": str(uuid.uuid4()), "text": "Здравствуйте"}
    calls = {
        "conversations:read": ("GET", f"/conversations/{conversation}", None),
        "messages:read": ("GET", f"/conversations/{conversation}/messages", None),
        "messages:write": ("POST", f"/conversations/{conversation}/messages", body),
        "conversations:write": ("POST", f"/conversations/{conversation}/tags", {"tags": ["api"]}),
    }
    for secret, allowed in ((reader, {"conversations:read"}), (writer, {"messages:write"})):
        async with api(okno, secret) as http:
            for scope, (method, url, json) in calls.items():
                response = await http.request(method, url, json=json)
                if scope in allowed:
                    assert response.status_code in (200, 201), (scope, response.text)
                else:
                    assert response.status_code == 403, (scope, response.text)
                    error = response.json()  # the shape of every error answer
                    assert error["status_code"] == 403
                    assert error["detail"] == f"у этого токена нет права {scope}"
    async with api(okno, None) as anonymous:
        response = await anonymous.get("/conversations/")
        assert response.status_code == 401
        assert "Bearer" in response.json()["detail"]
    async with api(okno, "okno_" + "x" * 43) as forged:
        assert (await forged.get("/conversations/")).status_code == 401
    await client.close()


async def test_revoked_and_expired_tokens_are_refused(okno, console, db) -> None:
    revoked = await create_api_token(console, "отзовём", ["mailings:read"])
    expiring = await create_api_token(console, "истечёт", ["mailings:read"], days=1)
    for secret in (revoked, expiring):
        async with api(okno, secret) as http:
            assert (await http.get("/mailings/")).status_code == 200
    revoked_id = await token_id(revoked)
    response = await console.submit("/admin/api-tokens", f"/admin/api-tokens/{revoked_id}/revoke")
    assert response.status_code == 303
    assert "отозван" in console.page
    async with database.acquire() as conn:
        # Moving time: the day of validity passes without the test waiting for it.
        await conn.execute(
            "UPDATE api_token SET expires_at = now() - interval '1 second' WHERE prefix = $1",
            expiring[:12],
        )
        audit = await conn.fetch(
            "SELECT change FROM staff_audit WHERE entity = 'api_token' AND entity_key = $1",
            str(revoked_id),
        )
    assert [a["change"] for a in audit] == ["создан API-токен", "отозван API-токен"]
    for secret in (revoked, expiring):
        async with api(okno, secret) as http:
            response = await http.get("/mailings/")
        assert response.status_code == 401
        assert response.json()["detail"] == "токен не действует: неизвестен, отозван или истёк"
    page = await console.open("/admin/api-tokens")
    assert "истёк" in page
    assert "не было" not in page.split("истечёт")[1].split("</tr>")[0]


async def test_a_token_is_limited_per_minute(okno, console, db) -> None:
    secret = await create_api_token(console, "частый", ["mailings:read"])
    other = await create_api_token(console, "соседний", ["mailings:read"])
    async with api(okno, secret) as http:
        answers = [(await http.get("/mailings/")).status_code for _ in range(RATE + 1)]
    assert answers == [200] * RATE + [429]
    async with api(okno, other) as http:
        assert (await http.get("/mailings/")).status_code == 200  # per token, not for all


async def test_a_send_is_idempotent_and_reaches_the_open_chat(okno, console, db) -> None:
    client, conversation = await conversation_of_a_client(okno)
    secret = await create_api_token(console, "бот CRM", ["messages:write", "messages:read"])
    body = {"client_id": str(uuid.uuid4()), "text": "Заказ передан в доставку"}
    async with api(okno, secret) as http:
        first = await http.post(f"/conversations/{conversation}/messages", json=body)
        repeat = await http.post(f"/conversations/{conversation}/messages", json=body)
        assert first.status_code == repeat.status_code == 201, first.text
        assert first.json() == repeat.json()
        message = await client.message(text="Заказ передан в доставку")
        assert message["author"]["kind"] == "bot"
        assert message["seq"] == first.json()["seq"]
        assert not [
            f
            for f in await client.quiet()
            if f.get("message", {}).get("client_id") == body["client_id"]
        ]
        page = (await http.get(f"/conversations/{conversation}/messages")).json()
    assert [m["text"] for m in page["messages"]].count("Заказ передан в доставку") == 1
    async with database.acquire() as conn:
        stored = await conn.fetchval(
            "SELECT count(*) FROM message WHERE conversation_id = $1 AND client_id = $2",
            conversation,
            uuid.UUID(body["client_id"]),
        )
    assert stored == 1
    await client.close()


async def test_writes_and_reads_are_logged_with_the_token_as_actor(okno, console, db) -> None:
    client, conversation = await conversation_of_a_client(okno, "мой заказ 77")
    secret = await create_api_token(
        console,
        "CRM",
        ["conversations:read", "conversations:write", "messages:read", "messages:write"],
    )
    number = await token_id(secret)
    async with database.acquire() as conn:
        subject = await conn.fetchval(
            "SELECT subject_id FROM conversation WHERE id = $1", conversation
        )
        operator = await conn.fetchval("SELECT id FROM staff_user WHERE login = 'admin'")
    async with api(okno, secret) as http:
        assert (
            await http.get("/conversations/", params={"after": conversation - 1, "limit": 1})
        ).json()["conversations"][0]["id"] == conversation
        assert (await http.get(f"/conversations/{conversation}/messages")).status_code == 200
        sent = await http.post(
            f"/conversations/{conversation}/messages",
            json={"client_id": str(uuid.uuid4()), "text": "Отвечаю из CRM", "as_staff": operator},
        )
        assert sent.status_code == 201, sent.text
        summary = (await http.get(f"/conversations/{conversation}")).json()
        assert summary["assignee"]["id"] == operator  # the operator's answer took it
        for url, json in (
            ("tags", {"tags": ["crm", "vip"]}),
            ("transfer", {"to_team": 1}),
            ("assign", {"staff_id": operator}),
            ("status", {"status": "pending"}),
        ):
            response = await http.post(f"/conversations/{conversation}/{url}", json=json)
            assert response.status_code == 200, (url, response.text)
        summary = (await http.get(f"/conversations/{conversation}")).json()
    assert summary["status"] == "pending"
    assert summary["tags"] == ["crm", "vip"]
    async with database.acquire() as conn:
        rows = await conn.fetch(
            "SELECT action, fields, purpose, reason FROM processing_log"
            " WHERE subject_id = $1 AND actor_kind = 'integration' AND actor_id = $2 ORDER BY id",
            subject,
            str(number),
        )
    actions = [r["action"] for r in rows]
    assert actions.count("provision") >= 4  # the list, the history, two summaries
    assert {"recording", "storage", "access"} <= set(actions)  # the answer, the transfer
    assert {r["purpose"] for r in rows} == {"support"}
    await client.close()


async def test_a_token_for_another_purpose_gets_no_messages(okno, console, db) -> None:
    client, conversation = await conversation_of_a_client(okno)
    secret = await create_api_token(
        console, "рассылки", ["conversations:read"], purpose="advertising-email"
    )
    async with api(okno, secret) as http:
        response = await http.get(f"/conversations/{conversation}")
    assert response.status_code == 403
    assert "support" in response.json()["detail"]
    await client.close()


async def test_a_clients_fields_are_given_only_under_consent(okno, console, db) -> None:
    _, conversation = await conversation_of_a_client(okno)
    http = httpx.AsyncClient(base_url=okno.url, headers={"accept": "text/html"})
    page = (await http.get("/chat")).text
    response = await http.post(
        "/chat/prechat",
        data={
            "name": "Олег",
            "phone": "8 916 222-33-44",
            "processing": "on",
            "_csrf_token": csrf_from(page),
        },
    )
    assert response.status_code == 303, response.text
    async with database.acquire() as conn:
        consented = await conn.fetchval(
            "SELECT subject_id FROM consent_event WHERE kind = 'given' ORDER BY id DESC LIMIT 1"
        )
        unconsented = await conn.fetchval(
            "SELECT subject_id FROM conversation WHERE id = $1", conversation
        )
    await http.aclose()
    secret = await create_api_token(console, "CRM клиенты", ["subjects:read", "consent:read"])
    number = await token_id(secret)
    async with api(okno, secret) as api_http:
        fields = await api_http.get(f"/subjects/{consented}")
        refused = await api_http.get(f"/subjects/{unconsented}")
        missing = await api_http.get(f"/subjects/{uuid.uuid4()}")
        consents = await api_http.get(f"/subjects/{consented}/consents")
    assert fields.status_code == 200, fields.text
    assert {f["field"]: f["value"] for f in fields.json()["fields"]}["name"] == "Олег"
    assert refused.status_code == 403
    assert "согласия" in refused.json()["detail"]
    assert missing.status_code == 404
    assert consents.status_code == 200
    assert next(e["kind"] for e in consents.json()["events"]) == "given"
    async with database.acquire() as conn:
        rows = await conn.fetch(
            "SELECT subject_id, action, fields, legal_basis FROM processing_log"
            " WHERE actor_kind = 'integration' AND actor_id = $1 ORDER BY id",
            str(number),
        )
    assert {r["subject_id"] for r in rows} == {consented}  # nothing for the refused one
    assert rows[0]["action"] == "provision"
    assert "name" in rows[0]["fields"]
    assert rows[0]["legal_basis"] == "152-fz:6.1.1"


async def test_requests_and_mailings_are_paged_by_cursor(okno, console, db) -> None:
    secret = await create_api_token(console, "отчёты", ["rights:read", "mailings:read"])
    async with api(okno, secret) as http:
        requests = await http.get("/rights-requests/", params={"limit": 1})
        mailings = await http.get("/mailings/", params={"limit": 200})
        wrong = await http.get("/rights-requests/", params={"status": "whatever"})
        missing = await http.get("/rights-requests/999999999")
    assert requests.status_code == 200
    assert set(requests.json()) == {"requests", "next_after"}
    assert mailings.status_code == 200
    assert mailings.json()["next_after"] is None
    assert wrong.status_code == 400
    assert missing.status_code == 404
    assert set(SCOPES) >= {"rights:read", "mailings:read"}


async def test_reports_figures_are_given_without_a_clients_data_and_unlogged(
    okno, console, db
) -> None:
    client, _ = await conversation_of_a_client(okno, "сколько стоит доставка?")
    secret = await create_api_token(console, "BI", ["reports:read"])
    other = await create_api_token(console, "без отчётов", ["mailings:read"])
    async with database.acquire() as conn:
        logged_before = await conn.fetchval("SELECT count(*) FROM processing_log")
    async with api(okno, secret) as http:
        by_channel = await http.get("/reports/", params={"by": "channel"})
        web_only = await http.get("/reports/", params={"channel": "web"})
        wrong = await http.get("/reports/", params={"channel": "telegram"})
        backwards = await http.get("/reports/", params={"start": "2026-02-01", "end": "2026-01-01"})
    async with api(okno, other) as http:
        refused = await http.get("/reports/")
    async with database.acquire() as conn:
        logged_after = await conn.fetchval("SELECT count(*) FROM processing_log")
    assert by_channel.status_code == 200, by_channel.text
    figures = by_channel.json()
    assert figures["total"]["created"] >= 1
    assert figures["filters"]["dimension"] == "channel"
    assert "сколько стоит доставка" not in by_channel.text
    assert web_only.json()["total"]["created"] == figures["total"]["created"]
    assert wrong.status_code == 400
    assert "нет такого канала" in wrong.json()["detail"]
    assert backwards.status_code == 400
    assert refused.status_code == 403
    assert logged_after == logged_before  # aggregates are not an access to anyone's data
    await client.close()
