"""Special categories of PD (152-FZ Art. 10: health, beliefs, …) found in the chat.

The chat never asks for them (the registry marks them not collectable in the chat). When a
client writes such data anyway, staff mark the message (its text and attachment): from then on
every staff view of the chat shows «скрыто: особая категория» in its place, and the DPO decides
in the console — destroy it (no written consent: Art. 10 p.1, 21 p.3) or keep it under the
subject's written consent (Art. 10 p.2 item 1), whose reference the DPO records. Each step is
logged in the same transaction. The client still sees their own message.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg

from okno.platform import database
from okno.platform.chat import access, erasure, notify, queries, service
from okno.platform.chat.compliance import PURPOSE
from okno.platform.chat.errors import ChatError
from okno.platform.chat.schemas import PendingSpecial, RevealedSpecial
from okno.platform.chat.tables import Message
from okno.platform.erasure import files
from okno.platform.pd_detect import contains_pd
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.processing_log.schemas import LogEntry
from okno.platform.staff.roles import Role
from okno.platform.staff.schemas import StaffUser
from okno.platform.subjects.fields import FIELDS, Category

HIDDEN_TEXT = "скрыто: особая категория"
CATEGORIES = {name: f.label for name, f in FIELDS.items() if f.category is Category.SPECIAL}
FLAG_BASIS = "152-fz:10.1"  # processing of special categories is forbidden but for Art. 10 p.2
KEEP_BASIS = "152-fz:10.2.1"  # the subject's written consent
DESTROY_BASIS = "152-fz:21.3"  # processing without a basis: destroyed


def _entry(
    action: Action, staff_id: int, subject_id: uuid.UUID, fields: tuple[str, ...], **extra: Any
) -> LogEntry:
    return LogEntry(
        action=action,
        actor_kind=ActorKind.STAFF,
        actor_id=str(staff_id),
        subject_id=subject_id,
        fields=fields,
        purpose=PURPOSE,
        **extra,
    )


async def _locked(conn: asyncpg.Connection, conversation_id: int, seq: int) -> asyncpg.Record:
    row = await conn.fetchrow(queries.LOCK_SPECIAL, conversation_id, seq)
    if row is None:
        raise ChatError("not_found", "нет такого сообщения")
    return row


def _fields(row: asyncpg.Record) -> tuple[str, ...]:
    held = [row["special_category"], "message_text"]
    if row["attachment_id"] is not None:
        held.append("attachment")
    return tuple(held)


async def flag(user: StaffUser, conversation_id: int, seq: int, category: str) -> None:
    """Mark a client's message as holding ``category``: hidden from operators at once."""
    if category not in CATEGORIES:
        raise ChatError("invalid_frame", f"категория: одна из {', '.join(CATEGORIES)}")
    if user.role is not Role.DPO:
        await access.visible_conversation(await access.scope_of(user), conversation_id)
    async with database.transaction():
        conn = database.connection()
        row = await _locked(conn, conversation_id, seq)
        if row["author_kind"] != "subject" or row["deleted_at"] is not None:
            raise ChatError("invalid_frame", "отметить можно только сообщение клиента")
        if row["special_category"] is not None:
            raise ChatError("conflict", "сообщение уже отмечено")
        version = await service.next_version(conversation_id)
        flagged: queries.Values = {
            Message.special_category: category,
            Message.special_flagged_by: user.id,
            Message.special_flagged_at: queries.NOW,
            Message.version: version,
        }
        await Message.update(flagged).where(Message.key(conversation_id, seq)).run()
        held = (category, "message_text") + (("attachment",) if row["attachment_id"] else ())
        await processing_log.record(
            _entry(
                Action.BLOCKING,
                user.id,
                row["subject_id"],
                held,
                legal_basis=FLAG_BASIS,
                reason="особая категория: скрыто от операторов до решения ответственного",
            )
        )
    await notify.changed(conversation_id, version)


