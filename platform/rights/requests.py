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
from okno.platform.errors import Refused
from okno.platform.rights import deadlines, queries
from okno.platform.rights.deadlines import RULES, RequestClock, RequestKind
from okno.platform.subjects.fields import field_label
from okno.platform.webhooks import events as webhook_events

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


class RequestError(Refused):
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

    def shown_details(self) -> list[tuple[str, str]]:
        """What the request asks, in words for the DPO's page (the row keeps the codes)."""
        return [
            (DETAIL_LABELS.get(key, key), _detail_value(key, value))
            for key, value in self.details.items()
            if value not in (None, "", [])
        ]


DETAIL_LABELS = {
    "text": "Текст запроса",
    "comment": "Комментарий субъекта",
    "field": "Данные",
    "fields": "Поля",
    "new_value": "Уточнённое значение",
    "scope": "Объём",
    "consent": "Согласие №",
    "withdrawal_event": "Отзыв согласия, событие №",
    "previous_answer_incomplete": "Повторный запрос: прежний ответ неполон",
}


def _field_label(name: str) -> str:
    return "все данные" if name == "all" else field_label(name)


def _detail_value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "да" if value else "нет"
    if key in ("field", "fields"):
        names = value if isinstance(value, list) else [value]
        return ", ".join(_field_label(str(name)) for name in names)
    if key == "scope" and value == "all":
        return "все персональные данные"
    return str(value)


def from_row(row: asyncpg.Record | dict[str, Any]) -> Request:
    """A request from its row (its jsonb columns as text, as asyncpg and Piccolo give them)."""
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
        queries.REQUEST_INSERT,
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
    await _webhook(conn, "rights_request.filed", row)
    return from_row(row)


async def get(conn: asyncpg.Connection, request_id: int) -> Request | None:
    row = await conn.fetchrow(queries.REQUEST, request_id)
    return from_row(row) if row else None


async def for_subject(conn: asyncpg.Connection, subject_id: uuid.UUID) -> list[Request]:
    return [from_row(row) for row in await conn.fetch(queries.REQUESTS_OF_SUBJECT, subject_id)]


async def history(conn: asyncpg.Connection, request_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(queries.HISTORY, request_id)


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
        queries.REQUEST_TRANSITION,
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
    if not NEXT[to_status]:
        await _webhook(conn, "rights_request.closed", row)
    return from_row(row)


async def _webhook(conn: asyncpg.Connection, event: str, row: asyncpg.Record) -> None:
    subject_id = row["subject_id"]
    await webhook_events.emit(
        conn,
        event,
        {
            "request_id": row["id"],
            "kind": row["kind"],
            "status": row["status"],
            "subject_id": str(subject_id) if subject_id else None,
        },
        subject_id=subject_id,
    )


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
        conn, queries.REQUEST_EXTEND, request_id, extended.due(), reason.strip()
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
    return from_row(row)


async def set_subject(
    conn: asyncpg.Connection, request: Request, subject_id: uuid.UUID, staff_id: int
) -> None:
    """Identity check: the letter's ``request`` is the subject's (recorded in its history)."""
    await conn.execute(queries.REQUEST_SUBJECT_SET, request.id, subject_id)
    await _event(
        conn, request.id, ("staff", staff_id), request.status, request.status,
        "субъект установлен", None,
    )  # fmt: skip


async def last_access_request(conn: asyncpg.Connection, subject_id: uuid.UUID) -> datetime | None:
    return await conn.fetchval(queries.LAST_ACCESS_REQUEST, subject_id)


async def _locked(conn: asyncpg.Connection, request_id: int) -> Request:
    row = await conn.fetchrow(queries.REQUEST_LOCKED, request_id)
    if row is None:
        raise RequestError("нет такого запроса")
    return from_row(row)


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
        queries.EVENT_INSERT,
        request_id,
        actor[0],
        actor[1],
        from_status,
        to_status,
        note,
        notice,
    )
