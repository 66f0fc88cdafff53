"""The pre-chat form a company may enable: contacts first, under the same rules as in the chat.

Two separate checkboxes, never pre-checked: consent to processing (without it no contact field
is accepted) and, independently and optionally, consent to advertising in the chat. Each ticked
box is a consent event with its proof (channel ``prechat_form``, the checkbox, IP, user agent).
"""

from __future__ import annotations

import msgspec

from okno.platform import database
from okno.platform.chat import notify, service
from okno.platform.chat import tables as chat_tables
from okno.platform.chat.compliance import Actor, entries
from okno.platform.chat.errors import ChatError
from okno.platform.chat.visitors import Visitor
from okno.platform.consent import documents, fields
from okno.platform.consent import service as consent
from okno.platform.consent.chat_flow import save_field
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action
from okno.platform.subjects.fields import FIELDS
from okno.platform.teams.tables import Topic

FORM_FIELDS = ("name", "phone", "email")
PROCESSING_LABEL = "Согласие на обработку персональных данных"
ADVERTISING_LABEL = "Согласие получать акции и предложения в этом чате"


class PrechatForm(msgspec.Struct):
    name: str = ""
    phone: str = ""
    email: str = ""
    topic: str = ""
    processing: str = ""
    advertising: str = ""


async def submit(
    visitor: Visitor, form: PrechatForm, ip: str | None, user_agent: str | None
) -> int:
    """Start the visitor's conversation with what they chose to give; returns its id."""
    values = {
        name: fields.normalize(name, getattr(form, name))
        for name in FORM_FIELDS
        if getattr(form, name).strip()
    }
    processing, advertising = form.processing == "on", form.advertising == "on"
    if values and not processing:
        raise ChatError(
            "consent_required",
            "Чтобы передать контакты, отметьте согласие на обработку персональных данных"
            " или оставьте поля пустыми.",
        )
    support = await documents.current_for_purpose("support")
    ads = await documents.current_for_purpose("advertising-chat")
    if support is None or ads is None:
        raise ChatError("unavailable", "документы о согласии ещё не опубликованы")

    def proof(label: str) -> consent.Proof:
        return consent.Proof("prechat_form", f"checkbox:{label}", ip, user_agent)

    async with database.transaction():
        conn = database.connection()
        # Locked, so that two submissions from one browser start one conversation.
        row = (
            await chat_tables.Visitor.select(chat_tables.Visitor.subject_id)
            .where(chat_tables.Visitor.token_hash == visitor.token_hash)
            .lock_rows()
            .first()
            .run()
        )
        if row is None:
            raise ChatError("forbidden", "сеанс чата не найден, обновите страницу")
        subject_id = row["subject_id"]
        if subject_id is None:
            topic = (
                await Topic.select(Topic.id)
                .where((Topic.slug == form.topic) & Topic.active.eq(True))
                .first()
                .run()
            )
            topic_id = topic["id"] if topic else None
            subject_id = await service.start_conversation(conn, visitor.token_hash, topic_id)
            # The conversation starts here, not at a first message: its collection is logged here.
            await processing_log.record(
                *entries(Actor.subject(), subject_id, (Action.COLLECTION,), ("visitor_token",))
            )
        started = (
            await chat_tables.Conversation.select(chat_tables.Conversation.id)
            .where(chat_tables.Conversation.subject_id == subject_id)
            .first()
            .run()
        )
        assert started is not None  # a visitor's subject has its conversation
        conversation = started["id"]
        if processing:
            consent_id = await consent.give(conn, subject_id, support, proof(PROCESSING_LABEL))
            for name, value in values.items():
                await save_field(
                    conn, subject_id, name, value, "support", consent_id, "form", Actor.subject()
                )
        if advertising:
            await consent.give(conn, subject_id, ads, proof(ADVERTISING_LABEL))
        given = ", ".join(FIELDS[name].label for name in values) or "без контактов"
        version = await service.system_note(
            conn, conversation, f"Клиент заполнил анкету перед чатом: {given}"
        )
    await notify.changed(conversation, version)
    return conversation
