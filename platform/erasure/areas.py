"""The core areas' erasers: profile fields, chat, consent proof, rights requests.

Each destroys what its area keeps of one subject and returns counts for the act. What is not
PD stays: rows as counts and times, pseudonymous ids, the processing log (which never held
values). Messages keep their place in the conversation with a neutral tombstone.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path

import asyncpg

from okno.platform.chat import attachments
from okno.platform.erasure import queries
from okno.platform.erasure.registry import eraser, not_pd, scrubbed

# Files to delete after commit, so that a destruction rolled back leaves every file in place.
PENDING_FILES: ContextVar[list[Path] | None] = ContextVar("okno_pending_files", default=None)
TOMBSTONE = "Сообщение удалено: персональные данные уничтожены по закону"
REDACTED = "[удалено]"
# Texts the erasers leave behind: a destroyed value that is part of one is checked elsewhere.
NEUTRAL = (TOMBSTONE, REDACTED)


def _positive(counts: dict[str, int]) -> dict[str, int]:
    return {kind: count for kind, count in counts.items() if count}


@eraser("subjects", columns=("subject_field.value",))
async def erase_profile(conn: asyncpg.Connection, subject_id: uuid.UUID) -> dict[str, int]:
    """Profile fields are removed as rows: a field row holds nothing but its value."""
    removed = await conn.fetchval(queries.PROFILE_DELETE, subject_id)
    return _positive({"поля профиля": removed})


async def erase_attachments(conn: asyncpg.Connection, where: str, *args: object) -> int:
    """Delete the files and the names of the attachments matching ``where`` (a fixed fragment
    of SQL over attachment, with ``args`` as its parameters); rows stay."""
    rows = await conn.fetch(queries.attachments_to_erase(where), *args)
    if not rows:
        return 0
    await conn.execute(queries.ATTACHMENTS_FORGET, [row["id"] for row in rows])
    folder = attachments.folder()
    paths = [folder / row["path"] for row in rows if row["path"]]
    defer_unlink(paths)
    return len(rows)


def unlink(paths: list[Path]) -> None:
    """Overwrite each file with zeros (flushed to the disk), then delete it. On a journaling
    or copy-on-write file system, or an SSD, old blocks may survive the overwrite: the act and
    docs/dpo.md say so."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            overwrite(path)
            path.unlink()


def overwrite(path: Path) -> None:
    size = path.stat().st_size
    with path.open("r+b") as file:
        block = b"\0" * 65536
        left = size
        while left > 0:
            left -= file.write(block[: min(left, len(block))])
        file.flush()
        os.fsync(file.fileno())


def defer_unlink(paths: list[Path]) -> None:
    """Files an eraser destroys: deleted (overwritten first) once the destruction commits, so a
    rolled-back destruction leaves every file in place."""
    pending = PENDING_FILES.get()
    if pending is not None:
        pending.extend(paths)
    else:
        unlink(paths)


@eraser(
    "chat",
    columns=(
        "message.body",
        "message.form",
        "message.buttons",
        "attachment.name",
        "attachment.path",
        "conversation.tags",
        "visitor.token_hash",
    ),
)
async def erase_chat(conn: asyncpg.Connection, subject_id: uuid.UUID) -> dict[str, int]:
    """Message texts become a tombstone (new versions, so open chats update), attachments lose
    their files and names, the bot's forms lose the masked value, chat sessions are removed."""
    visitors = [
        bytes(row["token_hash"]).hex()
        for row in await conn.fetch(queries.VISITOR_TOKENS, subject_id)
    ]
    conversation = await conn.fetchval(queries.CONVERSATION_LOCK, subject_id)
    files = await erase_attachments(conn, queries.CHAT_ATTACHMENTS, conversation, visitors)
    texts = tags = 0
    if conversation is not None:
        texts = await tombstone(conn, conversation)
        # Tags are the operators' words about this client ("перезвонить Ивану"): they go.
        tags = await conn.fetchval(queries.CONVERSATION_TAGS_CLEAR, conversation)
    sessions = await conn.fetchval(queries.VISITORS_DELETE, subject_id)
    return _positive(
        {"сообщения": texts, "вложения": files, "сеансы чата": sessions, "метки диалога": tags}
    )


async def tombstone(
    conn: asyncpg.Connection, conversation_id: int, before: datetime | None = None
) -> int:
    """Replace the texts of the client's and operators' messages (only those written before
    ``before``, if given) and clear the masked values of the bot's forms; each changed message
    takes the next version of the conversation. Returns the texts replaced."""
    rows = await conn.fetch(queries.TOMBSTONE_CANDIDATES, conversation_id, TOMBSTONE, before)
    if not rows:
        return 0
    last = await conn.fetchval(queries.CONVERSATION_VERSIONS_TAKE, conversation_id, len(rows))
    first = last - len(rows) + 1
    await conn.executemany(
        queries.MESSAGE_TOMBSTONE,
        [
            (conversation_id, row["seq"], first + offset, TOMBSTONE)
            for offset, row in enumerate(rows)
        ],
    )
    return sum(1 for row in rows if row["author_kind"] != "bot")


