"""Who has a conversation open in a console: colleagues see each other before they both answer.

Each staff socket with a conversation open is one ``conversation_viewer`` row, so every worker
sees the sockets of the others; a change is announced (event ``w``) and each hub sends its
watchers of that conversation the list (``viewers`` frame). A socket deletes its rows when it
leaves or closes; a worker that died leaves rows whose heartbeat stops, and they stop counting
after ``FRESH_SECONDS``.
"""

from __future__ import annotations

import contextlib
import uuid

import asyncpg

from okno.platform import database
from okno.platform.chat import notify, queries
from okno.platform.chat.schemas import Viewer

FRESH_SECONDS = 90  # three missed pings (every 25 s)


async def viewing(conversation_id: int, socket: uuid.UUID, staff_id: int) -> None:
    async with database.acquire() as conn:
        await conn.execute(queries.VIEWING, conversation_id, socket, staff_id)
    await _announce(conversation_id)


async def left(conversation_id: int, socket: uuid.UUID) -> None:
    async with database.acquire() as conn:
        await conn.execute(queries.LEFT_ONE, conversation_id, socket)
    await _announce(conversation_id)


async def closed(socket: uuid.UUID) -> None:
    async with database.acquire() as conn:
        rows = await conn.fetch(queries.LEFT_ALL, socket)
    for row in rows:
        await _announce(row["conversation_id"])


async def heartbeat(socket: uuid.UUID) -> None:
    async with database.acquire() as conn:
        await conn.execute(queries.VIEWER_HEARTBEAT, socket)


async def of(conn: asyncpg.Connection, conversation_id: int) -> list[Viewer]:
    rows = await conn.fetch(queries.VIEWERS, conversation_id, FRESH_SECONDS)
    return [Viewer(row["staff_id"], row["display_name"]) for row in rows]


async def _announce(conversation_id: int) -> None:
    # Presence is a courtesy: a lost NOTIFY costs a stale list until the next change, not data.
    with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        await notify.publish({"w": conversation_id})
