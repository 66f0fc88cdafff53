"""Attachments: files in the storage (okno.platform.storage) under random names, typed by their
bytes, never trusted.

Only PNG, JPEG, GIF and WebP whose bytes match are shown inline as images; everything else is
served as a download. The name the uploader gave is kept for display only.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import unicodedata
import uuid
from urllib.parse import quote

import asyncpg

from okno.platform import database, storage
from okno.platform.chat import queries, tables
from okno.platform.chat.compliance import Actor, entries
from okno.platform.chat.errors import ChatError
from okno.platform.chat.schemas import Attachment
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action
from okno.platform.settings import get_settings

IMAGE_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
ALLOWED_DOCUMENTS = {
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".csv": "text/csv",
    ".zip": "application/zip",
}


def sniff(head: bytes) -> str | None:
    for signature, content_type in IMAGE_SIGNATURES.items():
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def clean_name(name: str) -> str:
    """A display name with no path, no control characters, at most 120 characters."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    return name[:120] or "файл"


async def store(data: bytes, name: str, uploader_kind: str, uploader_id: str) -> Attachment:
    if not data:
        raise ChatError("invalid_frame", "файл пуст")
    if len(data) > get_settings().max_upload_bytes:
        raise ChatError("too_large", "файл больше допустимого размера")
    name = clean_name(name)
    image_type = sniff(data[:16])
    suffix = os.path.splitext(name)[1].lower()
    if image_type is None and suffix not in ALLOWED_DOCUMENTS:
        raise ChatError("invalid_frame", "такой тип файла не принимается")
    content_type = image_type or ALLOWED_DOCUMENTS[suffix]
    attachment_id = secrets.token_urlsafe(24)
    await asyncio.to_thread(storage.files().write, attachment_id, data)
    row = tables.Attachment(
        id=attachment_id,
        uploader_kind=uploader_kind,
        uploader_id=uploader_id,
        name=name,
        content_type=content_type,
        size=len(data),
        image=image_type is not None,
        path=attachment_id,
        created_at=queries.NOW,
    )
    await tables.Attachment.insert(row).run()
    return Attachment(
        attachment_id,
        name,
        len(data),
        content_type,
        image_type is not None,
        download_url(attachment_id, name),
    )


def download_url(attachment_id: str, name: str) -> str:
    """The name is only there for the browser's save dialog; quoted, so ``?`` and ``#`` in it
    stay part of the path."""
    return f"/attachments/{attachment_id}/{quote(name, safe='')}"


async def claim(
    conn: asyncpg.Connection,
    attachment_id: str,
    conversation_id: int,
    uploader_kind: str,
    uploader_id: str,
) -> None:
    """Attach an uploaded, not yet sent file of this uploader to a message of the conversation."""
    claimed = await conn.fetchval(
        queries.CLAIM_ATTACHMENT,
        attachment_id,
        conversation_id,
        uploader_kind,
        uploader_id,
    )
    if claimed is None:
        raise ChatError("not_found", "вложение не найдено: загрузите файл ещё раз")


async def erase(conn: asyncpg.Connection, attachment_id: str) -> None:
    """Remove the file's bytes and name; the row stays as a count and a size."""
    path = await conn.fetchval(queries.LOCK_ATTACHMENT_PATH, attachment_id)
    await conn.execute(queries.ERASE_ATTACHMENT, attachment_id)
    if path:
        await asyncio.to_thread(storage.files().delete, path)


async def readable_file(attachment_id: str) -> tuple[asyncpg.Record, bytes] | None:
    async with database.acquire() as conn:
        row = await conn.fetchrow(queries.READABLE_FILE, attachment_id)
    if row is None:
        return None
    data = await asyncio.to_thread(storage.files().read, row["path"])
    return None if data is None else (row, data)


async def staff_read(staff_id: int, subject_id: uuid.UUID) -> None:
    """A staff member downloads a file of a subject's conversation: ``access``, logged."""
    async with database.transaction():
        await processing_log.record(
            *entries(
                Actor.staff(staff_id),
                subject_id,
                (Action.ACCESS,),
                ("attachment",),
                reason="файл из переписки открыт",
            )
        )
