"""The right answer in faults: bad input is ``invalid_frame``, an outage is ``unavailable`` (a
socket opened meanwhile is closed with 1013, the API answers 503 with Retry-After), and after
the database comes back every version reaches each socket once. A dedicated embedded
PostgreSQL (never the suite's own) is stopped and started."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from okno.platform import embedded_db
from tests.chat_support import Client, Staff
from tests.conftest import ADMIN_PASSWORD, ServerProcess, staff_client

pytestmark = pytest.mark.timeout(120)


async def test_a_nul_in_a_text_is_bad_input_not_an_outage(base_url) -> None:
    client = await Client.open(base_url)
    try:
        await client.say("первое")
        for frame in (
            {"type": "send", "client_id": str(uuid.uuid4()), "text": "до\x00после"},
            {"type": "edit", "seq": 1, "text": "\x00"},
        ):
            await client.send(**frame)
            refused = await client.until("error")
            assert refused["code"] == "invalid_frame", refused
    finally:
        await client.close()


class FreshServer(ServerProcess):
    """A server on a database it migrates from nothing first: on a busy machine that is slow."""

    def wait_ready(self, timeout: float = 90) -> None:
        try:
            super().wait_ready(timeout)
        except RuntimeError:
            self.stop()  # no server left running behind a failed start
            raise


class Outage:
    """An okno server on its own embedded PostgreSQL, which the test stops and starts."""

    def __init__(self, folder: Path) -> None:
        self.pg = embedded_db.start(folder, keep=False)
        try:
            self.app = FreshServer(embedded_db.url(self.pg))
        except RuntimeError:
            self.pg.cleanup()
            raise

    def stop_database(self) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pg.pgdata, user=self.pg.system_user)

    def start_database(self) -> None:
        self.pg.ensure_postgres_running()  # the same data folder and socket: the same URL

    def close(self) -> None:
        self.app.stop()
        self.pg.cleanup()


@pytest.fixture
def outage() -> Iterator[Outage]:
    # A folder of its own (cleaning up removes it), which the embedded server's user may enter.
    folder = Path(tempfile.mkdtemp(prefix="okno-outage-"))
    folder.chmod(0o755)
    world = Outage(folder / "postgres")
    yield world
    world.close()


async def _close_code(url: str, path: str, cookies: dict[str, str]) -> int:
    peer = Client(url, cookies)
    await peer.connect(path)

    async def read_on() -> None:
        while True:
            await peer.recv(15)

    with pytest.raises(websockets.ConnectionClosed) as closed:
        await read_on()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def _answer(peer: Client | Staff, client_id: str) -> dict[str, Any]:
    while True:
        frame = await peer.recv(15)
        if frame["type"] in ("ack", "error") and frame.get("client_id") == client_id:
            return frame


async def test_an_outage_is_unavailable_503_and_1013_never_internal(outage) -> None:
    url = outage.app.url
    client = await Client.open(url)
    admin = await staff_client(url, "admin", ADMIN_PASSWORD)
    try:
        await client.say("до остановки")
        # Sends while the connections break under them, then while the database is away.
        ids = [str(uuid.uuid4()) for _ in range(20)]
        stopping = asyncio.get_running_loop().run_in_executor(None, outage.stop_database)
        for client_id in ids:
            await client.send(type="send", client_id=client_id, text="во время обрыва")
            await asyncio.sleep(0.02)
        await stopping
        answers = [await _answer(client, client_id) for client_id in ids]
        codes = {a["code"] for a in answers if a["type"] == "error"}
        assert codes <= {"unavailable"}, answers

        conversations = await admin.get(
            "/api/staff/conversations", headers={"accept": "application/json"}
        )
        assert conversations.status_code == 503
        assert int(conversations.headers["retry-after"]) > 0
        assert "недоступ" in conversations.json()["detail"]
        async with httpx.AsyncClient(base_url=url) as visitor:
            page = await visitor.get("/chat", headers={"accept": "text/html"})
        assert page.status_code == 503

        assert await _close_code(url, "/ws/client", client.cookies) == 1013
        assert await _close_code(url, "/ws/staff", {"okno_staff": admin.cookies["okno_staff"]}) == (
            1013
        )
    finally:
        outage.start_database()
        await admin.aclose()
        with contextlib.suppress(Exception):
            await client.close()


async def test_after_an_outage_a_reopened_conversation_gets_each_version_once(outage) -> None:
    url = outage.app.url
    client = await Client.open(url)
    operator = None
    try:
        conversation = (await client.say("до остановки"))["conversation"]
        operator = await Staff.open(url, "admin", ADMIN_PASSWORD)  # sees every conversation
        seen = max(m["version"] for m in await operator.open_conversation(conversation))
        await asyncio.get_running_loop().run_in_executor(None, outage.stop_database)
        # The console re-opens what it shows while the database is away: refused for now.
        await operator.send(type="open", conversation=conversation, after=seen)
        assert (await operator.until("error", wait=15))["code"] == "unavailable"
        await asyncio.get_running_loop().run_in_executor(None, outage.start_database)
        last = None
        for n in range(30):
            client_id = str(uuid.uuid4())
            while True:
                await client.send(type="send", client_id=client_id, text=f"после {n}")
                answer = await _answer(client, client_id)
                if answer["type"] == "ack":
                    last = answer
                    break
                await asyncio.sleep(0.2)
            if n in (3, 10, 20):
                await operator.send(type="open", conversation=conversation, after=seen)
        assert last is not None
        await operator.message(wait=20, seq=last["seq"])
        await operator.quiet(3.5)  # past a catch-up sweep and a LISTEN resync
        versions = [
            f["message"]["version"]
            for f in operator.frames
            if f["type"] == "message" and f["message"]["conversation"] == conversation
        ]
        assert versions == sorted(set(versions)), versions
    finally:
        if operator is not None:
            await operator.close()
        await client.close()
