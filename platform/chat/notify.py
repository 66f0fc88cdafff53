"""Tell every worker that something changed: NOTIFY after commit, small ids only.

Announcements made while a NOTIFY is on its way go out together in the next one, as a JSON
array (at most ``MAX_PAYLOAD`` bytes; PostgreSQL's limit is 8000). Under load that is one NOTIFY
for many messages instead of one each; when idle, each goes out at once.

The hub attaches its own small pool, so a NOTIFY never waits behind writers that hold the
main pool's connections; without a hub (commands, tests calling services) the main pool serves.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

import asyncpg
import msgspec

from okno.platform import database
from okno.platform.chat import queries

logger = logging.getLogger("okno.chat.notify")
CHANNEL = "okno"
MAX_PAYLOAD = 7000
_pool: asyncpg.Pool | None = None
_waiting: deque[tuple[bytes, asyncio.Future[None]]] = deque()
_sender: asyncio.Task[None] | None = None


def attach(pool: asyncpg.Pool | None) -> None:
    global _pool  # one pool per worker process, set by the hub's lifespan
    _pool = pool


def _acquire() -> Any:
    return _pool.acquire() if _pool is not None else database.acquire()


async def publish(payload: dict[str, object]) -> None:
    """Announce ``payload`` to every worker; returns once its NOTIFY is sent."""
    global _sender
    sent: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    _waiting.append((msgspec.json.encode(payload), sent))
    if _sender is None or _sender.done():
        _sender = asyncio.get_running_loop().create_task(_send_waiting())
    await sent


async def _send_waiting() -> None:
    while _waiting:
        batch = [_waiting.popleft()]
        size = len(batch[0][0]) + 2
        while _waiting and size + len(_waiting[0][0]) + 1 <= MAX_PAYLOAD:
            size += len(_waiting[0][0]) + 1
            batch.append(_waiting.popleft())
        payload = b"[" + b",".join(encoded for encoded, _ in batch) + b"]"
        try:
            async with _acquire() as conn:
                await conn.execute(queries.NOTIFY, CHANNEL, payload.decode())
        except Exception as error:  # every waiter gets it: a NOTIFY never fails silently
            for _, sent in batch:
                if not sent.done():
                    sent.set_exception(error)
            continue
        for _, sent in batch:
            if not sent.done():
                sent.set_result(None)


async def changed(conversation_id: int, version: int) -> None:
    """Announce a committed change. It is stored already, so a NOTIFY that fails (the database
    went away just after the commit) must not turn into an error for the sender: every hub's
    catch-up sweep finds the change in the table within seconds."""
    try:
        await publish({"c": conversation_id, "v": version})
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        logger.warning("NOTIFY after commit failed (%s); the sweep delivers", type(error).__name__)


async def staff_changed(staff_id: int) -> None:
    """Announce that a staff account's sessions, role or teams changed (event ``a``): every
    worker re-checks that account's open sockets at once. Like ``changed``, it follows a
    commit, so a NOTIFY lost to an outage is no error: each hub re-checks all its staff sockets
    every ``hub.RECHECK_SECONDS`` anyway. The teams' service calls it when memberships change;
    ``staff.sessions.announce_sessions_ended`` calls it for sessions and roles."""
    try:
        await publish({"a": staff_id})
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        logger.warning(
            "NOTIFY of a staff change failed (%s); the re-check ends it", type(error).__name__
        )


async def staff_changed_in(conn: asyncpg.Connection, staff_id: int) -> None:
    """The same announcement inside the caller's transaction: PostgreSQL delivers it exactly
    when that transaction commits (and never if it rolls back), so it cannot be lost between
    the commit and the announcement."""
    await conn.execute(queries.NOTIFY, CHANNEL, msgspec.json.encode([{"a": staff_id}]).decode())


async def changed_config(name: str) -> None:
    """Announce a committed change of shared settings (``okno.platform.shared_cache``); a lost
    NOTIFY is covered by the cache's time-to-live, so it is not the writer's error either."""
    try:
        await publish({"cfg": name})
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        logger.warning("NOTIFY of a settings change failed (%s)", type(error).__name__)
