"""What a client asks for in «Мои данные»: to withdraw a consent, and a rights request.

Withdrawing a processing consent stops the purpose at once — operators no longer see its
fields (the profile shows only fields under a consent in force) and the bot can no longer ask
for them (collection needs an active consent) — and opens the destruction task, a
``consent_withdrawn`` request due in 30 calendar days, which the DPO closes by destroying the
data or by recording another legal basis. Advertising stops at once: the mailing checks the
consent when it sends.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from okno.platform import database
from okno.platform.chat.errors import ChatError
from okno.platform.consent import fields as field_values
from okno.platform.consent import service as consent
from okno.platform.errors import Conflict, NotFound, Refused
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.rights import requests as rights
from okno.platform.rights.deadlines import REPEAT_ACCESS_DAYS, RequestKind, repeat_access_allowed
from okno.platform.selfservice import overview, queries, subject
from okno.platform.selfservice.compliance import (
    BLOCKING_BASIS,
    CORRECTION_BASIS,
    WITHDRAWAL_BASIS,
    entry,
    log_blocking,
)
from okno.platform.subjects.fields import FIELDS

CONTROL = "button:Отозвать согласие"
# What the subject may ask for in the portal; the other kinds start from the operator's side.
PORTAL_KINDS = (
    RequestKind.ACCESS,
    RequestKind.CORRECTION,
    RequestKind.BLOCKING,
    RequestKind.DESTRUCTION,
    RequestKind.STOP_PROCESSING,
)
KIND_HINTS = {
    RequestKind.ACCESS: "сведения об обработке и сами данные, которые у нас есть",
    RequestKind.CORRECTION: "исправить неточные, неполные или устаревшие данные",
    RequestKind.BLOCKING: "остановить обработку на время проверки, если она незаконна или данные"
    " неточны",
    RequestKind.DESTRUCTION: "уничтожить данные, полученные незаконно или не нужные для цели",
    RequestKind.STOP_PROCESSING: "прекратить обработку ваших данных",
}


class ActError(Refused):
    """A withdrawal or request refused; the message (Russian) says why and is safe to show."""


class NoSuchConsentError(ActError, NotFound):
    """The consent asked about is not one of this subject's."""


class NotWithdrawableError(ActError, Conflict):
    """The consent cannot be withdrawn now: not this subject's to withdraw, or withdrawn already."""


class Withdrawn(msgspec.Struct, frozen=True):
    event_id: int
    purpose_kind: str
    request: rights.Request | None
    blocked: tuple[str, ...]


async def withdrawal_preview(subject_id: uuid.UUID, given_id: int) -> dict[str, Any]:
    """What the confirmation page says will follow."""
    async with database.acquire() as conn:
        found = [c for c in await overview.consents_of(conn, subject_id) if c.id == given_id]
        if not found:
            raise NoSuchConsentError("нет такого согласия")
        held = await conn.fetch(queries.FIELDS_UNDER_CONSENT, subject_id, given_id)
    return {
        "consent": found[0],
        "held": [FIELDS[r["field"]].label for r in held if r["field"] in FIELDS],
        "destroy_by": datetime.now(UTC) + timedelta(days=30),
    }


async def withdraw(
    subject_id: uuid.UUID, given_id: int, ip: str | None, user_agent: str | None
) -> Withdrawn:
    """Withdraw one consent of this subject and set its consequences going, in one transaction."""
    proof = consent.Proof(channel="portal", control=CONTROL, ip=ip, user_agent=user_agent)
    async with database.transaction():
        conn = database.connection()
        given = await conn.fetchrow(queries.GIVEN_FOR_UPDATE, given_id, subject_id)
        if given is None:
            raise NotWithdrawableError("нет такого согласия")
        try:
            event_id = await consent.withdraw(conn, subject_id, given_id, proof)
        except ChatError:
            raise NotWithdrawableError("это согласие уже отозвано") from None
        request = None
        blocked: tuple[str, ...] = ()
        if given["kind"] != "advertising":
            request = await rights.create(
                conn,
                subject_id=subject_id,
                kind=RequestKind.CONSENT_WITHDRAWN,
                channel="portal",
                details={"withdrawal_event": event_id},
                purpose_code=given["purpose_code"],
                consent_id=given_id,
            )
            blocked = await log_blocking(
                subject_id,
                await conn.fetch(queries.FIELDS_UNDER_CONSENT, subject_id, given_id),
                purpose=given["purpose_code"],
                basis=WITHDRAWAL_BASIS,
                reason="отзыв согласия",
                request_id=request.id,
            )
    return Withdrawn(event_id, given["kind"], request, blocked)


