"""Security, end to end: who may call what (every route and every frame), the OpenAPI contract
under generated input, CSRF, headers, oversized input and path traversal.

XSS rendering is checked in the browser tests (tests/browser/); brute-force limits on staff
sign-in are in test_staff_auth.py and on portal codes in test_portal.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import websockets

from okno.platform import database
from okno.platform.apitokens.service import SCOPES
from okno.platform.chat.frames import CLIENT_FRAME_TYPES, STAFF_FRAME_TYPES
from okno.platform.staff import accounts
from okno.platform.staff.roles import Role
from okno.platform.web.access import declared_access
from tests.admin_support import admin_console, create_api_token
from tests.chat_support import Client, join_team, leave_team, new_team
from tests.conftest import STAFF_PASSWORD, ServerProcess, csrf_from, staff_client

pytestmark = pytest.mark.timeout(60)

STAFF = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.DPO, Role.ADMIN})
CHAT = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})
DPO = frozenset({Role.DPO})
ADMIN = frozenset({Role.ADMIN})
CONSENT_ADMIN = frozenset({Role.ADMIN, Role.DPO})
MAILINGS = frozenset({Role.ADMIN, Role.SUPERVISOR})
TEAM_LEADS = frozenset({Role.ADMIN, Role.SUPERVISOR})  # a supervisor: members of own teams
HOURS = frozenset({Role.ADMIN, Role.SUPERVISOR})

# ---------------------------------------------------------------- the matrix
# Every route and its audience. A route missing here (or declaring another audience) fails
# test_every_route_and_frame_has_a_matrix_entry: add it deliberately, with its audience.
ROUTES: dict[str, str | frozenset[Role]] = {
    "GET /healthz": "public",
    "GET /readyz": "public",
    # A scraper's token and/or address (OKNO_METRICS_*); off here: tests/test_operations.py.
    "GET /metrics": "metrics",
    "GET /": "public",
    "GET /admin/login": "public",
    "POST /admin/login": "public",
    "GET /admin/password": STAFF,
    "POST /admin/password": STAFF,
    "POST /admin/logout": STAFF,
    "POST /admin/sessions/end-others": STAFF,
    "GET /admin": STAFF,
    "GET /admin/staff": ADMIN,
    "POST /admin/staff": ADMIN,
    "POST /admin/staff/{login:str}/disable": ADMIN,
    "GET /admin/staff/{login:str}": ADMIN,
    "POST /admin/staff/{login:str}/enable": ADMIN,
    "POST /admin/staff/{login:str}/profile": ADMIN,
    "POST /admin/staff/{login:str}/role": ADMIN,
    "POST /admin/staff/{login:str}/password": ADMIN,
    "POST /admin/staff/{login:str}/unlock": ADMIN,
    "GET /admin/teams": TEAM_LEADS,
    "POST /admin/teams": ADMIN,
    "GET /admin/teams/{team_id:int}": TEAM_LEADS,
    "POST /admin/teams/{team_id:int}/rename": ADMIN,
    "POST /admin/teams/{team_id:int}/archive": ADMIN,
    "POST /admin/teams/{team_id:int}/restore": ADMIN,
    "POST /admin/teams/{team_id:int}/default": ADMIN,
    "POST /admin/teams/{team_id:int}/members": TEAM_LEADS,
    "POST /admin/teams/{team_id:int}/members/{staff_id:int}/remove": TEAM_LEADS,
    "GET /admin/topics": ADMIN,
    "POST /admin/topics": ADMIN,
    "POST /admin/topics/{topic_id:int}/edit": ADMIN,
    "POST /admin/topics/{topic_id:int}/up": ADMIN,
    "POST /admin/topics/{topic_id:int}/down": ADMIN,
    "POST /admin/topics/{topic_id:int}/archive": ADMIN,
    "POST /admin/topics/{topic_id:int}/restore": ADMIN,
    "GET /admin/audit": ADMIN,
    "GET /admin/webhooks": ADMIN,
    "POST /admin/webhooks": ADMIN,
    "GET /admin/webhooks/{endpoint_id:int}": ADMIN,
    "POST /admin/webhooks/{endpoint_id:int}/pause": ADMIN,
    "POST /admin/webhooks/{endpoint_id:int}/resume": ADMIN,
    "POST /admin/webhooks/{endpoint_id:int}/remove": ADMIN,
    "GET /admin/settings/chat": ADMIN,
    "GET /admin/monitor": TEAM_LEADS,
    "GET /admin/monitor/live": TEAM_LEADS,
    "GET /admin/reports": TEAM_LEADS,
    "GET /admin/reports/csv": TEAM_LEADS,
    "POST /admin/reports/comments": TEAM_LEADS,
    "GET /admin/sla": ADMIN,
    "POST /admin/sla/{kind:str}/{key:int}": ADMIN,
    "GET /admin/channels": ADMIN,
    "POST /admin/channels": ADMIN,
    "POST /admin/channels/{channel_id:int}/disable": ADMIN,
    "POST /admin/settings/chat": ADMIN,
    "GET /admin/hours": HOURS,
    "POST /admin/hours/{team_id:int}": HOURS,
    "GET /admin/chats": CHAT,
    "GET /admin/consent": CONSENT_ADMIN,
    "GET /admin/consent/documents/{slug:str}": CONSENT_ADMIN,
    "POST /admin/consent/documents/{slug:str}": CONSENT_ADMIN,
    "POST /admin/consent/purposes/{code:str}": CONSENT_ADMIN,
    "GET /admin/consent/proof": CONSENT_ADMIN,
    "GET /admin/dpo": DPO,
    "GET /admin/dpo/acts": DPO,
    "GET /admin/dpo/acts/{act_id:int}": DPO,
    "GET /admin/dpo/acts/{act_id:int}/json": DPO,
    "GET /admin/dpo/find": DPO,
    "GET /admin/dpo/log": DPO,
    "POST /admin/dpo/log/verify": DPO,
    "GET /admin/dpo/requests/new": DPO,
    "POST /admin/dpo/requests": DPO,
    "GET /admin/dpo/requests/{request_id:int}": DPO,
    "POST /admin/dpo/requests/{request_id:int}/execute": DPO,
    "POST /admin/dpo/requests/{request_id:int}/extend": DPO,
    "POST /admin/dpo/requests/{request_id:int}/subject": DPO,
    "POST /admin/dpo/requests/{request_id:int}/transition": DPO,
    "GET /admin/dpo/retention": DPO,
    "GET /admin/dpo/special": DPO,
    "GET /admin/dpo/special/{conversation_id:int}/{seq:int}": DPO,
    "POST /admin/dpo/special/{conversation_id:int}/{seq:int}/destroy": DPO,
    "POST /admin/dpo/special/{conversation_id:int}/{seq:int}/keep": DPO,
    "POST /admin/dpo/retention/run": DPO,
    "GET /admin/dpo/subjects/{subject_id:str}": DPO,
    "POST /admin/dpo/subjects/{subject_id:str}/block": DPO,
    "POST /admin/dpo/subjects/{subject_id:str}/unblock": DPO,
    "POST /admin/dpo/subjects/{subject_id:str}/destroy": DPO,
    "GET /admin/mailings": MAILINGS,
    "POST /admin/mailings": MAILINGS,
    "GET /admin/mailings/{mailing_id:int}": MAILINGS,
    "POST /admin/mailings/{mailing_id:int}/schedule": MAILINGS,
    "POST /admin/mailings/{mailing_id:int}/cancel": MAILINGS,
    "GET /admin/incidents": DPO,
    "POST /admin/incidents": DPO,
    "GET /admin/incidents/{incident_id:int}": DPO,
    "POST /admin/incidents/{incident_id:int}/notices": DPO,
    "POST /hooks/max/{channel_id:int}": "webhook",
    "POST /hooks/vk/{channel_id:int}": "webhook",
    "GET /chat": "public",
    "GET /widget.js": "public",
    "GET /chat/theme.css": "public",
    "GET /policy": "public",
    "GET /reviews": "public",
    "GET /unsubscribe/{token:str}": "public",
    "POST /unsubscribe/{token:str}": "public",
    "GET /consents/{slug:str}": "public",
    "GET /consents/{slug:str}/{version:str}": "public",
    "GET /chat/consents/{event_id:int}": "subject",
    "POST /chat/prechat": "subject",
    "GET /me": "public",
    "GET /me/login": "public",
    "POST /me/login": "public",
    "GET /me/login/code": "public",
    "POST /me/login/code": "public",
    "GET /me/data": "subject",
    "GET /me/consents": "subject",
    "POST /me/consents/give": "subject",
    "GET /me/consents/{event_id:int}/receipt": "subject",
    "GET /me/consents/{event_id:int}/withdraw": "subject",
    "POST /me/consents/{event_id:int}/withdraw": "subject",
    "GET /me/export": "subject",
    "POST /me/export": "subject",
    "GET /me/export/{export_id:str}": "subject",
    "GET /me/requests": "subject",
    "POST /me/requests": "subject",
    "GET /me/history": "subject",
    "POST /me/logout": "subject",
    "POST /me/delete": "subject",
    "GET /api/chat/messages": "subject",
    "POST /api/chat/attachments": "subject",
    "GET /api/staff/conversations": CHAT,
    "GET /api/staff/conversations/{conversation_id:int}/messages": CHAT,
    "GET /api/staff/conversations/{conversation_id:int}/profile": CHAT,
    "GET /api/staff/conversations/{conversation_id:int}/deliveries": CHAT,
    "POST /api/staff/conversations/{conversation_id:int}/tags": CHAT,
    "POST /api/staff/conversations/{conversation_id:int}/messages/{seq:int}/special": CHAT,
    "GET /api/staff/directory": CHAT,
    "GET /api/staff/preferences": CHAT,
    "POST /api/staff/preferences": CHAT,
    # Any chat role may call it; the service takes only a supervisor's or admin's bulk action.
    "POST /api/staff/conversations/bulk": CHAT,
    "POST /api/staff/conversations/{conversation_id:int}/snooze": CHAT,
    "GET /api/staff/canned": CHAT,
    "POST /api/staff/canned": CHAT,
    "DELETE /api/staff/canned/{reply_id:int}": CHAT,
    "POST /api/staff/attachments": CHAT,
    "GET /attachments/{attachment_id:str}/{name:str}": "subject-or-staff",
    "GET /static/{file_path:path}": "public",
    "HEAD /static/{file_path:path}": "public",
    "GET /admin/api-tokens": ADMIN,
    "POST /admin/api-tokens": ADMIN,
    "POST /admin/api-tokens/{token_id:int}/revoke": ADMIN,
    "GET /api/v1/conversations": "token:conversations:read",
    "GET /api/v1/conversations/{conversation_id:int}": "token:conversations:read",
    "POST /api/v1/conversations/{conversation_id:int}/assign": "token:conversations:write",
    "POST /api/v1/conversations/{conversation_id:int}/transfer": "token:conversations:write",
    "POST /api/v1/conversations/{conversation_id:int}/status": "token:conversations:write",
    "POST /api/v1/conversations/{conversation_id:int}/tags": "token:conversations:write",
    "GET /api/v1/conversations/{conversation_id:int}/messages": "token:messages:read",
    "POST /api/v1/conversations/{conversation_id:int}/messages": "token:messages:write",
    "GET /api/v1/subjects/{subject_id:uuid}": "token:subjects:read",
    "GET /api/v1/subjects/{subject_id:uuid}/consents": "token:consent:read",
    "GET /api/v1/rights-requests": "token:rights:read",
    "GET /api/v1/rights-requests/{request_id:int}": "token:rights:read",
    "GET /api/v1/mailings": "token:mailings:read",
    "GET /api/v1/reports": "token:reports:read",
    "GET /schema": STAFF,
    "GET /schema/openapi.json": STAFF,
    "GET /schema/{path:str}": STAFF,
    "WS /ws/client": "subject",
    "WS /ws/staff": CHAT,
}

# Every frame type, an example that names subject A's conversation, and who may send it.
# "client": any client socket (a client's frames only ever reach their own conversation);
# CHAT: the staff roles with a chat socket (the DPO's is closed with 4403 before any frame).
CLIENT_FRAMES: dict[str, dict[str, Any]] = {
    "resume": {"after": 0},
    "topic": {"slug": "no-such-topic"},
    "send": {"client_id": "", "text": "матрица"},
    "edit": {"seq": 1, "text": "чужая правка"},
    "delete": {"seq": 1},
    "read": {"seq": 1},
    "typing": {},
    "button": {"seq": 1, "button": "resolved:yes"},
    "field": {"seq": 1, "value": "значение"},
    "ping": {},
}
STAFF_FRAMES: dict[str, dict[str, Any]] = {
    "open": {"conversation": "A", "after": 0},
    "leave": {"conversation": "A"},
    "send": {"conversation": "A", "client_id": "", "text": "матрица", "internal": True},
    "edit": {"conversation": "A", "seq": 2, "text": "правка"},
    "delete": {"conversation": "A", "seq": 2},
    "read": {"conversation": "A", "seq": 1},
    "typing": {"conversation": "A"},
    "request_field": {"conversation": "A", "field": "email"},
    "offer_consent": {"conversation": "A", "purpose": "support"},
    "presence": {"status": "online"},
    "ping": {},
    "take": {"conversation": "A"},
    "transfer": {"conversation": "A", "to_team": 1},
    "status": {"conversation": "A", "status": "pending"},
}
IDENTITIES = ("anonymous", "subject_a", "subject_b", *(role.value for role in Role), "token")


# ---------------------------------------------------------------- identities


@dataclass
class Identity:
    name: str
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""
    role: Role | None = None
    token: str = ""  # an API token with every scope (for /api/v1)


@dataclass
class World:
    identities: dict[str, Identity]
    conversation: int
    client_a: Client
    attachment_url: str
    staff_logins: dict[Role, str]


async def _subject(base_url: str, text: str) -> tuple[Identity, Client, int]:
    client = await Client.open(base_url)
    ack = await client.say(text)
    http = httpx.AsyncClient(base_url=base_url, cookies=client.cookies)
    await http.get("/me", headers={"accept": "text/html"})  # the portal session, if any
    page = await http.get("/chat")
    identity = Identity("subject", dict(http.cookies), csrf_from(page.text))
    await http.aclose()
    return identity, client, ack["conversation"]


async def _staff(base_url: str, role: Role) -> tuple[Identity, str]:
    login = f"{role.value}-{secrets.token_hex(3)}"
    user = await accounts.create_user(login, role, STAFF_PASSWORD)
    if role == Role.OPERATOR:
        await join_team(user.id)
    http = await staff_client(base_url, login)
    identity = Identity(role.value, dict(http.cookies), http.csrf, role)  # type: ignore[attr-defined]
    await http.aclose()
    return identity, login


@pytest.fixture(scope="module")
async def world(base_url: str, db: None) -> Any:
    anonymous_http = httpx.AsyncClient(base_url=base_url)
    page = await anonymous_http.get("/admin/login")
    anonymous = Identity("anonymous", dict(anonymous_http.cookies), csrf_from(page.text))
    await anonymous_http.aclose()
    subject_a, client_a, conversation = await _subject(base_url, "я субъект A")
    subject_b, client_b, _ = await _subject(base_url, "я субъект B")
    subject_a.name, subject_b.name = "subject_a", "subject_b"
    identities = {"anonymous": anonymous, "subject_a": subject_a, "subject_b": subject_b}
    logins = {}
    for role in Role:
        identities[role.value], logins[role] = await _staff(base_url, role)
    # An anonymous browser that also holds an API token with every scope.
    token = await _api_token(base_url)
    identities["token"] = Identity("token", anonymous.cookies, anonymous.csrf, token=token)
    async with _http(base_url, subject_a) as http:
        uploaded = await http.post(
            "/api/chat/attachments",
            files={"file": ("справка.txt", b"attachment of subject A", "text/plain")},
        )
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()
    sent = await client_a.say("с файлом", attachment=attachment["id"])
    assert sent["seq"] >= 2
    yield World(identities, conversation, client_a, attachment["url"], logins)
    await client_a.close()
    await client_b.close()


async def _api_token(base_url: str) -> str:
    """A token with every scope, made on the admin's page."""
    console = await admin_console(base_url)
    secret = await create_api_token(console, f"матрица {secrets.token_hex(3)}", list(SCOPES))
    await console.http.aclose()
    return secret


