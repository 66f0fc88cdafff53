"""Consent given and withdrawn, with the proof a business shows the regulator or a court.

An event records the subject, the document version and its hash, the time, the channel, the
control used, the IP address and the user agent. Events are append-only in the database.
"""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

import asyncpg
import msgspec

from okno.platform.chat.errors import ChatError
from okno.platform.consent import queries
from okno.platform.consent.documents import Version
from okno.platform.consent.tables import ConsentEvent, Purpose
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.processing_log.schemas import LogEntry
from okno.platform.subjects.fields import FIELDS
from okno.platform.webhooks import events as webhook_events

PROOF_BASIS = "152-fz:9.3"  # the operator must prove consent was given
CHANNELS = ("chat", "widget", "prechat_form", "portal", "operator")


class Proof(msgspec.Struct, frozen=True):
    """Where and how: the channel, the control the subject used, their IP and user agent."""

    channel: str
    control: str
    ip: str | None = None
    user_agent: str | None = None


CHANNEL_LABELS = {
    "chat": "в чате",
    "widget": "в чате на сайте",
    "prechat_form": "в форме перед чатом",
    "portal": "в «Моих данных»",
    "operator": "через оператора",
    "max": "в мессенджере MAX",
    "vk": "во ВКонтакте",
    "system": "автоматически",
}
# The kind of control before the colon of Proof.control («button:Даю согласие»).
CONTROL_LABELS = {
    "button": "кнопка",
    "checkbox": "отметка",
    "checkbox+button": "отметка и кнопка",
    "link": "ссылка",
}


def control_label(control: str) -> str:
    """A proof's control in words for a page («кнопка «Даю согласие»»); the record keeps the
    code («button:Даю согласие»)."""
    kind, _, label = control.partition(":")
    return f"{CONTROL_LABELS[kind]} «{label}»" if label and kind in CONTROL_LABELS else control


def how_given(channel: str, control: str) -> str:
    """Where and how a consent was given, in words («в чате, кнопка «Даю согласие»»)."""
    return f"{CHANNEL_LABELS.get(channel, channel)}, {control_label(control)}"


class ConsentRequiredError(ChatError):
    def __init__(self, message: str) -> None:
        super().__init__("consent_required", message)


def _ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


async def active(
    conn: asyncpg.Connection, subject_id: uuid.UUID, purpose_code: str
) -> asyncpg.Record | None:
    """The subject's consent for the purpose that is in force, if any."""
    return await conn.fetchrow(queries.IN_FORCE, subject_id, purpose_code)


async def give(
    conn: asyncpg.Connection,
    subject_id: uuid.UUID,
    document: Version,
    proof: Proof,
    details: dict[str, Any] | None = None,
) -> int:
    """Record consent to ``document`` inside the caller's transaction; returns the event id.

    Giving it again while it is active records nothing new and returns the active one.
    """
    assert document.purpose_code is not None
    existing = await active(conn, subject_id, document.purpose_code)
    if existing is not None and (existing["document_id"], existing["version"]) == (
        document.document_id,
        document.version,
    ):
        return existing["id"]
    if existing is not None:
        # A newer version replaces the older consent for the same purpose.
        await _withdraw(conn, subject_id, existing["id"], proof, superseded=True)
    event_id = await _append(
        conn,
        ConsentEvent(
            subject_id=subject_id,
            document_id=document.document_id,
            version=document.version,
            document_sha256=document.sha256,
            purpose_code=document.purpose_code,
            kind="given",
        ),
        proof,
        details or {},
    )
    await processing_log.record(*_proof_entries(subject_id, proof, "согласие дано"))
    return event_id


async def withdraw(
    conn: asyncpg.Connection, subject_id: uuid.UUID, given_id: int, proof: Proof
) -> int:
    """Withdraw an active consent of this subject inside the caller's transaction."""
    return await _withdraw(conn, subject_id, given_id, proof, superseded=False)


