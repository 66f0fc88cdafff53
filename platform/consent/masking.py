"""Contacts typed into free text before a covering consent exists are masked before storage."""

from __future__ import annotations

import uuid

import asyncpg
import msgspec

from okno.platform.chat.compliance import Actor
from okno.platform.consent import queries
from okno.platform.consent import service as consent
from okno.platform.pd_detect import find_contacts, mask
from okno.platform.processing_log.actions import Action
from okno.platform.processing_log.schemas import LogEntry

SUPPORT = "support"


class Guarded(msgspec.Struct, frozen=True):
    text: str
    masked: tuple[str, ...] = ()  # fields hidden because no consent covers them
    kept: tuple[str, ...] = ()  # fields kept under a consent
    consent_id: int | None = None


async def guard_text(conn: asyncpg.Connection, subject_id: uuid.UUID, text: str) -> Guarded:
    """Mask contacts in free text unless a consent whose purpose allows them is active."""
    found = find_contacts(text)
    if not found:
        return Guarded(text)
    active = await consent.active(conn, subject_id, SUPPORT)
    allowed = await conn.fetchval(queries.PURPOSE_FIELDS, SUPPORT) or []
    hidden = [span for span in found if active is None or span[2] not in allowed]
    kept = tuple(sorted({span[2] for span in found if span not in hidden}))
    return Guarded(
        mask(text, hidden),
        tuple(sorted({span[2] for span in hidden})),
        kept,
        active["id"] if active is not None and kept else None,
    )


def kept_entries(subject_id: uuid.UUID, guarded: Guarded) -> list[LogEntry]:
    """Contacts kept in a message under consent are logged like collected fields."""
    if not guarded.kept or guarded.consent_id is None:
        return []
    return [
        LogEntry(
            action=action,
            actor_kind=Actor.subject().kind,
            subject_id=subject_id,
            fields=guarded.kept,
            purpose=SUPPORT,
            legal_basis=f"consent:{guarded.consent_id}",
            reason="указано клиентом в тексте сообщения",
        )
        for action in (Action.COLLECTION, Action.RECORDING, Action.STORAGE)
    ]
