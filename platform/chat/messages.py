"""Message rows as the wire objects of docs/protocol.md."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from okno.platform.chat import attachments

QUOTE_LENGTH = 200

COLUMNS = """
m.conversation_id, m.seq, m.version, m.client_id, m.author_kind, m.author_id,
s.display_name AS author_name, m.body, m.reply_to, r.body AS reply_body,
r.author_kind AS reply_author_kind,
rs.display_name AS reply_author_name, r.internal AS reply_internal,
r.deleted_at AS reply_deleted_at, a.id AS attachment_id, a.name AS attachment_name,
a.size AS attachment_size, a.content_type AS attachment_type, a.image AS attachment_image,
m.buttons, m.links, m.form, m.internal, m.created_at, m.edited_at, m.deleted_at,
m.special_category IS NOT NULL AND m.special_decision IS DISTINCT FROM 'destroyed' AS special,
r.special_category IS NOT NULL AND r.special_decision IS DISTINCT FROM 'destroyed'
  AS reply_special,
(SELECT bs.blocked_at IS NOT NULL FROM conversation bc JOIN subject bs
  ON bs.id = bc.subject_id WHERE bc.id = m.conversation_id) AS subject_blocked
"""
JOINS = """
LEFT JOIN staff_user s ON s.id = m.author_id
LEFT JOIN message r ON r.conversation_id = m.conversation_id AND r.seq = m.reply_to
LEFT JOIN staff_user rs ON rs.id = r.author_id
LEFT JOIN attachment a ON a.id = m.attachment_id AND m.deleted_at IS NULL
"""
SELECT = f"SELECT {COLUMNS} FROM message m {JOINS}"
# Each conversation's changes, read as ``changed_since`` reads one: OFFSET 0 keeps the planner
# from flattening the lateral subquery into hash joins over whole tables, which it prefers
# while they are small and the length of the id list is unknown.
CHANGED_IN_MANY = f"""
SELECT changed.*
FROM unnest($1::bigint[], $2::bigint[]) AS d(conversation_id, after)
CROSS JOIN LATERAL (
    {SELECT} WHERE m.conversation_id = d.conversation_id AND m.version > d.after OFFSET 0
) changed
ORDER BY changed.conversation_id, changed.version
"""


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
    visible = "AND NOT m.internal" if for_client else ""
    return await conn.fetch(
        f"{SELECT} WHERE m.conversation_id = $1 AND m.version > $2 {visible} ORDER BY m.version",
        conversation_id,
        after_version,
    )


async def changed_since_many(
    conn: asyncpg.Connection, after: dict[int, int]
) -> list[asyncpg.Record]:
    """The staff view of what changed in several conversations, each after its own version;
    ordered by conversation, then version."""
    return await conn.fetch(CHANGED_IN_MANY, list(after), list(after.values()))


async def page_before(
    conn: asyncpg.Connection,
    conversation_id: int,
    before_seq: int | None,
    limit: int,
    *,
    for_client: bool,
) -> list[asyncpg.Record]:
    visible = "AND NOT m.internal" if for_client else ""
    rows = await conn.fetch(
        f"{SELECT} WHERE m.conversation_id = $1 AND m.seq < $2 {visible}"
        " ORDER BY m.seq DESC LIMIT $3",
        conversation_id,
        before_seq or 2**62,
        limit,
    )
    return rows[::-1]
