"""Operator presence from heartbeats, and assignment of waiting conversations by topic.

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


# An online operator or supervisor of the team with room for one more chat. Round robin
# takes whoever was assigned longest ago; least loaded takes whoever holds fewest open chats
# first ($3), then the same turn order.
CANDIDATE = """
SELECT u.id, u.display_name FROM staff_user u
JOIN team_member tm ON tm.staff_id = u.id AND tm.team_id = $1
JOIN staff_presence p ON p.staff_id = u.id
CROSS JOIN LATERAL (
    SELECT count(*) AS open FROM conversation c
    WHERE c.assignee_id = u.id AND c.status IN ('new', 'open', 'pending')
) load
WHERE p.status = 'online' AND p.seen_at >= now() - make_interval(secs => $2)
  AND u.disabled_at IS NULL AND u.role IN ('operator', 'supervisor')
  AND load.open < u.max_chats
ORDER BY CASE WHEN $3::boolean THEN load.open ELSE 0 END, p.last_assigned_at NULLS FIRST, u.id
LIMIT 1
FOR UPDATE OF p SKIP LOCKED
"""

# The oldest waiting conversation whose topic assigns automatically, leaving out the teams
# already found to have nobody free in this pass ($1): one full team holds up no other.
NEXT_WAITING = """
SELECT c.id, c.subject_id, c.status, c.assignee_id, c.team_id, c.last_seq, c.last_version,
       coalesce(t.assignment, 'round_robin') AS assignment
FROM conversation c LEFT JOIN topic t ON t.id = c.topic_id
WHERE c.assignee_id IS NULL AND c.waiting_since IS NOT NULL AND c.status <> 'resolved'
  AND coalesce(t.assignment, 'round_robin') <> 'manual'
  AND coalesce(c.team_id, 0) <> ALL($1::int[]) AND coalesce(c.team_id, 0) <> ALL($2::int[])
  AND NOT EXISTS (SELECT 1 FROM subject s WHERE s.id = c.subject_id AND s.blocked_at IS NOT NULL)
ORDER BY c.waiting_since LIMIT 1 FOR UPDATE OF c SKIP LOCKED
"""


async def assign_waiting(limit: int = 20) -> int:
    """Give waiting conversations, oldest first, to online operators of their team.

    Topics set to manual assignment stay in the queue for an operator to take.
    """
    from okno.platform.chat.service import assign_in_transaction

    assigned = 0
    full_teams: list[int] = []
    closed_teams = await hours.closed_team_ids()
    for _ in range(limit):
        async with database.transaction():
            conn = database.connection()
            conversation = await conn.fetchrow(NEXT_WAITING, full_teams, closed_teams)
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
        CANDIDATE, team_id, get_settings().presence_timeout_seconds, least_loaded
    )


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
