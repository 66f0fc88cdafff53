"""A staff member's access to conversations now: a session's scope, and the one check every
staff action on a conversation goes through.

Both read the database as it is at the moment of the act (the session on the database's clock,
the role, the teams, the subject's blocking), so a right that ended ends for the next frame.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec

from okno.platform import database
from okno.platform.chat import queries
from okno.platform.chat.errors import AccessEndedError, ChatError
from okno.platform.chat.scope import CHAT_ROLES, Scope
from okno.platform.staff.queries import session_valid
from okno.platform.staff.roles import Role
from okno.platform.staff.schemas import StaffUser

SESSION_ENDED = 4401
ROLE_WITHOUT_CHAT = 4403


async def scope_of(user: StaffUser, session: bytes | None = None) -> Scope:
    if user.role not in CHAT_ROLES:
        return Scope.of(user.id, user.role, (), session)
    async with database.acquire() as conn:
        teams = await conn.fetch(queries.TEAMS_OF_STAFF, user.id)
    return Scope.of(user.id, user.role, (t["team_id"] for t in teams), session)


class SessionNow(msgspec.Struct, frozen=True):
    """A socket's session as it is now: its role, its scope, and when it expires."""

    role: Role
    scope: Scope
    expires_at: datetime


async def sessions_now(conn: asyncpg.Connection, sessions: list[bytes]) -> dict[bytes, SessionNow]:
    """The sessions among ``sessions`` that are still valid, by token hash; the rest ended."""
    # The session rule is fixed text (an integer setting inside); values are parameters.
    rows = await conn.fetch(queries.SESSIONS_NOW.format(valid=session_valid()), sessions)
    found = {}
    for row in rows:
        role = Role(row["role"])
        scope = Scope.of(row["id"], role, row["teams"], bytes(row["token_hash"]))
        found[bytes(row["token_hash"])] = SessionNow(role, scope, row["expires_at"])
    return found


async def session_now(session: bytes) -> SessionNow:
    """One socket's session now, or ``AccessEndedError`` when it ended or its role lost chat."""
    async with database.acquire() as conn:
        found = (await sessions_now(conn, [session])).get(session)
    if found is None:
        raise AccessEndedError(SESSION_ENDED, "сеанс завершён: войдите снова")
    if found.role not in CHAT_ROLES:
        raise AccessEndedError(ROLE_WITHOUT_CHAT, "у вашей роли больше нет доступа к диалогам")
    return found


async def visible_conversation(scope: Scope, conversation_id: int) -> asyncpg.Record:
    async with database.acquire() as conn:
        row = await conn.fetchrow(
            # The session rule is fixed text (an integer setting inside); values are parameters.
            queries.VISIBLE_CONVERSATION.format(valid=session_valid()),
            conversation_id,
            scope.staff_id,
            scope.session,
        )
    assert row is not None  # FROM (SELECT 1): always one row
    if row["role"] is None:
        if scope.session is not None:
            raise AccessEndedError(SESSION_ENDED, "сеанс завершён: войдите снова")
        raise ChatError("not_found", "нет такого диалога или он вам недоступен")
    if row["role"] not in CHAT_ROLES and scope.session is not None:
        raise AccessEndedError(ROLE_WITHOUT_CHAT, "у вашей роли больше нет доступа к диалогам")
    if row["role"] not in CHAT_ROLES or row["id"] is None or not row["admitted"]:
        raise ChatError("not_found", "нет такого диалога или он вам недоступен")
    # Blocking (okno.platform.rights.blocking): a blocked subject's conversation is closed
    # to staff until the DPO unblocks it; every staff action goes through this check.
    if row["blocked"]:
        raise ChatError(
            "blocked",
            "данные клиента заблокированы ответственным за обработку ПДн на время проверки",
        )
    return row
