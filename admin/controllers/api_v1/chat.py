"""``/api/v1/conversations``: an integration's conversations and messages (docs/api.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from okno.platform.chat import integration
from okno.platform.chat.console import TAG_PATTERN
from okno.platform.chat.integration import ConversationPage, SentMessage
from okno.platform.chat.schemas import ConversationSummary, MessagePage, Tagged
from okno.platform.web.access import api_client, api_token

# Query parameters: Litestar checks its own Parameter's bounds there (not msgspec.Meta's).
Limit = Annotated[int, QueryParameter(ge=1, le=200)]
Cursor = Annotated[int, QueryParameter(ge=0, le=2**62)]
StaffId = Annotated[int, msgspec.Meta(ge=1, le=2**62)]
Tag = Annotated[str, msgspec.Meta(pattern=TAG_PATTERN)]
Status = Literal["new", "open", "pending", "resolved"]


class Versioned(msgspec.Struct, frozen=True):
    """The conversation's version after the change (the socket's ``version``)."""

    conversation: int
    version: int


class SendIn(msgspec.Struct, forbid_unknown_fields=True):
    """A message to send. ``client_id`` is the idempotency key: a repeat stores nothing and
    answers the first send. Without ``as_staff`` the bot writes."""

    client_id: Annotated[uuid.UUID, msgspec.Meta(examples=["2f1c7e0a-5d8b-4c1e-9a3f-0b6d2e4c8a10"])]
    text: Annotated[
        str, msgspec.Meta(min_length=1, max_length=4000, examples=["Ваш заказ передан в доставку"])
    ]
    as_staff: StaffId | None = None
    internal: bool = False


class AssignIn(msgspec.Struct, forbid_unknown_fields=True):
    staff_id: Annotated[StaffId, msgspec.Meta(examples=[3])]


class TransferIn(msgspec.Struct, forbid_unknown_fields=True):
    """Either a staff member or a team."""

    to_staff: StaffId | None = None
    to_team: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1, examples=[1])] | None = None


class StatusIn(msgspec.Struct, forbid_unknown_fields=True):
    status: Annotated[Literal["open", "pending", "resolved"], msgspec.Meta(examples=["resolved"])]


class TagsIn(msgspec.Struct, forbid_unknown_fields=True):
    tags: Annotated[list[Tag], msgspec.Meta(max_length=10, examples=[["vip", "delivery"]])]


class ConversationsApi(Controller):
    path = "/api/v1/conversations"
    tags = ("API v1: conversations",)
    security = [{"apiToken": []}]  # noqa: RUF012 — Litestar reads it as a class attribute

    @get("/", guards=[api_token("conversations:read")])
    async def list_conversations(
        self,
        request: Request,
        after: FromQuery[Cursor] = 0,
        limit: FromQuery[Limit] = 50,
        status: FromQuery[Status | None] = None,
        tag: Annotated[str | None, QueryParameter(pattern=TAG_PATTERN)] = None,
        assignee: Annotated[int | None, QueryParameter(ge=1, le=2**62)] = None,
        team: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
        updated_since: FromQuery[datetime | None] = None,
    ) -> ConversationPage:
        """Conversations by id after the cursor ``after`` (``next_after`` of the previous page),
        filtered; never a blocked client's. Hands message previews out: logged as provision."""
        return await integration.conversations(
            api_client(request),
            after=after,
            limit=limit,
            status=status,
            tag=tag,
            assignee=assignee,
            team=team,
            updated_since=updated_since,
        )

    @get("/{conversation_id:int}", guards=[api_token("conversations:read")])
    async def read(self, request: Request, conversation_id: FromPath[int]) -> ConversationSummary:
        """One conversation's summary."""
        return await integration.conversation(api_client(request), conversation_id)

    @post(
        "/{conversation_id:int}/assign", status_code=200, guards=[api_token("conversations:write")]
    )
    async def assign(
        self, request: Request, conversation_id: FromPath[int], data: JSONBody[AssignIn]
    ) -> Versioned:
        """Give the conversation to an operator (a chat staff member)."""
        version = await integration.assign(api_client(request), conversation_id, data.staff_id)
        return Versioned(conversation_id, version)

    @post(
        "/{conversation_id:int}/transfer",
        status_code=200,
        guards=[api_token("conversations:write")],
    )
    async def transfer(
        self, request: Request, conversation_id: FromPath[int], data: JSONBody[TransferIn]
    ) -> Versioned:
        """Transfer the conversation to a staff member or to a team's queue."""
        version = await integration.transfer(
            api_client(request), conversation_id, data.to_staff, data.to_team
        )
        return Versioned(conversation_id, version)

    @post(
        "/{conversation_id:int}/status", status_code=200, guards=[api_token("conversations:write")]
    )
    async def status(
        self, request: Request, conversation_id: FromPath[int], data: JSONBody[StatusIn]
    ) -> Versioned:
        """Open, set pending, or resolve the conversation."""
        version = await integration.set_status(api_client(request), conversation_id, data.status)
        return Versioned(conversation_id, version)

    @post("/{conversation_id:int}/tags", status_code=200, guards=[api_token("conversations:write")])
    async def set_tags(
        self, request: Request, conversation_id: FromPath[int], data: JSONBody[TagsIn]
    ) -> Tagged:
        """Replace the conversation's tags."""
        return await integration.set_tags(api_client(request), conversation_id, data.tags)

    @get("/{conversation_id:int}/messages", guards=[api_token("messages:read")])
    async def messages(
        self,
        request: Request,
        conversation_id: FromPath[int],
        before: Annotated[int | None, QueryParameter(ge=1, le=2**62)] = None,
        limit: FromQuery[Limit] = 50,
    ) -> MessagePage:
        """Messages before the seq ``before`` (the newest without it), oldest first; logged as
        provision."""
        return await integration.history(api_client(request), conversation_id, before, limit)

    @post("/{conversation_id:int}/messages", status_code=201, guards=[api_token("messages:write")])
    async def send(
        self, request: Request, conversation_id: FromPath[int], data: JSONBody[SendIn]
    ) -> SentMessage:
        """Send a message as the bot or as an operator; delivered to the client's open chat at
        once. Repeating the call with the same ``client_id`` stores nothing twice."""
        return await integration.send(
            api_client(request),
            conversation_id,
            data.client_id,
            data.text,
            data.as_staff,
            data.internal,
        )
