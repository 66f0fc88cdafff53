"""Operator presence from heartbeats, and assignment of conversations: waiting ones by topic,
or to whoever takes one.

Only conversations of teams that are open now (``okno.platform.hours``) are assigned; the
others wait in their queue, and the hub's sweep assigns them once the team opens and an
operator of it is online."""

from __future__ import annotations

import uuid

import asyncpg

from okno.platform import database
from okno.platform.chat import notify, queries
from okno.platform.chat.compliance import Actor, entries
from okno.platform.hours import service as hours
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action
from okno.platform.settings import get_settings
from okno.platform.webhooks import events as webhook_events


async def set_presence(staff_id: int, status: str) -> None:
    """Record a heartbeat or a change of status; announce changes so clients see them."""
    timeout = get_settings().presence_timeout_seconds
    async with database.acquire() as conn:
        previous = await conn.fetchval(queries.PRESENCE_SHOWN, staff_id, timeout)
        if previous == "offline" and status != "offline":
            await conn.execute(queries.PRESENCE_LAPSED, staff_id, timeout)
        await conn.execute(queries.HEARTBEAT, staff_id, status)
    if previous != status:
        await notify.publish({"p": staff_id})
        if status == "online":
            await assign_waiting()


async def sweep_presence() -> list[int]:
    """Operators whose heartbeats stopped become offline; returns who changed."""
    async with database.acquire() as conn:
        rows = await conn.fetch(queries.SWEEP_PRESENCE, get_settings().presence_timeout_seconds)
    return [row["staff_id"] for row in rows]


async def assign_waiting(limit: int = 20) -> int:
    """Give waiting conversations, oldest first, to online operators of their team.

    Topics set to manual assignment stay in the queue for an operator to take.
    """
    assigned = 0
    full_teams: list[int] = []
    closed_teams = await hours.closed_team_ids()
    for _ in range(limit):
        async with database.transaction():
            conn = database.connection()
            conversation = await conn.fetchrow(queries.NEXT_WAITING, full_teams, closed_teams)
            if conversation is None:
                break
            operator = await _candidate(
                conn, conversation["team_id"], conversation["assignment"] == "least_loaded"
            )
            if operator is None:
                full_teams.append(conversation["team_id"] or 0)
                continue
            version = await assign_in_transaction(conn, conversation, operator["id"])
            await processing_log.record(
                *entries(
                    Actor.system(),
                    conversation["subject_id"],
                    (Action.ACCESS,),
                    ("message_text",),
                    reason="автоматическое назначение оператора",
                )
            )
        await notify.changed(conversation["id"], version)
        assigned += 1
    return assigned


async def _candidate(
    conn: asyncpg.Connection, team_id: int | None, least_loaded: bool
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        queries.CANDIDATE, team_id, get_settings().presence_timeout_seconds, least_loaded
    )


async def assign_in_transaction(
    conn: asyncpg.Connection, conversation: asyncpg.Record, staff_id: int
) -> int:
    """Give the locked ``conversation`` to ``staff_id``: their round-robin turn moves on, and a
    service line says who joined. Returns the conversation's version after it."""
    await conn.execute(queries.ASSIGN, conversation["id"], staff_id)
    await conn.execute(queries.ASSIGNED_NOW, staff_id)
    await webhook_events.emit(
        conn,
        "conversation.assigned",
        {
            "conversation_id": conversation["id"],
            "subject_id": str(conversation["subject_id"]),
            "staff_id": staff_id,
        },
        conversation_id=conversation["id"],
        subject_id=conversation["subject_id"],
    )
    name = await conn.fetchval(queries.STAFF_NAME, staff_id)
    return await system_note(conn, conversation["id"], f"К диалогу подключился оператор {name}")


async def system_note(
    conn: asyncpg.Connection, conversation_id: int, text: str, *, internal: bool = False
) -> int:
    """A service line in the conversation (who joined, status changes); returns its version."""
    counters = await database.fetch_one(conn, queries.NOTE_COUNTERS, conversation_id)
    await conn.execute(
        queries.NOTE,
        conversation_id,
        counters["last_seq"],
        counters["last_version"],
        uuid.uuid4(),
        text,
        internal,
    )
    return counters["last_version"]


async def teams_online(conn: asyncpg.Connection, team_ids: list[int]) -> set[int]:
    """Which of ``team_ids`` have an operator online now (busy or not)."""
    rows = await conn.fetch(queries.ONLINE_TEAMS, team_ids, get_settings().presence_timeout_seconds)
    return {row["team_id"] for row in rows}
