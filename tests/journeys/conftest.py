"""Each journey starts from a fresh install: its own empty database and its own ``okno serve``.

The server starts as on a new machine (no admin password given, so it prints a one-time
one); the journey then arranges everything through okno's pages, sockets and CLI, and opens
the database only to assert.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator

import asyncpg
import msgspec
import pytest

from tests.admin_support import Console
from tests.chat_support import Client
from tests.conftest import ServerProcess, new_database


class Install(msgspec.Struct):
    url: str
    database_url: str
    admin_password: str
    server: ServerProcess

    async def fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
        """Read the install's database (to assert; journeys never write to it)."""
        conn = await asyncpg.connect(self.database_url)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    async def fetchval(self, sql: str, *args: object) -> object:
        rows = await self.fetch(sql, *args)
        return rows[0][0] if rows else None

    async def routed(self, client: Client) -> tuple[str | None, str]:
        """Who the client's conversation is assigned to (a login or None), and its team."""
        rows = await self.fetch(
            "SELECT u.login, t.name FROM conversation c JOIN team t ON t.id = c.team_id"
            " LEFT JOIN staff_user u ON u.id = c.assignee_id WHERE c.id = $1",
            client.conversation,  # type: ignore[attr-defined]
        )
        assert len(rows) == 1
        return rows[0]["login"], rows[0]["name"]


@pytest.fixture
def install(database_url: str) -> Iterator[Install]:
    with new_database(migrate=False) as fresh:
        data_dir = tempfile.mkdtemp(prefix="journey-")  # a fresh install's own data folder
        server = ServerProcess(
            fresh.url,
            unset=("OKNO_ADMIN_PASSWORD",),
            OKNO_DATA_DIR=data_dir,
            OKNO_MIGRATION_DATABASE_URL=fresh.owner_url,
        )
        printed = re.search(r"пароль: (\S+)", server.log.read_text())
        assert printed, "okno serve printed no one-time admin password"
        try:
            yield Install(server.url, fresh.url, printed.group(1), server)
        finally:
            server.stop()
            shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
async def closing() -> AsyncIterator[list[object]]:
    """Sockets and consoles a journey opens, closed at its end whatever happens."""
    opened: list[object] = []
    yield opened
    for item in reversed(opened):
        await item.close()  # type: ignore[attr-defined]


ADMIN_PASSWORD = "my-own-admin-password-1"


@pytest.fixture
async def admin(install: Install) -> AsyncIterator[Console]:
    """The printed admin, signed in after choosing a password as okno asks at first sign-in."""
    first = Console(install.url)
    await first.submit("/admin/login", login="admin", password=install.admin_password)
    changed = await first.submit(
        "/admin/password",
        current=install.admin_password,
        new=ADMIN_PASSWORD,
        repeat=ADMIN_PASSWORD,
    )
    assert changed.headers["location"] == "/admin/login?changed=1"
    await first.close()
    console = await Console.sign_in(install.url, "admin", ADMIN_PASSWORD)
    yield console
    await console.close()


async def visitor(install: Install, slug: str, text: str) -> Client:
    """A new visitor on /chat presses a topic button and writes; ``.conversation`` is set."""
    client = await Client.open(install.url)
    state = next(f for f in client.frames if f["type"] == "state")
    assert slug in [topic["slug"] for topic in state["topics"]]
    await client.send(type="topic", slug=slug)
    await client.until("state", topic=slug)
    client.conversation = (await client.say(text))["conversation"]  # type: ignore[attr-defined]
    # Frames of one socket are handled in turn: this ack comes after the first message's
    # assignment was tried, so the database shows its outcome from here on.
    await client.say("жду ответа")
    return client
