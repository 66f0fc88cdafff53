"""Operator presence from heartbeats, and round-robin assignment of waiting conversations.

Only conversations of teams that are open now (``okno.platform.hours``) are assigned; the
others wait in their queue, and the hub's sweep assigns them once the team opens and an
operator of it is online."""

from __future__ import annotations

import asyncpg

from okno.platform import database
from okno.platform.chat import notify
from okno.platform.chat.compliance import Actor, entries
from okno.platform.hours import service as hours
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action
from okno.platform.settings import get_settings


async def set_presence(staff_id: int, status: str) -> None:
    """Record a heartbeat or a change of status; announce changes so clients see them."""
    async with database.acquire() as conn:
        previous = await conn.fetchval(
            "SELECT CASE WHEN seen_at < now() - make_interval(secs => $2) THEN 'offline'"
            " ELSE status END FROM staff_presence WHERE staff_id = $1",
            staff_id,
            get_settings().presence_timeout_seconds,
        )
        await conn.execute(
            "INSERT INTO staff_presence (staff_id, status, seen_at) VALUES ($1, $2, now())"
            " ON CONFLICT (staff_id) DO UPDATE SET status = $2, seen_at = now()",
            staff_id,
            status,
        )
    if previous != status:
        await notify.publish({"p": staff_id})
        if status == "online":
            await assign_waiting()


async def sweep_presence() -> list[int]:
    """Operators whose heartbeats stopped become offline; returns who changed."""
    async with database.acquire() as conn:
        rows = await conn.fetch(
            "UPDATE staff_presence SET status = 'offline' WHERE status <> 'offline'"
            " AND seen_at < now() - make_interval(secs => $1) RETURNING staff_id",
            get_settings().presence_timeout_seconds,
        )
    return [row["staff_id"] for row in rows]


CANDIDATE = """
SELECT u.id, u.display_name FROM staff_user u
JOIN team_member tm ON tm.staff_id = u.id AND tm.team_id = $1
JOIN staff_presence p ON p.staff_id = u.id
WHERE p.status = 'online' AND p.seen_at >= now() - make_interval(secs => $2)
  AND u.disabled_at IS NULL AND u.role IN ('operator', 'supervisor')
  AND (SELECT count(*) FROM conversation c
       WHERE c.assignee_id = u.id AND c.status IN ('new', 'open', 'pending')) < u.max_chats
ORDER BY p.last_assigned_at NULLS FIRST, u.id
LIMIT 1
FOR UPDATE OF p SKIP LOCKED
"""


async def assign_waiting(limit: int = 20) -> int:
    """Give waiting conversations, oldest first, to online operators of their team in turn."""
    from okno.platform.chat.service import assign_in_transaction

    assigned = 0
    open_teams = await hours.open_team_ids()
    for _ in range(limit):
        async with database.transaction():
            conn = database.connection()
            conversation = await conn.fetchrow(
                "SELECT id, subject_id, status, assignee_id, team_id, last_seq, last_version"
                " FROM conversation c WHERE assignee_id IS NULL AND waiting_since IS NOT NULL"
                " AND status <> 'resolved' AND team_id = ANY($1::int[])"
                " AND NOT EXISTS (SELECT 1 FROM subject s"
                "  WHERE s.id = c.subject_id AND s.blocked_at IS NOT NULL)"
                " ORDER BY waiting_since LIMIT 1 FOR UPDATE OF c SKIP LOCKED",
                open_teams,
            )
            if conversation is None:
                break
            operator = await _candidate(conn, conversation["team_id"])
            if operator is None:
                break
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


async def _candidate(conn: asyncpg.Connection, team_id: int | None) -> asyncpg.Record | None:
    return await conn.fetchrow(CANDIDATE, team_id, get_settings().presence_timeout_seconds)


ONLINE_TEAMS = """
SELECT DISTINCT tm.team_id FROM team_member tm
JOIN staff_user u ON u.id = tm.staff_id
JOIN staff_presence p ON p.staff_id = tm.staff_id
WHERE tm.team_id = ANY($1::int[]) AND p.status = 'online'
  AND p.seen_at >= now() - make_interval(secs => $2)
  AND u.disabled_at IS NULL AND u.role IN ('operator', 'supervisor')
"""


async def teams_online(conn: asyncpg.Connection, team_ids: list[int]) -> set[int]:
    """Which of ``team_ids`` have an operator online now (busy or not)."""
    rows = await conn.fetch(ONLINE_TEAMS, team_ids, get_settings().presence_timeout_seconds)
    return {row["team_id"] for row in rows}
