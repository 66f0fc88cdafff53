"""The staff export of consent proof (the events with their IP address and user agent).

The proof is the subjects' PD: reading it out of the system for the regulator or a court is
``extraction`` (извлечение) by the staff member, logged for every subject the export holds, in
the transaction that reads it (one statement for all of them).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from okno.platform import database
from okno.platform.consent import queries
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.processing_log.schemas import LogEntry

PURPOSE = "consent-proof"
BASIS = "152-fz:9.3"  # the operator proves the consent
BATCH = 1000  # log rows per statement (11 parameters each; PostgreSQL allows 32767)


async def events(
    staff_id: int, subject: uuid.UUID | None, start: datetime, end: datetime
) -> list[asyncpg.Record]:
    """Consent events of one subject or a period, oldest first; their extraction is logged."""
    async with database.transaction():
        conn = database.connection()
        rows = await conn.fetch(queries.PROOF_EVENTS, subject, start, end)
        held: dict[uuid.UUID, set[str]] = {}
        for row in rows:
            fields = held.setdefault(row["subject_id"], set())
            if row["ip"]:
                fields.add("ip_address")
            if row["user_agent"]:
                fields.add("user_agent")
        entries = [
            LogEntry(
                action=Action.EXTRACTION,
                actor_kind=ActorKind.STAFF,
                actor_id=str(staff_id),
                subject_id=subject_id,
                fields=tuple(sorted(fields)),
                purpose=PURPOSE,
                legal_basis=BASIS,
                reason="выгрузка доказательств согласия",
            )
            for subject_id, fields in held.items()
        ]
        for start_at in range(0, len(entries), BATCH):
            await processing_log.record(*entries[start_at : start_at + BATCH])
    return rows
