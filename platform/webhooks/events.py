"""The events an endpoint may subscribe to, and how a service reports one: in its own
transaction, one INSERT…SELECT for every endpoint that wants it, and nothing at all when none
does (a cached set of the events some endpoint wants, forgotten on every endpoint change).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import asyncpg
import msgspec

from okno.platform import database, shared_cache
from okno.platform.webhooks import queries

EVENTS: dict[str, str] = {
    "conversation.created": "Диалог создан",
    "conversation.assigned": "Диалог назначен оператору",
    "conversation.transferred": "Диалог передан",
    "conversation.resolved": "Диалог закрыт",
    "message.created": "Новое сообщение (клиента, оператора, бота)",
    "consent.given": "Согласие дано",
    "consent.withdrawn": "Согласие отозвано",
    "rights_request.filed": "Подано обращение субъекта",
    "rights_request.closed": "Обращение субъекта закрыто",
    "subject.destroyed": "ПДн субъекта уничтожены",
    "mailing.delivered": "Рассылка доставлена",
}
CACHE = "webhook_events"


async def _load() -> frozenset[str]:
    async with database.acquire() as conn:
        return await _read(conn)


async def _read(conn: asyncpg.Connection) -> frozenset[str]:
    return frozenset(await conn.fetchval(queries.WANTED_EVENTS) or ())


_wanted: shared_cache.Shared[frozenset[str]] = shared_cache.Shared(CACHE, _load)


async def wanted(conn: asyncpg.Connection, event: str) -> bool:
    """Whether any endpoint subscribes to ``event``: from memory almost always; when the copy
    is stale, read on ``conn``, the caller's connection (never another pooled one)."""
    return event in await _wanted.get(lambda: _read(conn))


async def emit(
    conn: asyncpg.Connection,
    event: str,
    data: Mapping[str, object],
    *,
    conversation_id: int | None = None,
    subject_id: uuid.UUID | None = None,
    pd: Mapping[str, object] | None = None,
) -> None:
    """Queue ``event`` for every endpoint that wants it, on ``conn`` (the change's transaction,
    so a rollback queues nothing). ``data`` holds ids only; ``pd`` is added for endpoints whose
    scope includes personal data. Events of one conversation are sent in this order."""
    assert event in EVENTS, event
    if not await wanted(conn, event):
        return
    await conn.execute(
        queries.ENQUEUE,
        event,
        conversation_id,
        subject_id,
        msgspec.json.encode(dict(data)).decode(),
        msgspec.json.encode(dict(pd or {})).decode(),
    )
