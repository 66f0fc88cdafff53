"""``/api/chat``: the client's own conversation over HTTP (docs/protocol.md, HTTP)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromQuery, MultipartBody

from okno.platform.chat.history import client_page
from okno.platform.chat.schemas import Attachment, MessagePage
from okno.platform.chat.visitors import Visitor
from okno.platform.web.access import visitor_guard
from okno.platform.web.attachments import Upload, store

Limit = Annotated[int, msgspec.Meta(ge=1, le=200)]


class ClientChatApi(Controller):
    path = "/api/chat"
    guards = (visitor_guard,)
    tags = ("client chat",)

    @get("/messages")
    async def history(
        self, request: Request, before: FromQuery[int | None] = None, limit: FromQuery[Limit] = 50
    ) -> MessagePage:
        """Older messages of the client's own conversation, oldest first."""
        visitor: Visitor = request.state.visitor
        return await client_page(visitor, before, limit)

    @post("/attachments", status_code=201, opt={"upload": True})
    async def upload(self, request: Request, data: MultipartBody[Upload]) -> Attachment:
        """Store a file to send with the next message."""
        visitor: Visitor = request.state.visitor
        return await store(data, "subject", visitor.token_hash.hex())
