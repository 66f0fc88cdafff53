"""What the operator console asks beyond its socket: its boxes, tags and the transfer directory."""

from __future__ import annotations

import re

from okno.platform import database
from okno.platform.chat import access, compliance, queries, service, summaries
from okno.platform.chat.errors import ChatError
from okno.platform.chat.schemas import Colleague, ConversationList, Directory, Tagged, TeamChoice
from okno.platform.chat.scope import Scope
from okno.platform.settings import get_settings
from okno.platform.teams.tables import Team

BOXES = ("queue", "mine", "team", "all")
TAG_PATTERN = r"^[a-zа-яё0-9_-]{1,30}$"
MAX_SEARCH = 200


async def conversations(scope: Scope, box: str, q: str | None, tag: str | None) -> ConversationList:
    """The conversations of one box (queue, mine, team, all) the caller may see, optionally
    matching a search (a ``#number`` or a text) or carrying a tag; the view is logged."""
    if box not in BOXES:
        raise ChatError("invalid_value", "box: queue, mine, team или all")
    if box == "all" and not scope.sees_all:
        raise ChatError("forbidden", "все диалоги видят старшие операторы и администраторы")
    if tag and not re.fullmatch(TAG_PATTERN, tag):
        raise ChatError("invalid_value", "метка: строчные буквы, цифры, _ и -, до 30 символов")
    number = pattern = None
    if q:
        if len(q) > MAX_SEARCH:
            raise ChatError("invalid_value", "слишком длинный запрос поиска")
        found = re.fullmatch(r"#?(\d{1,12})", q.strip())
        if found:
            number = int(found.group(1))
        else:
            pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    async with database.acquire() as conn:
        rows = await summaries.fetch(
            conn,
            queries.STAFF_BOX,
            scope.sees_all,
            list(scope.team_ids),
            scope.staff_id,
            box,
            tag or None,
            number,
            pattern,
        )
    await compliance.list_viewed(scope.staff_id, box, len(rows), searched=bool(q))
    return ConversationList([summaries.for_staff(row) for row in rows])


async def set_tags(scope: Scope, conversation_id: int, tags: list[str]) -> Tagged:
    """Replace the tags of a conversation the caller may see (mailing audiences and search
    use them)."""
    await access.visible_conversation(scope, conversation_id)
    return Tagged(conversation_id, await service.set_tags(conversation_id, tags))


async def directory() -> Directory:
    """Colleagues and teams a conversation can be transferred to."""
    async with database.acquire() as conn:
        people = await conn.fetch(queries.TRANSFER_STAFF, get_settings().presence_timeout_seconds)
    teams = (
        await Team.select(Team.id, Team.name)
        .where(Team.archived_at.is_null())
        .order_by(Team.name)
        .run()
    )
    return Directory(
        [Colleague(p["id"], p["display_name"], p["presence"], list(p["teams"])) for p in people],
        [TeamChoice(t["id"], t["name"]) for t in teams],
    )
