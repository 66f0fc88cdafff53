"""Each journey starts from a fresh install: its own empty database and its own ``okno serve``.

The server starts as on a new machine (no admin password given, so it prints a one-time
one); the journey then arranges everything through okno's pages, sockets and CLI, and opens
the database only to assert.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator

import asyncpg
import msgspec
import pytest

from tests.conftest import ServerProcess, _admin_execute, _with_database


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


@pytest.fixture
async def install(database_url: str) -> AsyncIterator[Install]:
    name = f"okno_journey_{secrets.token_hex(4)}"
    await _admin_execute(database_url, f'CREATE DATABASE "{name}"')
    url = _with_database(database_url, name)
    data_dir = tempfile.mkdtemp(prefix="journey-")  # a fresh install's own data folder
    server = ServerProcess(url, unset=("OKNO_ADMIN_PASSWORD",), OKNO_DATA_DIR=data_dir)
    printed = re.search(r"пароль: (\S+)", server.log.read_text())
    assert printed, "okno serve printed no one-time admin password"
    try:
        yield Install(server.url, url, printed.group(1), server)
    finally:
        server.stop()
        await _admin_execute(database_url, f'DROP DATABASE "{name}" WITH (FORCE)')
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
async def closing() -> AsyncIterator[list[object]]:
    """Sockets and consoles a journey opens, closed at its end whatever happens."""
    opened: list[object] = []
    yield opened
    for item in reversed(opened):
        await item.close()  # type: ignore[attr-defined]
