"""The staff export of consent proof (the events with their IP address and user agent).

The proof is the subjects' PD: reading it out of the system for the regulator or a court is
``extraction`` (извлечение) by the staff member, logged for every subject the export holds, in
the transaction that reads it (one statement for all of them).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
import msgspec

from okno.platform import database
from okno.platform.consent import queries
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.processing_log.schemas import LogEntry
from okno.platform.web.timefmt import MOSCOW

PURPOSE = "consent-proof"
BASIS = "152-fz:9.3"  # the operator proves the consent
BATCH = 1000  # log rows per statement (11 parameters each; PostgreSQL allows 32767)


class ProofRecord(msgspec.Struct, frozen=True):
    """One consent event as exported: a JSON object, or a CSV row in this column order."""

    event_id: int
    subject_id: str
    kind: str  # given, withdrawn
    at_utc: str
    at_msk: str
    purpose: str
    document: str  # the document's slug
    version: int
    document_sha256: str
    channel: str
    control: str
    ip: str | None
    user_agent: str | None
    withdraws_event: int | None  # the given event a withdrawal ends

    def cells(self) -> list[object]:
        return [getattr(self, name) for name in self.__struct_fields__]


COLUMNS = ProofRecord.__struct_fields__


def proof_record(row: asyncpg.Record) -> ProofRecord:
    return ProofRecord(
        event_id=row["id"],
        subject_id=str(row["subject_id"]),
        kind=row["kind"],
        at_utc=row["at"].isoformat(),
        at_msk=row["at"].astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M:%S"),
        purpose=row["purpose_code"],
        document=row["slug"],
        version=row["version"],
        document_sha256=row["document_sha256"],
        channel=row["channel"],
        control=row["control"],
        ip=row["ip"],
        user_agent=row["user_agent"],
        withdraws_event=row["given_id"],
    )


async def events(
    staff_id: int, subject: uuid.UUID | None, start: datetime, end: datetime
) -> list[ProofRecord]:
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
    return [proof_record(row) for row in rows]
