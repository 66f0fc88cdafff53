"""Older messages, a page at a time: for the client's own conversation, or for staff."""

from __future__ import annotations

from okno.platform import database
from okno.platform.chat import access, messages, service
from okno.platform.chat.schemas import MessagePage
from okno.platform.chat.scope import Scope
from okno.platform.chat.visitors import Visitor


async def client_page(visitor: Visitor, before: int | None, limit: int) -> MessagePage:
    """Messages of the visitor's own conversation before ``before``, oldest first, without
    internal notes (none before the first message)."""
    conversation = await service.client_conversation(visitor)
    if conversation is None:
        return MessagePage([])
    async with database.acquire() as conn:
        rows = await messages.page_before(conn, conversation, before, limit, for_client=True)
    return MessagePage([messages.wire(row, for_client=True) for row in rows])


async def staff_page(
    scope: Scope, conversation_id: int, before: int | None, limit: int
) -> MessagePage:
    """Messages of a conversation the caller may see before ``before``, oldest first."""
    await access.visible_conversation(scope, conversation_id)
    async with database.acquire() as conn:
        rows = await messages.page_before(conn, conversation_id, before, limit, for_client=False)
    return MessagePage([messages.wire(row, for_client=False) for row in rows])