def _headers(identity: Identity) -> dict[str, str]:
    headers = {"accept": "application/json", "x-csrf-token": identity.csrf}
    if identity.token:
        headers["authorization"] = f"Bearer {identity.token}"
    return headers


def _http(base_url: str, identity: Identity) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url, cookies=identity.cookies, headers=_headers(identity)
    )


# ---------------------------------------------------------------- completeness


def all_routes() -> dict[str, Any]:
    """Every route of the app, HTTP and WebSocket, with what its handler declares."""
    from okno.platform.app import create_app

    routes = {}
    for route in create_app().routes:
        handlers = getattr(route, "route_handlers", None) or [route.route_handler]
        for handler in handlers:
            if handler.handler_name == "options_handler":
                continue  # Litestar's automatic OPTIONS answer: headers only, no data
            for method in sorted(getattr(handler, "http_methods", None) or ("WS",)):
                routes[f"{method} {route.path}"] = declared_access(handler)
    return routes


def test_every_route_and_frame_has_a_matrix_entry() -> None:
    declared = all_routes()
    assert sorted(set(declared) - set(ROUTES)) == [], "routes with no matrix entry"
    assert sorted(set(ROUTES) - set(declared)) == [], "matrix entries for routes that are gone"
    changed = {route: (declared[route], ROUTES[route]) for route in ROUTES if route in declared}
    changed = {route: pair for route, pair in changed.items() if pair[0] != pair[1]}
    assert changed == {}, "routes whose declared audience differs from the matrix"
    assert sorted(CLIENT_FRAMES) == sorted(CLIENT_FRAME_TYPES)
    assert sorted(STAFF_FRAMES) == sorted(STAFF_FRAME_TYPES)


