"""Sockets live only as long as their right: a staff socket closes when its session ends (on
every worker), a subscription stops when its access does, and only okno's own pages may open
a socket at all. Real server processes, real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import httpx
import pytest
import websockets

from okno.platform import database
from okno.platform.staff import accounts
from okno.platform.staff.roles import Role
from okno.platform.staff.schemas import StaffUser
from tests.chat_support import Client, Staff, join_team, leave_team, new_team
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD, ServerProcess, staff_client

pytestmark = pytest.mark.timeout(90)


async def closed_with(peer: Staff | Client, wait: float = 15) -> tuple[int, str]:
    return await peer.closed_with(wait)


async def still_open(peer: Staff) -> None:
    await peer.send(type="ping")
    await peer.until("pong")


async def operator_in_team(make_staff: Any, team_id: int = 1) -> StaffUser:
    user = await make_staff(Role.OPERATOR)
    await join_team(user.id, team_id)  # on the team's page, as the admin does
    return user


# ---------------------------------------------------------------- a session that ends


async def test_signing_out_closes_that_sessions_socket_and_no_other(base_url, make_staff) -> None:
    user = await operator_in_team(make_staff)
    leaving = await Staff.open(base_url, user.login)
    staying = await Staff.open(base_url, user.login)  # another browser, another session
    try:
        out = await leaving.http_client.post(
            "/admin/logout", data={"_csrf_token": leaving.http_client.csrf}
        )
        assert out.status_code == 303
        assert await closed_with(leaving) == (4401, "сеанс завершён")
        await still_open(staying)
    finally:
        await leaving.close()
        await staying.close()


async def test_signing_out_every_other_browser_closes_their_sockets(base_url, make_staff) -> None:
    user = await operator_in_team(make_staff)
    here = await Staff.open(base_url, user.login)
    elsewhere = await Staff.open(base_url, user.login)
    try:
        out = await here.http_client.post(
            "/admin/sessions/end-others", data={"_csrf_token": here.http_client.csrf}
        )
        assert out.status_code == 303
        assert (await closed_with(elsewhere))[0] == 4401
        await still_open(here)
    finally:
        await here.close()
        await elsewhere.close()


async def test_disabling_an_account_closes_its_sockets_on_every_worker(
    database_url, base_url, make_staff
) -> None:
    other = ServerProcess(database_url)
    user = await operator_in_team(make_staff)
    here = await Staff.open(base_url, user.login)
    there = await Staff.open(other.url, user.login)
    admin = await staff_client(base_url, "admin", ADMIN_PASSWORD)
    try:
        page = await admin.post(
            f"/admin/staff/{user.login}/disable", data={"_csrf_token": admin.csrf}
        )
        assert page.status_code == 303
        assert (await closed_with(here))[0] == 4401
        assert (await closed_with(there))[0] == 4401
    finally:
        await admin.aclose()
        await here.close()
        await there.close()
        other.stop()


async def test_changing_the_password_closes_every_socket_of_the_account(
    base_url, make_staff
) -> None:
    user = await operator_in_team(make_staff)
    first = await Staff.open(base_url, user.login)
    second = await Staff.open(base_url, user.login)
    try:
        changed = await first.http_client.post(
            "/admin/password",
            data={
                "current": STAFF_PASSWORD,
                "new": "another-long-password-42",
                "repeat": "another-long-password-42",
                "_csrf_token": first.http_client.csrf,
            },
        )
        assert changed.status_code == 303, changed.text
        assert (await closed_with(first))[0] == 4401
        assert (await closed_with(second))[0] == 4401
    finally:
        await first.close()
        await second.close()


async def _expire_sessions_of(user_id: int, seconds: float) -> None:
    # Moving time: the session's end comes in ``seconds`` instead of hours.
    async with database.acquire() as conn:
        await conn.execute(
            "UPDATE staff_session SET expires_at = now() + make_interval(secs => $2)"
            " WHERE user_id = $1",
            user_id,
            seconds,
        )


async def test_a_socket_never_outlives_its_sessions_expiry(base_url, make_staff) -> None:
    user = await operator_in_team(make_staff)
    staff = await Staff.open(base_url, user.login)
    try:
        await _expire_sessions_of(user.id, 2)
        await still_open(staff)  # a frame re-reads the session: its new end is armed
        # Nothing more is sent: the socket is closed when the session ends, by the server.
        assert (await closed_with(staff, wait=10))[0] == 4401
    finally:
        await staff.close()


async def test_each_frame_acts_with_the_rights_the_account_has_now(base_url, make_staff) -> None:
    client = await Client.open(base_url)
    conversation = (await client.say("здравствуйте"))["conversation"]
    user = await operator_in_team(make_staff)
    staff = await Staff.open(base_url, user.login)
    try:
        # Tampering: the role changes behind the socket's back, with no announcement at all.
        async with database.acquire() as conn:
            await conn.execute("UPDATE staff_user SET role = 'dpo' WHERE id = $1", user.id)
        await staff.send(type="open", conversation=conversation, after=0)
        assert (await closed_with(staff))[0] == 4403
        assert not [f for f in staff.frames if f["type"] == "message"]
    finally:
        await staff.close()
        await client.close()


async def test_an_ended_session_is_closed_even_if_its_announcement_was_lost(
    base_url, make_staff
) -> None:
    user = await operator_in_team(make_staff)
    staff = await Staff.open(base_url, user.login)
    try:
        # Tampering: the session is deleted without the NOTIFY a sign-out sends (as if the
        # database went away just after the commit); the hub's periodic re-check finds it.
        async with database.acquire() as conn:
            await conn.execute("DELETE FROM staff_session WHERE user_id = $1", user.id)
        assert (await closed_with(staff, wait=25))[0] == 4401
    finally:
        await staff.close()


# ---------------------------------------------------------------- a subscription that ends


async def test_a_transfer_to_another_team_ends_the_operators_subscription(
    base_url, make_staff, supervisor
) -> None:
    other_team = await new_team(f"Другая {secrets.token_hex(2)}")
    client = await Client.open(base_url)
    conversation = (await client.say("вопрос"))["conversation"]
    user = await operator_in_team(make_staff)
    operator = await Staff.open(base_url, user.login)
    try:
        await operator.open_conversation(conversation)
        await supervisor.send(type="transfer", conversation=conversation, to_team=other_team)
        ended = await operator.until("access_ended")
        assert ended == {"type": "access_ended", "conversation": conversation}
        await supervisor.open_conversation(conversation)
        note = await supervisor.say(conversation, "только для новой команды", internal=True)
        said = await client.say("это видит только новая команда")
        await supervisor.message(seq=said["seq"])
        later = await operator.quiet(0.8)
        assert not [f for f in later if f["type"] in ("message", "conversation")], later
        seqs = {f["message"]["seq"] for f in operator.frames if f["type"] == "message"}
        assert note["seq"] not in seqs
        assert said["seq"] not in seqs
        # And it cannot come back by asking.
        await operator.send(type="open", conversation=conversation, after=0)
        assert (await operator.until("error"))["code"] == "not_found"
    finally:
        await operator.close()
        await client.close()


class TeamWatch(NamedTuple):
    client: Client
    conversation: int
    operator: Staff  # on the console, with the conversation open
    user: StaffUser  # the operator's account

    async def reaches_the_operator_no_more(self, text: str) -> None:
        said = await self.client.say(text)
        later = await self.operator.quiet(0.8)
        assert not [f for f in later if f["type"] == "message"], said


@pytest.fixture
async def team_watch(base_url, make_staff, supervisor) -> AsyncIterator[TeamWatch]:
    """A conversation the supervisor holds, so that the operator watching it sees it only as a
    member of its team."""
    client = await Client.open(base_url)
    conversation = (await client.say("вопрос команде"))["conversation"]
    await supervisor.open_conversation(conversation)
    await supervisor.send(type="take", conversation=conversation)
    await supervisor.until("conversation", id=conversation, status="open")
    user = await operator_in_team(make_staff)
    operator = await Staff.open(base_url, user.login)
    try:
        await operator.open_conversation(conversation)
        yield TeamWatch(client, conversation, operator, user)
    finally:
        await operator.close()
        await client.close()


async def test_leaving_the_team_ends_the_subscription_at_the_announcement(
    team_watch: TeamWatch,
) -> None:
    await leave_team(team_watch.user.id)  # the admin takes her out on the team's page
    ended = await team_watch.operator.until("access_ended")
    assert ended["conversation"] == team_watch.conversation
    await team_watch.reaches_the_operator_no_more("это оператор вне команды уже не видит")


# ---------------------------------------------------------------- only okno's own pages


async def _handshake(url: str, path: str, cookies: dict[str, str], origin: str | None) -> Any:
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    headers = {"cookie": cookie}
    if origin is not None:
        headers["origin"] = origin
    return await websockets.connect(
        url.replace("http", "ws") + path, additional_headers=headers, max_queue=None
    )


@pytest.mark.parametrize("path", ["/ws/client", "/ws/staff"])
async def test_a_page_of_another_origin_cannot_open_a_socket(base_url, make_staff, path) -> None:
    user = await operator_in_team(make_staff)
    http = await staff_client(base_url, user.login)
    async with httpx.AsyncClient(base_url=base_url) as visitor:
        await visitor.get("/chat")
        cookies = {"okno_staff": http.cookies["okno_staff"], **dict(visitor.cookies)}
    await http.aclose()
    port = base_url.rsplit(":", 1)[1]
    for foreign in (
        "https://evil.example",
        f"http://evil.127.0.0.1:{port}",  # a sibling host: the same site, another origin
        f"http://127.0.0.1:{int(port) + 1}",
        "null",  # a sandboxed frame or a file
    ):
        with pytest.raises(websockets.InvalidStatus) as refused:
            await _handshake(base_url, path, cookies, foreign)
        assert refused.value.response.status_code == 403, foreign
    own = await _handshake(base_url, path, cookies, base_url)
    try:
        await own.send(json.dumps({"type": "ping"}))
        while json.loads(await asyncio.wait_for(own.recv(), 5))["type"] != "pong":
            pass
    finally:
        await own.close()


async def test_the_public_url_is_okno_s_own_origin(database_url) -> None:
    app = ServerProcess(database_url, OKNO_PUBLIC_URL="https://chat.example.ru/")
    try:
        async with httpx.AsyncClient(base_url=app.url) as visitor:
            await visitor.get("/chat")
            cookies = dict(visitor.cookies)
        own = await _handshake(app.url, "/ws/client", cookies, "https://chat.example.ru")
        await own.close()
        with pytest.raises(websockets.InvalidStatus):
            await _handshake(app.url, "/ws/client", cookies, "https://shop.chat.example.ru")
    finally:
        app.stop()


# ---------------------------------------------------------------- each version once


async def test_a_repeated_open_sends_each_version_once(base_url, supervisor) -> None:
    client = await Client.open(base_url)
    for n in range(5):
        conversation = (await client.say(f"сообщение {n}"))["conversation"]
    await supervisor.send(type="open", conversation=conversation, after=0)
    await supervisor.send(type="open", conversation=conversation, after=0)
    await supervisor.send(type="open", conversation=conversation, after=2)
    for _ in range(3):
        await supervisor.until("synced", conversation=conversation)
    said = await client.say("после")
    await supervisor.message(seq=said["seq"])
    versions = [
        f["message"]["version"]
        for f in supervisor.frames
        if f["type"] == "message" and f["message"]["conversation"] == conversation
    ]
    assert versions == sorted(set(versions)), versions
    await client.close()


async def test_a_client_that_sends_before_resume_gets_its_first_message_once(base_url) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        await http.get("/chat")
        cookies = {"okno_visitor": http.cookies["okno_visitor"]}
    client = Client(base_url, cookies)
    await client.connect("/ws/client")
    try:
        await client.send(type="send", client_id="7d1f0e4e-3f7a-4a51-9b1f-0c1f5b0e9a01", text="я")
        await client.send(type="resume", after=0)
        await client.until("synced")
        await client.quiet(1.0)
        firsts = [f for f in client.frames if f["type"] == "message" and f["message"]["seq"] == 1]
        assert len(firsts) == 1, client.frames
        assert [f["type"] for f in client.frames].count("synced") == 1, client.frames
    finally:
        with contextlib.suppress(Exception):
            await client.close()


# ---------------------------------------------------------------- per-IP caps


async def test_one_address_holds_a_capped_number_of_sockets_and_new_conversations(
    database_url, db
) -> None:
    app = ServerProcess(database_url, OKNO_WS_PER_IP="3", OKNO_CONVERSATIONS_PER_IP_HOUR="2")
    clients: list[Client] = []
    try:
        clients = [await Client.open(app.url) for _ in range(3)]
        async with httpx.AsyncClient(base_url=app.url) as http:
            await http.get("/chat")
            extra = Client(app.url, {"okno_visitor": http.cookies["okno_visitor"]})
        await extra.connect("/ws/client")
        assert await closed_with(extra) == (4429, "слишком много соединений с вашего адреса")
        # Two new conversations an hour from this address; the third is refused, storing nothing.
        await clients[0].say("первое обращение")
        await clients[1].say("второе обращение")
        client_id = "0d5f7a3e-8c1b-4f0e-9a6d-2b7c4e1f3a90"
        await clients[2].send(type="send", client_id=client_id, text="третье обращение")
        refused = await clients[2].until("error", client_id=client_id)
        assert refused["code"] == "rate_limited"
        async with database.acquire() as conn:
            stored = await conn.fetchval(
                "SELECT count(*) FROM message WHERE client_id = $1::uuid", client_id
            )
        assert stored == 0
        # A socket that closes frees its place (once the server has seen it go).
        await clients.pop().close()
        for _attempt in range(50):
            await extra.connect("/ws/client")
            await extra.send(type="resume", after=0)
            with contextlib.suppress(websockets.ConnectionClosed):
                await extra.until("synced")
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the closed socket's place was never freed")
        clients.append(extra)
    finally:
        for client in clients:
            with contextlib.suppress(Exception):
                await client.close()
        app.stop()


async def test_a_one_time_password_opens_no_chat_socket(base_url, db) -> None:
    login = f"temp-{secrets.token_hex(3)}"
    await accounts.create_user(login, Role.OPERATOR, STAFF_PASSWORD, must_change=True)
    staff = await Staff.open(base_url, login)
    try:
        # A one-time password opens only the page that replaces it (which ends the session).
        assert (await closed_with(staff))[0] == 4401
    finally:
        await staff.close()


async def test_a_frame_refused_for_lost_access_ends_that_subscription_too(
    team_watch: TeamWatch,
) -> None:
    operator, conversation = team_watch.operator, team_watch.conversation
    # Tampering: the membership goes with no announcement at all; the next frame that
    # names the conversation reads the teams as they are now.
    async with database.acquire() as conn:
        await conn.execute("DELETE FROM team_member WHERE staff_id = $1", team_watch.user.id)
    await operator.send(type="open", conversation=conversation, after=0)
    assert (await operator.until("access_ended"))["conversation"] == conversation
    assert (await operator.until("error"))["code"] == "not_found"
    await team_watch.reaches_the_operator_no_more("уже не для него")
