"""What destruction erases of the channels: a subject's messenger identities, and with them
(ON DELETE CASCADE) the update ids received through them and the messages queued for them.
The conversation itself is the chat's (okno.platform.chat.erasure)."""

from __future__ import annotations

import uuid

import asyncpg

from okno.platform.channels import queries
from okno.platform.erasure.registry import OPERATORS_OWN, VOCABULARY, eraser, not_pd


@eraser(
    "channels",
    columns=(
        "channel_identity.external_id",
        "channel_identity.visitor_hash",
        "channel_inbound.update_key",
        "channel_outbound.body",
        "channel_outbound.buttons",
        "channel_outbound.last_error",
        "channel_outbound.external_id",
        "channel_outbound.state",
    ),
)
async def erase_channel_identities(
    conn: asyncpg.Connection, subject_id: uuid.UUID
) -> dict[str, int]:
    gone = await conn.fetchval(queries.ERASE_IDENTITIES, subject_id)
    return {"учётные записи в мессенджерах": gone}


not_pd(
    "channel.name",
    "channel.api_url",
    "channel.secrets",
    "channel.poll_state",
    "channel.poll_owner",
    reason=OPERATORS_OWN,
)
not_pd(
    "channel.kind",
    "channel.receive",
    "channel.legal_basis",
    "channel.last_error",
    reason=VOCABULARY,
)
