"""What the operator console asks beyond its socket: its boxes, tags and the transfer directory."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta

import msgspec

from okno.platform import clock, database, job_loop
from okno.platform.audit import service as audit
from okno.platform.audit.service import Actor, Entity
from okno.platform.chat import access, bot, compliance, notify, queries, service, summaries
from okno.platform.chat.errors import ChatError
from okno.platform.chat.schemas import (
    BulkOutcome,
    BulkResult,
    Colleague,
    ConsolePreferences,
    ConversationList,
    Directory,
    FilterChoices,
    Tagged,
    TeamChoice,
    TopicChoice,
)
from okno.platform.chat.scope import Scope
from okno.platform.chat.tables import ConsolePreference, Conversation
from okno.platform.reports import sla
from okno.platform.settings import get_settings
from okno.platform.teams.tables import Team, Topic

SNOOZE_CHECK_SECONDS = 5
BOXES = ("queue", "mine", "team", "all")
STATUSES = ("new", "open", "pending", "resolved")
TOPIC_PATTERN = r"^[a-z0-9_-]{1,60}$"
MAX_SNOOZE = timedelta(days=30)
MAX_BULK = 100
BULK_ACTIONS = ("assign", "resolve", "tag")
TAG_PATTERN = r"^[a-zа-яё0-9_-]{1,30}$"
MAX_SEARCH = 200
MAX_TAGS = 10


class Filters(msgspec.Struct, frozen=True):
    """What narrows a box: a status, a topic (its slug), a team, an assignee (0: nobody), and
    whether to list the snoozed conversations instead of the others."""

    status: str | None = None
    topic: str | None = None
    team: int | None = None
    assignee: int | None = None
    snoozed: bool = False


NO_FILTERS = Filters()


async def conversations(
    scope: Scope, box: str, q: str | None, tag: str | None, filters: Filters = NO_FILTERS
) -> ConversationList:
    """The conversations of one box (queue, mine, team, all) the caller may see, optionally
    matching a search (a ``#number`` or a text), carrying a tag or narrowed by ``filters``;
    the view is logged."""
    if filters.status is not None and filters.status not in STATUSES:
        raise ChatError("invalid_value", "статус: new, open, pending или resolved")
    if filters.topic is not None and not re.fullmatch(TOPIC_PATTERN, filters.topic):
        raise ChatError("invalid_value", "направление: его код из латинских букв и цифр")
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
            filters.status,
            filters.topic,
            filters.team,
            filters.assignee,
            filters.snoozed,
        )
    await compliance.list_viewed(scope.staff_id, box, len(rows), searched=bool(q))
    checker, now = await sla.Checker.load(), clock.now()
    return ConversationList([summaries.for_staff(row, checker, now) for row in rows])


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


async def filter_choices() -> FilterChoices:
    """The topics, teams and colleagues the console's list filters offer."""
    found = await directory()
    topics = await Topic.select(Topic.slug, Topic.title).order_by(Topic.position, Topic.id).run()
    return FilterChoices(
        [TopicChoice(t["slug"], t["title"]) for t in topics], found.teams, found.staff
    )


async def preferences(staff_id: int) -> ConsolePreferences:
    """The caller's notification preferences (the defaults until they change one)."""
    row = (
        await ConsolePreference.select(*PREFERENCE_COLUMNS)
        .where(ConsolePreference.staff_id == staff_id)
        .first()
        .run()
    )
    return ConsolePreferences(**row) if row else ConsolePreferences()


PREFERENCE_COLUMNS = (
    ConsolePreference.sound_queue,
    ConsolePreference.sound_mine,
    ConsolePreference.sound_transfer,
    ConsolePreference.volume,
    ConsolePreference.desktop,
    ConsolePreference.desktop_details,
)


async def save_preferences(staff_id: int, wanted: ConsolePreferences) -> ConsolePreferences:
    """Replace the caller's notification preferences (their own: no audit, no PD)."""
    async with database.acquire() as conn:
        await conn.execute(
            queries.SAVE_PREFERENCES,
            staff_id,
            wanted.sound_queue,
            wanted.sound_mine,
            wanted.sound_transfer,
            wanted.volume,
            wanted.desktop,
            wanted.desktop_details,
        )
    return wanted


async def snooze(
    scope: Scope, actor: Actor, conversation_id: int, until: datetime | None
) -> datetime | None:
    """Snooze a conversation the caller may see until ``until`` (``None``: back now): it
    leaves the staff lists and returns at that time (``end_snoozes``). Logged in the staff
    audit: who put a client's question aside, and until when."""
    await access.visible_conversation(scope, conversation_id)
    async with database.transaction():
        snoozed = await database.connection().fetchrow(
            queries.SNOOZE,
            conversation_id,
            until,
            scope.staff_id if until else None,
            MAX_SNOOZE.total_seconds(),
        )
        if snoozed is None:
            raise ChatError("invalid_value", "отложить можно на время в будущем, до 30 дней")
        version = snoozed["last_version"]
        await audit.record(
            actor,
            Entity.CONVERSATION,
            f"#{conversation_id}",
            "отложен" if until else "возвращён в список",
            {"snoozed_until": snoozed["before"]},
            {"snoozed_until": until},
        )
    await notify.changed(conversation_id, version)
    return until


async def end_snoozes() -> int:
    """Snoozes whose time came end; every console gets the conversation back (the lists'
    query already shows it from that moment). Returns how many ended."""
    async with database.acquire() as conn:
        ended = await conn.fetch(queries.SNOOZES_ENDED)
    for row in ended:
        await notify.changed(row["id"], row["last_version"])
    return len(ended)


async def snooze_ender(stop: asyncio.Event) -> None:
    """The background job that brings snoozed conversations back, every few seconds."""
    await job_loop.every(stop, SNOOZE_CHECK_SECONDS, "snoozes", end_snoozes)


async def bulk(
    scope: Scope,
    ids: list[int],
    action: str,
    to_staff: int | None = None,
    tag: str | None = None,
) -> BulkResult:
    """A supervisor's action on several conversations: assign to a colleague, resolve, or add
    a tag. Each conversation is authorized and done on its own, as if it were the only one;
    the answer says which were done and why the others were not."""
    if not scope.sees_all:
        raise ChatError("forbidden", "действия над несколькими диалогами — для старших операторов")
    if action not in BULK_ACTIONS:
        raise ChatError("invalid_value", "действие: assign, resolve или tag")
    if not 1 <= len(ids) <= MAX_BULK:
        raise ChatError("invalid_value", f"выберите от 1 до {MAX_BULK} диалогов")
    if action == "assign" and to_staff is None:
        raise ChatError("invalid_value", "выберите сотрудника, которому назначить")
    if action == "tag" and not (tag and re.fullmatch(TAG_PATTERN, tag)):
        raise ChatError("invalid_value", "метка: строчные буквы, цифры, _ и -, до 30 символов")
    outcomes = []
    for conversation_id in dict.fromkeys(ids):
        try:
            if action == "assign":
                assert to_staff is not None
                await service.transfer(scope, conversation_id, to_staff, None)
            elif action == "resolve":
                await service.set_status(scope, conversation_id, "resolved")
                await bot.ask_if_resolved(conversation_id)
            else:
                assert tag is not None
                await _add_tag(scope, conversation_id, tag)
        except ChatError as refused:
            outcomes.append(BulkOutcome(conversation_id, False, refused.message))
        else:
            outcomes.append(BulkOutcome(conversation_id, True))
    return BulkResult(outcomes)


async def _add_tag(scope: Scope, conversation_id: int, tag: str) -> None:
    row = await access.visible_conversation(scope, conversation_id)
    current = (
        await Conversation.select(Conversation.tags)
        .where(Conversation.id == row["id"])
        .first()
        .run()
    )
    tags = list(current["tags"]) if current else []
    if tag in tags:
        return
    if len(tags) >= MAX_TAGS:
        raise ChatError("invalid_value", f"у диалога уже {MAX_TAGS} меток")
    async with database.transaction():
        await service.set_tags(conversation_id, [*tags, tag])
        version = await service.next_version(conversation_id)
    await notify.changed(conversation_id, version)
