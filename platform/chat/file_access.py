"""Who may read an attachment: the conversation's client, or staff who may see it."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from okno.platform import database
from okno.platform.chat import access, attachments, queries
from okno.platform.chat.scope import CHAT_ROLES
from okno.platform.chat.tables import Message
from okno.platform.chat.visitors import find as find_visitor
from okno.platform.staff.schemas import StaffUser
from okno.platform.subjects.tables import Subject


class ReadableFile(msgspec.Struct, frozen=True):
    data: bytes
    name: str
    content_type: str
    image: bool


async def readable(
    attachment_id: str, staff: StaffUser | None, visitor_token: str | None
) -> ReadableFile | None:
    """The attachment's file if this reader may read it, else ``None`` (as if there were none).

    ``staff`` is the signed-in staff member, if any (then the visitor cookie is not looked at);
    a staff member's read of a subject's file is logged as access."""
    found = await attachments.readable_file(attachment_id)
    if found is None:
        return None
    row, data = found
    if staff is not None:
        if not await _staff_may_read(staff, row):
            return None
        if row["subject_id"] is not None:
            await attachments.staff_read(staff.id, row["subject_id"])
    elif not await _visitor_may_read(visitor_token, row):
        return None
    return ReadableFile(data, row["name"], row["content_type"], row["image"])


async def _staff_may_read(user: StaffUser, row: Any) -> bool:
    if row["conversation_id"] is None:
        # Unsent uploads are the uploader's; a staff file sent as a mailing (no single
        # conversation) is readable by chat staff once a message carries it.
        if row["uploader_kind"] != "staff":
            return False
        if row["uploader_id"] == str(user.id):
            return True
        return user.role in CHAT_ROLES and await _carried(row["id"])
    scope = await access.scope_of(user)
    if row["subject_id"] is not None and await _blocked(row["subject_id"]):
        return False  # blocked subject: no files for staff (okno.platform.rights.blocking)
    if row["special"]:
        return False  # a special category: only the DPO's console shows it
    return scope.admits(row["team_id"], row["assignee_id"])


async def _visitor_may_read(token: str | None, row: Any) -> bool:
    visitor = await find_visitor(token)
    if visitor is None:
        return False
    if row["uploader_kind"] == "subject" and row["uploader_id"] == visitor.token_hash.hex():
        return True
    if visitor.subject_id is None:
        return False
    if row["subject_id"] == visitor.subject_id:
        return True
    # A file sent to many conversations (a mailing's image) is readable where it was sent.
    async with database.acquire() as conn:
        return bool(
            await conn.fetchval(queries.ATTACHMENT_SENT_TO_SUBJECT, row["id"], visitor.subject_id)
        )


async def _carried(attachment_id: str) -> bool:
    """Whether a message still carries the attachment."""
    return await (
        Message.exists()
        .where((Message.attachment_id == attachment_id) & Message.deleted_at.is_null())
        .run()
    )


async def _blocked(subject_id: uuid.UUID) -> bool:
    """Whether the subject is blocked (okno.platform.rights.blocking)."""
    return await (
        Subject.exists().where((Subject.id == subject_id) & Subject.blocked_at.is_not_null()).run()
    )
