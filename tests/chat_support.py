"""Real chat peers for tests: a browser-like client and a signed-in operator on real sockets."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import websockets

from okno.platform import database
from tests.admin_support import admin_console
from tests.conftest import staff_client


def _named(cookies: httpx.Cookies, name: str) -> dict[str, str]:
    """The cookie ``name``, also as ``__Host-name`` (an okno behind HTTPS, tests/test_proxy.py)."""
    found = {key: value for key, value in cookies.items() if key in (name, f"__Host-{name}")}
    assert found, f"no {name} cookie"
    return found


class Peer:
    def __init__(self, base_url: str, cookies: dict[str, str]) -> None:
        self.base_url = base_url
        self.cookies = cookies
        self.ws: Any = None
        self.frames: list[dict[str, Any]] = []

    async def connect(self, path: str) -> Peer:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        # max_queue=None: frames a test leaves unread must not hold back the close handshake
        # (a full queue stops the client reading, so it never sees the server's close frame).
        self.ws = await websockets.connect(
            self.base_url.replace("http", "ws") + path,
            additional_headers={"cookie": cookie},
            max_queue=None,
        )
        return self

    async def send(self, **frame: Any) -> None:
        await self.ws.send(json.dumps(frame, default=str))

    async def recv(self, wait: float = 5) -> dict[str, Any]:
        frame = json.loads(await asyncio.wait_for(self.ws.recv(), wait))
        self.frames.append(frame)
        return frame

    async def until(self, kind: str, wait: float = 5, **match: Any) -> dict[str, Any]:
        """The next frame of ``kind`` whose fields match; frames before it are kept in .frames."""
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(
                    f"no {kind} {match}; got {[f['type'] for f in self.frames[-10:]]}"
                )
            frame = await self.recv(left)
            if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def message(self, wait: float = 5, **match: Any) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            left = deadline - asyncio.get_running_loop().time()
            frame = await self.until("message", max(left, 0.01))
            if all(frame["message"].get(k) == v for k, v in match.items()):
                return frame["message"]

    async def quiet(self, seconds: float = 0.5) -> list[dict[str, Any]]:
        """Frames that arrive within ``seconds`` (to show that nothing more comes)."""
        got = []
        try:
            while True:
                got.append(await self.recv(seconds))
        except TimeoutError:
            return got

    async def closed_with(self, wait: float = 15) -> tuple[int, str]:
        """Read until the server closes the socket: its close code and reason."""
        try:
            while True:
                await self.recv(wait)
        except websockets.ConnectionClosed as closed:
            if closed.rcvd is None:
                raise AssertionError("the connection dropped without a close frame") from None
            return closed.rcvd.code, closed.rcvd.reason

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


class Client(Peer):
    """A visitor: a cookie from GET /chat, then /ws/client."""

    @classmethod
    async def open(cls, base_url: str, cookies: dict[str, str] | None = None) -> Client:
        if cookies is None:
            async with httpx.AsyncClient(base_url=base_url) as http:
                await http.get("/chat")
                cookies = _named(http.cookies, "okno_visitor")
        client = cls(base_url, cookies)
        await client.connect("/ws/client")
        await client.send(type="resume", after=0)
        await client.until("synced")
        return client

    async def say(self, text: str, **extra: Any) -> dict[str, Any]:
        client_id = str(uuid.uuid4())
        await self.send(type="send", client_id=client_id, text=text, **extra)
        return await self.until("ack", client_id=client_id)

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, cookies=self.cookies)


class Staff(Peer):
    """A signed-in staff member on /ws/staff."""

    @classmethod
    async def open(cls, base_url: str, login: str, password: str | None = None) -> Staff:
        http = await (
            staff_client(base_url, login, password) if password else staff_client(base_url, login)
        )
        staff = cls(base_url, _named(http.cookies, "okno_staff"))
        staff.http_client = http
        await staff.connect("/ws/staff")
        return staff

    async def open_conversation(self, conversation: int, after: int = 0) -> list[dict[str, Any]]:
        await self.send(type="open", conversation=conversation, after=after)
        got = []
        while True:
            frame = await self.recv()
            if frame["type"] == "message" and frame["message"]["conversation"] == conversation:
                got.append(frame["message"])
            elif frame["type"] == "synced" and frame.get("conversation") == conversation:
                return got
            elif frame["type"] == "error":
                raise AssertionError(frame)

    async def say(self, conversation: int, text: str, **extra: Any) -> dict[str, Any]:
        client_id = str(uuid.uuid4())
        await self.send(
            type="send", conversation=conversation, client_id=client_id, text=text, **extra
        )
        return await self.until("ack", client_id=client_id)

    async def close(self) -> None:
        await super().close()
        await self.http_client.aclose()


async def join_team(staff_id: int, team_id: int = 1, base_url: str | None = None) -> None:
    """Put an operator into a team as the admin does, on the team's page (if not there yet)."""
    admin = await admin_console(base_url)
    try:
        await admin.open(f"/admin/teams/{team_id}")
        if f'<option value="{staff_id}">' in admin.page:
            response = await admin.submit(
                f"/admin/teams/{team_id}",
                f"/admin/teams/{team_id}/members",
                staff_id=str(staff_id),
            )
            assert response.status_code == 303, admin.alert()
        else:  # new operators join the default team (team 1, «Поддержка») when created
            assert f"/admin/teams/{team_id}/members/{staff_id}/remove" in admin.page
    finally:
        await admin.close()


async def leave_team(staff_id: int, team_id: int = 1, base_url: str | None = None) -> None:
    """Take an operator out of a team as the admin does, on the team's page."""
    admin = await admin_console(base_url)
    try:
        await admin.remove_member(team_id, staff_id)
    finally:
        await admin.close()


async def new_team(name: str, base_url: str | None = None) -> int:
    """A team created on «Команды»; returns its id."""
    admin = await admin_console(base_url)
    try:
        return await admin.create_team(name)
    finally:
        await admin.close()


async def log_rows(subject_id: str) -> list[tuple[str, str, list[str]]]:
    async with database.acquire() as conn:
        rows = await conn.fetch(
            "SELECT action, actor_kind, fields FROM processing_log WHERE subject_id = $1"
            " ORDER BY id",
            uuid.UUID(subject_id),
        )
    return [(r["action"], r["actor_kind"], list(r["fields"])) for r in rows]


async def subject_of(conversation: int) -> str:
    async with database.acquire() as conn:
        return str(
            await conn.fetchval("SELECT subject_id FROM conversation WHERE id = $1", conversation)
        )


async def resolve(base_url: str, login: str, conversations: list[int]) -> None:
    """Resolve what a test left waiting, as staff do, so no later test's operator gets it."""
    staff = await Staff.open(base_url, login)
    for conversation in conversations:
        await staff.send(type="status", conversation=conversation, status="resolved")
        await staff.until("conversation", id=conversation, status="resolved")
    await staff.close()
