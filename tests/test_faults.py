"""Faults, end to end: a killed worker, a restarted database, a peer that stops reading, a lost
LISTEN connection. Each test waits for conditions with deadlines and asserts no speed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import websockets

from okno.platform import embedded_db
from okno.platform.staff.roles import Role
from tests.chat_support import Client, Staff
from tests.conftest import ServerProcess

pytestmark = pytest.mark.timeout(60)


class Survivor:
    """A client that keeps sending through disconnects, as the browser widget does.

    It remembers the highest version seen, reconnects to the next address on any loss, resumes
    from there, and re-sends each unacknowledged message with its ``client_id``.
    """

    def __init__(self, urls: list[str], cookies: dict[str, str]) -> None:
        self.urls, self.cookies = urls, cookies
        self.peer: Client | None = None
        self.acked: dict[str, int] = {}  # client_id -> seq
        self.received: list[dict[str, Any]] = []  # every message frame, over all connections
        self.reconnects = 0

    @classmethod
    async def start(cls, urls: list[str]) -> Survivor:
        async with httpx.AsyncClient(base_url=urls[0]) as http:
            await http.get("/chat")
            cookies = {"okno_visitor": http.cookies["okno_visitor"]}
        survivor = cls(urls, cookies)
        await survivor._connect()
        return survivor

    @property
    def seen(self) -> int:
        return max((m["version"] for m in self.received), default=0)

    async def _connect(self) -> None:
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            url = self.urls[min(self.reconnects, len(self.urls) - 1)]
            try:
                peer = Client(url, self.cookies)
                await peer.connect("/ws/client")
                await peer.send(type="resume", after=self.seen)
                while (frame := await peer.recv(10))["type"] != "synced":
                    self._keep(frame)
                self.peer = peer
                return
            except (OSError, TimeoutError, websockets.ConnectionClosed):
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.2)

    def _keep(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "message":
            self.received.append(frame["message"])

    async def say(self, text: str) -> int:
        """Send until acknowledged; reconnect (to the survivor) whenever the socket is lost."""
        client_id = str(uuid.uuid4())
        for _attempt in range(20):
            assert self.peer is not None
            try:
                await self.peer.send(type="send", client_id=client_id, text=text)
                while True:
                    frame = await self.peer.recv(10)
                    self._keep(frame)
                    if frame["type"] == "ack" and frame["client_id"] == client_id:
                        self.acked[client_id] = frame["seq"]
                        return frame["conversation"]
                    if frame["type"] == "error" and frame.get("client_id") == client_id:
                        break  # refused for now: send the same message again
            except (OSError, TimeoutError, websockets.ConnectionClosed):
                self.reconnects += 1
                await self._connect()
        raise AssertionError(f"{text!r} was never acknowledged")

    async def drain(self, until_version: int, wait: float = 20) -> None:
        deadline = asyncio.get_running_loop().time() + wait
        while self.seen < until_version:
            assert self.peer is not None
            self._keep(await self.peer.recv(max(deadline - asyncio.get_running_loop().time(), 0)))


def assert_exactly_once_in_order(messages: list[dict[str, Any]], acked_seqs: set[int]) -> None:
    versions = [m["version"] for m in messages]
    assert versions == sorted(set(versions)), f"duplicates or disorder: {versions}"
    seqs = [m["seq"] for m in messages]
    assert len(seqs) == len(set(seqs)), f"a message delivered twice: {seqs}"
    assert acked_seqs <= set(seqs), f"acknowledged but never delivered: {acked_seqs - set(seqs)}"


def output_of(app: ServerProcess) -> str:
    """The server's output so far, read through its open file (the log folder may be gone)."""
    return Path(f"/proc/{app.process.pid}/fd/1").read_text()


async def until(condition: Any, wait: float = 20, step: float = 0.1) -> None:
    deadline = asyncio.get_running_loop().time() + wait
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"condition never held: {condition.__name__}")
        await asyncio.sleep(step)


# ---------------------------------------------------------------- a worker killed with -9


