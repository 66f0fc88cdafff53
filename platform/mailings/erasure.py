"""What destruction erases of the mailings: a failed delivery's reason, and the subject's
values in the mailings' texts; and the mailings' columns that hold no PD."""

from __future__ import annotations

import uuid

import asyncpg

from okno.platform.erasure.registry import (
    OPERATORS_OWN,
    REDACTED,
    STAFF_TEXT,
    VOCABULARY,
    eraser,
    not_pd,
    positive,
    scrubbed,
)
from okno.platform.mailings import queries


@eraser("mailings", columns=("mailing_delivery.reason",))
async def erase_delivery_reasons(conn: asyncpg.Connection, subject_id: uuid.UUID) -> dict[str, int]:
    """A failed delivery's reason may quote the address (a mail server's answer): it goes; the
    delivery row stays as a count."""
    erased = await conn.fetchval(queries.DELIVERY_REASONS_ERASE, subject_id, REDACTED)
    return positive({"причины недоставки рассылок": erased})


scrubbed("mailing.body", "mailing.title", reason=STAFF_TEXT)
not_pd("mailing_delivery.channel", "mailing_delivery.status", reason=VOCABULARY)
not_pd(
    "mailing.image_id",
    "mailing.links",
    "mailing.status",
    "mailing.tags",
    "mailing.topics",
    reason=OPERATORS_OWN,
)
