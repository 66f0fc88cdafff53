"""Blocking (152-FZ Art. 3 p.3, 21 p.1): a temporary stop of processing, except for the check.

Blocking a whole subject sets ``subject.blocked_at`` and blocks every profile field: operators
then see neither the profile nor the conversation (its messages are withheld over HTTP and the
WebSocket; staff actions on it are refused) until the DPO unblocks. Blocking some fields hides
only those fields from the profile panel. The client may still write: what they write is stored
and shown to no operator until unblocking.

Both are logged as ``blocking``; unblocking is logged as ``blocking`` with the reason
«блокирование снято» (Art. 3 has no action of its own for it).
"""

from __future__ import annotations

import uuid

import asyncpg
import msgspec

from okno.platform import database
from okno.platform.errors import Refused
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.processing_log.schemas import LogEntry
from okno.platform.rights import queries
from okno.platform.subjects.fields import FIELDS

LEGAL_BASIS = "152-fz:21.1"
CONVERSATION_FIELDS = ("message_text", "attachment")


class BlockingError(Refused):
    """The subject or field cannot be (un)blocked; the message says why."""


class State(msgspec.Struct, frozen=True):
    blocked: bool  # the whole subject
    fields: tuple[str, ...]  # blocked profile fields


async def state(conn: asyncpg.Connection, subject_id: uuid.UUID) -> State:
    blocked = await conn.fetchval(queries.SUBJECT_BLOCKED_AT, subject_id)
    rows = await conn.fetch(queries.BLOCKED_FIELDS, subject_id)
    return State(blocked is not None, tuple(row["field"] for row in rows))


async def block(
    subject_id: uuid.UUID,
    staff_id: int | None,
    *,
    fields: tuple[str, ...] | None = None,
    request_id: int | None = None,
    reason: str = "блокирование на время проверки",
) -> State:
    """Block the whole subject (``fields=None``) or some of their profile fields."""
    return await _change(subject_id, staff_id, fields, request_id, reason, block=True)


async def unblock(
    subject_id: uuid.UUID,
    staff_id: int | None,
    *,
    fields: tuple[str, ...] | None = None,
    request_id: int | None = None,
) -> State:
    return await _change(
        subject_id, staff_id, fields, request_id, "блокирование снято", block=False
    )


async def _change(
    subject_id: uuid.UUID,
    staff_id: int | None,
    fields: tuple[str, ...] | None,
    request_id: int | None,
    reason: str,
    *,
    block: bool,
) -> State:
    if fields is not None:
        unknown = [name for name in fields if name not in FIELDS]
        if unknown or not fields:
            raise BlockingError("выберите поля из реестра")
    async with database.transaction():
        conn = database.connection()
        subject = await conn.fetchrow(queries.SUBJECT_LOCK, subject_id)
        if subject is None:
            raise BlockingError("нет такого субъекта")
        if fields is None:
            await conn.execute(queries.SUBJECT_BLOCK, subject_id, block)
        changed = await conn.fetch(
            queries.FIELDS_BLOCK,
            subject_id,
            list(fields) if fields is not None else None,
            block,
        )
        logged = sorted(row["field"] for row in changed)
        if fields is None and (subject["blocked_at"] is None) == block:
            logged += list(CONVERSATION_FIELDS)
        if logged:
            await processing_log.record(
                LogEntry(
                    action=Action.BLOCKING,
                    actor_kind=ActorKind.STAFF if staff_id is not None else ActorKind.SYSTEM,
                    actor_id=str(staff_id) if staff_id is not None else None,
                    subject_id=subject_id,
                    fields=tuple(logged),
                    legal_basis=LEGAL_BASIS,
                    request_id=request_id,
                    reason=reason[:200],
                )
            )
        return await state(conn, subject_id)
