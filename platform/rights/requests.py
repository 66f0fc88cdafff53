"""Requests of data subjects (152-FZ Art. 14, 20, 21) on the legal clock.

Status flow: received → identity_check → review → approved | refused → executing → done.
A refusal needs a reason; one extension is allowed where the law allows it, with a reasoned
notice to the subject. Every transition is recorded in ``rights_request_event`` (append-only),
which is also what the subject sees in the portal.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec

from okno.platform import database
from okno.platform.rights import deadlines
from okno.platform.rights.deadlines import RULES, RequestClock, RequestKind

STATUSES = ("received", "identity_check", "review", "approved", "refused", "executing", "done")
STATUS_LABELS = {
    "received": "получен",
    "identity_check": "проверка личности",
    "review": "рассмотрение",
    "approved": "одобрен",
    "refused": "отказано",
    "executing": "исполняется",
    "done": "исполнен",
}
NEXT = {
    "received": ("identity_check", "review", "refused"),
    "identity_check": ("review", "refused"),
    "review": ("approved", "refused"),
    "approved": ("executing", "done"),
    "executing": ("done",),
    "refused": (),
    "done": (),
}
COLUMNS = (
    "id, subject_id, kind, status, channel, purpose_code, consent_id, details, requester,"
    " received_at, due_at, extended_at, extension_reason, decided_by, decision_reason, answer,"
    " completed_at"
)


class RequestError(ValueError):
    """A transition the flow or the law does not allow; the message says why (Russian)."""


class Request(msgspec.Struct, frozen=True):
    id: int
    subject_id: uuid.UUID | None
    kind: RequestKind
    status: str
    channel: str
    purpose_code: str | None
    consent_id: int | None
    details: dict[str, Any]
    requester: dict[str, Any]
    received_at: datetime
    due_at: datetime
    extended_at: datetime | None
    extension_reason: str | None
    decided_by: int | None
    decision_reason: str | None
    answer: str | None
    completed_at: datetime | None

    @property
    def label(self) -> str:
        return RULES[self.kind].label

    @property
    def open(self) -> bool:
        return self.status not in ("refused", "done")

    def urgency(self, now: datetime | None = None) -> str:
        if not self.open:
            return "closed"
        return deadlines.urgency(self.due_at, now or datetime.now(UTC)).value


def _request(row: asyncpg.Record) -> Request:
    values = dict(row)
    values["kind"] = RequestKind(values["kind"])
    values["details"] = msgspec.json.decode(values["details"])
    values["requester"] = msgspec.json.decode(values["requester"])
    return Request(**values)


async def create(
    conn: asyncpg.Connection,
    *,
    subject_id: uuid.UUID | None,
    kind: RequestKind,
    channel: str,
    details: dict[str, Any] | None = None,
    requester: dict[str, Any] | None = None,
    purpose_code: str | None = None,
    consent_id: int | None = None,
    actor: tuple[str, int | None] = ("subject", None),
    received_at: datetime | None = None,
) -> Request:
    """Register a request in the caller's transaction; its deadline starts at receipt."""
    received_at = received_at or datetime.now(UTC)
    due_at = RequestClock(kind, received_at).due()
    row = await database.fetch_one(
        conn,
        "INSERT INTO rights_request (subject_id, kind, channel, details, requester, purpose_code,"
        f" consent_id, received_at, due_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        f" RETURNING {COLUMNS}",
        subject_id,
        kind.value,
        channel,
        msgspec.json.encode(details or {}).decode(),
        msgspec.json.encode(requester or {}).decode(),
        purpose_code,
        consent_id,
        received_at,
        due_at,
    )
    await _event(conn, row["id"], actor, None, "received", None, None)
    return _request(row)


async def get(conn: asyncpg.Connection, request_id: int) -> Request | None:
    row = await conn.fetchrow(f"SELECT {COLUMNS} FROM rights_request WHERE id = $1", request_id)
    return _request(row) if row else None


async def for_subject(conn: asyncpg.Connection, subject_id: uuid.UUID) -> list[Request]:
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM rights_request WHERE subject_id = $1 ORDER BY received_at DESC",
        subject_id,
    )
    return [_request(row) for row in rows]


