"""What a visitor is offered before their first message: the topics and the welcome's state."""

from __future__ import annotations

import msgspec

from okno.platform import database
from okno.platform.chat import summaries
from okno.platform.chat.schemas import State, TopicChoice
from okno.platform.teams.tables import Topic


async def active_topics() -> list[TopicChoice]:
    """The topics a client may choose, in the console's order."""
    rows = (
        await Topic.select(Topic.slug, Topic.title)
        .where(Topic.active.eq(True))
        .order_by(Topic.position, Topic.id)
        .run()
    )
    return [TopicChoice(row["slug"], row["title"]) for row in rows]


async def lobby_state(topic: str) -> State:
    """The ``state`` frame of a visitor without a conversation who chose ``topic``
    (docs/protocol.md)."""
    async with database.acquire() as conn:
        state = await summaries.client_state(conn, None)
    return msgspec.structs.replace(state, topic=topic)
