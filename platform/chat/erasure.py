"""What destruction erases of the chat: message texts, attachments, tags, chat sessions, the
written consents of special categories; and the chat's columns that hold no PD.

Messages keep their place in the conversation with a neutral tombstone; attachments keep their
rows (messages point at them) and lose their files and names.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from okno.platform.chat import queries
from okno.platform.erasure.files import defer_unlink
from okno.platform.erasure.registry import (
    STAFF_OWN,
    STAFF_TEXT,
    VOCABULARY,
    eraser,
    not_pd,
    positive,
    scrubbed,
)
from okno.platform.storage import StoredFile

TOMBSTONE = "Сообщение удалено: персональные данные уничтожены по закону"


async def erase_attachments(conn: asyncpg.Connection, where: str, *args: object) -> int:
    """Delete the files and the names of the attachments matching ``where`` (a fixed fragment
    of SQL over attachment, with ``args`` as its parameters); rows stay."""
    rows = await conn.fetch(queries.attachments_to_erase(where), *args)
    if not rows:
        return 0
    await conn.execute(queries.ATTACHMENTS_FORGET, [row["id"] for row in rows])
    defer_unlink([StoredFile(row["path"]) for row in rows if row["path"]])
    return len(rows)


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
    their files and names, the bot's forms lose the masked value, chat sessions are removed
    and the conversation is closed."""
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
        # Nobody is left to answer: the conversation is closed and leaves the queue, so no
        # list shows it «Открыт» (the console marks it destroyed, client.destroyed).
        await conn.execute(queries.SET_STATUS, conversation, "resolved", False)
    sessions = await conn.fetchval(queries.VISITORS_DELETE, subject_id)
    return positive(
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


@eraser("special-categories", columns=("message.special_consent",))
async def erase_written_consents(conn: asyncpg.Connection, subject_id: uuid.UUID) -> dict[str, int]:
    """The reference of a written consent may name the subject: it goes with the rest."""
    cleared = await conn.fetchval(queries.CLEAR_WRITTEN_CONSENTS, subject_id)
    return {"реквизиты письменных согласий": cleared} if cleared else {}


not_pd(
    "message.special_category",
    "message.special_decision",
    reason="codes: which Art. 10 category staff marked, and the DPO's decision",
)
scrubbed("canned_reply.body", reason=STAFF_TEXT)
not_pd(
    "conversation.status",
    "message.author_kind",
    "message.attachment_id",
    "message.links",
    "attachment.id",
    "attachment.content_type",
    "attachment.uploader_kind",
    reason=VOCABULARY,
)
not_pd(
    "attachment.uploader_id",
    reason="a visitor's session id (the hash of a token whose row destruction deletes)",
)
not_pd("staff_presence.status", "canned_reply.shortcut", reason=STAFF_OWN)
