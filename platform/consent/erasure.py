"""What destruction erases of the consent proof: an event's IP address and user agent (the
event stays as proof); and consent's columns that hold no PD."""

from __future__ import annotations

import uuid

import asyncpg

from okno.platform.consent import queries
from okno.platform.erasure.registry import OPERATORS_OWN, VOCABULARY, eraser, not_pd, positive


@eraser("consent", columns=("consent_event.ip", "consent_event.user_agent"))
async def erase_consent_proof(conn: asyncpg.Connection, subject_id: uuid.UUID) -> dict[str, int]:
    """Consent events stay as proof; only the IP address and user agent go (the trigger allows
    exactly that)."""
    erased = await conn.fetchval(queries.CONSENT_PROOF_ERASE, subject_id)
    return positive({"IP-адреса и сведения о браузере в доказательствах согласий": erased})


not_pd(
    "consent_event.channel",
    "consent_event.control",
    "consent_event.details",
    "consent_event.document_sha256",
    "consent_event.kind",
    "consent_event.purpose_code",
    reason=VOCABULARY,
)
not_pd(
    "consent_document.kind",
    "consent_document.purpose_code",
    "consent_document.slug",
    "consent_document.title",
    "consent_document_version.actions_text",
    "consent_document_version.body",
    "consent_document_version.operator_address",
    "consent_document_version.operator_name",
    "consent_document_version.pd_list",
    "consent_document_version.processor",
    "consent_document_version.purpose_text",
    "consent_document_version.rendered",
    "consent_document_version.sha256",
    "consent_document_version.term_text",
    "consent_document_version.withdrawal_text",
    "purpose.channel",
    "purpose.code",
    "purpose.fields",
    "purpose.kind",
    "purpose.legal_basis",
    "purpose.name",
    reason=OPERATORS_OWN,
)