# ---------------------------------------------------------------- HTTP routes


def _concrete(path: str, world: World) -> str:
    # No token of the world's: the admin's revoke must not end the token the matrix uses.
    values = {"conversation_id": str(world.conversation), "token_id": str(2**40)}
    by_type = {"int": "1", "uuid": str(uuid.UUID(int=1))}
    return re.sub(
        r"\{(\w+):(\w+)\}",
        lambda m: values.get(m.group(1), by_type.get(m.group(2), "x")),
        path,
    )


SIGN_IN_FORMS = {"POST /admin/login", "POST /me/login", "POST /me/login/code"}
HTTP_ROUTES = sorted(route for route in ROUTES if not route.startswith("WS "))


@pytest.mark.parametrize("route", HTTP_ROUTES)
async def test_each_route_admits_exactly_its_audience(base_url, world, route) -> None:
    method, path = route.split(" ", 1)
    audience = ROUTES[route]
    url = _concrete(path, world)
    if path.startswith("/attachments/"):
        url = world.attachment_url
    for name in IDENTITIES:
        identity = world.identities[name]
        if path.endswith("/logout") or path == "/admin/password":
            identity = await _fresh(base_url, world, name)  # it may end the session it uses
        async with _http(base_url, identity) as http:
            response = await http.request(method, url)
        status = response.status_code
        where = f"{name} {method} {url}: {status} {response.text[:200]}"
        assert status < 500, where
        if audience == "public":
            # A sign-in form answers wrong credentials with 401; that is not a refusal.
            assert status != 403, where
            assert status != 401 or route in SIGN_IN_FORMS, where
        elif audience == "webhook":
            # Nobody's cookie opens a messenger's webhook: only the channel's secret does.
            assert status in (403, 404), where
        elif audience == "metrics":
            assert status == 404, where  # no session opens it, and it is off on this server
        elif audience == "subject":
            allowed = name.startswith("subject")
            assert (status not in (401, 403)) == allowed, where
        elif isinstance(audience, str) and audience.startswith("token:"):
            # An API token's route: the token with every scope, and no cookie, admits anyone
            # (test_api_v1.py tries each scope alone).
            assert (status not in (401, 403)) == (name == "token"), where
        elif audience == "subject-or-staff":
            # The attachment of subject A: A and the staff who may see A's conversation.
            allowed = name in ("subject_a", "operator", "supervisor", "admin")
            assert (status == 200) == allowed, where
            assert status in (200, 401, 403, 404), where
        else:
            assert isinstance(audience, frozenset)
            allowed = identity.role in audience
            assert (status not in (401, 403)) == allowed, where
            if identity.role is not None and not allowed:
                assert status == 403, where


