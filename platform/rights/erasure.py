"""What destruction erases of a subject's requests: their identifying details and every free
text written about the subject (the requests stay); and the requests' columns that hold no PD."""

from __future__ import annotations

import uuid

import asyncpg

from okno.platform.erasure.registry import REDACTED, VOCABULARY, eraser, not_pd, positive
from okno.platform.rights import queries


@eraser(
    "rights",
    columns=(
        "rights_request.details",
        "rights_request.requester",
        "rights_request.answer",
        "rights_request.decision_reason",
        "rights_request.extension_reason",
        "rights_request_event.note",
        "rights_request_event.notice_to_subject",
    ),
)
async def erase_rights_texts(conn: asyncpg.Connection, subject_id: uuid.UUID) -> dict[str, int]:
    """Requests stay (kind, status, dates, deadlines); their identifying details and every free
    text written about the subject are replaced by a marker."""
    letters = await conn.fetchrow(queries.RIGHTS_LETTER_COUNTS, subject_id)
    assert letters is not None  # an aggregate always answers one row
    requests = await conn.fetchval(queries.RIGHTS_REQUESTS_REDACT, subject_id, REDACTED)
    await conn.execute(queries.RIGHTS_EVENTS_REDACT, subject_id, REDACTED)
    return positive(
        {
            "сведения в запросах субъекта": requests,
            "ФИО в письменных запросах": letters["names"],
            "документы в письменных запросах": letters["documents"],
            "адреса в письменных запросах": letters["addresses"],
        }
    )


not_pd(
    "rights_request.channel",
    "rights_request.kind",
    "rights_request.purpose_code",
    "rights_request.status",
    "rights_request_event.actor_kind",
    "rights_request_event.from_status",
    "rights_request_event.to_status",
    reason=VOCABULARY,
)
