"""Executing subjects' requests: what the DPO (or the retention job) does once one is approved.

access → the Art. 14 p.7 answer with the PD themselves (provision, logged);
correction → the field is clarified (logged); blocking → blocked at once, at any stage;
stop_processing, unlawful_stop → processing stops (the subject is blocked);
destruction and its kinds → okno.platform.erasure destroys and makes the act.
Each ends the request as done, with an answer the subject sees in the portal.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg

from okno.platform import database
from okno.platform.chat.errors import ChatError
from okno.platform.consent import fields as field_rules
from okno.platform.erasure import acts, destruction
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.processing_log.schemas import LogEntry
from okno.platform.rights import blocking, queries, requests
from okno.platform.rights.deadlines import RULES, RequestKind
from okno.platform.rights.requests import Request, RequestError
from okno.platform.rights.schemas import (
    AccessAnswer,
    ConsentGiven,
    Correspondence,
    Executed,
    Messages,
    Operator,
    PersonalDatum,
)
from okno.platform.selfservice.overview import staff_label
from okno.platform.settings import get_settings
from okno.platform.subjects.fields import FIELDS
from okno.platform.web.timefmt import msk

DESTROYING = {
    RequestKind.DESTRUCTION: "152-fz:20.3",
    RequestKind.UNLAWFUL_DESTRUCTION: "152-fz:21.3",
    RequestKind.CONSENT_WITHDRAWN: "152-fz:21.5",
    RequestKind.PURPOSE_ACHIEVED: "152-fz:21.4",
    RequestKind.DEFERRED_DESTRUCTION: "152-fz:21.6",
}
STOPPING = (RequestKind.STOP_PROCESSING, RequestKind.UNLAWFUL_STOP)
# Art. 14 p.3: what identifies the subject in a written request.
REQUESTER_FIELDS = {
    "full_name": "ФИО",
    "document": "Основной документ, удостоверяющий личность (номер, кем и когда выдан)",
    "relation": "Сведения об отношениях с оператором (номер договора, диалога, дата)",
    "address": "Адрес для ответа",
    "reference": "Входящий номер и дата письма",
}
REQUEST_PURPOSE = "rights-requests"


def action_of(kind: RequestKind) -> str:
    """Which execution a kind of request takes (the console shows the matching form)."""
    if kind in DESTROYING:
        return "destroy"
    if kind in STOPPING:
        return "stop"
    return {
        RequestKind.ACCESS: "provide",
        RequestKind.CORRECTION: "correct",
        RequestKind.BLOCKING: "block",
    }[kind]


async def execute(
    request_id: int,
    staff: Any,
    *,
    fields: tuple[str, ...] | None = None,
    reference: str = "",
    field: str = "",
    value: str = "",
) -> Executed | None:
    """Execute the request the way its kind takes (``action_of``): ``fields`` (None: all of
    them) for a destruction or a blocking, ``field`` and ``value`` for a correction, ``reference``
    for a destruction's act. None: there is no such request."""
    async with database.acquire() as conn:
        item = await requests.get(conn, request_id)
    if item is None:
        return None
    action = action_of(item.kind)
    unknown = fields is not None and (not fields or any(name not in FIELDS for name in fields))
    if action in ("destroy", "block") and unknown:
        raise RequestError("выберите поля из реестра")
    match action:
        case "destroy":
            act = await destroy(request_id, staff, fields=fields, reference=reference)
            return Executed(action, act_id=act.id)
        case "block":
            await block(request_id, staff, fields=fields)
        case "stop":
            await stop(request_id, staff)
        case "correct":
            await correct(request_id, staff, field, value)
        case "provide":
            return Executed(action, answer=await provide(request_id, staff))
    return Executed(action)