async def _fresh(base_url: str, world: World, name: str) -> Identity:
    identity = world.identities[name]
    if identity.role is not None:
        http = await staff_client(base_url, world.staff_logins[identity.role])
        fresh = Identity(name, dict(http.cookies), http.csrf, identity.role)  # type: ignore[attr-defined]
        await http.aclose()
        return fresh
    if name.startswith("subject"):
        async with httpx.AsyncClient(
            base_url=base_url, cookies={"okno_visitor": identity.cookies["okno_visitor"]}
        ) as http:
            await http.get("/me", headers={"accept": "text/html"})
            page = await http.get("/chat")
            return Identity(name, dict(http.cookies), csrf_from(page.text))
    return identity


# ---------------------------------------------------------------- WebSocket frames


async def _socket(base_url: str, path: str, identity: Identity) -> Any:
    cookie = "; ".join(f"{k}={v}" for k, v in identity.cookies.items())
    return await websockets.connect(
        base_url.replace("http", "ws") + path,
        additional_headers={"cookie": cookie},
        max_queue=None,  # unread frames must not hold back the close handshake
    )


async def _answers(ws: Any, frame: dict[str, Any]) -> list[dict[str, Any]]:
    """Send ``frame`` then a ping; everything that came back before the pong."""
    await ws.send(json.dumps(frame))
    await ws.send(json.dumps({"type": "ping"}))
    got = []
    while True:
        answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if answer["type"] == "pong":
            return got
        got.append(answer)


async def _refused_before_any_frame(base_url: str, path: str, identity: Identity, frame) -> int:
    async with await _socket(base_url, path, identity) as ws:
        with contextlib.suppress(websockets.ConnectionClosed):
            await ws.send(json.dumps(frame))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await _nothing_but_errors(ws)
        return closed.value.rcvd.code


async def _nothing_but_errors(ws: Any) -> None:
    while True:
        answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert answer["type"] not in ("message", "ack", "state", "conversation"), answer


def _fill(example: dict[str, Any], world: World, kind: str) -> dict[str, Any]:
    frame = {"type": kind, **example}
    if frame.get("conversation") == "A":
        frame["conversation"] = world.conversation
    if "client_id" in frame:
        frame["client_id"] = str(uuid.uuid4())
    return frame


async def _conversation_state(world: World) -> tuple[Any, ...]:
    from okno.platform import database

    async with database.acquire() as conn:
        return tuple(
            await conn.fetchrow(
                "SELECT last_version, status, assignee_id, team_id FROM conversation WHERE id = $1",
                world.conversation,
            )
        )


