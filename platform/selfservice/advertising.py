"""Advertising consents a subject can give in «Мои данные» (withdrawal works like any consent's).

Each is a separate document (38-FZ Art. 18), offered only while it is not in force, never
pre-checked: it is given by ticking the box and pressing the button, and recorded with proof.
"""

from __future__ import annotations

import uuid
from typing import Any

from okno.platform import database
from okno.platform.consent import documents
from okno.platform.consent import service as consent
from okno.platform.errors import Refused

OFFERED = {
    "advertising-email": "Рекламные письма на электронную почту",
    "advertising-chat": "Рекламные сообщения в чате",
}
CONTROL = "checkbox+button:Дать согласие"


class AdvertisingError(Refused):
    """A consent that cannot be given as asked; the message is for the subject."""


async def offers(subject_id: uuid.UUID) -> list[dict[str, Any]]:
    """The advertising consents not in force, each with the text to read before giving it."""
    found = []
    async with database.acquire() as conn:
        for purpose, label in OFFERED.items():
            if await consent.active(conn, subject_id, purpose) is not None:
                continue
            document = await documents.current_for_purpose(purpose)
            if document is not None:
                found.append({"purpose": purpose, "label": label, "document": document})
    return found


async def give(
    subject_id: uuid.UUID, purpose: str, agreed: bool, ip: str | None, user_agent: str | None
) -> int:
    """Record the consent with its proof; returns the consent event's id."""
    if purpose not in OFFERED:
        raise AdvertisingError("здесь можно дать только согласие на рекламу")
    if not agreed:
        raise AdvertisingError("отметьте, что вы прочитали текст и даёте согласие")
    document = await documents.current_for_purpose(purpose)
    if document is None:
        raise AdvertisingError("текст этого согласия ещё не опубликован")
    proof = consent.Proof(channel="portal", control=CONTROL, ip=ip, user_agent=user_agent)
    async with database.transaction():
        event_id = await consent.give(database.connection(), subject_id, document, proof)
    return event_id  # noqa: RET504  (returned inside the block, mypy sees a missing return)