async def pending() -> list[PendingSpecial]:
    """Marked messages awaiting the DPO's decision, oldest first, without their content."""
    async with database.acquire() as conn:
        rows = await conn.fetch(queries.SPECIAL_PENDING)
    return [
        PendingSpecial(
            conversation_id=r["conversation_id"],
            seq=r["seq"],
            label=CATEGORIES[r["special_category"]],
            has_attachment=r["has_attachment"],
            pseudonym=r["pseudonym"],
            special_flagged_at=r["special_flagged_at"],
        )
        for r in rows
    ]


async def reveal(dpo: StaffUser, conversation_id: int, seq: int) -> RevealedSpecial:
    """The marked content, for the DPO to decide on: ``access``, logged."""
    async with database.transaction():
        conn = database.connection()
        row = await _locked(conn, conversation_id, seq)
        if row["special_category"] is None:
            raise ChatError("not_found", "это сообщение не отмечено")
        await processing_log.record(
            _entry(
                Action.ACCESS,
                dpo.id,
                row["subject_id"],
                _fields(row),
                legal_basis=FLAG_BASIS,
                reason="особая категория: просмотр для решения",
            )
        )
    return RevealedSpecial(
        conversation_id=conversation_id,
        seq=seq,
        label=CATEGORIES[row["special_category"]],
        text=row["body"],
        attachment_name=row["attachment_name"],
        decision=row["special_decision"],
        consent=row["special_consent"],
    )


async def keep(dpo: StaffUser, conversation_id: int, seq: int, written_consent: str) -> None:
    """Keep the content: the subject gave written consent (its reference is recorded)."""
    written_consent = " ".join(written_consent.split())
    if not 5 <= len(written_consent) <= 300:
        raise ChatError("invalid_frame", "укажите реквизиты письменного согласия (5–300 символов)")
    if contains_pd(written_consent):
        raise ChatError("invalid_frame", "без телефонов и адресов: только реквизиты согласия")
    async with database.transaction():
        conn = database.connection()
        row = await _undecided(conn, conversation_id, seq)
        kept: queries.Values = {
            Message.special_decision: "kept",
            Message.special_decided_by: dpo.id,
            Message.special_decided_at: queries.NOW,
            Message.special_consent: written_consent,
        }
        await Message.update(kept).where(Message.key(conversation_id, seq)).run()
        await processing_log.record(
            _entry(
                Action.STORAGE,
                dpo.id,
                row["subject_id"],
                _fields(row),
                legal_basis=KEEP_BASIS,
                reason="особая категория: хранится по письменному согласию",
            )
        )


async def destroy(dpo: StaffUser, conversation_id: int, seq: int) -> None:
    """Destroy the content (text and file); the message keeps its place as a tombstone."""
    token = files.PENDING_FILES.set([])
    try:
        async with database.transaction():
            conn = database.connection()
            row = await _undecided(conn, conversation_id, seq)
            version = await service.next_version(conversation_id)
            destroyed: queries.Values = {
                Message.body: erasure.TOMBSTONE,
                Message.version: version,
                Message.special_decision: "destroyed",
                Message.special_decided_by: dpo.id,
                Message.special_decided_at: queries.NOW,
            }
            await Message.update(destroyed).where(Message.key(conversation_id, seq)).run()
            if row["attachment_id"] is not None:
                await erasure.erase_attachments(
                    conn, queries.ATTACHMENT_BY_ID, row["attachment_id"]
                )
            await processing_log.record(
                _entry(
                    Action.DESTRUCTION,
                    dpo.id,
                    row["subject_id"],
                    _fields(row),
                    legal_basis=DESTROY_BASIS,
                    reason="особая категория без письменного согласия: уничтожено",
                )
            )
        await asyncio.to_thread(files.unlink, files.PENDING_FILES.get() or [])
    finally:
        files.PENDING_FILES.reset(token)
    await notify.changed(conversation_id, version)


async def _undecided(conn: asyncpg.Connection, conversation_id: int, seq: int) -> asyncpg.Record:
    row = await _locked(conn, conversation_id, seq)
    if row["special_category"] is None:
        raise ChatError("not_found", "это сообщение не отмечено")
    if row["special_decision"] is not None:
        raise ChatError("conflict", "решение по этому сообщению уже принято")
    return row
