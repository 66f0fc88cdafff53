"""``/api/staff``: what the operator console reads and changes over HTTP (docs/protocol.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody

from okno.admin.controllers.teams import actor_of
from okno.platform.channels.schemas import Delivery
from okno.platform.channels.service import deliveries as channel_deliveries
from okno.platform.chat import access, console, special
from okno.platform.chat import canned as canned_replies
from okno.platform.chat.history import staff_page
from okno.platform.chat.profile import panel
from okno.platform.chat.schemas import (
    Attachment,
    BulkResult,
    CannedReply,
    ConsolePreferences,
    ConversationList,
    Directory,
    MessagePage,
    Profile,
    SpecialMark,
    Tagged,
)
from okno.platform.chat.scope import CHAT_ROLES, Scope
from okno.platform.staff.schemas import StaffUser
from okno.platform.web.access import current_staff, staff
from okno.platform.web.attachments import Upload, store

Limit = Annotated[int, msgspec.Meta(ge=1, le=200)]
Tag = Annotated[str, msgspec.Meta(pattern=console.TAG_PATTERN)]


class TagsIn(msgspec.Struct, forbid_unknown_fields=True):
    tags: Annotated[list[Tag], msgspec.Meta(max_length=10)]


class SpecialIn(msgspec.Struct, forbid_unknown_fields=True):
    category: Annotated[str, msgspec.Meta(pattern=r"^[a-z_]{1,40}$")]


class SnoozeIn(msgspec.Struct, forbid_unknown_fields=True):
    until: datetime | None  # with a time zone; null: back in the lists now


class Snoozed(msgspec.Struct, frozen=True):
    id: int
    until: datetime | None


class BulkIn(msgspec.Struct, forbid_unknown_fields=True):
    ids: Annotated[list[int], msgspec.Meta(min_length=1, max_length=console.MAX_BULK)]
    action: str  # assign, resolve, tag
    to_staff: int | None = None
    tag: Tag | None = None


class CannedReplyIn(msgspec.Struct, forbid_unknown_fields=True):
    shortcut: Annotated[str, msgspec.Meta(pattern=r"^[a-zа-яё0-9_-]{1,30}$")]
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    shared: bool = False


async def _user(request: Request) -> StaffUser:
    user = await current_staff(request)
    assert user is not None  # the controller's guard admitted a signed-in staff member
    return user


async def _scope(request: Request) -> Scope:
    return await access.scope_of(await _user(request))


class StaffChatApi(Controller):
    path = "/api/staff"
    guards = (staff(*CHAT_ROLES),)
    tags = ("operator console",)

    @get("/conversations")
    async def conversations(
        self,
        request: Request,
        box: FromQuery[str] = "mine",
        q: FromQuery[str | None] = None,
        tag: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        topic: FromQuery[str | None] = None,
        team: FromQuery[int | None] = None,
        assignee: FromQuery[int | None] = None,
        snoozed: FromQuery[bool] = False,
    ) -> ConversationList:
        """Conversations in one box (queue, mine, team, all), optionally matching a search,
        carrying a tag, of a status, topic, team or assignee (0: nobody); ``snoozed``: the
        snoozed ones instead of the others."""
        filters = console.Filters(status, topic, team, assignee, snoozed)
        return await console.conversations(await _scope(request), box, q, tag, filters)

    @post("/conversations/{conversation_id:int}/snooze", status_code=200)
    async def snooze(
        self, request: Request, conversation_id: FromPath[int], data: JSONBody[SnoozeIn]
    ) -> Snoozed:
        """Snooze a conversation until a time (``null``: back now); logged in the staff audit."""
        until = await console.snooze(
            await _scope(request), await actor_of(request), conversation_id, data.until
        )
        return Snoozed(conversation_id, until)

    @post("/conversations/bulk", status_code=200)
    async def bulk(self, request: Request, data: JSONBody[BulkIn]) -> BulkResult:
        """A supervisor's action on several conversations (assign, resolve, tag), each
        authorized on its own; the answer says which were done."""
        return await console.bulk(
            await _scope(request), data.ids, data.action, data.to_staff, data.tag
        )

    @get("/preferences")
    async def preferences(self, request: Request) -> ConsolePreferences:
        """The caller's console notifications: sounds, volume, desktop notifications."""
        return await console.preferences((await _user(request)).id)

    @post("/preferences", status_code=200)
    async def save_preferences(
        self, request: Request, data: JSONBody[ConsolePreferences]
    ) -> ConsolePreferences:
        """Replace the caller's console notifications."""
        return await console.save_preferences((await _user(request)).id, data)

    @get("/conversations/{conversation_id:int}/messages")
    async def history(
        self,
        request: Request,
        conversation_id: FromPath[int],
        before: FromQuery[int | None] = None,
        limit: FromQuery[Limit] = 50,
    ) -> MessagePage:
        """Older messages of a conversation the caller may see, oldest first."""
        return await staff_page(await _scope(request), conversation_id, before, limit)

    @get("/conversations/{conversation_id:int}/deliveries")
    async def deliveries(self, request: Request, conversation_id: FromPath[int]) -> list[Delivery]:
        """How each message to a MAX or VK client went: ⏳ waiting, ✓ accepted, or not
        delivered with the reason (docs/channels.md); empty for a web chat."""
        return await channel_deliveries(await _scope(request), conversation_id)

    @get("/conversations/{conversation_id:int}/profile")
    async def profile(self, request: Request, conversation_id: FromPath[int]) -> Profile:
        """The client's profile panel; showing PD fields to the operator is logged as access."""
        return await panel(await _scope(request), conversation_id)

    @post("/conversations/{conversation_id:int}/messages/{seq:int}/special", status_code=200)
    async def mark_special(
        self,
        request: Request,
        conversation_id: FromPath[int],
        seq: FromPath[int],
        data: JSONBody[SpecialIn],
    ) -> SpecialMark:
        """Mark a client's message as special-category data: hidden from staff, for the DPO."""
        await special.flag(await _user(request), conversation_id, seq, data.category)
        return SpecialMark(conversation_id, seq, data.category)

    @post("/conversations/{conversation_id:int}/tags")
    async def set_tags(
        self, request: Request, conversation_id: FromPath[int], data: JSONBody[TagsIn]
    ) -> Tagged:
        """Replace a conversation's tags (mailing audiences and search use them)."""
        return await console.set_tags(await _scope(request), conversation_id, data.tags)

    @get("/directory")
    async def directory(self) -> Directory:
        """Colleagues and teams a conversation can be transferred to."""
        return await console.directory()

    @get("/canned")
    async def canned(self, request: Request) -> list[CannedReply]:
        """Shared canned replies and the caller's own."""
        return await canned_replies.replies_for(await _user(request))

    @post("/canned", status_code=201)
    async def add_canned(self, request: Request, data: JSONBody[CannedReplyIn]) -> CannedReply:
        """Add a canned reply; shared ones are for supervisors and admins to add."""
        return await canned_replies.add(await _user(request), data.shortcut, data.text, data.shared)

    @delete("/canned/{reply_id:int}", status_code=204)
    async def remove_canned(self, request: Request, reply_id: FromPath[int]) -> None:
        """Remove one's own canned reply, or (supervisor, admin) a shared one."""
        await canned_replies.remove(await _user(request), reply_id)

    @post("/attachments", status_code=201, opt={"upload": True})
    async def upload(self, request: Request, data: MultipartBody[Upload]) -> Attachment:
        """Store a file to send with the next message."""
        return await store(data, "staff", str((await _user(request)).id))