@pytest.mark.parametrize("kind", sorted(CLIENT_FRAMES))
async def test_each_client_frame_reaches_only_the_senders_own_conversation(
    base_url, world, kind
) -> None:
    frame = _fill(CLIENT_FRAMES[kind], world, kind)
    for name in IDENTITIES:
        identity = world.identities[name]
        if not name.startswith("subject"):
            # No visitor cookie (staff are not clients): closed before any frame.
            code = await _refused_before_any_frame(base_url, "/ws/client", identity, frame)
            assert code == 4401, (name, kind)
            continue
        before = await _conversation_state(world)
        async with await _socket(base_url, "/ws/client", identity) as ws:
            answers = await _answers(ws, frame)
        for answer in answers:
            assert answer != {**answer, "type": "error", "code": "internal"}, (name, answer)
            if name == "subject_b":
                # Nothing of A's conversation, whatever B names.
                assert answer.get("conversation") != world.conversation, answer
                if answer["type"] == "message":
                    assert answer["message"]["conversation"] != world.conversation, answer
        if name == "subject_b":
            assert await _conversation_state(world) == before, f"B's {kind} changed A's chat"


@pytest.mark.parametrize("kind", sorted(STAFF_FRAMES))
async def test_each_staff_frame_admits_exactly_the_chat_roles(base_url, world, kind) -> None:
    for name in IDENTITIES:
        identity = world.identities[name]
        frame = _fill(STAFF_FRAMES[kind], world, kind)
        if identity.role is None or identity.role not in CHAT:
            code = await _refused_before_any_frame(base_url, "/ws/staff", identity, frame)
            assert code == (4403 if identity.role == Role.DPO else 4401), (name, kind)
            continue
        async with await _socket(base_url, "/ws/staff", identity) as ws:
            answers = await _answers(ws, frame)
        refused = [a for a in answers if a["type"] == "error"]
        # Domain answers (edit_window, conflict, invalid_frame...) are fine; a refusal is not.
        assert [a for a in refused if a["code"] in ("not_found", "forbidden", "internal")] == [], (
            name,
            kind,
            refused,
        )


async def test_an_operator_outside_the_team_reaches_nothing_of_it(base_url, world) -> None:
    login = f"outsider-{secrets.token_hex(3)}"
    user = await accounts.create_user(login, Role.OPERATOR, STAFF_PASSWORD)
    await leave_team(user.id)  # new operators join «Поддержка»: this one is in no team
    http = await staff_client(base_url, login)
    outsider = Identity("outsider", dict(http.cookies), http.csrf, Role.OPERATOR)  # type: ignore[attr-defined]
    await http.aclose()
    async with await _socket(base_url, "/ws/staff", outsider) as ws:
        for kind, example in sorted(STAFF_FRAMES.items()):
            if "conversation" not in example or kind == "leave":
                continue
            answers = await _answers(ws, _fill(example, world, kind))
            assert [a["code"] for a in answers if a["type"] == "error"] == ["not_found"], kind
            assert not any(a["type"] == "message" for a in answers), kind


# ---------------------------------------------------------------- the OpenAPI contract


def _checks(*names: str) -> list[Any]:
    from schemathesis import checks

    return [getattr(checks, name) for name in names]


def _generated_check(
    base_url: str,
    operation: Any,
    cookies: dict[str, str],
    headers: dict[str, str],
    checks: list[Any],
) -> Any:
    from hypothesis import HealthCheck, Phase, given, settings

    @settings(
        max_examples=15,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # report the first failure, unshrunk
    )
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        case.call_and_validate(
            base_url=base_url, cookies=cookies, headers=headers, timeout=10, checks=checks
        )

    return check


