"""What destruction erases of the webhooks: the personal data a subject's deliveries carry
(message texts, for endpoints whose scope includes them), delivered or still queued, and the
receivers' answers to them; the ids stay, so ``subject.destroyed`` still follows the events
before it. Endpoints are the operator's own settings."""

from __future__ import annotations

import uuid

import asyncpg

from okno.platform.erasure.registry import (
    OPERATORS_OWN,
    VOCABULARY,
    eraser,
    not_pd,
    positive,
    scrubbed,
)
from okno.platform.webhooks import queries


@eraser("webhooks", columns=("webhook_delivery.pd", "webhook_delivery.last_response"))
async def erase_deliveries(conn: asyncpg.Connection, subject_id: uuid.UUID) -> dict[str, int]:
    erased = await conn.fetchval(queries.PD_ERASE, subject_id)
    return positive({"данные в событиях для внешних систем": erased})


scrubbed(
    "webhook_endpoint.last_response",
    reason="a receiver's last answer, about any subject; the subject's values in it go",
)
not_pd(
    "webhook_endpoint.url",
    "webhook_endpoint.secret",
    "webhook_endpoint.events",
    reason=OPERATORS_OWN,
)
not_pd(
    "webhook_endpoint.pd_scope",
    "webhook_endpoint.paused_by",
    "webhook_delivery.event",
    "webhook_delivery.status",
    "webhook_delivery.payload",  # ids only: the PD part is webhook_delivery.pd
    reason=VOCABULARY,
)
