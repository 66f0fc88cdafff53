"""Message rows as the wire objects of docs/protocol.md."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from okno.platform.chat import attachments, queries

QUOTE_LENGTH = 200

BLOCKED_TEXT = "Данные клиента заблокированы на время проверки"
# Marked as special-category data (okno.platform.chat.special): staff see this instead.
SPECIAL_TEXT = "скрыто: особая категория"


def _author(row: asyncpg.Record, for_client: bool) -> dict[str, Any]:
    author: dict[str, Any] = {"kind": row["author_kind"], "name": row["author_name"]}
    if not for_client and row["author_kind"] == "staff":
        author["id"] = row["author_id"]  # the console tells its own messages by it
    return author


def wire(row: asyncpg.Record, *, for_client: bool) -> dict[str, Any]:
    if not for_client and row["subject_blocked"]:
        return _withheld(row)
    if not for_client and row["special"]:
        return _withheld(row, SPECIAL_TEXT)
    deleted = row["deleted_at"] is not None
    reply = None
    if row["reply_to"] is not None and not (for_client and row["reply_internal"]):
        quoted = "" if row["reply_deleted_at"] else (row["reply_body"] or "")[:QUOTE_LENGTH]
        reply = {
            "seq": row["reply_to"],
            "author": {"kind": row["reply_author_kind"], "name": row["reply_author_name"]},
            "text": SPECIAL_TEXT if not for_client and row["reply_special"] else quoted,
        }
    attachment = None
    if row["attachment_id"] is not None:
        attachment = {
            "id": row["attachment_id"],
            "name": row["attachment_name"],
            "size": row["attachment_size"],
            "type": row["attachment_type"],
            "image": row["attachment_image"],
            "url": attachments.download_url(row["attachment_id"], row["attachment_name"]),
        }
    return {
        "conversation": row["conversation_id"],
        "seq": row["seq"],
        "version": row["version"],
        "client_id": str(row["client_id"]),
        "author": _author(row, for_client),
        "text": "" if deleted else row["body"],
        "reply_to": reply,
        "attachment": attachment,
        "buttons": [] if deleted else msgspec.json.decode(row["buttons"]),
        "links": [] if deleted else msgspec.json.decode(row["links"]),
        "form": None if deleted or row["form"] is None else msgspec.json.decode(row["form"]),
        "internal": row["internal"],
        "created_at": row["created_at"],
        "edited_at": row["edited_at"],
        "deleted": deleted,
    }


def _withheld(row: asyncpg.Record, text: str = BLOCKED_TEXT) -> dict[str, Any]:
    """Blocking (okno.platform.rights.blocking) or a special category: staff get a message's
    place, not its content."""
    return {
        "conversation": row["conversation_id"],
        "seq": row["seq"],
        "version": row["version"],
        "client_id": str(row["client_id"]),
        "author": _author(row, for_client=False),
        "text": text,
        "reply_to": None,
        "attachment": None,
        "buttons": [],
        "links": [],
        "form": None,
        "internal": row["internal"],
        "created_at": row["created_at"],
        "edited_at": row["edited_at"],
        "deleted": False,
    }


async def changed_since(
    conn: asyncpg.Connection, conversation_id: int, after_version: int, *, for_client: bool
) -> list[asyncpg.Record]:
    return await conn.fetch(queries.CHANGED_SINCE[for_client], conversation_id, after_version)


async def changed_since_many(
    conn: asyncpg.Connection, after: dict[int, int]
) -> list[asyncpg.Record]:
    """The staff view of what changed in several conversations, each after its own version;
    ordered by conversation, then version."""
    return await conn.fetch(queries.CHANGED_IN_MANY, list(after), list(after.values()))


async def page_before(
    conn: asyncpg.Connection,
    conversation_id: int,
    before_seq: int | None,
    limit: int,
    *,
    for_client: bool,
) -> list[asyncpg.Record]:
    rows = await conn.fetch(
        queries.PAGE_BEFORE[for_client],
        conversation_id,
        before_seq or 2**62,
        limit,
    )
    return rows[::-1]