def _run_schemathesis(base_url: str, world: World, checks: list[Any]) -> dict[str, str]:
    """Requests generated from /schema/openapi.json, anonymous and as a supervisor; returns
    the first failure of each operation that has one."""
    import schemathesis

    raw = httpx.get(  # the schema is for staff only
        f"{base_url}/schema/openapi.json", cookies=world.identities["supervisor"].cookies
    ).json()
    # Integers beyond PostgreSQL's bigint are a known bug of their own
    # (test_ids_beyond_bigint_are_refused_not_a_crash); here they stay in range.
    for operations in raw["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else ():
                if parameter.get("schema", {}).get("type") == "integer":
                    parameter["schema"].setdefault("maximum", BIGINT)
                    parameter["schema"].setdefault("minimum", -BIGINT)
    schema = schemathesis.openapi.from_dict(raw)
    supervisor = world.identities["supervisor"]
    # A token of its own: the run's calls stay within one token's rate per minute.
    token = {"authorization": f"Bearer {asyncio.run(_api_token(base_url))}"}
    failures, checked = {}, 0
    for result in schema.get_all_operations():
        operation = result.ok()
        callers = [
            ("anonymous", {}, {}),
            ("supervisor", supervisor.cookies, {"x-csrf-token": supervisor.csrf}),
        ]
        if operation.path.startswith("/api/v1/"):
            callers.append(("token", {}, token))
        for who, cookies, headers in callers:
            try:
                _generated_check(base_url, operation, cookies, headers, checks)()
            except (Exception, BaseExceptionGroup) as failure:  # each is collected and shown
                failures[f"{operation.method.upper()} {operation.path}"] = (
                    f"{who}: {type(failure).__name__}: {str(failure)[:300]}"
                )
            checked += 1
    assert checked >= 20
    return failures


BIGINT = 2**63 - 1
# Operations that answer some generated request with a 5xx today: each is a bug, named with
# its fix in the report of issue #7. Strict: a fixed one fails here until it is removed.
KNOWN_SERVER_ERRORS: dict[str, str] = {}


# Every operation, three callers on /api/v1: more than the module's minute on a busy host.
@pytest.mark.timeout(180)
def test_generated_requests_never_get_a_server_error(base_url, world) -> None:
    failures = _run_schemathesis(
        base_url,
        world,
        _checks("not_a_server_error", "content_type_conformance", "response_headers_conformance"),
    )
    assert {op: why for op, why in failures.items() if op not in KNOWN_SERVER_ERRORS} == {}
    assert sorted(set(KNOWN_SERVER_ERRORS) - set(failures)) == [], "fixed: remove from the list"


# Every operation, three callers on /api/v1: more than the module's minute on a busy host.
@pytest.mark.timeout(180)
def test_generated_requests_get_answers_that_match_the_schema(base_url, world) -> None:
    failures = _run_schemathesis(
        base_url, world, _checks("response_schema_conformance", "status_code_conformance")
    )
    assert failures == {}


INT_ROUTES = sorted(route for route in HTTP_ROUTES if ":int}" in route)


def _someone_allowed(route: str) -> str:
    audience = ROUTES[route]
    if isinstance(audience, str) and audience.startswith("token:"):
        return "token"
    if audience in ("subject", "subject-or-staff"):
        return "subject_a"
    if audience in ("public", "webhook"):  # a messenger's webhook: anyone, with its secret
        return "anonymous"
    assert isinstance(audience, frozenset)
    return next(role.value for role in Role if role in audience)


@pytest.mark.parametrize("route", INT_ROUTES)
async def test_ids_beyond_bigint_are_refused_not_a_crash(base_url, world, route) -> None:
    method, path = route.split(" ", 1)
    url = re.sub(r"\{\w+:int\}", str(2**64), path)
    url = re.sub(r"\{\w+:\w+\}", "x", url)
    async with _http(base_url, world.identities[_someone_allowed(route)]) as http:
        response = await http.request(method, url)
    assert response.status_code in (400, 404, 422), (route, response.status_code)


# ---------------------------------------------------------------- CSRF


async def test_state_changing_requests_without_the_csrf_token_are_refused(base_url, world) -> None:
    supervisor = world.identities["supervisor"]
    subject = world.identities["subject_a"]
    attempts = [
        (supervisor, "POST", "/api/staff/canned", {"json": {"shortcut": "x", "text": "y"}}),
        (supervisor, "DELETE", "/api/staff/canned/1", {}),
        (subject, "POST", "/api/chat/attachments", {"files": {"file": ("a.txt", b"x")}}),
        (subject, "POST", "/me/export", {}),
    ]
    for identity, method, url, body in attempts:
        for token in (None, "forged-" + secrets.token_hex(8)):
            headers = {"accept": "application/json"}
            if token:
                headers["x-csrf-token"] = token
            async with httpx.AsyncClient(base_url=base_url, cookies=identity.cookies) as http:
                response = await http.request(method, url, headers=headers, **body)
            assert response.status_code == 403, (method, url, token, response.status_code)


# ---------------------------------------------------------------- headers


def _csp(response: httpx.Response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {
        part.split()[0]: " ".join(part.split()[1:])
        for part in (p.strip() for p in policy.split(";"))
        if part
    }


@pytest.mark.parametrize("path", ["/", "/chat", "/admin/login", "/me/login", "/healthz", "/policy"])
async def test_every_page_allows_nothing_from_another_host_and_no_framing(base_url, path) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.get(path)
    policy = _csp(response)
    for directive, sources in policy.items():
        for forbidden in ("http", "*", "'unsafe-inline'", "'unsafe-eval'"):
            assert forbidden not in sources, (directive, sources)
    assert policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_only_the_widget_may_be_framed_and_only_by_configured_origins(database_url) -> None:
    app = ServerProcess(database_url, OKNO_WIDGET_ORIGINS="https://shop.example")
    try:
        async with httpx.AsyncClient(base_url=app.url) as http:
            widget = await http.get("/chat", params={"embed": "1"})
            page = await http.get("/chat")
        assert _csp(widget)["frame-ancestors"] == "'self' https://shop.example"
        assert "x-frame-options" not in widget.headers
        assert _csp(page)["frame-ancestors"] == "'none'"
        assert page.headers["x-frame-options"] == "DENY"
    finally:
        app.stop()


# ---------------------------------------------------------------- oversized input


async def test_oversized_frames_and_uploads_are_refused(base_url, world) -> None:
    subject = world.identities["subject_a"]
    async with await _socket(base_url, "/ws/client", subject) as ws:
        answers = await _answers(
            ws, {"type": "send", "client_id": str(uuid.uuid4()), "text": "я" * 40000}
        )
        assert [a["code"] for a in answers if a["type"] == "error"] == ["too_large"]
    # Beyond the transport's limit (OKNO_MAX_REQUEST_BYTES) the socket is closed with 1009.
    async with await _socket(base_url, "/ws/client", subject) as ws:

        async def send_then_read() -> None:
            # The server may close before the whole frame is written: then send() raises.
            await ws.send("x" * (2 * 1024 * 1024))
            await asyncio.wait_for(ws.recv(), 10)

        with pytest.raises(websockets.ConnectionClosed) as closed:
            await send_then_read()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009
    big = b"0" * (10 * 1024 * 1024 + 1)
    async with _http(base_url, subject) as http:
        response = await http.post("/api/chat/attachments", files={"file": ("big.txt", big)})
    assert response.status_code == 413, response.text[:200]
    async with _http(base_url, world.identities["supervisor"]) as http:
        response = await http.post(
            "/api/staff/canned",
            content=b'{"shortcut": "x", "text": "' + b"y" * (2 * 1024 * 1024) + b'"}',
            headers={"content-type": "application/json"},
        )
    assert response.status_code in (400, 413), response.status_code


# ---------------------------------------------------------------- path traversal


@pytest.mark.parametrize(
    "path",
    [
        "/attachments/..%2F..%2F..%2Fetc%2Fpasswd/x",
        "/attachments/%2e%2e%2f%2e%2e%2fsecret_key/x",
        "/attachments/....//....//etc/passwd",
        "/static/../../pyproject.toml",
        "/static/..%2F..%2Fpyproject.toml",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/static/portal/..%2f..%2f..%2fplatform%2fsettings.py",
    ],
)
async def test_paths_never_leave_their_folder(base_url, world, path) -> None:
    for name in ("anonymous", "subject_a", "admin"):
        async with _http(base_url, world.identities[name]) as http:
            response = await http.get(path)
        assert response.status_code in (400, 404), (name, path, response.status_code)
        assert "root:" not in response.text
        assert "[project]" not in response.text
        assert "secret" not in response.text.lower() or response.status_code == 404


async def test_an_attachment_name_cannot_climb_out_of_the_data_folder(base_url, world) -> None:
    subject = world.identities["subject_a"]
    async with _http(base_url, subject) as http:
        response = await http.post(
            "/api/chat/attachments",
            files={"file": ("../../../../tmp/okno-escape.txt", b"escape", "text/plain")},
        )
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["name"] == "okno-escape.txt"
    assert "/" not in stored["id"]
    assert ".." not in stored["url"].split("/")[-1]
    escaped = "/tmp/okno-escape.txt"  # the path the name must not reach
    assert not await asyncio.to_thread(os.path.exists, escaped)


# ---------------------------------------------------------------- the HTTP edge (issue 13)


async def test_router_level_404_and_405_carry_the_security_headers(base_url) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        for response in (await http.get("/no-such-page"), await http.put("/healthz")):
            assert response.status_code in (404, 405)
            assert _csp(response)["frame-ancestors"] == "'none'"
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["cache-control"] == "no-store"
        static = await http.get("/static/web/okno.css")  # no PD: browsers may keep it
        assert static.status_code == 200
        assert "no-store" not in static.headers.get("cache-control", "")


async def test_pages_and_answers_with_personal_data_are_never_stored(base_url, world) -> None:
    async with _http(base_url, world.identities["subject_a"]) as http:
        # Attachments keep "private, max-age=3600" (docs/security.md): only this browser caches.
        for path in ("/me/data", "/api/chat/messages"):
            response = await http.get(path)
            assert response.status_code == 200, path
            assert response.headers["cache-control"] == "no-store", path
    async with _http(base_url, world.identities["supervisor"]) as http:
        response = await http.get("/api/staff/conversations")
        assert response.headers["cache-control"] == "no-store"


async def test_an_attachment_may_not_be_framed(base_url, world) -> None:
    async with _http(base_url, world.identities["subject_a"]) as http:
        response = await http.get(world.attachment_url)
    assert response.status_code == 200
    policy = _csp(response)
    assert policy["frame-ancestors"] == "'none'"
    assert "sandbox" in policy


@pytest.mark.parametrize(
    "path", ["/static/web/okno.css%00", "/static/%00/x", "/admin%0aINFO%20forged", "/chat%0d%0a"]
)
async def test_control_characters_in_a_path_are_refused_and_forge_no_log_line(
    base_url, server, path
) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.get(path)
    assert response.status_code == 400
    assert "nosniff" in response.headers["x-content-type-options"]
    assert "INFO forged" not in server.log.read_text()


async def test_max_request_bytes_holds_for_every_route_but_uploads(base_url, world) -> None:
    # OKNO_MAX_REQUEST_BYTES is 1 MiB by default; OKNO_MAX_UPLOAD_BYTES 10 MiB.
    anonymous = world.identities["anonymous"]
    async with _http(base_url, anonymous) as http:
        response = await http.post(
            "/admin/login",
            data={"login": "x", "password": "y" * (2 * 1024 * 1024), "_csrf_token": anonymous.csrf},
        )
    assert response.status_code == 413
    async with _http(base_url, world.identities["subject_a"]) as http:
        upload = await http.post(
            "/api/chat/attachments", files={"file": ("big.txt", b"z" * (2 * 1024 * 1024))}
        )
    assert upload.status_code == 201, upload.text[:200]


async def test_a_connection_that_sends_its_headers_slowly_is_closed(database_url) -> None:
    app = ServerProcess(database_url, OKNO_HEADER_TIMEOUT_SECONDS="1")
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", app.port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        await writer.drain()
        # The server closes it: EOF arrives (the wait only bounds a failing test).
        assert await asyncio.wait_for(reader.read(), 15) == b""
        writer.close()
        await writer.wait_closed()
        async with httpx.AsyncClient(base_url=app.url) as http:
            assert (await http.get("/healthz")).status_code == 200
    finally:
        app.stop()


async def test_attachments_are_readable_by_the_server_only(base_url, world) -> None:
    from tests.conftest import DATA_DIR

    folder = DATA_DIR / "attachments"
    assert folder.stat().st_mode & 0o777 == 0o700
    files = list(folder.iterdir())
    assert files
    assert {f.stat().st_mode & 0o777 for f in files} == {0o600}


async def test_the_pre_chat_form_is_refused_while_it_is_off(base_url, db) -> None:
    count = "SELECT count(*) FROM consent_event WHERE channel = 'prechat_form'"
    async with database.acquire() as conn:
        before = await conn.fetchval(count)
    async with httpx.AsyncClient(base_url=base_url) as http:
        page = await http.get("/chat")  # OKNO_PRECHAT_FORM is off: the chat, a new visitor
        response = await http.post(
            "/chat/prechat",
            data={
                "name": "Олег",
                "phone": "8 916 222-33-44",
                "processing": "on",
                "_csrf_token": csrf_from(page.text),
            },
        )
    assert response.status_code == 404
    async with database.acquire() as conn:
        assert await conn.fetchval(count) == before


async def test_the_openapi_schema_is_for_staff_only(base_url, world) -> None:
    for name in ("anonymous", "subject_a"):
        async with _http(base_url, world.identities[name]) as http:
            assert (await http.get("/schema/openapi.json")).status_code == 401
    async with _http(base_url, world.identities["dpo"]) as http:
        response = await http.get("/schema/openapi.json")
    assert response.status_code == 200
    assert "/api/staff/conversations" in response.json()["paths"]


class _UserAgentClient(Client):
    """A visitor whose browser sends a user agent a spreadsheet would run as a formula."""

    async def connect(self, path: str) -> Client:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.ws = await websockets.connect(
            self.base_url.replace("http", "ws") + path,
            additional_headers={"cookie": cookie},
            user_agent_header='=HYPERLINK("http://evil.example","x")',
            max_queue=None,
        )
        return self


async def test_csv_exports_defuse_cells_a_spreadsheet_would_run(
    base_url, world, supervisor
) -> None:
    import csv
    import io

    from tests.test_consent import offer_and_accept

    client = await _UserAgentClient.open(base_url)
    ack = await client.say("Здравствуйте")
    await supervisor.open_conversation(ack["conversation"])
    await offer_and_accept(client, supervisor, ack["conversation"])
    await client.close()
    dpo = world.identities["dpo"]
    async with _http(base_url, dpo) as http:
        response = await http.get(
            "/admin/consent/proof/", params={"since": "2020-01-01", "format": "csv"}
        )
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    agents = {row["user_agent"] for row in rows}
    assert '\'=HYPERLINK("http://evil.example","x")' in agents
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


async def test_a_planted_csrf_cookie_cannot_act_for_a_client_in_my_data(base_url, world) -> None:
    async with httpx.AsyncClient(base_url=base_url) as attacker:
        token = csrf_from((await attacker.get("/me/login")).text)
        planted = attacker.cookies["okno_csrf"]
    subject = world.identities["subject_a"]
    cookies = {**subject.cookies, "okno_csrf": planted}
    async with httpx.AsyncClient(base_url=base_url, cookies=cookies) as http:
        response = await http.post("/me/export", data={"_csrf_token": token})
    assert response.status_code == 403


async def test_signing_out_of_my_data_closes_it_in_the_chat_browser_too(base_url) -> None:
    client = await Client.open(base_url)
    await client.say("Здравствуйте")
    async with httpx.AsyncClient(
        base_url=base_url, cookies=client.cookies, headers={"accept": "text/html"}
    ) as http:
        entry = await http.get("/me")
        assert entry.headers["location"] == "/me/data"
        page = await http.get("/me/data")
        out = await http.post("/me/logout", data={"_csrf_token": csrf_from(page.text)})
        assert out.headers["location"] == "/me/login?out=1"
        explained = await http.get(out.headers["location"])
        assert "Вы вышли из «Моих данных» в этом браузере" in explained.text
        again = await http.get("/me")
        assert again.headers["location"] == "/me/login"
        assert (await http.get("/me/data")).headers["location"] == "/me/login"
    assert (await client.say("чат продолжается"))["seq"] > 1  # the chat itself goes on
    await client.close()


# ---------------------------------------------------------------- socket lifetime
# Every chat identity × every event that ends a right: the open staff socket is closed (4401)
# or its subscription ends (access_ended) at once; what the role still may do goes on.
# A client's socket is bound to its visitor cookie, which no event here ends (the portal's
# sign-out ends the portal session only, see docs/portal.md): it has no row in this matrix.
LIFETIME_EVENTS = ("sign_out", "disable", "password_change", "expiry", "transfer")


async def _lifetime_event(base_url: str, event: str, login: str, user_id: int, http: Any) -> None:
    if event == "sign_out":
        response = await http.post("/admin/logout", data={"_csrf_token": http.csrf})
        assert response.status_code == 303
    elif event == "disable":
        admin = await staff_client(base_url, "admin", os.environ["OKNO_ADMIN_PASSWORD"])
        response = await admin.post(
            f"/admin/staff/{login}/disable", data={"_csrf_token": admin.csrf}
        )
        await admin.aclose()
        assert response.status_code == 303
    elif event == "password_change":
        new = f"new-password-{secrets.token_hex(4)}"
        response = await http.post(
            "/admin/password",
            data={"current": STAFF_PASSWORD, "new": new, "repeat": new, "_csrf_token": http.csrf},
        )
        assert response.status_code == 303
    elif event == "expiry":
        from okno.platform import database

        # Moving time: the session ends in a second instead of hours.
        async with database.acquire() as conn:
            await conn.execute(
                "UPDATE staff_session SET expires_at = now() + interval '1 second'"
                " WHERE user_id = $1",
                user_id,
            )


@pytest.mark.parametrize("event", LIFETIME_EVENTS)
@pytest.mark.parametrize("role", sorted(CHAT, key=lambda r: r.value))
async def test_a_staff_socket_lives_exactly_as_long_as_its_right(
    base_url, world, role, event
) -> None:
    from tests.chat_support import Staff

    login = f"{role.value}-{secrets.token_hex(3)}"
    user = await accounts.create_user(login, role, STAFF_PASSWORD)
    if role is not Role.ADMIN:  # admins belong to no team and see every conversation
        await join_team(user.id)
    client = await Client.open(base_url)
    conversation = (await client.say("матрица времени жизни"))["conversation"]
    staff = await Staff.open(base_url, login)
    try:
        await staff.open_conversation(conversation)
        await _lifetime_event(base_url, event, login, user.id, staff.http_client)
        if event == "transfer":
            admin = await Staff.open(base_url, "admin", os.environ["OKNO_ADMIN_PASSWORD"])
            team = await new_team(f"Матрица {secrets.token_hex(2)}")
            await admin.send(type="transfer", conversation=conversation, to_team=team)
            await admin.close()
            if role == Role.OPERATOR:
                assert (await staff.until("access_ended"))["conversation"] == conversation
                said = await client.say("уже не для него")
                later = await staff.quiet(0.8)
                assert not [f for f in later if f["type"] == "message"], said
            else:  # supervisors and admins see every team's conversations
                said = await client.say("всё ещё видно")
                await staff.message(seq=said["seq"])
            return
        if event == "expiry":
            await staff.send(type="ping")  # a frame re-reads the session: its end is armed
        code, _ = await staff.closed_with(wait=10)
        assert code == 4401, (role, event)
    finally:
        await staff.close()
        await client.close()
