"""What the portal shows a subject about themselves: data, consents, the processing history.

Only rows of the subject's own id are ever read. Showing PD values is logged as ``provision``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from okno.platform import database
from okno.platform.consent import service as consent
from okno.platform.consent.service import CHANNEL_LABELS
from okno.platform.consent.tables import ConsentEvent
from okno.platform.processing_log import actions
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import ACTION_LABELS, Action
from okno.platform.selfservice import queries, subject
from okno.platform.selfservice.compliance import PURPOSE, provision
from okno.platform.staff.roles import Role
from okno.platform.subjects.fields import CATEGORY_LABELS, FIELDS

SOURCE_LABELS = {
    "chat": "вы указали в чате",
    "form": "вы указали в форме на сайте",
    "operator": "внёс оператор с ваших слов",
    "portal": "вы указали в «Моих данных»",
}
ROLE_LABELS = {
    Role.OPERATOR: "оператор",
    Role.SUPERVISOR: "старший оператор",
    Role.DPO: "ответственный за обработку ПДн",
    Role.ADMIN: "администратор",
}
OWN_PURPOSES = {
    PURPOSE: "исполнение ваших прав субъекта персональных данных",
    "consent-proof": "подтверждение того, что вы дали или отозвали согласие",
}
STATUS_LABELS = {
    "new": "ожидает оператора",
    "open": "открыт",
    "pending": "ждёт вашего ответа",
    "resolved": "закрыт",
}


def staff_label(role: str | None, pseudonym: str | None) -> str:
    """Staff are shown by role and pseudonym, never by name."""
    if role is None:
        return "сотрудник"
    return f"{ROLE_LABELS.get(Role(role), role)} {pseudonym}"


def basis_label(basis: str | None) -> str:
    return actions.basis_label(basis, "ваше согласие")


async def purpose_names(conn: asyncpg.Connection) -> dict[str, str]:
    rows = await conn.fetch(queries.PURPOSE_NAMES)
    return {**OWN_PURPOSES, **{row["code"]: row["name"] for row in rows}}


class HeldField(msgspec.Struct, frozen=True):
    name: str
    label: str
    category: str
    value: str
    source: str
    purpose: str | None
    purpose_name: str
    consent_id: int | None
    collected_at: datetime
    updated_at: datetime
    retain_until: datetime | None
    blocked_at: datetime | None
    consent_withdrawn_at: datetime | None

    @property
    def state(self) -> str:
        if self.consent_withdrawn_at is not None:
            return "согласие отозвано: обработка прекращена, данные будут уничтожены"
        if self.blocked_at is not None:
            return "заблокировано на время проверки"
        return "обрабатываются"


async def held_fields(conn: asyncpg.Connection, subject_id: uuid.UUID) -> list[HeldField]:
    names = await purpose_names(conn)
    rows = await conn.fetch(queries.HELD_FIELDS, subject_id)
    return [
        HeldField(
            name=row["field"],
            label=FIELDS[row["field"]].label,
            category=CATEGORY_LABELS[FIELDS[row["field"]].category],
            value=row["value"],
            source=SOURCE_LABELS.get(row["source"], row["source"]),
            purpose=row["purpose"],
            purpose_name=names.get(row["purpose"] or "", row["purpose"] or "—"),
            consent_id=row["consent_id"],
            collected_at=row["collected_at"],
            updated_at=row["updated_at"],
            retain_until=row["retain_until"],
            blocked_at=row["blocked_at"],
            consent_withdrawn_at=row["withdrawn_at"],
        )
        for row in rows
        if row["field"] in FIELDS
    ]


async def conversations(conn: asyncpg.Connection, subject_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(queries.CONVERSATIONS, subject_id)
    return [
        {**dict(row), "status_label": STATUS_LABELS.get(row["status"], row["status"])}
        for row in rows
    ]


async def data_page(subject_id: uuid.UUID) -> dict[str, Any]:
    """The «Мои данные» page; showing the values is logged as provision to the subject."""
    async with database.transaction():
        conn = database.connection()
        since = await subject.since(subject_id)
        fields = await held_fields(conn, subject_id)
        chats = await conversations(conn, subject_id)
        # Events whose proof is the subject's PD (an IP address, a user agent).
        proof = await (
            ConsentEvent.count()
            .where(
                (ConsentEvent.subject_id == subject_id)
                & (ConsentEvent.ip.is_not_null() | ConsentEvent.user_agent.is_not_null())
            )
            .run()
        )
        await processing_log.record(
            *provision(
                subject_id,
                tuple(f.name for f in fields),
                "ваши данные показаны вам в «Моих данных»",
            )
        )
    return {
        "subject_created_at": since,
        "fields": fields,
        "conversations": chats,
        "proof_events": proof,
    }


class ConsentView(msgspec.Struct, frozen=True):
    id: int
    purpose: str
    purpose_name: str
    purpose_kind: str
    purpose_fields: list[str]
    title: str
    slug: str
    version: int
    sha256: str
    at: datetime
    channel: str
    control: str
    withdrawn_at: datetime | None
    withdrawn_channel: str | None
    superseded: bool

    @property
    def url(self) -> str:
        return f"/consents/{self.slug}/v{self.version}"

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


async def consents_of(conn: asyncpg.Connection, subject_id: uuid.UUID) -> list[ConsentView]:
    rows = await conn.fetch(queries.CONSENTS, subject_id)
    return [
        ConsentView(
            id=r["id"],
            purpose=r["purpose_code"],
            purpose_name=r["purpose_name"],
            purpose_kind=r["purpose_kind"],
            purpose_fields=list(r["purpose_fields"]),
            title=r["title"],
            slug=r["slug"],
            version=r["version"],
            sha256=r["document_sha256"],
            at=r["at"],
            channel=CHANNEL_LABELS.get(r["channel"], r["channel"]),
            control=consent.control_label(r["control"]),
            withdrawn_at=r["withdrawn_at"],
            withdrawn_channel=CHANNEL_LABELS.get(r["withdrawn_channel"], r["withdrawn_channel"])
            if r["withdrawn_channel"]
            else None,
            superseded=r["superseded"],
        )
        for r in rows
    ]


async def consents(subject_id: uuid.UUID) -> list[ConsentView]:
    async with database.acquire() as conn:
        return await consents_of(conn, subject_id)


# ------------------------------------------------------------------ processing history

SPECIAL: dict[tuple[str, frozenset[Action], frozenset[str] | None], str] = {
    # A message okno handed to MAX or VK (okno.platform.channels.outbound): the reason names
    # the messenger's operator and its country.
    ("system", frozenset({Action.PROVISION}), frozenset({"message_text", "messenger_id"})): (
        "сообщение передано оператору мессенджера для доставки"
    ),
    ("system", frozenset({Action.PROVISION}), None): "данные предоставлены вам",
    ("staff", frozenset({Action.ACCESS}), frozenset({"message_text"})): "открыл(а) переписку",
    ("system", frozenset({Action.ACCESS}), frozenset({"message_text"})): (
        "переписка передана оператору"
    ),
    ("staff", frozenset({Action.ACCESS}), None): "просмотрел(а) ваши данные в карточке клиента",
    ("subject", frozenset({Action.RECORDING, Action.STORAGE}), None): (
        "вы написали — сообщение записано и хранится"
    ),
    ("staff", frozenset({Action.RECORDING, Action.STORAGE}), None): (
        "написал(а) в переписке — сообщение записано и хранится"
    ),
    ("subject", frozenset({Action.COLLECTION, Action.RECORDING, Action.STORAGE}), None): (
        "вы сообщили данные — они собраны, записаны и хранятся"
    ),
    ("system", frozenset({Action.USE}), frozenset({"email"})): "отправлен код входа на почту",
    ("system", frozenset({Action.USE, Action.RECORDING, Action.STORAGE}), frozenset({"email"})): (
        "письмо с кодом входа записано в папку исходящих"
    ),
    ("system", frozenset({Action.USE}), frozenset({"visitor_token"})): (
        "ваш браузер узнан при входе в «Мои данные»"
    ),
    ("system", frozenset({Action.BLOCKING}), None): "обработка данных остановлена (блокирование)",
    ("system", frozenset({Action.USE}), None): "данные использованы",
}


class HistoryLine(msgspec.Struct, frozen=True):
    at: datetime
    who: str
    what: str
    actions: list[str]
    fields: list[str]
    purpose: str
    basis: str
    reason: str | None


def _sentence(actor_kind: str, actions: list[Action], fields: list[str]) -> str:
    key_actions = frozenset(actions)
    for key_fields in (frozenset(fields), None):
        phrase = SPECIAL.get((actor_kind, key_actions, key_fields))
        if phrase:
            return phrase
    return ", ".join(ACTION_LABELS[action] for action in actions)


async def history(subject_id: uuid.UUID, limit: int = 1000) -> list[HistoryLine]:
    """The subject's processing-log rows in plain Russian, newest first; staff by pseudonym."""
    async with database.acquire() as conn:
        return await history_of(conn, subject_id, limit)