async def _withdraw(
    conn: asyncpg.Connection,
    subject_id: uuid.UUID,
    given_id: int,
    proof: Proof,
    *,
    superseded: bool,
) -> int:
    given = await conn.fetchrow(queries.IN_FORCE_BY_ID, given_id, subject_id)
    if given is None:
        raise ChatError("not_found", "нет такого действующего согласия")
    event_id = await _append(
        conn,
        ConsentEvent(
            subject_id=subject_id,
            document_id=given["document_id"],
            version=given["version"],
            document_sha256=given["document_sha256"],
            purpose_code=given["purpose_code"],
            kind="withdrawn",
            given_id=given_id,
        ),
        proof,
        {"superseded": superseded},
    )
    entries = _proof_entries(subject_id, proof, "согласие отозвано")
    # The consent's purpose_code references purpose, so the row exists.
    purpose = (
        await Purpose.select(Purpose.kind, Purpose.fields)
        .where(Purpose.code == given["purpose_code"])
        .first()
        .run()
    )
    assert purpose is not None
    if purpose["kind"] == "dissemination" and purpose["fields"] and not superseded:
        # What was made public under this consent stops being shown from this moment.
        entries.append(
            LogEntry(
                action=Action.BLOCKING,
                actor_kind=ActorKind.SYSTEM,
                subject_id=subject_id,
                fields=tuple(purpose["fields"]),
                purpose=given["purpose_code"],
                legal_basis=f"consent:{given_id}",
                reason="распространение прекращено: согласие отозвано",
            )
        )
    await processing_log.record(*entries)
    return event_id


async def _append(
    conn: asyncpg.Connection, event: ConsentEvent, proof: Proof, details: dict[str, Any]
) -> int:
    """Insert ``event`` with its proof, in the caller's transaction; returns its id."""
    event.channel = proof.channel
    event.control = proof.control[:200]
    event.ip = _ip(proof.ip)
    event.user_agent = (proof.user_agent or "")[:500] or None
    event.details = msgspec.json.encode(details).decode()
    rows = await ConsentEvent.insert(event).returning(ConsentEvent.id).run()
    event_id = int(rows[0]["id"])
    await webhook_events.emit(
        conn,
        f"consent.{event.kind}",
        {
            "consent_event_id": event_id,
            "subject_id": str(event.subject_id),
            "purpose": event.purpose_code,
            "document_id": event.document_id,
            "version": event.version,
            **({"given_id": event.given_id} if event.kind == "withdrawn" else {}),
        },
        subject_id=event.subject_id,
    )
    return event_id


def _proof_entries(subject_id: uuid.UUID, proof: Proof, reason: str) -> list[LogEntry]:
    fields = tuple(
        name
        for name, value in (("ip_address", proof.ip), ("user_agent", proof.user_agent))
        if value
    )
    if not fields:
        return []
    return [
        LogEntry(
            action=action,
            actor_kind=ActorKind.SUBJECT if proof.channel != "operator" else ActorKind.STAFF,
            subject_id=subject_id,
            fields=fields,
            purpose="consent-proof",
            legal_basis=PROOF_BASIS,
            reason=reason,
        )
        for action in (Action.COLLECTION, Action.RECORDING, Action.STORAGE)
    ]


async def require(
    conn: asyncpg.Connection, subject_id: uuid.UUID, purpose_code: str, field: str
) -> int:
    """The consent id under which ``field`` may be collected for the purpose, or a clear refusal."""
    registry = FIELDS.get(field)
    if registry is None:
        raise ChatError("invalid_frame", f"нет такого поля: {field}")
    if not registry.collectable_in_chat:
        raise ChatError("forbidden", f"«{registry.label}» в чате не запрашивается")
    allowed = await conn.fetchval(queries.PURPOSE_FIELDS, purpose_code)
    if allowed is None or field not in allowed:
        raise ChatError(
            "forbidden",
            f"«{registry.label}» не входит в цель обработки: лишние данные не собираются",
        )
    consent = await active(conn, subject_id, purpose_code)
    if consent is None:
        raise ConsentRequiredError("клиент ещё не дал согласие на обработку персональных данных")
    return consent["id"]
