"""Inline buttons of bot messages: a press is routed by the button id's prefix to its flow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec

from okno.platform.chat.errors import ChatError
from okno.platform.chat.tables import Message
from okno.platform.chat.visitors import Visitor


class Press(msgspec.Struct, frozen=True):
    """A deliberate click on an inline button, with what proves who clicked and where."""

    visitor: Visitor
    conversation: int
    seq: int
    button: str
    channel: str  # "chat", or "widget" inside another site's page
    ip: str | None
    user_agent: str | None


Handler = Callable[[Press], Awaitable[None]]
HANDLERS: dict[str, Handler] = {}


def register(prefix: str, handler: Handler) -> None:
    HANDLERS[prefix] = handler


async def press(click: Press) -> None:
    """Check that the button is on a bot message of this conversation, then run its flow."""
    conversation, seq, button = click.conversation, click.seq, click.button
    message = (
        await Message.select(Message.buttons)
        .where(
            Message.key(conversation, seq)
            & (Message.author_kind == "bot")
            & Message.deleted_at.is_null()
        )
        .first()
        .run()
    )
    # A chosen button is the echo of an answer already taken, not a question.
    offered = (
        {item["id"] for item in msgspec.json.decode(message["buttons"]) if not item.get("chosen")}
        if message
        else set()
    )
    if button not in offered:
        raise ChatError("not_found", "эта кнопка больше не действует")
    handler = HANDLERS.get(button.split(":", 1)[0])
    if handler is None:
        raise ChatError("not_found", "эта кнопка больше не действует")
    await handler(click)
