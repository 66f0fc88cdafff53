"""Message rows as the wire objects of docs/protocol.md."""

from __future__ import annotations

import asyncpg
import msgspec

from okno.platform.chat import attachments, queries
from okno.platform.chat.schemas import Attachment, Author, Button, Form, Link, Quote, WireMessage

QUOTE_LENGTH = 200

BLOCKED_TEXT = "Данные клиента заблокированы на время проверки"
# Marked as special-category data (okno.platform.chat.special): staff see this instead.
SPECIAL_TEXT = "скрыто: особая категория"


_buttons = msgspec.json.Decoder(list[Button]).decode
_links = msgspec.json.Decoder(list[Link]).decode
_form = msgspec.json.Decoder(Form).decode


def _author(row: asyncpg.Record, for_client: bool) -> Author:
    if not for_client and row["author_kind"] == "staff":
        return Author(row["author_kind"], row["author_name"], row["author_id"])
    return Author(row["author_kind"], row["author_name"])


def _withheld(row: asyncpg.Record, for_client: bool) -> str | None:
    """What staff see instead of a message's content: the subject's data are blocked
    (okno.platform.rights.blocking) or it is marked as a special category; None: the content."""
    if for_client:
        return None
    if row["subject_blocked"]:
        return BLOCKED_TEXT
    return SPECIAL_TEXT if row["special"] else None


def _quote(row: asyncpg.Record, for_client: bool) -> Quote | None:
    if row["reply_to"] is None or (for_client and row["reply_internal"]):
        return None
    quoted = "" if row["reply_deleted_at"] else (row["reply_body"] or "")[:QUOTE_LENGTH]
    return Quote(
        row["reply_to"],
        Author(row["reply_author_kind"], row["reply_author_name"]),
        SPECIAL_TEXT if not for_client and row["reply_special"] else quoted,
    )


def _attachment(row: asyncpg.Record) -> Attachment | None:
    if row["attachment_id"] is None:
        return None
    return Attachment(
        row["attachment_id"],
        row["attachment_name"],
        row["attachment_size"],
        row["attachment_type"],
        row["attachment_image"],
        attachments.download_url(row["attachment_id"], row["attachment_name"]),
    )


def wire(row: asyncpg.Record, *, for_client: bool) -> WireMessage:
    """A message row (queries.MESSAGES) as a client's or a staff socket sees it; a withheld
    message keeps its place, not its content."""
    withheld = _withheld(row, for_client)
    deleted = withheld is None and row["deleted_at"] is not None
    bare = deleted or withheld is not None
    return WireMessage(
        conversation=row["conversation_id"],
        seq=row["seq"],
        version=row["version"],
        client_id=str(row["client_id"]),
        author=_author(row, for_client),
        text=withheld or ("" if deleted else row["body"]),
        reply_to=None if withheld else _quote(row, for_client),
        attachment=None if withheld else _attachment(row),
        buttons=[] if bare else _buttons(row["buttons"]),
        links=[] if bare else _links(row["links"]),
        form=None if bare or row["form"] is None else _form(row["form"]),
        internal=row["internal"],
        created_at=row["created_at"],
        edited_at=row["edited_at"],
        deleted=deleted,
    )


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
