"""Attachments over HTTP, for both web areas: the upload form, and the one file route.

The file route serves the conversation's client and staff who may see the conversation
alike, under one URL that messages carry to both sides; so it lives here, not in an area.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Response, get
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from okno.platform.chat import attachments, file_access
from okno.platform.chat.schemas import Attachment
from okno.platform.chat.visitors import VISITOR_COOKIE
from okno.platform.web.access import current_staff

ATTACHMENT_ID = r"[A-Za-z0-9_-]{16,64}"


class Upload(msgspec.Struct):
    """The multipart form of ``POST /api/chat/attachments`` and ``/api/staff/attachments``."""

    file: UploadFile


async def store(data: Upload, uploader_kind: str, uploader_id: str) -> Attachment:
    """Keep an uploaded file to send with the next message."""
    return await attachments.store(
        await data.file.read(), data.file.filename, uploader_kind, uploader_id
    )


class AttachmentFiles(Controller):
    path = "/attachments"
    include_in_schema = False

    @get("/{attachment_id:str}/{name:str}", opt={"access": "subject-or-staff"})
    async def download(
        self, request: Request, attachment_id: FromPath[str], name: FromPath[str]
    ) -> Response[Any]:
        """The file, for the conversation's client or staff who may see the conversation."""
        if not re.fullmatch(ATTACHMENT_ID, attachment_id):
            raise NotFoundException("нет такого файла")
        found = await file_access.readable(
            attachment_id, await current_staff(request), request.cookies.get(VISITOR_COOKIE)
        )
        if found is None:
            raise NotFoundException("нет такого файла")
        # The bytes, not a path: the file may be in a bucket (okno.platform.storage).
        disposition = "inline" if found.image else "attachment"
        response = Response(
            found.data,
            media_type=found.content_type,
            headers={"content-disposition": f"{disposition}; filename*=utf-8''{quote(found.name)}"},
        )
        response.headers["content-security-policy"] = (
            "default-src 'none'; sandbox; frame-ancestors 'none'"
        )
        response.headers["cache-control"] = "private, max-age=3600"
        return response
