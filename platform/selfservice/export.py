"""The subject's export: everything held about them and the Art. 14 p.7 information.

Two files per export — machine-readable JSON and printable HTML — kept in ``portal_export``
behind random ids for ``OKNO_PORTAL_EXPORT_HOURS``, readable only in the subject's own session.
Other people's PD is left out: staff appear by role and pseudonym, operators' internal notes
are not included, and names of staff in service lines are replaced by their pseudonyms.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import jinja2
import msgspec

from okno.platform import database
from okno.platform.consent import documents
from okno.platform.processing_log import service as processing_log
from okno.platform.rights import requests as rights
from okno.platform.rights.deadlines import RULES
from okno.platform.rights.handling import MEASURES, MESSAGES_BASIS
from okno.platform.selfservice import overview, queries, subject
from okno.platform.selfservice.compliance import provision
from okno.platform.selfservice.tables import PortalExport
from okno.platform.settings import get_settings
from okno.platform.staff.tables import StaffUser
from okno.platform.web.timefmt import msk

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "portal" / "templates"
FORMATS = {"json": "application/json", "html": "text/html; charset=utf-8"}
ACCESSORS = (
    "работники оператора по их ролям: операторы и старшие операторы чата (переписка и данные,"
    " на которые действует ваше согласие), ответственный за организацию обработки"
    " персональных данных, администраторы системы. Третьим лицам данные не передаются,"
    " кроме случаев, прямо предусмотренных законом."
)
RIGHTS = (
    "Вы вправе получать сведения об обработке и сами данные (ст. 14 152-ФЗ), требовать их"
    " уточнения, блокирования или уничтожения, если они неполные, устаревшие, неточные, получены"
    " незаконно или не нужны для заявленной цели (ст. 20, 21), отозвать согласие (ст. 9 ч. 2),"
    " потребовать прекратить обработку (ст. 21 ч. 5.1) и обжаловать действия оператора в"
    " Роскомнадзоре или в суде (ст. 17). Всё это можно сделать в разделе «Мои данные»"
    " (/me): страницы «Согласия» и «Запросы»."
)
DEFAULT_METHODS = (
    "автоматизированная обработка в информационной системе оператора «окно»: сбор, запись,"
    " систематизация, накопление, хранение, уточнение, извлечение, использование,"
    " предоставление, доступ, блокирование, удаление, уничтожение"
)


class Ready(msgspec.Struct, frozen=True):
    id: str
    format: str
    created_at: datetime
    expires_at: datetime

    @property
    def url(self) -> str:
        return f"/me/export/{self.id}"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    env.filters["msk"] = msk
    return env


async def _staff_names() -> list[tuple[str, str]]:
    rows = await StaffUser.select(StaffUser.display_name, StaffUser.role, StaffUser.pseudonym).run()
    # Longest names first, so "Анна Петрова" is replaced before "Анна".
    pairs = [(r["display_name"], overview.staff_label(r["role"], r["pseudonym"])) for r in rows]
    return sorted(pairs, key=lambda pair: -len(pair[0]))


def _redact(text: str, names: list[tuple[str, str]]) -> str:
    for name, label in names:
        if len(name) >= 2 and name in text:
            text = text.replace(name, label)
    return text


async def _messages(
    conn: asyncpg.Connection, conversation_id: int, names: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    rows = await conn.fetch(queries.MESSAGES, conversation_id)
    out = []
    for r in rows:
        kind = r["author_kind"]
        author = {
            "subject": "вы",
            "bot": "бот",
            "system": "служебное сообщение",
        }.get(kind) or overview.staff_label(r["role"], r["pseudonym"])
        deleted = r["deleted_at"] is not None
        text = "" if deleted else r["body"]
        if kind in ("system", "bot"):
            text = _redact(text, names)
        out.append(
            {
                "seq": r["seq"],
                "at": r["created_at"],
                "author_kind": kind,
                "author": author,
                "text": text,
                "attachment": {
                    "name": r["attachment_name"],
                    "size": r["attachment_size"],
                    "type": r["attachment_type"],
                }
                if r["attachment_name"]
                else None,
                "edited_at": r["edited_at"],
                "deleted": deleted,
            }
        )
    return out


async def collect(conn: asyncpg.Connection, subject_id: uuid.UUID) -> dict[str, Any]:
    """Everything the export holds, read in the caller's transaction."""
    settings = get_settings()
    since = await subject.since(subject_id)
    fields = await overview.held_fields(conn, subject_id)
    consents = await overview.consents_of(conn, subject_id)
    proof = {r["id"]: r for r in await conn.fetch(queries.CONSENT_PROOF, subject_id)}
    withdrawals = {r["given_id"]: r for r in await conn.fetch(queries.WITHDRAWAL_PROOF, subject_id)}
    names = await _staff_names()
    chats = []
    for chat in await overview.conversations(conn, subject_id):
        chats.append(
            {
                "id": chat["id"],
                "topic": chat["topic"],
                "status": chat["status_label"],
                "created_at": chat["created_at"],
                "updated_at": chat["updated_at"],
                "messages": await _messages(conn, chat["id"], names),
            }
        )
    purposes = {r["code"]: r for r in await conn.fetch(queries.PURPOSES)}
    requests = []
    for request in await rights.for_subject(conn, subject_id):
        events = await rights.history(conn, request.id)
        requests.append(
            {
                "id": request.id,
                "kind": request.kind.value,
                "label": RULES[request.kind].label,
                "status": rights.STATUS_LABELS[request.status],
                "received_at": request.received_at,
                "due_at": request.due_at,
                "details": request.details,
                "answer": request.answer,
                "decision_reason": request.decision_reason,
                "history": [
                    {
                        "at": e["at"],
                        "status": rights.STATUS_LABELS.get(e["to_status"], e["to_status"]),
                        "notice": e["notice_to_subject"],
                    }
                    for e in events
                ],
            }
        )
    # Everything on the caller's connection: taking another pooled one while this transaction
    # holds its own deadlocks once every connection is held by an export.
    history = await overview.history_of(conn, subject_id)
    used_purposes = {f.purpose for f in fields if f.purpose} | {c.purpose for c in consents}
    if chats:
        used_purposes.add("support")
    methods, processor = DEFAULT_METHODS, "не привлекается"
    for given in consents:
        version = await documents.get_of(conn, given.slug, given.version)
        if version is not None and version.kind == "processing":
            methods = version.contents.actions_text or methods
            processor = version.contents.processor.strip() or processor
            break
    grounds = []
    for code in sorted(used_purposes):
        purpose = purposes.get(code)
        if purpose is None:
            continue
        consent = next((c for c in consents if c.purpose == code and c.active), None)
        ended = next((c for c in consents if c.purpose == code and not c.superseded), None)
        if consent is not None:
            basis = f"ваше согласие № {consent.id}"
        elif ended is not None and purpose["kind"] == "advertising":
            basis = f"ваше согласие № {ended.id} отозвано {msk(ended.withdrawn_at)}: не отправляем"
        elif ended is not None:
            basis = (
                f"ваше согласие № {ended.id} отозвано {msk(ended.withdrawn_at)}: обработка"
                " прекращена, данные уничтожаются в течение 30 дней, если нет иного основания"
            )
        else:
            basis = overview.basis_label(purpose["legal_basis"])
        if code == "support" and consent is None:
            basis = (
                "152-ФЗ, ст. 6 ч. 1 п. 5 — переписка: ответ на ваше обращение по вашей инициативе"
                + (f"; контактные данные: {basis}" if ended is not None else "")
            )
        grounds.append(
            {
                "purpose": purpose["name"],
                "legal_basis": basis,
                "retention_days": purpose["retention_days"],
            }
        )
    if chats:
        grounds.append(
            {
                "purpose": "Переписка в чате: тексты сообщений и вложения",
                "legal_basis": MESSAGES_BASIS,
                "retention_days": purposes["support"]["retention_days"]
                if "support" in purposes
                else None,
            }
        )
    return {
        "generated_at": datetime.now(UTC),
        "subject": {"id": str(subject_id), "since": since},
        "operator": {"name": settings.operator_name, "address": settings.operator_address},
        "art14_7": {
            "processing_confirmed": bool(fields or chats or consents),
            "grounds_and_purposes": grounds,
            "methods": methods,
            "operator": f"{settings.operator_name}, {settings.operator_address}",
            "who_has_access": ACCESSORS,
            "data_and_sources": [
                {"field": f.label, "source": f.source, "since": f.collected_at} for f in fields
            ]
            + (
                [{"field": "Тексты сообщений и вложения", "source": "вы написали в чате"}]
                if chats
                else []
            ),
            "terms": "данные хранятся до даты, указанной у каждого поля, а при отзыве согласия"
            " уничтожаются в течение 30 дней, если нет иного законного основания;"
            " переписка хранится в пределах срока цели «Ответы на обращения клиентов».",
            "rights": RIGHTS,
            "measures": MEASURES,
            "cross_border_transfer": "не осуществляется: данные хранятся и обрабатываются"
            " в базах данных на территории Российской Федерации",
            "processor": processor,
        },
        "fields": [
            {
                "name": f.name,
                "label": f.label,
                "category": f.category,
                "value": f.value,
                "source": f.source,
                "purpose": f.purpose_name,
                "consent_id": f.consent_id,
                "collected_at": f.collected_at,
                "updated_at": f.updated_at,
                "retain_until": f.retain_until,
                "state": f.state,
            }
            for f in fields
        ],
        "consents": [
            {
                "id": c.id,
                "document": c.title,
                "version": c.version,
                "version_url": c.url,
                "sha256": c.sha256,
                "purpose": c.purpose_name,
                "given_at": c.at,
                "channel": c.channel,
                "control": c.control,
                "ip_address": proof[c.id]["ip"] if c.id in proof else None,
                "user_agent": proof[c.id]["user_agent"] if c.id in proof else None,
                "withdrawn_at": c.withdrawn_at,
                "withdrawn_channel": c.withdrawn_channel,
                "withdrawal_ip_address": withdrawals[c.id]["ip"] if c.id in withdrawals else None,
                "withdrawal_user_agent": withdrawals[c.id]["user_agent"]
                if c.id in withdrawals
                else None,
                "receipt_url": f"/me/consents/{c.id}/receipt",
            }
            for c in consents
        ],
        "conversations": chats,
        "requests": requests,
        "processing_history": [msgspec.to_builtins(line) for line in history],
    }