async def test_killing_a_worker_loses_and_doubles_nothing(database_url, make_staff) -> None:
    doomed, survivor = ServerProcess(database_url), ServerProcess(database_url)
    operator = None
    clients: list[Survivor] = []
    try:
        user = await make_staff(Role.SUPERVISOR)
        operator = await Staff.open(survivor.url, user.login)
        clients = [await Survivor.start([doomed.url, survivor.url]) for _ in range(4)]
        conversations = [await c.say("первое") for c in clients]
        for conversation in conversations:
            await operator.open_conversation(conversation)

        async def chatter(client: Survivor, index: int) -> None:
            for n in range(25):
                await client.say(f"клиент {index}, сообщение {n}")
                await asyncio.sleep(0.02)

        senders = [asyncio.create_task(chatter(c, i)) for i, c in enumerate(clients)]
        await until(lambda: _acked_at_least(clients, 30))
        doomed.process.kill()  # SIGKILL: no shutdown, no NOTIFY for what was in flight
        await asyncio.gather(*senders)
        assert all(c.reconnects >= 1 for c in clients)

        conn = await asyncpg.connect(database_url)
        try:
            last = dict(
                await conn.fetch(
                    "SELECT id, last_version FROM conversation WHERE id = ANY($1::bigint[])",
                    conversations,
                )
            )
        finally:
            await conn.close()
        for client, conversation in zip(clients, conversations, strict=True):
            await client.drain(last[conversation])
            mine = [m for m in client.received if m["conversation"] == conversation]
            assert_exactly_once_in_order(mine, set(client.acked.values()))

        async def operator_caught_up() -> bool:
            await operator.quiet(0.1)
            return all(max(_versions(operator, c), default=0) >= last[c] for c in conversations)

        await until(operator_caught_up)
        await operator.quiet(0.5)
        for client, conversation in zip(clients, conversations, strict=True):
            theirs = [
                f["message"]
                for f in operator.frames
                if f["type"] == "message" and f["message"]["conversation"] == conversation
            ]
            assert_exactly_once_in_order(theirs, set(client.acked.values()))
    finally:
        for client in clients:
            if client.peer is not None:
                with contextlib.suppress(Exception):
                    await client.peer.close()
        if operator is not None:
            await operator.close()
        doomed.stop()
        survivor.stop()


async def _acked_at_least(clients: list[Survivor], count: int) -> bool:
    return sum(len(c.acked) for c in clients) >= count


def _versions(staff: Staff, conversation: int) -> list[int]:
    return [
        f["message"]["version"]
        for f in staff.frames
        if f["type"] == "message" and f["message"]["conversation"] == conversation
    ]


# ---------------------------------------------------------------- PostgreSQL restarted


def _pg_ctl(server: Any, *args: str) -> None:
    from pgserver._commands import pg_ctl

    pg_ctl(list(args), pgdata=server.pgdata, user=server.system_user, timeout=30)


async def test_the_server_survives_a_database_restart(tmp_path: Path) -> None:
    """A dedicated embedded PostgreSQL (never the suite's own) is stopped and started again."""
    pg = embedded_db.start(tmp_path / "postgres", keep=False)
    url = embedded_db.url(pg)
    app = ServerProcess(url)
    tabs: list[Client] = []
    try:
        writer = await Client.open(app.url)
        reader = await Client.open(app.url, writer.cookies)
        tabs = [writer, reader]
        before = [(await writer.say(f"до остановки {n}"))["seq"] for n in range(5)]

        _pg_ctl(pg, "-w", "-m", "fast", "stop")
        client_id = str(uuid.uuid4())
        await writer.send(type="send", client_id=client_id, text="во время остановки")
        refused = await writer.until("error", wait=15, client_id=client_id)
        assert refused["code"] == "unavailable"

        pg.ensure_postgres_running()  # the same data folder and socket: the same URL
        ack = None
        deadline = asyncio.get_running_loop().time() + 30
        while ack is None:
            assert asyncio.get_running_loop().time() < deadline, "never recovered"
            await writer.send(type="send", client_id=client_id, text="во время остановки")
            frame = await _answer(writer, client_id)
            if frame["type"] == "ack":
                ack = frame
            else:
                assert frame["code"] == "unavailable", frame
                await asyncio.sleep(0.3)

        after = await writer.say("после перезапуска")
        # Fan-out recovered too: the other tab gets what was sent after the restart.
        assert (await reader.message(wait=15, seq=after["seq"]))["text"] == "после перезапуска"
        async with writer.http() as http:
            stored = (await http.get("/api/chat/messages")).json()["messages"]
        texts = {m["seq"]: m["text"] for m in stored}
        assert [texts[s] for s in before] == [f"до остановки {n}" for n in range(5)]
        assert texts[ack["seq"]] == "во время остановки"
        assert list(texts.values()).count("во время остановки") == 1
        assert app.process.poll() is None, "the server restarted itself"
    finally:
        for tab in tabs:
            with contextlib.suppress(Exception):
                await tab.close()
        app.stop()
        pg.cleanup()


async def _answer(peer: Client, client_id: str) -> dict[str, Any]:
    """The ``ack`` or ``error`` frame answering the send with ``client_id``."""
    while True:
        frame = await peer.recv(10)
        if frame["type"] in ("ack", "error") and frame.get("client_id") == client_id:
            return frame


