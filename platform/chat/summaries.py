"""Conversation summaries for staff lists and the client's ``state`` frame."""

from __future__ import annotations

from typing import Any

import asyncpg

from okno.platform.chat import queries, routing
from okno.platform.hours import service as hours
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


def for_staff(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "type": "conversation",
        "id": row["id"],
        "status": row["status"],
        "topic": {"slug": row["topic_slug"], "title": row["topic_title"]}
        if row["topic_slug"]
        else None,
        "assignee": {"id": row["assignee_id"], "name": row["assignee_name"]}
        if row["assignee_id"]
        else None,
        "team": {"id": row["team_id"], "name": row["team_name"]} if row["team_id"] else None,
        "client": {"subject_id": str(row["subject_id"]), "label": f"Клиент #{row['id']}"},
        "last_message": {
            "seq": row["last_seq_shown"],
            "preview": _preview(row),
            "author_kind": row["last_author_kind"],
            "at": row["last_at"],
        }
        if row["last_seq_shown"]
        else None,
        "unread": row["unread"],
        "tags": list(row["tags"]),
        "version": row["last_version"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _queued(row: asyncpg.Record) -> bool:
    return (
        row["assignee_id"] is None
        and row["waiting_since"] is not None
        and row["status"] != "resolved"
    )


async def client_states(
    conn: asyncpg.Connection, rows: list[asyncpg.Record]
) -> list[dict[str, Any]]:
    """The ``state`` frames of several conversations in two queries, whatever their number."""
    topics = await conn.fetch(queries.ACTIVE_TOPICS)
    queued = [row for row in rows if _queued(row)]
    positions: dict[int, int] = {}
    available: dict[int | None, dict[str, Any]] = {}
    if queued:
        queue = await conn.fetch(queries.QUEUE_POSITIONS, [row["id"] for row in queued])
        positions = {row["id"]: row["position"] for row in queue}
        available = await availability(conn, [row["team_id"] for row in queued])
    return [
        _state(topics, row, positions.get(row["id"]), available.get(row["team_id"])) for row in rows
    ]


async def availability(
    conn: asyncpg.Connection, team_ids: list[int | None]
) -> dict[int | None, dict[str, Any]]:
    """What a waiting client is told of each team: open now or when it opens, and whether
    any operator of it is online (one query for all the teams)."""
    wanted = sorted({team for team in team_ids if team is not None})
    online = await routing.teams_online(conn, wanted) if wanted else set()
    result: dict[int | None, dict[str, Any]] = {}
    for team in [*wanted, None]:
        now = await hours.availability(team)
        result[team] = {
            "open": now.open,
            "next_opening": now.next_opening,
            "operators_online": team in online,
        }
    return result


async def client_state(conn: asyncpg.Connection, row: asyncpg.Record | None) -> dict[str, Any]:
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
    available: dict[str, Any] | None = None,
) -> dict[str, Any]:
    state: dict[str, Any] = {
        "type": "state",
        "conversation": None,
        "status": None,
        "topic": None,
        "topics": [{"slug": t["slug"], "title": t["title"]} for t in topics],
        "operator": None,
        "queue_position": None,
        "staff_read_seq": 0,
        "edit_window_seconds": get_settings().edit_window_seconds,
        "availability": available,
    }
    if row is not None:
        state.update(
            conversation=row["id"],
            status=row["status"],
            topic=row["topic_slug"],
            operator={"name": row["assignee_name"], "presence": row["assignee_presence"]}
            if row["assignee_id"]
            else None,
            queue_position=position,
            staff_read_seq=row["staff_read_seq"],
        )
    return state