async def register_letter(
    staff: Any,
    kind: RequestKind,
    requester: dict[str, str],
    *,
    subject_id: uuid.UUID | None = None,
    details: str = "",
    received_at: datetime | None = None,
) -> Request:
    """A request that came on paper or by mail, entered by the DPO with the Art. 14 p.3 details."""
    if received_at is not None and received_at > datetime.now(UTC):
        raise RequestError("дата получения письма ещё не наступила")
    requester = {key: value.strip()[:500] for key, value in requester.items() if value.strip()}
    if "full_name" not in requester or not ({"document", "relation"} & set(requester)):
        raise RequestError(
            "укажите ФИО и основной документ или сведения об отношениях с оператором (ст. 14 ч. 3)"
        )
    async with database.transaction():
        conn = database.connection()
        if subject_id is not None and not await conn.fetchval(queries.SUBJECT_EXISTS, subject_id):
            raise RequestError("нет субъекта с таким идентификатором")
        request = await requests.create(
            conn,
            subject_id=subject_id,
            kind=kind,
            channel="letter",
            details={"text": details.strip()[:4000]} if details.strip() else {},
            requester=requester,
            actor=("staff", staff.id),
            received_at=received_at,
        )
        await processing_log.record(
            *[
                LogEntry(
                    action=action,
                    actor_kind=ActorKind.STAFF,
                    actor_id=str(staff.id),
                    subject_id=subject_id,
                    fields=("name",),
                    purpose=REQUEST_PURPOSE,
                    legal_basis="152-fz:14.3",
                    request_id=request.id,
                    reason="запрос субъекта получен письмом",
                )
                for action in (Action.COLLECTION, Action.RECORDING, Action.STORAGE)
            ]
        )
    return request


async def read(request_id: int, staff: Any) -> Request | None:
    """The request for the DPO's page; showing its identifying details is logged as access."""
    async with database.transaction():
        conn = database.connection()
        request = await requests.get(conn, request_id)
        if request is not None and request.requester and any(request.requester.values()):
            await processing_log.record(
                LogEntry(
                    action=Action.ACCESS,
                    actor_kind=ActorKind.STAFF,
                    actor_id=str(staff.id),
                    subject_id=request.subject_id,
                    fields=("name",),
                    purpose=REQUEST_PURPOSE,
                    legal_basis="152-fz:14.3",
                    request_id=request.id,
                    reason="рассмотрение запроса субъекта",
                )
            )
    return request


async def link_subject(request_id: int, subject_id: uuid.UUID, staff: Any) -> Request:
    """Identity check: tie a letter's request to the subject okno knows."""
    async with database.transaction():
        conn = database.connection()
        request = await requests.get(conn, request_id)
        if request is None:
            raise RequestError("нет такого запроса")
        if request.subject_id is not None:
            raise RequestError("субъект запроса уже установлен")
        if not await conn.fetchval(queries.SUBJECT_EXISTS, subject_id):
            raise RequestError("нет субъекта с таким идентификатором")
        await requests.set_subject(conn, request, subject_id, staff.id)
        updated = await requests.get(conn, request_id)
    assert updated is not None
    return updated


async def _start(request_id: int, staff_id: int | None, *, any_open: bool = False) -> Request:
    """The request, moved to «executing» (approved first, unless ``any_open``)."""
    async with database.transaction():
        conn = database.connection()
        request = await requests.get(conn, request_id)
        if request is None:
            raise RequestError("нет такого запроса")
        if request.subject_id is None:
            raise RequestError("сначала установите субъекта запроса (проверка личности)")
        if request.status == "approved":
            return await requests.transition(conn, request_id, "executing", staff_id)
        if request.status == "executing" or (any_open and request.open):
            return request
        raise RequestError("исполнить можно одобренный запрос")


async def finish(request: Request, staff_id: int | None, answer: str) -> Request:
    """End the request as done with ``answer`` (the subject sees it), through the steps the
    flow requires from where it stands."""
    async with database.transaction():
        conn = database.connection()
        current = await requests.get(conn, request.id)
        assert current is not None
        if current.status == "approved":
            await requests.transition(conn, request.id, "executing", staff_id)
        elif current.status in ("received", "identity_check", "review"):
            # Blocking is due at once: it may end a request before the review does.
            if current.status == "received":
                await requests.transition(conn, request.id, "review", staff_id)
            await requests.transition(conn, request.id, "approved", staff_id)
            await requests.transition(conn, request.id, "executing", staff_id)
        return await requests.transition(
            conn, request.id, "done", staff_id, answer=answer, notice=answer
        )


