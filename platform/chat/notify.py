"""Tell every worker that something changed: NOTIFY after commit, small ids only.

The hub attaches its own small pool, so a NOTIFY never waits behind writers that hold the
main pool's connections; without a hub (commands, tests calling services) the main pool serves.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from okno.platform import database

CHANNEL = "okno"
_pool: asyncpg.Pool | None = None


def attach(pool: asyncpg.Pool | None) -> None:
    global _pool  # one pool per worker process, set by the hub's lifespan
    _pool = pool


def _acquire() -> Any:
    return _pool.acquire() if _pool is not None else database.acquire()


async def publish(payload: dict[str, object]) -> None:
    async with _acquire() as conn:
        await conn.execute(
            "SELECT pg_notify($1, $2)", CHANNEL, msgspec.json.encode(payload).decode()
        )


async def changed(conversation_id: int, version: int) -> None:
    await publish({"c": conversation_id, "v": version})
