"""Consent before PD, in the chat.

The bot offers consent with links to the policy and the consent text and two buttons; only a
click on «Даю согласие» gives it. Until then the operator cannot request a field, and phone
numbers or e-mail addresses the client types are masked before storage. After consent the
operator may request fields the purpose allows; the client fills an inline form.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec

from okno.platform import database
from okno.platform.chat import access, buttons, service
from okno.platform.chat.compliance import Actor
from okno.platform.chat.errors import ChatError
from okno.platform.chat.tables import Conversation
from okno.platform.consent import documents, fields, queries
from okno.platform.consent import service as consent
from okno.platform.consent.defaults import OFFERS
from okno.platform.consent.tables import Purpose
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action
from okno.platform.processing_log.schemas import LogEntry
from okno.platform.reviews import service as reviews
from okno.platform.subjects.fields import FIELDS
from okno.platform.subjects.tables import SubjectField

SUPPORT = "support"
MASKED_NOTICE = (
    "Мы скрыли {what} в вашем сообщении: без вашего согласия мы не сохраняем персональные данные."
    " Если хотите, чтобы оператор мог с вами связаться, дайте согласие."
)


async def offer(conversation_id: int, purpose_code: str, notice: str | None = None) -> service.Sent:
    """The bot's consent question: links to the policy and the text, and two buttons."""
    if purpose_code not in OFFERS:
        raise ChatError(
            "invalid_frame",
            "в чате предлагаются согласия: support, advertising-chat, advertising-email",
        )
    document = await documents.current_for_purpose(purpose_code)
    policy = await documents.current("policy")
    if document is None or policy is None:
        raise ChatError("unavailable", "документы о согласии ещё не опубликованы")
    text, yes, no = OFFERS[purpose_code]
    # A new offer supersedes an unanswered one of the same document: one question at a time.
    for seq in await _open_offers(conversation_id, document.slug):
        await service.retire_buttons(conversation_id, seq)
    return await service.bot_message(
        conversation_id,
        f"{notice}\n\n{text}" if notice else text,
        [
            {"id": f"consent:give:{document.slug}:{document.version}", "label": yes},
            {"id": "consent:later", "label": no},
        ],
        links=[
            {"label": "Политика обработки персональных данных", "url": policy.url},
            {"label": document.title, "url": document.stable_url},
        ],
    )


async def _open_offers(conversation_id: int, slug: str) -> list[int]:
    """The seqs of the unanswered offers of the document ``slug`` in the conversation."""
    async with database.acquire() as conn:
        rows = await conn.fetch(queries.OPEN_OFFERS, conversation_id, f"consent:give:{slug}:%")
    return [row["seq"] for row in rows]


async def _conversation_subject(conversation_id: int) -> uuid.UUID:
    found = (
        await Conversation.select(Conversation.subject_id)
        .where(Conversation.id == conversation_id)
        .first()
        .run()
    )
    if found is None:
        raise ChatError("not_found", "нет такого диалога")
    subject_id: uuid.UUID = found["subject_id"]
    return subject_id


async def _on_press(click: buttons.Press) -> None:
    parts = click.button.split(":")
    if parts[1] == "later":
        await service.retire_buttons(click.conversation, click.seq, chosen=click.button)
        await service.bot_message(
            click.conversation, "Хорошо, продолжаем без персональных данных.", []
        )
        return
    if parts[1] != "give" or len(parts) != 4 or not parts[3].isdigit():
        raise ChatError("not_found", "эта кнопка больше не действует")
    document = await documents.get(parts[2], int(parts[3]))
    if document is None or document.purpose_code is None:
        raise ChatError("not_found", "эта версия документа не найдена")
    subject_id = await _conversation_subject(click.conversation)
    label = OFFERS[document.purpose_code][1] if document.purpose_code in OFFERS else click.button
    proof = consent.Proof(
        channel=click.channel, control=f"button:{label}", ip=click.ip, user_agent=click.user_agent
    )
    async with database.transaction():
        event_id = await consent.give(database.connection(), subject_id, document, proof)
    await service.retire_buttons(click.conversation, click.seq, chosen=click.button)
    await service.bot_message(
        click.conversation,
        "Спасибо, согласие сохранено. Отозвать его можно в любой момент в разделе «Мои данные».",
        [],
        links=[
            {"label": "Квитанция о согласии", "url": f"/chat/consents/{event_id}"},
            {"label": document.title, "url": document.stable_url},
        ],
    )