async def destroy(
    request_id: int,
    staff: Any,
    *,
    fields: tuple[str, ...] | None = None,
    reference: str = "",
) -> acts.Act:
    """Destroy what the request asks for (everything, or some fields); the request is done."""
    request = await _start(request_id, staff.id if staff else None)
    if request.kind not in DESTROYING:
        raise RequestError("этот запрос не об уничтожении")
    assert request.subject_id is not None
    identification = {
        "request": request.id,
        "channel": request.channel,
        "identified_by": [REQUESTER_FIELDS.get(key, key) for key in sorted(request.requester)],
    }
    if reference.strip():
        identification["reference"] = reference.strip()[:300]
    reason = f"{RULES[request.kind].label} ({RULES[request.kind].article}), запрос № {request.id}"
    common: dict[str, Any] = {
        "actor": staff,
        "reason": reason,
        "legal_basis": DESTROYING[request.kind],
        "request_id": request.id,
        "identification": identification,
    }
    if fields:
        act = await destruction.destroy_fields(request.subject_id, fields, **common)
    else:
        act = await destruction.destroy_subject(request.subject_id, **common)
    await finish(
        request,
        staff.id if staff else None,
        f"Персональные данные уничтожены. Акт об уничтожении № {act.id} от {msk(act.created_at)}.",
    )
    return act


async def block(
    request_id: int, staff: Any, *, fields: tuple[str, ...] | None = None
) -> blocking.State:
    """Blocking is due on receipt: allowed at any open stage; the request is done."""
    request = await _start(request_id, staff.id, any_open=True)
    assert request.subject_id is not None
    state = await blocking.block(request.subject_id, staff.id, fields=fields, request_id=request.id)
    what = (
        "все персональные данные" if fields is None else ", ".join(FIELDS[f].label for f in fields)
    )
    await finish(
        request, staff.id, f"Заблокированы на время проверки: {what}. Обработка приостановлена."
    )
    return state


async def stop(request_id: int, staff: Any) -> blocking.State:
    """Processing stops: the subject is blocked, and the request is done."""
    request = await _start(request_id, staff.id)
    if request.kind not in STOPPING:
        raise RequestError("этот запрос не о прекращении обработки")
    assert request.subject_id is not None
    state = await blocking.block(
        request.subject_id, staff.id, request_id=request.id, reason="прекращение обработки"
    )
    await finish(request, staff.id, "Обработка ваших персональных данных прекращена.")
    return state


async def correct(request_id: int, staff: Any, field: str, value: str) -> Request:
    """Clarify one profile field with the value the subject proved; logged as clarification."""
    request = await _start(request_id, staff.id)
    if request.kind is not RequestKind.CORRECTION:
        raise RequestError("этот запрос не об уточнении")
    if field not in FIELDS:
        raise RequestError("нет такого поля")
    try:
        value = field_rules.normalize(field, value)
    except ChatError as invalid:
        raise RequestError(str(invalid)) from None
    async with database.transaction():
        conn = database.connection()
        row = await conn.fetchrow(queries.FIELD_CLARIFY, request.subject_id, field, value)
        if row is None:
            raise RequestError(f"у субъекта нет поля «{FIELDS[field].label}»")
        await processing_log.record(
            LogEntry(
                action=Action.CLARIFICATION,
                actor_kind=ActorKind.STAFF,
                actor_id=str(staff.id),
                subject_id=request.subject_id,
                fields=(field,),
                purpose=row["purpose"],
                legal_basis="152-fz:21.2",
                request_id=request.id,
                reason="уточнение по запросу субъекта",
            )
        )
    return await finish(request, staff.id, f"Уточнено поле «{FIELDS[field].label}».")


MESSAGES_BASIS = (
    "152-ФЗ, ст. 6 ч. 1 п. 5 — переписка: ответ на ваше обращение, начатое по вашей инициативе"
)
# Art. 14 p.7 item 10 points to Art. 18.1: the measures the operator takes.
MEASURES = (
    "Меры по ст. 18.1 и 19 152-ФЗ: назначен ответственный за организацию обработки"
    " персональных данных; опубликована политика обработки; доступ сотрудников — по ролям, с"
    " журналом обработки (каждое действие с данными записывается, записи связаны цепочкой"
    " хешей); до согласия контактные данные в сообщениях скрываются и не сохраняются;"
    " уничтожение проверяется и оформляется актом; данные хранятся на серверах оператора в"
    " Российской Федерации."
)


