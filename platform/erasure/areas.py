"""The core areas' erasers: profile fields, chat, consent proof, rights requests.

Each destroys what its area keeps of one subject and returns counts for the act. What is not
PD stays: rows as counts and times, pseudonymous ids, the processing log (which never held
values). Messages keep their place in the conversation with a neutral tombstone.
"""

from __future__ import annotations

import contextlib
import uuid
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path

import asyncpg

from okno.platform.erasure.registry import eraser

# Files to delete after commit, so that a destruction rolled back leaves every file in place.
PENDING_FILES: ContextVar[list[Path] | None] = ContextVar("okno_pending_files", default=None)
TOMBSTONE = "Сообщение удалено: персональные данные уничтожены по закону"
REDACTED = "[удалено]"
# Texts the erasers leave behind: a destroyed value that is part of one is checked elsewhere.
NEUTRAL = (TOMBSTONE, REDACTED)


def _positive(counts: dict[str, int]) -> dict[str, int]:
    return {kind: count for kind, count in counts.items() if count}


@eraser("subjects")
async def erase_profile(conn: asyncpg.Connection, subject_id: uuid.UUID) -> dict[str, int]:
    """Profile fields are removed as rows: a field row holds nothing but its value."""
    removed = await conn.fetchval(
        "WITH gone AS (DELETE FROM subject_field WHERE subject_id = $1 RETURNING 1)"
        " SELECT count(*) FROM gone",
        subject_id,
    )
    return _positive({"поля профиля": removed})


async def erase_attachments(conn: asyncpg.Connection, where: str, *args: object) -> int:
    """Delete the files and the names of the attachments matching ``where``; rows stay."""
    from okno.platform.chat import attachments

    rows = await conn.fetch(
        f"SELECT id, path FROM attachment WHERE ({where}) AND (path IS NOT NULL OR name <> '')"
        " FOR UPDATE",
        *args,
    )
    if not rows:
        return 0
    await conn.execute(
        "UPDATE attachment SET path = NULL, name = '' WHERE id = ANY($1::text[])",
        [row["id"] for row in rows],
    )
    folder = attachments.folder()
    paths = [folder / row["path"] for row in rows if row["path"]]
    pending = PENDING_FILES.get()
    if pending is not None:
        pending.extend(paths)  # deleted by the destruction run once its transaction commits
    else:
        unlink(paths)
    return len(rows)


def unlink(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@eraser("chat")
async def erase_chat(conn: asyncpg.Connection, subject_id: uuid.UUID) -> dict[str, int]:
    """Message texts become a tombstone (new versions, so open chats update), attachments lose
    their files and names, the bot's forms lose the masked value, chat sessions are removed."""
    visitors = [
        bytes(row["token_hash"]).hex()
        for row in await conn.fetch(
            "SELECT token_hash FROM visitor WHERE subject_id = $1", subject_id
        )
    ]
    conversation = await conn.fetchval(
        "SELECT id FROM conversation WHERE subject_id = $1 FOR UPDATE", subject_id
    )
    files = await erase_attachments(
        conn,
        "conversation_id = $1 OR (conversation_id IS NULL AND uploader_kind = 'subject'"
        " AND uploader_id = ANY($2::text[]))",
        conversation,
        visitors,
    )
    texts = 0
    if conversation is not None:
        texts = await tombstone(conn, conversation)
    sessions = await conn.fetchval(
        "WITH gone AS (DELETE FROM visitor WHERE subject_id = $1 RETURNING 1)"
        " SELECT count(*) FROM gone",
        subject_id,
    )
    return _positive({"сообщения": texts, "вложения": files, "сеансы чата": sessions})


async def tombstone(
    conn: asyncpg.Connection, conversation_id: int, before: datetime | None = None
) -> int:
    """Replace the texts of the client's and operators' messages (only those written before
    ``before``, if given) and clear the masked values of the bot's forms; each changed message
    takes the next version of the conversation. Returns the texts replaced."""
    rows = await conn.fetch(
        "SELECT seq, author_kind FROM message WHERE conversation_id = $1"
        " AND ($3::timestamptz IS NULL OR created_at < $3) AND ("
        " (author_kind IN ('subject', 'staff') AND body NOT IN ('', $2))"
        " OR (author_kind = 'bot' AND (form ? 'display' OR buttons <> '[]'::jsonb)))"
        " ORDER BY seq",
        conversation_id,
        TOMBSTONE,
        before,
    )
    if not rows:
        return 0
    last = await conn.fetchval(
        "UPDATE conversation SET last_version = last_version + $2, updated_at = now()"
        " WHERE id = $1 RETURNING last_version",
        conversation_id,
        len(rows),
    )
    first = last - len(rows) + 1
    await conn.executemany(
        "UPDATE message SET version = $3,"
        " body = CASE WHEN author_kind = 'bot' THEN body ELSE $4 END,"
        " buttons = '[]', form = CASE WHEN form IS NULL THEN NULL ELSE form - 'display' END"
        " WHERE conversation_id = $1 AND seq = $2",
        [
            (conversation_id, row["seq"], first + offset, TOMBSTONE)
            for offset, row in enumerate(rows)
        ],
    )
    return sum(1 for row in rows if row["author_kind"] != "bot")


@eraser("consent")
async def erase_consent_proof(conn: asyncpg.Connection, subject_id: uuid.UUID) -> dict[str, int]:
    """Consent events stay as proof; only the IP address and user agent go (the trigger allows
    exactly that)."""
    erased = await conn.fetchval(
        "WITH changed AS (UPDATE consent_event SET ip = NULL, user_agent = NULL"
        " WHERE subject_id = $1 AND (ip IS NOT NULL OR user_agent IS NOT NULL) RETURNING 1)"
        " SELECT count(*) FROM changed",
        subject_id,
    )
    return _positive({"IP-адреса и сведения о браузере в доказательствах согласий": erased})


@eraser("rights")
async def erase_rights_texts(conn: asyncpg.Connection, subject_id: uuid.UUID) -> dict[str, int]:
    """Requests stay (kind, status, dates, deadlines); their identifying details and every free
    text written about the subject are replaced by a marker."""
    requests = await conn.fetchval(
        "WITH changed AS (UPDATE rights_request SET details = '{}', requester = '{}',"
        " answer = CASE WHEN answer IS NULL THEN NULL ELSE $2 END,"
        " decision_reason = CASE WHEN decision_reason IS NULL THEN NULL ELSE $2 END,"
        " extension_reason = CASE WHEN extension_reason IS NULL THEN NULL ELSE $2 END"
        " WHERE subject_id = $1 RETURNING 1) SELECT count(*) FROM changed",
        subject_id,
        REDACTED,
    )
    await conn.execute(
        "UPDATE rights_request_event SET"
        " note = CASE WHEN note IS NULL THEN NULL ELSE $2 END,"
        " notice_to_subject = CASE WHEN notice_to_subject IS NULL THEN NULL ELSE $2 END"
        " WHERE request_id IN (SELECT id FROM rights_request WHERE subject_id = $1)"
        " AND (note <> $2 OR notice_to_subject <> $2)",
        subject_id,
        REDACTED,
    )
    return _positive({"сведения в запросах субъекта": requests})
