"""Destruction: every registered eraser in one transaction, verified, with its act and extract.

``destroy_subject`` destroys all of a subject's PD (a request, a withdrawal, a DPO decision);
``destroy_fields`` destroys some profile fields (a retention term that ended, a withdrawn
consent's fields), and masks those values wherever the subject's messages carry them.

The run: lock the subject, collect the values to look for, erase, search the database and the
data folder (a failure rolls everything back), write the processing-log rows and the act in the
same transaction, commit, and search once more. Anything found after commit raises
``DestructionIncompleteError``: loud, naming tables and kinds, never values.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from okno.platform import database
from okno.platform.chat import erasure as chat_erasure
from okno.platform.chat import notify
from okno.platform.chat import queries as chat_queries
from okno.platform.erasure import acts, compaction, files, journal, queries, registry, verification
from okno.platform.erasure.verification import DestructionIncompleteError
from okno.platform.errors import Refused
from okno.platform.pd_detect import find_contacts
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.processing_log.schemas import LogEntry
from okno.platform.subjects.fields import FIELDS
from okno.platform.webhooks import events as webhook_events

logger = logging.getLogger("okno.erasure")

__all__ = ["DestructionError", "DestructionIncompleteError", "destroy_fields", "destroy_subject"]

# What each core eraser's count means in registry fields, for the act's categories and the log.
ITEM_FIELDS = {
    "сообщения": ("message_text",),
    "вложения": ("attachment",),
    "сеансы чата": ("visitor_token",),
    "IP-адреса и сведения о браузере в доказательствах согласий": ("ip_address", "user_agent"),
}
MESSAGES = ("message_text", "attachment")
MESSAGE_ITEMS = (("message_text", "сообщения"), ("attachment", "вложения"))
LOG_REASONS = {
    "152-fz:20.3": "уничтожение по требованию субъекта",
    "152-fz:21.3": "уничтожение: неправомерная обработка",
    "152-fz:21.4": "уничтожение: цель обработки достигнута",
    "152-fz:21.5": "уничтожение после отзыва согласия",
    "152-fz:21.6": "отложенное уничтожение",
    "152-fz:5.7": "уничтожение: истёк срок хранения",
}


class DestructionError(Refused):
    """Destruction cannot start (no such subject, already destroyed, PD in the act's texts)."""


def load_erasers() -> dict[str, Any]:
    return registry.load()


async def destroy_subject(
    subject_id: uuid.UUID,
    *,
    actor: Any,
    reason: str,
    legal_basis: str = "152-fz:20.3",
    request_id: int | None = None,
    identification: dict[str, Any] | None = None,
) -> acts.Act:
    """Destroy everything okno keeps of the subject; returns the act."""
    return await _run(
        subject_id, None, actor, reason, legal_basis, request_id, identification or {}
    )


async def destroy_fields(
    subject_id: uuid.UUID,
    fields: tuple[str, ...],
    *,
    actor: Any,
    reason: str,
    legal_basis: str,
    request_id: int | None = None,
    identification: dict[str, Any] | None = None,
) -> acts.Act:
    """Destroy some profile fields of the subject; returns the act."""
    unknown = [name for name in fields if name not in FIELDS]
    if unknown or not fields:
        raise DestructionError(f"нет таких полей в реестре: {', '.join(unknown) or '—'}")
    return await _run(
        subject_id, tuple(fields), actor, reason, legal_basis, request_id, identification or {}
    )


async def destroy_messages(
    subject_id: uuid.UUID,
    before: datetime,
    *,
    actor: Any,
    reason: str,
    legal_basis: str = "152-fz:5.7",
) -> acts.Act:
    """Destroy the texts and files of the subject's messages written before ``before`` (their
    purpose's term has ended); later messages and the profile stay."""
    return await _run(subject_id, MESSAGES, actor, reason, legal_basis, None, {}, before=before)


async def _run(
    subject_id: uuid.UUID,
    fields: tuple[str, ...] | None,
    actor: Any,
    reason: str,
    legal_basis: str,
    request_id: int | None,
    identification: dict[str, Any],
    *,
    before: datetime | None = None,
) -> acts.Act:
    reason = reason.strip()
    if not reason:
        raise DestructionError("укажите причину уничтожения")
    erasers = load_erasers()
    pending: list[files.Doomed] = []
    token = files.PENDING_FILES.set(pending)
    try:
        act, where, evidence = await _destroy(
            subject_id, fields, actor, reason, legal_basis, request_id, identification, before,
            erasers, pending,
        )  # fmt: skip
    finally:
        files.PENDING_FILES.reset(token)
    await asyncio.to_thread(files.unlink, pending)
    await asyncio.to_thread(journal.append, act)  # for a restore from a backup: journal.py
    async with database.acquire() as conn:  # the act's log rows chained, the head kept outside
        await processing_log.seal_all(conn)
        await processing_log.anchor(conn, f"act:{act.id}")
    # The tables' files still hold the old row versions: rewrite them now (after commit, on a
    # connection of its own); the background job retries whatever does not succeed here.
    if not compaction.BATCH.get():
        try:
            await compaction.run_pending()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            logger.warning("destruction: compaction left to the job (%s)", type(error).__name__)
    await _announce(where)
    async with database.acquire() as conn:
        after = await verification.check(conn, where, evidence)
    if not after.clean:
        logger.error("PD found after destruction (act %s): %s", act.id, "; ".join(after.found))
        raise DestructionIncompleteError(
            f"после уничтожения (акт № {act.id}) найдены остатки: " + "; ".join(after.found)
        )
    return act


async def _destroy(
    subject_id: uuid.UUID,
    fields: tuple[str, ...] | None,
    actor: Any,
    reason: str,
    legal_basis: str,
    request_id: int | None,
    identification: dict[str, Any],
    before: datetime | None,
    erasers: dict[str, Any],
    pending: list[files.Doomed],
) -> tuple[acts.Act, verification.Footprint, verification.Evidence]:
    """The transaction: erase, verify (files about to be deleted do not count), log, act."""
    async with database.transaction():
        conn = database.connection()
        subject = await conn.fetchrow(queries.SUBJECT_LOCK, subject_id)
        if subject is None:
            raise DestructionError("нет такого субъекта")
        if fields is None and subject["destroyed_at"] is not None:
            raise DestructionError("персональные данные этого субъекта уже уничтожены")
        where = await verification.footprint(conn, subject_id)
        chosen = list(fields) if fields is not None else None
        profile = [
            row["field"]
            for row in await conn.fetch(queries.PROFILE_FIELD_NAMES, subject_id, chosen)
        ]
        evidence = await verification.collect(conn, where, fields=fields, before=before)
        identification = {
            "conversation": f"Клиент #{where.conversations[0]}" if where.conversations else None,
            **identification,
        }
        _refuse_values_in(evidence, reason, identification)
        if fields is None:
            items: dict[str, int] = {}
            for erase in erasers.values():
                items.update({kind: n for kind, n in (await erase(conn, subject_id)).items() if n})
            scrubbed = await _scrub(conn, evidence)
            if scrubbed:
                items["значения в служебных текстах"] = scrubbed
            await conn.execute(queries.SUBJECT_DESTROYED, subject_id)
            destroyed = list(profile)
            for kind, names in ITEM_FIELDS.items():
                if items.get(kind):
                    destroyed += [name for name in names if name not in destroyed]
        elif before is not None:
            items = await _erase_messages(conn, where, before)
            destroyed = [name for name, kind in MESSAGE_ITEMS if items.get(kind)]
        else:
            items = await _erase_fields(conn, subject_id, where, fields, evidence)
            destroyed = list(profile)
        report = await verification.check(conn, where, evidence, leaving=pending)
        if not report.clean:
            logger.error("destruction of a subject is incomplete: %s", "; ".join(report.found))
            raise DestructionIncompleteError(
                "уничтожение не завершено, изменения отменены; остались: " + "; ".join(report.found)
            )
        log_reason = LOG_REASONS.get(legal_basis, "уничтожение персональных данных")
        entry = LogEntry(
            action=Action.DESTRUCTION,
            actor_kind=ActorKind.STAFF if actor is not None else ActorKind.SYSTEM,
            actor_id=str(actor.id) if actor is not None else None,
            subject_id=subject_id,
            fields=tuple(destroyed),
            legal_basis=legal_basis,
            request_id=request_id,
            reason=log_reason,
        )
        ids = await processing_log.record(entry) if destroyed else []
        at = await conn.fetchval(queries.NOW)
        log_rows = [
            {
                "id": row_id,
                "action": "destruction",
                "actor": entry.actor_kind.value,
                "fields": list(destroyed),
                "legal_basis": legal_basis,
                "request_id": request_id,
                "reason": log_reason,
            }
            for row_id in ids
        ]
        act = await acts.store(
            conn,
            subject_id=subject_id,
            request_id=request_id,
            scope="subject" if fields is None else "fields",
            actor=actor,
            fields=destroyed,
            items=items,
            reason=reason,
            legal_basis=legal_basis,
            identification=identification,
            verification=report.as_dict(),
            log_rows=log_rows,
            at=at,
        )
        await compaction.request(act.id, compaction.tables_of_erasers())
        # Receivers of webhooks hold copies too: this tells them to delete theirs.
        await webhook_events.emit(
            conn,
            "subject.destroyed",
            {
                "subject_id": str(subject_id),
                "act_id": act.id,
                "scope": "subject" if fields is None else "messages" if before else "fields",
                "fields": list(destroyed),
            },
            subject_id=subject_id,
        )
    return act, where, evidence


async def _scrub(conn: asyncpg.Connection, evidence: verification.Evidence) -> int:
    """Replace the subject's distinctive values in the staff's shared free texts (incident
    reports, canned replies, mailings); returns how many texts changed."""
    changed = 0
    values = sorted(evidence.distinctive, key=len, reverse=True)
    if not values:
        return 0
    for column in registry.SCRUBBED:
        table, name = column.split(".")
        for value in values:
            changed += await conn.fetchval(queries.scrub(table, name), value, registry.REDACTED)
    return changed


def _refuse_values_in(
    evidence: verification.Evidence, reason: str, identification: dict[str, Any]
) -> None:
    """The act is kept for years: none of the values it records the destruction of may be in it."""
    texts = [reason, *verification.strings(identification)]
    for value, kind in evidence.values.items():
        if value in evidence.distinctive and any(value in text for text in texts):
            label = FIELDS[kind].label if kind in FIELDS else "сведения из запроса"
            raise DestructionError(
                f"в причине или сведениях об идентификации есть уничтожаемое значение ({label}):"
                " акт не должен его содержать"
            )


async def _erase_fields(
    conn: asyncpg.Connection,
    subject_id: uuid.UUID,
    where: verification.Footprint,
    fields: tuple[str, ...],
    evidence: verification.Evidence,
) -> dict[str, int]:
    """Profile rows of ``fields`` go; in the subject's messages those values (and, for phone and
    e-mail, any number or address of that kind the client typed) become «[удалено]»."""
    removed = await conn.fetchval(queries.FIELDS_DELETE, subject_id, list(fields))
    values = sorted(evidence.values, key=len, reverse=True)
    kinds = {name for name in fields if name in ("phone", "email")}
    masked = 0
    for conversation in where.conversations:
        rows = await conn.fetch(queries.MESSAGES_TO_MASK, conversation)
        changes: list[tuple[int, str, bool]] = []
        for row in rows:
            body = row["body"]
            if row["author_kind"] == "subject" and kinds:
                spans = [span for span in find_contacts(body) if span[2] in kinds]
                for start, end, _ in reversed(spans):
                    body = body[:start] + registry.REDACTED + body[end:]
            for value in values:
                body = body.replace(value, registry.REDACTED)
            form = msgspec.json.decode(row["form"]) if row["form"] else None
            form_hit = isinstance(form, dict) and form.get("field") in fields
            if body != row["body"] or form_hit:
                changes.append((row["seq"], body, form_hit))
        if not changes:
            continue
        last = await conn.fetchval(
            chat_queries.CONVERSATION_VERSIONS_TAKE, conversation, len(changes)
        )
        first = last - len(changes) + 1
        await conn.executemany(
            queries.MESSAGE_MASK,
            [
                (conversation, seq, body, first + offset, form_hit)
                for offset, (seq, body, form_hit) in enumerate(changes)
            ],
        )
        masked += len(changes)
    counts = {"поля профиля": removed, "значения в текстах сообщений": masked}
    return {kind: count for kind, count in counts.items() if count}


async def _erase_messages(
    conn: asyncpg.Connection, where: verification.Footprint, before: datetime
) -> dict[str, int]:
    texts = attachments = 0
    for conversation in where.conversations:
        attachments += await chat_erasure.erase_attachments(
            conn, chat_queries.ATTACHMENTS_BEFORE, conversation, before
        )
        texts += await chat_erasure.tombstone(conn, conversation, before)
    counts = {"сообщения": texts, "вложения": attachments}
    return {kind: count for kind, count in counts.items() if count}


async def _announce(where: verification.Footprint) -> None:
    """Open chats show the tombstones at once (best effort: the next resync shows them too)."""
    for conversation in where.conversations:
        try:
            async with database.acquire() as conn:
                version = await conn.fetchval(queries.CONVERSATION_VERSION, conversation)
            await notify.changed(conversation, version)
        except (OSError, asyncpg.PostgresError):
            logger.warning("could not announce a destroyed conversation")
