"""What an integration reads besides the chat (platform/chat/integration.py): a client's
fields, their consent events, rights requests' status, mailings' figures.

A client's fields are handed out only under the subject's consent in force for the token's
purpose, and only the fields that purpose names and staff may see (``visible_fields``);
consent proof (the address and browser of the person who gave it) is handed out as the
operator's proof of consent (152-FZ Art. 9 p.3). Both are logged as provision to the
integration, in the read's transaction. Requests' status and mailings' figures hold no PD.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec

from okno.platform import database
from okno.platform.apitokens import queries
from okno.platform.apitokens.service import ApiClient
from okno.platform.consent import queries as consent_queries
from okno.platform.consent.proof import BASIS as PROOF_BASIS
from okno.platform.consent.proof import ProofRecord, proof_record
from okno.platform.errors import NotFound, Refused
from okno.platform.mailings.service import report
from okno.platform.mailings.tables import Mailing
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.processing_log.schemas import LogEntry
from okno.platform.rights.tables import RightsRequest
from okno.platform.subjects.service import FieldValue, visible_fields

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
FOREVER = datetime(9999, 1, 1, tzinfo=UTC)


class NoBasis(Refused):
    """No consent or other basis covers handing the data to this integration."""

    status_code = 403


class SubjectFields(msgspec.Struct, frozen=True):
    subject_id: uuid.UUID
    purpose: str
    fields: list[FieldValue]


class ConsentEvents(msgspec.Struct, frozen=True):
    subject_id: uuid.UUID
    events: list[ProofRecord]


class RequestStatus(msgspec.Struct, frozen=True):
    """A rights request as an integration sees it: what, where it stands, by when."""

    id: int
    subject_id: uuid.UUID | None
    kind: str
    status: str
    channel: str
    received_at: datetime
    due_at: datetime
    completed_at: datetime | None


class RequestPage(msgspec.Struct, frozen=True):
    requests: list[RequestStatus]
    next_after: int | None


class MailingFigures(msgspec.Struct, frozen=True):
    id: int
    title: str
    status: str
    scheduled_at: datetime | None
    finished_at: datetime | None
    delivered: int
    skipped: int
    pending: int
    failed: int
    unsubscribed: int
    read: int


class MailingPage(msgspec.Struct, frozen=True):
    mailings: list[MailingFigures]
    next_after: int | None


def _provided(
    client: ApiClient, subject_id: uuid.UUID, fields: tuple[str, ...], basis: str, what: str
) -> LogEntry:
    return LogEntry(
        action=Action.PROVISION,
        actor_kind=ActorKind.INTEGRATION,
        actor_id=str(client.token_id),
        subject_id=subject_id,
        fields=fields,
        purpose=client.purpose,
        legal_basis=basis,
        reason=f"API: {what}",
    )


async def _subject(conn: Any, client: ApiClient, subject_id: uuid.UUID) -> Any:
    row = await conn.fetchrow(queries.SUBJECT_BASIS, subject_id, client.purpose)
    if row is None or row["destroyed"]:
        raise NotFound("нет такого клиента")
    if row["blocked"]:
        raise NoBasis("данные клиента заблокированы ответственным за обработку ПДн")
    return row


async def subject_fields(client: ApiClient, subject_id: uuid.UUID) -> SubjectFields:
    """The client's fields the token's purpose covers, under the client's consent to it."""
    async with database.transaction():
        conn = database.connection()
        row = await _subject(conn, client, subject_id)
        if not row["consented"]:
            raise NoBasis(
                f"нет действующего согласия клиента на цель «{client.purpose}»: данные не выдаются"
            )
        shown = [
            value
            for value in await visible_fields(conn, subject_id)
            if value.field in client.purpose_fields
        ]
        if shown:
            names = tuple(value.field for value in shown)
            await processing_log.record(
                _provided(client, subject_id, names, client.legal_basis, "поля клиента")
            )
    return SubjectFields(subject_id, client.purpose, shown)


async def consent_events(client: ApiClient, subject_id: uuid.UUID) -> ConsentEvents:
    """The client's consent events with their proof, oldest first."""
    async with database.transaction():
        conn = database.connection()
        await _subject(conn, client, subject_id)
        rows = await conn.fetch(consent_queries.PROOF_EVENTS, subject_id, EPOCH, FOREVER)
        held = sorted(
            {"ip_address" for r in rows if r["ip"]}
            | {"user_agent" for r in rows if r["user_agent"]}
        )
        if held:
            await processing_log.record(
                _provided(client, subject_id, tuple(held), PROOF_BASIS, "доказательства согласия")
            )
    return ConsentEvents(subject_id, [proof_record(row) for row in rows])


def _status(row: dict[str, Any]) -> RequestStatus:
    return RequestStatus(**{name: row[name] for name in RequestStatus.__struct_fields__})


STATUS_COLUMNS = [getattr(RightsRequest, name) for name in RequestStatus.__struct_fields__]


async def rights_requests(after: int, limit: int, status: str | None) -> RequestPage:
    """Rights requests by id after the cursor, optionally in one status."""
    query = RightsRequest.select(*STATUS_COLUMNS).where(RightsRequest.id > after)
    if status is not None:
        query = query.where(RightsRequest.status == status)
    rows = await query.order_by(RightsRequest.id).limit(limit).run()
    page = [_status(row) for row in rows]
    return RequestPage(page, page[-1].id if page and len(page) == limit else None)


async def rights_request(request_id: int) -> RequestStatus:
    row = (
        await RightsRequest.select(*STATUS_COLUMNS)
        .where(RightsRequest.id == request_id)
        .first()
        .run()
    )
    if row is None:
        raise NotFound("нет такого обращения")
    return _status(row)


async def mailings(after: int, limit: int) -> MailingPage:
    """Mailings by id after the cursor, each with its delivery figures."""
    rows = await (
        Mailing.select(
            Mailing.id, Mailing.title, Mailing.status, Mailing.scheduled_at, Mailing.finished_at
        )
        .where(Mailing.id > after)
        .order_by(Mailing.id)
        .limit(limit)
        .run()
    )
    page = [msgspec.convert({**row, **await report(row["id"])}, MailingFigures) for row in rows]
    return MailingPage(page, page[-1].id if page and len(page) == limit else None)