async def history(conn: asyncpg.Connection, request_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT e.at, e.actor_kind, e.from_status, e.to_status, e.note, e.notice_to_subject,"
        " u.pseudonym AS actor_pseudonym FROM rights_request_event e"
        " LEFT JOIN staff_user u ON u.id = e.actor_id WHERE e.request_id = $1 ORDER BY e.id",
        request_id,
    )


async def transition(
    conn: asyncpg.Connection,
    request_id: int,
    to_status: str,
    staff_id: int | None,
    *,
    note: str | None = None,
    notice: str | None = None,
    reason: str | None = None,
    answer: str | None = None,
) -> Request:
    """Move a request on; a refusal needs a reason, and only the flow's next steps are allowed."""
    request = await _locked(conn, request_id)
    if to_status not in NEXT[request.status]:
        raise RequestError(
            f"из состояния «{STATUS_LABELS[request.status]}» нельзя перейти"
            f" в «{STATUS_LABELS.get(to_status, to_status)}»"
        )
    if to_status == "refused" and not (reason and reason.strip()):
        raise RequestError("отказ должен быть мотивированным: укажите причину и правовое основание")
    row = await database.fetch_one(
        conn,
        "UPDATE rights_request SET status = $2,"
        " decided_by = CASE WHEN $2 IN ('approved', 'refused') THEN $3 ELSE decided_by END,"
        " decision_reason = coalesce($4, decision_reason), answer = coalesce($5, answer),"
        " completed_at = CASE WHEN $2 IN ('refused', 'done') THEN now() END"
        f" WHERE id = $1 RETURNING {COLUMNS}",
        request_id,
        to_status,
        staff_id,
        reason.strip() if reason else None,
        answer,
    )
    actor = ("staff", staff_id) if staff_id is not None else ("system", None)
    await _event(
        conn, request_id, actor, request.status, to_status, note, notice or reason or answer
    )
    return _request(row)


async def extend(conn: asyncpg.Connection, request_id: int, staff_id: int, reason: str) -> Request:
    """The one extension the law allows, with the reasoned notice sent to the subject."""
    if not reason.strip():
        raise RequestError("продление требует мотивированного уведомления субъекту")
    request = await _locked(conn, request_id)
    if not request.open:
        raise RequestError("запрос уже закрыт")
    clock = RequestClock(request.kind, request.received_at, request.extended_at is not None)
    try:
        extended = deadlines.extend(clock, datetime.now(UTC))
    except ValueError as refused:
        raise RequestError(str(refused)) from None
    row = await database.fetch_one(
        conn,
        "UPDATE rights_request SET due_at = $2, extended_at = now(), extension_reason = $3"
        f" WHERE id = $1 RETURNING {COLUMNS}",
        request_id,
        extended.due(),
        reason.strip(),
    )
    await _event(
        conn,
        request_id,
        ("staff", staff_id),
        request.status,
        request.status,
        "срок продлён",
        reason.strip(),
    )
    return _request(row)


async def last_access_request(conn: asyncpg.Connection, subject_id: uuid.UUID) -> datetime | None:
    return await conn.fetchval(
        "SELECT max(received_at) FROM rights_request WHERE subject_id = $1 AND kind = 'access'"
        " AND status <> 'refused'",
        subject_id,
    )


async def _locked(conn: asyncpg.Connection, request_id: int) -> Request:
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM rights_request WHERE id = $1 FOR UPDATE", request_id
    )
    if row is None:
        raise RequestError("нет такого запроса")
    return _request(row)


async def _event(
    conn: asyncpg.Connection,
    request_id: int,
    actor: tuple[str, int | None],
    from_status: str | None,
    to_status: str,
    note: str | None,
    notice: str | None,
) -> None:
    await conn.execute(
        "INSERT INTO rights_request_event (request_id, actor_kind, actor_id, from_status,"
        " to_status, note, notice_to_subject) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        request_id,
        actor[0],
        actor[1],
        from_status,
        to_status,
        note,
        notice,
    )