buttons.register("consent", _on_press)


async def request_field(scope: service.Scope, conversation_id: int, field: str) -> service.Sent:
    """The operator asks for one field; refused unless a consent's purpose allows it."""
    conversation = await access.visible_conversation(scope, conversation_id)
    async with database.acquire() as conn:
        await consent.require(conn, conversation["subject_id"], SUPPORT, field)
    label = FIELDS[field].label
    return await service.bot_message(
        conversation_id,
        f"Оператор просит указать: {label}",
        [],
        form={
            "field": field,
            "label": label,
            "input": fields.INPUTS.get(field, "text"),
            "purpose": SUPPORT,
            "done": False,
        },
    )


async def submit_field(conversation_id: int, seq: int, value: str) -> None:
    """The client answers a field request: validated, saved to the profile, logged."""
    async with database.acquire() as conn:
        row = await conn.fetchrow(queries.FIELD_REQUEST, conversation_id, seq)
    form = msgspec.json.decode(row["form"]) if row and row["form"] else None
    if row is None or form is None or form.get("done"):
        raise ChatError("not_found", "этот запрос уже не действует")
    if form.get("kind") == "review":
        await reviews.submit_text(conversation_id, seq, form, value)
        return
    field, purpose_code = form["field"], form["purpose"]
    value = fields.normalize(field, value)
    subject_id = row["subject_id"]
    async with database.transaction():
        conn = database.connection()
        consent_id = await consent.require(conn, subject_id, purpose_code, field)
        await save_field(
            conn, subject_id, field, value, purpose_code, consent_id, "chat", Actor.subject()
        )
    await service.retire_buttons(
        conversation_id, seq, form={**form, "done": True, "display": fields.masked(field, value)}
    )


async def save_field(
    conn: asyncpg.Connection,
    subject_id: uuid.UUID,
    field: str,
    value: str,
    purpose_code: str,
    consent_id: int,
    source: str,
    actor: Actor,
) -> None:
    """Write one field into the profile and its log rows, in the caller's transaction."""
    purpose = (
        await Purpose.select(Purpose.retention_days)
        .where(Purpose.code == purpose_code)
        .first()
        .run()
    )
    assert purpose is not None  # the consent the caller holds is for this purpose
    retention: int = purpose["retention_days"]
    previous = (
        await SubjectField.select(SubjectField.value)
        .where((SubjectField.subject_id == subject_id) & (SubjectField.field == field))
        .first()
        .run()
    )
    await conn.execute(
        queries.SAVE_FIELD,
        subject_id,
        field,
        value,
        source,
        purpose_code,
        consent_id,
        datetime.now(UTC) + timedelta(days=retention),
    )
    actions = (
        (Action.CLARIFICATION,)
        if previous is not None
        else (Action.COLLECTION, Action.RECORDING, Action.STORAGE)
    )
    await processing_log.record(
        *[
            LogEntry(
                action=action,
                actor_kind=actor.kind,
                actor_id=actor.id,
                subject_id=subject_id,
                fields=(field,),
                purpose=purpose_code,
                legal_basis=f"consent:{consent_id}",
            )
            for action in actions
        ]
    )


async def explain_masking(conversation_id: int, masked: tuple[str, ...]) -> None:
    """Tell the client why part of their message was hidden, and offer consent (once at a time)."""
    async with database.acquire() as conn:
        open_offer = await conn.fetch(
            queries.OPEN_OFFERS, conversation_id, "consent:give:processing-%"
        )
    what = " и ".join({"phone": "номер телефона", "email": "адрес почты"}[f] for f in masked)
    notice = MASKED_NOTICE.format(what=what)
    if open_offer:
        await service.bot_message(conversation_id, notice.split(" Если")[0], [])
    else:
        await offer(conversation_id, SUPPORT, notice=notice)