async def history_of(
    conn: asyncpg.Connection, subject_id: uuid.UUID, limit: int = 1000
) -> list[HistoryLine]:
    """``history`` on the caller's connection (an export reads it inside its transaction)."""
    rows = await conn.fetch(queries.HISTORY, subject_id, limit)
    names = await purpose_names(conn)
    groups: list[tuple[tuple[Any, ...], list[asyncpg.Record]]] = []
    for row in reversed(rows):
        key = (
            row["at"],
            row["actor_kind"],
            row["actor_id"],
            tuple(row["fields"]),
            row["purpose"],
            row["reason"],
        )
        if groups and groups[-1][0] == key:
            groups[-1][1].append(row)
        else:
            groups.append((key, [row]))
    lines = []
    for _, members in groups:
        first = members[0]
        actions = [Action(m["action"]) for m in members]
        who = {
            "subject": "вы",
            "system": "система оператора",
            "integration": "информационная система оператора (по API)",
        }.get(first["actor_kind"], staff_label(first["role"], first["pseudonym"]))
        lines.append(
            HistoryLine(
                at=first["at"],
                who=who,
                what=_sentence(first["actor_kind"], actions, list(first["fields"])),
                actions=[ACTION_LABELS[a] for a in actions],
                fields=[FIELDS[name].label for name in first["fields"] if name in FIELDS],
                purpose=names.get(first["purpose"] or "", first["purpose"] or "—"),
                basis=basis_label(first["legal_basis"]),
                reason=first["reason"],
            )
        )
    return lines[::-1]
