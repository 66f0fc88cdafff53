"""Helpers for the channel tests: connecting a channel on the admin's page, waiting for what
okno sends to a stand-in, and the read-only look-ups the assertions need."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from okno.platform import database
from tests.admin_support import admin_console

T = TypeVar("T")


async def connect_channel(base_url: str, **fields: str) -> int:
    """Connect a channel on «Каналы» as the admin does; returns its id (the newest row)."""
    admin = await admin_console(base_url)
    try:
        response = await admin.submit("/admin/channels", "/admin/channels/", **fields)
        assert response.status_code == 303, admin.alert()
        assert fields["token"] not in admin.page  # never shown again
        assert fields["name"] in admin.page
    finally:
        await admin.close()
    async with database.acquire() as conn:
        channel_id: int = await conn.fetchval(
            "SELECT max(id) FROM channel WHERE name = $1", fields["name"]
        )
    return channel_id


async def eventually(found: Callable[[], T | None], wait: float = 15) -> T:
    """Poll ``found`` (the stand-in's state, a query) until it gives something."""
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        value = found()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("nothing came in time")
        await asyncio.sleep(0.1)


async def identity(channel_id: int, user_id: int) -> dict[str, Any] | None:
    async with database.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT i.id, i.subject_id, c.id AS conversation FROM channel_identity i"
            " LEFT JOIN conversation c ON c.subject_id = i.subject_id"
            " WHERE i.channel_id = $1 AND i.external_id = $2",
            channel_id,
            str(user_id),
        )
    return dict(row) if row else None


async def wait_identity(channel_id: int, user_id: int) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        found = await identity(channel_id, user_id)
        if found and found["conversation"] is not None:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the channel's user never got a conversation")
        await asyncio.sleep(0.1)


async def messages(conversation: int) -> list[dict[str, Any]]:
    async with database.acquire() as conn:
        rows = await conn.fetch(
            "SELECT seq, author_kind, body FROM message WHERE conversation_id = $1 ORDER BY seq",
            conversation,
        )
    return [dict(row) for row in rows]


async def log_of(subject_id: uuid.UUID) -> list[dict[str, Any]]:
    async with database.acquire() as conn:
        rows = await conn.fetch(
            "SELECT action, actor_kind, fields, legal_basis, reason FROM processing_log"
            " WHERE subject_id = $1 ORDER BY id",
            subject_id,
        )
    return [dict(row) for row in rows]


async def wait_log(subject_id: uuid.UUID, test: Callable[[dict[str, Any]], bool]) -> None:
    deadline = asyncio.get_running_loop().time() + 15
    while not any(test(row) for row in await log_of(subject_id)):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(await log_of(subject_id))
        await asyncio.sleep(0.1)
