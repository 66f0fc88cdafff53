"""The receipt a subject keeps of a consent they gave, in the spirit of ISO/IEC 27560
(Kantara consent receipts): what was agreed to, when, where, and whether it was withdrawn."""

from __future__ import annotations

import uuid

from okno.platform import database
from okno.platform.consent import queries
from okno.platform.settings import get_settings
from okno.platform.subjects.fields import FIELDS


async def receipt(subject_id: uuid.UUID, event_id: int) -> dict[str, object] | None:
    """The receipt's contents, or None unless the event is this subject's."""
    async with database.acquire() as conn:
        event = await conn.fetchrow(queries.RECEIPT, event_id, subject_id)
    if event is None:
        return None
    settings = get_settings()
    return {
        "event": event,
        "operator_name": settings.operator_name,
        "operator_address": settings.operator_address,
        "fields": [FIELDS[name].label for name in event["fields"]],
    }