@eraser("consent", columns=("consent_event.ip", "consent_event.user_agent"))
async def erase_consent_proof(conn: asyncpg.Connection, subject_id: uuid.UUID) -> dict[str, int]:
    """Consent events stay as proof; only the IP address and user agent go (the trigger allows
    exactly that)."""
    erased = await conn.fetchval(queries.CONSENT_PROOF_ERASE, subject_id)
    return _positive({"IP-адреса и сведения о браузере в доказательствах согласий": erased})


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
    return _positive(
        {
            "сведения в запросах субъекта": requests,
            "ФИО в письменных запросах": letters["names"],
            "документы в письменных запросах": letters["documents"],
            "адреса в письменных запросах": letters["addresses"],
        }
    )


@eraser("mailings", columns=("mailing_delivery.reason",))
async def erase_delivery_reasons(conn: asyncpg.Connection, subject_id: uuid.UUID) -> dict[str, int]:
    """A failed delivery's reason may quote the address (a mail server's answer): it goes; the
    delivery row stays as a count."""
    erased = await conn.fetchval(queries.DELIVERY_REASONS_ERASE, subject_id, REDACTED)
    return _positive({"причины недоставки рассылок": erased})


# Free texts staff write about several people at once: a subject's values are replaced in them.
scrubbed(
    "incident.summary",
    "incident.causes",
    "incident.harm",
    "incident.measures",
    "incident.investigation",
    "canned_reply.body",
    "mailing.body",
    "mailing.title",
    reason="staff's free text about many subjects; the subject's values in it become «[удалено]»",
)

not_pd(
    "processing_log.action",
    "processing_log.actor_id",
    "processing_log.actor_kind",
    "processing_log.categories",
    "processing_log.fields",
    "processing_log.legal_basis",
    "processing_log.purpose",
    "processing_log.reason",
    "processing_log_chain.hash",
    "processing_log_chain.prev_hash",
    reason="the log names fields, purposes and bases, never values (docs/processing-log.md)",
)
not_pd(
    "destruction_act.act",
    "destruction_act.extract",
    "destruction_act.scope",
    "destruction_act.sha256",
    reason="acts are labels and counts; destruction refuses an act that repeats a value",
)
not_pd(
    "subject_field.field",
    "subject_field.purpose",
    "subject_field.source",
    "conversation.status",
    "message.author_kind",
    "message.attachment_id",
    "message.links",
    "attachment.id",
    "attachment.content_type",
    "attachment.uploader_kind",
    "consent_event.channel",
    "consent_event.control",
    "consent_event.details",
    "consent_event.document_sha256",
    "consent_event.kind",
    "consent_event.purpose_code",
    "rights_request.channel",
    "rights_request.kind",
    "rights_request.purpose_code",
    "rights_request.status",
    "rights_request_event.actor_kind",
    "rights_request_event.from_status",
    "rights_request_event.to_status",
    "mailing_delivery.channel",
    "mailing_delivery.status",
    "incident.fields",
    "retention_run.error",
    "retention_run.started_by",
    "retention_run.summary",
    reason="okno's vocabulary, ids and counts: kinds, statuses, field names, document links",
)
not_pd(
    "attachment.uploader_id",
    reason="a visitor's session id (the hash of a token whose row destruction deletes)",
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
    "topic.slug",
    "topic.title",
    "topic.assignment",
    "team.name",
    "mailing.image_id",
    "mailing.links",
    "mailing.status",
    "mailing.tags",
    "mailing.topics",
    reason="the operator's own documents and settings, the same for every subject",
)
not_pd(
    "staff_user.display_name",
    "staff_user.login",
    "staff_user.password_hash",
    "staff_user.pseudonym",
    "staff_user.role",
    "staff_session.token_hash",
    "staff_presence.status",
    "incident.contact_person",
    "incident.responsible",
    "canned_reply.shortcut",
    reason="staff's own accounts and roles, not a data subject's",
)
not_pd(
    "erasure_compaction.tables",
    "erasure_compaction.last_error",
    reason="names of tables and of errors (the error's class, never its text)",
)
not_pd(
    "staff_audit.actor_login",
    "staff_audit.entity",
    "staff_audit.entity_key",
    "staff_audit.change",
    "staff_audit.before",
    "staff_audit.after",
    reason="changes of settings, teams, topics and staff accounts; never a subject's data",
)
not_pd(
    "staff_login_failure.login_hash",
    "staff_login_failure.ip_hash",
    reason="failed staff sign-ins: keyed hashes of a login and an address, tied to no subject",
)
not_pd(
    "migration.app_name",
    "migration.name",
    reason="Piccolo's list of applied migrations",
)
not_pd(
    "chat_setting.key",
    "chat_setting.value",
    reason="the chat's title, greeting and widget settings, written by an admin for every client",
)
not_pd(
    "team_hours.time_zone",
    "team_hours.week",
    reason="a team's working hours",
)
