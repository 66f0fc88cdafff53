"""Conversation summaries for staff lists and the client's ``state`` frame."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from okno.platform.channels.schemas import KIND_LABELS as CHANNEL_LABELS
from okno.platform.chat import queries, routing
from okno.platform.chat.schemas import (
    Assignee,
    Availability,
    ClientLabel,
    ConversationSummary,
    LastMessage,
    Operator,
    State,
    TeamChoice,
    TopicChoice,
)
from okno.platform.hours import service as hours
from okno.platform.reports import sla
from okno.platform.settings import get_settings

PREVIEW_LENGTH = 120


async def fetch(conn: asyncpg.Connection, where: str, *args: Any) -> list[asyncpg.Record]:
    """Summaries matching ``where`` (fixed SQL text: every value in it is a parameter, which
    start at $2; $1 is the presence timeout)."""
    return await _read(conn, f"{queries.SUMMARY} WHERE {where}", *args)


async def one(conn: asyncpg.Connection, conversation_id: int) -> asyncpg.Record | None:
    rows = await _read(conn, queries.SUMMARY_OF, conversation_id)
    return rows[0] if rows else None


async def many(conn: asyncpg.Connection, conversation_ids: list[int]) -> list[asyncpg.Record]:
    return await _read(conn, queries.SUMMARIES_OF, conversation_ids)


async def _read(conn: asyncpg.Connection, query: str, *args: Any) -> list[asyncpg.Record]:
    return await conn.fetch(query, get_settings().presence_timeout_seconds, *args)


def _preview(row: asyncpg.Record) -> str:
    if row["subject_blocked"]:
        return "Данные клиента заблокированы"  # see okno.platform.rights.blocking
    if row["last_deleted"] is not None:
        return "Сообщение удалено"
    if row["last_special"]:
        return "скрыто: особая категория"  # see okno.platform.chat.special
    if row["last_body"]:
        return row["last_body"][:PREVIEW_LENGTH]
    return "Вложение" if row["last_attachment"] else ""


def client_label(row: asyncpg.Record) -> ClientLabel:
    """«Клиент #7», with the messenger as a badge when the client writes through one."""
    channel = CHANNEL_LABELS.get(row["channel_kind"]) if row["channel_kind"] else None
    label = f"Клиент #{row['id']}" + (f" · {channel}" if channel else "")
    return ClientLabel(str(row["subject_id"]), label, channel, destroyed=row["subject_destroyed"])


def for_staff(row: asyncpg.Record, checker: sla.Checker, now: datetime) -> ConversationSummary:
    """A summary as staff see it; ``checker`` (one per list or hub pass) gives its SLA state
    at ``now``."""
    return ConversationSummary(
        id=row["id"],
        status=row["status"],
        topic=TopicChoice(row["topic_slug"], row["topic_title"]) if row["topic_slug"] else None,
        assignee=Assignee(row["assignee_id"], row["assignee_name"]) if row["assignee_id"] else None,
        team=TeamChoice(row["team_id"], row["team_name"]) if row["team_id"] else None,
        client=client_label(row),
        last_message=LastMessage(
            row["last_seq_shown"], _preview(row), row["last_author_kind"], row["last_at"]
        )
        if row["last_seq_shown"]
        else None,
        unread=row["unread"],
        client_read_seq=row["client_read_seq"],
        tags=list(row["tags"]),
        version=row["last_version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        waiting_since=row["waiting_since"] if _queued(row) else None,
        snoozed_until=row["snoozed_until"],
        sla=checker.state(
            row["team_id"], row["topic_id"], row["sla_started"], row["sla_answered"], now
        ),
    )


def _queued(row: asyncpg.Record) -> bool:
    return (
        row["assignee_id"] is None
        and row["waiting_since"] is not None
        and row["status"] != "resolved"
    )


async def client_states(conn: asyncpg.Connection, rows: list[asyncpg.Record]) -> list[State]:
    """The ``state`` frames of several conversations in two queries, whatever their number."""
    topics = await conn.fetch(queries.ACTIVE_TOPICS)
    queued = [row for row in rows if _queued(row)]
    positions: dict[int, int] = {}
    available: dict[int | None, Availability] = {}
    if queued:
        queue = await conn.fetch(queries.QUEUE_POSITIONS, [row["id"] for row in queued])
        positions = {row["id"]: row["position"] for row in queue}
        available = await availability(conn, [row["team_id"] for row in queued])
    return [
        _state(topics, row, positions.get(row["id"]), available.get(row["team_id"])) for row in rows
    ]


async def availability(
    conn: asyncpg.Connection, team_ids: list[int | None]
) -> dict[int | None, Availability]:
    """What a waiting client is told of each team: open now or when it opens, and whether
    any operator of it is online (one query for all the teams)."""
    wanted = sorted({team for team in team_ids if team is not None})
    online = await routing.teams_online(conn, wanted) if wanted else set()
    result: dict[int | None, Availability] = {}
    for team in [*wanted, None]:
        now = await hours.availability(team)
        result[team] = Availability(now.open, now.next_opening, team in online)
    return result


async def client_state(conn: asyncpg.Connection, row: asyncpg.Record | None) -> State:
    if row is not None:
        return (await client_states(conn, [row]))[0]
    topics = await conn.fetch(queries.ACTIVE_TOPICS)
    # Before the first message: what the default team (where a conversation starts without
    # a topic) can promise, so the welcome never says an operator answers soon when none can.
    team = await conn.fetchval(queries.FIRST_TEAM)
    return _state(topics, None, None, (await availability(conn, [team])).get(team))


def _state(
    topics: list[asyncpg.Record],
    row: asyncpg.Record | None,
    position: int | None,
    available: Availability | None = None,
) -> State:
    offered = [TopicChoice(t["slug"], t["title"]) for t in topics]
    edit_window = get_settings().edit_window_seconds
    if row is None:
        return State(None, None, None, offered, None, None, 0, 0, edit_window, available)
    return State(
        conversation=row["id"],
        status=row["status"],
        topic=row["topic_slug"],
        topics=offered,
        operator=Operator(row["assignee_name"], row["assignee_presence"])
        if row["assignee_id"]
        else None,
        queue_position=position,
        staff_read_seq=row["staff_read_seq"],
        client_read_seq=row["client_read_seq"],
        edit_window_seconds=edit_window,
        availability=available,
    )