# ---------------------------------------------------------------- a peer that stops reading


async def _stalled_tab(base_url: str, cookies: dict[str, str]) -> Any:
    """A second tab whose TCP receive buffer is tiny and which never reads."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", int(base_url.rsplit(":", 1)[1])))
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    ws = await websockets.connect(
        base_url.replace("http", "ws") + "/ws/client",
        sock=sock,
        additional_headers={"cookie": cookie},
        max_queue=1,
        compression=None,
    )
    await ws.send(json.dumps({"type": "resume", "after": 0}))
    return ws


async def test_a_peer_that_stops_reading_is_dropped_and_slows_nobody(
    database_url, make_staff
) -> None:
    # A backlog above one batch of echoes and acks (2 × 25): peers that read must never hit
    # it, while the tab that reads nothing fills it within a few batches of 16 KB frames.
    app = ServerProcess(database_url, OKNO_WS_BACKLOG="64", OKNO_WS_RATE="2000")
    peers: list[Any] = []
    try:
        writer = await Client.open(app.url)
        first = await writer.say("начало")
        user = await make_staff(Role.SUPERVISOR)
        operator = await Staff.open(app.url, user.login)
        await operator.open_conversation(first["conversation"])
        stalled = await _stalled_tab(app.url, writer.cookies)
        peers = [writer, operator]

        text = "🙂" * 4000  # 16 KB of UTF-8 a frame: the kernel's buffers fill sooner
        last_seq = first["seq"]
        closed_by_server = False
        for _batch in range(60):
            ids = [str(uuid.uuid4()) for _ in range(25)]
            for client_id in ids:
                await writer.send(type="send", client_id=client_id, text=text)
            for client_id in ids:
                last_seq = (await writer.until("ack", wait=15, client_id=client_id))["seq"]
            # The ones still reading keep up.
            await operator.message(wait=15, seq=last_seq)
            if await _server_closed(app):
                closed_by_server = True
                break
        assert closed_by_server, "the stalled tab was never disconnected"
        if not any(
            f["type"] == "message" and f["message"]["seq"] == last_seq for f in writer.frames
        ):
            await writer.message(wait=15, seq=last_seq)

        # Now it reads: whatever was in flight, then the close frame with its reason.
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await _read_until_closed(stalled)
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4008, "backlog")
        # And it resumes where it stopped, missing nothing.
        back = await Client.open(app.url, writer.cookies)
        peers.append(back)
        assert max(f["message"]["seq"] for f in back.frames if f["type"] == "message") == last_seq
    finally:
        for peer in peers:
            with contextlib.suppress(Exception):
                await peer.close()
        app.stop()


async def _read_until_closed(ws: Any) -> None:
    while True:
        await asyncio.wait_for(ws.recv(), 15)


async def _server_closed(app: ServerProcess) -> bool:
    """Whether the server has given up on the stalled tab (the hub logs each such drop)."""
    return "stopped reading" in output_of(app)


# ---------------------------------------------------------------- the LISTEN connection lost


async def test_receivers_resync_after_the_listen_connection_is_lost(
    base_url, server, database_url, make_staff
) -> None:
    client = await Client.open(base_url)
    user = await make_staff(Role.SUPERVISOR)
    operator = await Staff.open(base_url, user.login)
    try:
        first = await client.say("до обрыва")
        conversation = first["conversation"]
        await operator.open_conversation(conversation)
        conn = await asyncpg.connect(database_url)
        try:
            killed = await conn.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
            )
        finally:
            await conn.close()
        assert killed, "no LISTEN connection found"
        # Sent while the server has no LISTEN connection: their notifications are lost.
        sent = [await operator.say(conversation, f"в обрыве {n}") for n in range(5)]
        sent += [await client.say("ещё клиент")]
        last = max(s["version"] for s in sent)

        while (
            max(
                (f["message"]["version"] for f in client.frames if f["type"] == "message"),
                default=0,
            )
            < last
        ):
            await client.recv(20)

        async def operator_has_all() -> bool:
            await operator.quiet(0.1)
            return max(_versions(operator, conversation), default=0) >= last

        await until(operator_has_all)
        await operator.quiet(0.5)
        await client.quiet(0.3)
        acked = {s["seq"] for s in sent} | {first["seq"]}
        for peer in (client, operator):
            got = [
                f["message"]
                for f in peer.frames
                if f["type"] == "message" and f["message"]["conversation"] == conversation
            ]
            assert_exactly_once_in_order(got, acked)

        async def restored() -> bool:
            return "LISTEN connection restored" in output_of(server)

        await until(restored)
    finally:
        await client.close()
        await operator.close()