def _exported_fields(data: dict[str, Any]) -> tuple[str, ...]:
    names = {f["name"] for f in data["fields"]}
    messages = [m for chat in data["conversations"] for m in chat["messages"]]
    if any(m["author_kind"] == "subject" and m["text"] for m in messages):
        names.add("message_text")
    if any(m["attachment"] for m in messages):
        names.add("attachment")
    for consent in data["consents"]:
        if consent["ip_address"] or consent["withdrawal_ip_address"]:
            names.add("ip_address")
        if consent["user_agent"] or consent["withdrawal_user_agent"]:
            names.add("user_agent")
    return tuple(sorted(names))


async def create(subject_id: uuid.UUID) -> list[Ready]:
    """Build the JSON and HTML files and log their provision, in one transaction."""
    hours = get_settings().portal_export_hours
    expires_at = datetime.now(UTC) + timedelta(hours=hours)
    async with database.transaction():
        now = datetime.now(UTC)
        await PortalExport.delete().where(PortalExport.expires_at < now).run()
        data = await collect(database.connection(), subject_id)
        as_json = msgspec.json.format(msgspec.json.encode(data), indent=2)
        as_html = (
            _environment()
            .get_template("portal/selfservice_export_file.html")
            .render(data=data, hours=hours)
            .encode()
        )
        ready = []
        for fmt, body in (("json", as_json), ("html", as_html)):
            export_id = f"{secrets.token_urlsafe(24)}.{fmt}"
            await PortalExport.insert(
                PortalExport(
                    id=export_id,
                    subject_id=subject_id,
                    format=fmt,
                    body=body,
                    created_at=now,
                    expires_at=expires_at,
                )
            ).run()
            ready.append(Ready(export_id, fmt, now, expires_at))
        await processing_log.record(
            *provision(
                subject_id, _exported_fields(data), "выгрузка ваших данных по вашему запросу"
            )
        )
    return ready


async def live(subject_id: uuid.UUID) -> list[Ready]:
    rows = (
        await PortalExport.select(
            PortalExport.id, PortalExport.format, PortalExport.created_at, PortalExport.expires_at
        )
        .where((PortalExport.subject_id == subject_id) & (PortalExport.expires_at > database.NOW))
        .order_by(PortalExport.created_at, ascending=False)
        .order_by(PortalExport.format)
        .run()
    )
    return [Ready(r["id"], r["format"], r["created_at"], r["expires_at"]) for r in rows]


async def read(subject_id: uuid.UUID, export_id: str) -> tuple[str, bytes] | None:
    """The file, if it is this subject's and has not expired."""
    row = (
        await PortalExport.select(PortalExport.format, PortalExport.body)
        .where(
            (PortalExport.id == export_id)
            & (PortalExport.subject_id == subject_id)
            & (PortalExport.expires_at > database.NOW)
        )
        .first()
        .run()
    )
    return (row["format"], bytes(row["body"])) if row else None
