"""The client's profile panel in the operator console: showing PD to staff is logged access."""

from __future__ import annotations

from okno.platform import database
from okno.platform.chat import access, queries
from okno.platform.chat.compliance import Actor, entries
from okno.platform.chat.schemas import FieldChoice, Profile, ProfileConsent, ProfileField
from okno.platform.chat.scope import Scope
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action
from okno.platform.subjects import service as subjects
from okno.platform.subjects.fields import FIELDS
from okno.platform.subjects.tables import Subject


async def panel(scope: Scope, conversation_id: int) -> Profile:
    """The profile of a conversation's client the caller may see: the fields under a consent
    still in force (not blocked), each purpose's consent, and what the operator may ask for."""
    conversation = await access.visible_conversation(scope, conversation_id)
    subject_id = conversation["subject_id"]
    async with database.transaction():
        conn = database.connection()
        # The conversation's subject (a foreign key; subject rows are never deleted).
        subject = (
            await Subject.select(Subject.created_at).where(Subject.id == subject_id).first().run()
        )
        assert subject is not None
        fields = await subjects.visible_fields(conn, subject_id)
        consents = await conn.fetch(queries.PROFILE_CONSENTS, subject_id)
        shown = tuple(field.field for field in fields)
        if shown:
            await processing_log.record(
                *entries(Actor.staff(scope.staff_id), subject_id, (Action.ACCESS,), shown)
            )
    support = next((c for c in consents if c["code"] == "support"), None)
    requestable = (
        [f for f in support["fields"] if FIELDS[f].collectable_in_chat]
        if support is not None and support["consent_id"] is not None
        else []
    )
    return Profile(
        subject_id=str(subject_id),
        label=f"Клиент #{conversation_id}",
        created_at=subject["created_at"],
        fields=[
            ProfileField(
                field.field,
                FIELDS[field.field].label,
                field.value,
                FIELDS[field.field].category.value,
            )
            for field in fields
        ],
        consents=[
            ProfileConsent(c["code"], c["name"], c["consent_id"] is not None, c["at"])
            for c in consents
        ],
        requestable=[FieldChoice(f, FIELDS[f].label) for f in requestable],
        conversations=1,
    )