class Filed(msgspec.Struct, frozen=True):
    request: rights.Request | None = None
    # A repeat access request within 30 days: when the previous one was, and from when a new
    # one is answered. Nothing was filed; the subject may still say the answer was incomplete.
    repeat_of: datetime | None = None
    repeat_from: datetime | None = None


async def file_request(
    subject_id: uuid.UUID,
    kind: RequestKind,
    *,
    field: str | None = None,
    new_value: str | None = None,
    comment: str = "",
    answer_incomplete: bool = False,
) -> Filed:
    """A rights request from the portal, on its legal clock; blocking takes effect at once."""
    if kind not in PORTAL_KINDS:
        raise ActError("такой запрос в портале не подаётся")
    comment = comment.strip()
    if len(comment) > 2000:
        raise ActError("комментарий: не больше 2000 знаков")
    details: dict[str, Any] = {}
    if comment:
        details["comment"] = comment
    if kind in (RequestKind.CORRECTION, RequestKind.BLOCKING, RequestKind.DESTRUCTION):
        if field and field != "all" and field not in FIELDS:
            raise ActError("нет такого поля")
        if kind is RequestKind.CORRECTION and (not field or field == "all"):
            raise ActError("укажите, какие данные исправить")
        details["field"] = field or "all"
    if kind is RequestKind.CORRECTION:
        if not new_value or not new_value.strip():
            raise ActError("укажите новое значение")
        assert field is not None
        try:
            details["new_value"] = field_values.normalize(field, new_value)
        except ChatError as invalid:
            raise ActError(str(invalid)) from None
    if answer_incomplete:
        details["previous_answer_incomplete"] = True
    async with database.transaction():
        conn = database.connection()
        await subject.lock(subject_id)
        if kind is RequestKind.ACCESS:
            previous = await rights.last_access_request(conn, subject_id)
            now = datetime.now(UTC)
            if previous is not None and not repeat_access_allowed(
                previous, now, previous_answer_incomplete=answer_incomplete
            ):
                return Filed(
                    repeat_of=previous, repeat_from=previous + timedelta(days=REPEAT_ACCESS_DAYS)
                )
        request = await rights.create(
            conn, subject_id=subject_id, kind=kind, channel="portal", details=details
        )
        if kind is RequestKind.CORRECTION:
            assert field is not None
            await processing_log.record(
                *[
                    entry(
                        action,
                        ActorKind.SUBJECT,
                        subject_id,
                        (field,),
                        basis=CORRECTION_BASIS,
                        reason="новое значение в запросе на уточнение",
                        request_id=request.id,
                    )
                    for action in (Action.COLLECTION, Action.RECORDING, Action.STORAGE)
                ]
            )
        if kind is RequestKind.BLOCKING:
            # Art. 21 p.1: blocked from the moment of the claim, for the time of the check.
            await log_blocking(
                subject_id,
                await conn.fetch(queries.BLOCK_FIELDS, subject_id, details["field"]),
                basis=BLOCKING_BASIS,
                reason="блокирование на время проверки по вашему требованию",
                request_id=request.id,
            )
    return Filed(request=request)


class RequestView(msgspec.Struct, frozen=True):
    request: rights.Request
    history: list[dict[str, Any]]


async def my_requests(subject_id: uuid.UUID) -> list[RequestView]:
    async with database.acquire() as conn:
        found = await rights.for_subject(conn, subject_id)
        views = []
        for request in found:
            events = await rights.history(conn, request.id)
            views.append(
                RequestView(
                    request,
                    [
                        {
                            "at": e["at"],
                            "status": rights.STATUS_LABELS.get(e["to_status"], e["to_status"]),
                            "notice": e["notice_to_subject"],
                        }
                        for e in events
                    ],
                )
            )
    return views