async def access_answer(conn: asyncpg.Connection, subject_id: uuid.UUID) -> AccessAnswer:
    """The Art. 14 p.7 information and the PD themselves (no other person's data)."""
    settings = get_settings()
    profile = await conn.fetch(queries.ACCESS_PROFILE, subject_id)
    consents = await conn.fetch(queries.ACCESS_CONSENTS, subject_id)
    # The correspondence itself (not a count): what the subject wrote and what they were
    # answered, staff by role and pseudonym; internal notes are the operator's, not theirs.
    rows = await conn.fetch(queries.ACCESS_MESSAGES, subject_id)
    messages = [
        Correspondence(
            at=row["created_at"].isoformat(),
            author=(
                "вы"
                if row["author_kind"] == "subject"
                else staff_label(row["role"], row["pseudonym"])
            ),
            text=row["body"],
            attachment=row["attachment"] or None,
            edited_at=row["edited_at"].isoformat() if row["edited_at"] else None,
        )
        for row in rows
    ]
    return AccessAnswer(
        processed=bool(profile) or bool(messages) or bool(consents),
        operator=Operator(name=settings.operator_name, address=settings.operator_address),
        processor=settings.processor or None,
        personal_data=[
            PersonalDatum(
                field=row["field"],
                label=FIELDS[row["field"]].label,
                value=row["value"],
                source=row["source"],
                purpose=row["purpose_name"] or row["purpose"],
                legal_basis=row["legal_basis"],
                collected_at=row["collected_at"].isoformat(),
                retain_until=row["retain_until"].isoformat() if row["retain_until"] else None,
            )
            for row in profile
        ],
        messages=Messages(
            items=messages,
            purpose="ответы на обращения в чате",
            legal_basis="152-fz:6.1.5",
            legal_basis_text=MESSAGES_BASIS,
        ),
        consents=[
            ConsentGiven(
                id=row["id"],
                purpose=row["purpose_code"],
                given_at=row["at"].isoformat(),
                channel=row["channel"],
                withdrawn_at=row["withdrawn_at"].isoformat() if row["withdrawn_at"] else None,
            )
            for row in consents
        ],
        methods="автоматизированная обработка в информационной системе okno",
        access="сотрудники оператора по ролям; третьим лицам не передаются",
        cross_border_transfer="не осуществляется",
        measures=MEASURES,
        rights="уточнение, блокирование, уничтожение, отзыв согласия: раздел «Мои данные»"
        " или письмо оператору (ст. 14, 20, 21 152-ФЗ)",
        generated_at=datetime.now(UTC).isoformat(),
    )


async def provide(request_id: int, staff: Any) -> AccessAnswer:
    """The access answer; giving it to the subject is provision, logged per field."""
    request = await _start(request_id, staff.id)
    if request.kind is not RequestKind.ACCESS:
        raise RequestError("этот запрос не о доступе к данным")
    assert request.subject_id is not None
    async with database.transaction():
        conn = database.connection()
        answer = await access_answer(conn, request.subject_id)
        shown = tuple(item.field for item in answer.personal_data)
        given = answer.messages.items
        if given:
            shown += ("message_text",)
        if any(item.attachment for item in given):
            shown += ("attachment",)
        if shown:
            await processing_log.record(
                LogEntry(
                    action=Action.PROVISION,
                    actor_kind=ActorKind.STAFF,
                    actor_id=str(staff.id),
                    subject_id=request.subject_id,
                    fields=shown,
                    purpose=REQUEST_PURPOSE,
                    legal_basis="152-fz:14.7",
                    request_id=request.id,
                    reason="ответ на запрос субъекта о доступе",
                )
            )
    labels = ", ".join(FIELDS[name].label for name in shown) or "персональных данных нет"
    await finish(
        request,
        staff.id,
        f"Предоставлены сведения по ч. 7 ст. 14 152-ФЗ и персональные данные: {labels}.",
    )
    return answer
