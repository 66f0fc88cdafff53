"""Tell every worker that something changed: NOTIFY after commit, small ids only.

The hub attaches its own small pool, so a NOTIFY never waits behind writers that hold the
main pool's connections; without a hub (commands, tests calling services) the main pool serves.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import msgspec

from okno.platform import database

logger = logging.getLogger("okno.chat.notify")
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
    """Announce a committed change. It is stored already, so a NOTIFY that fails (the database
    went away just after the commit) must not turn into an error for the sender: every hub's
    catch-up sweep finds the change in the table within seconds."""
    try:
        await publish({"c": conversation_id, "v": version})
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        logger.warning("NOTIFY after commit failed (%s); the sweep delivers", type(error).__name__)
