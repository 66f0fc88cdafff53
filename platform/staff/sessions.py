"""Staff sessions: the ``okno_staff`` cookie's token, stored only as its SHA-256, with its expiry
and idle time; and the announcement that makes every worker re-check an account's open sockets.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import asyncpg

from okno.platform import database
from okno.platform.chat import notify
from okno.platform.settings import get_settings
from okno.platform.staff import queries
from okno.platform.staff.schemas import SessionInfo, StaffUser, staff_user
from okno.platform.staff.tables import StaffSession


def session_key(token: str) -> bytes:
    """What a session is stored and announced by: the SHA-256 of its cookie's token."""
    return hashlib.sha256(token.encode()).digest()


async def announce_sessions_ended(user_id: int, conn: asyncpg.Connection | None = None) -> None:
    """Tell every worker that this account's sessions or rights changed: call it after the
    commit of anything that ends a session (sign-out, disable, a password set or reset) or
    changes what the account may do (its role, its teams). Each open staff socket of the
    account then re-checks its session at once: one that ended is closed (4401), a role
    without chat is closed (4403), and conversations it may no longer see stop delivering
    (``access_ended``); see docs/protocol.md.

    With ``conn`` (inside the transaction that made the change) the announcement goes out
    exactly at its commit; without, call it after the commit. Either way each worker also
    re-checks its sockets every few seconds, should an announcement be lost."""
    if conn is not None:
        await notify.staff_changed_in(conn, user_id)
    else:
        await notify.staff_changed(user_id)


async def start_session(user_id: int, *, replacing: str | None = None) -> str:
    """A new session; the one the browser presented (``replacing``), if any, ends with it."""
    token = secrets.token_urlsafe(32)
    ttl = timedelta(minutes=get_settings().session_ttl_minutes)
    async with database.transaction():
        await StaffSession.delete().where(StaffSession.expires_at < database.NOW).run()
        replaced = await _delete(replacing) if replacing else None
        if replaced is not None:
            await announce_sessions_ended(replaced, database.connection())
        await StaffSession.insert(
            StaffSession(
                token_hash=session_key(token),
                user_id=user_id,
                expires_at=database.now_plus(ttl),
            )
        ).run()
    return token


async def session_user(token: str, *, allow_must_change: bool = False) -> StaffUser | None:
    """The account of a live session: not expired, not idle longer than OKNO_SESSION_IDLE_MINUTES,
    account enabled. An account that must change its password gets nothing but the password
    page (``allow_must_change``): the guard of every other page, the API and the staff socket
    all see no user. Each use keeps the session from going idle."""
    if not token or len(token) > 100:
        return None
    async with database.acquire() as conn:
        row = await conn.fetchrow(queries.session_user(), session_key(token))
        if row is not None and row["stale"]:
            # Touched at most once a minute: a busy console does not write on every request.
            await conn.execute(queries.TOUCH_SESSION, session_key(token), _idle())
    if row is None or (row["must_change_password"] and not allow_must_change):
        return None
    return staff_user(row)


async def sessions_of(user_id: int, current_token: str) -> list[SessionInfo]:
    """The account's live sessions, newest first; ``current``: the one asking."""
    rows = (
        await StaffSession.select(
            StaffSession.created_at, StaffSession.last_seen_at, StaffSession.token_hash
        )
        .where(StaffSession.user_id == user_id, StaffSession.expires_at > database.NOW)
        .order_by(StaffSession.created_at, ascending=False)
        .run()
    )
    asking = session_key(current_token)
    return [
        SessionInfo(r["created_at"], r["last_seen_at"], bytes(r["token_hash"]) == asking)
        for r in rows
    ]


async def end_other_sessions(user_id: int, current_token: str) -> int:
    """Ends every session of the account but the one asking; returns how many ended."""
    async with database.transaction():
        ended = (
            await StaffSession.delete()
            .where(
                StaffSession.user_id == user_id,
                StaffSession.token_hash != session_key(current_token),
            )
            .returning(StaffSession.user_id)
            .run()
        )
        if ended:
            await announce_sessions_ended(user_id, database.connection())
    return len(ended)


async def end_every_session(user_id: int) -> None:
    """End every session of an account in the caller's transaction; its open sockets on
    every worker close at commit."""
    await StaffSession.delete().where(StaffSession.user_id == user_id).run()
    await announce_sessions_ended(user_id, database.connection())


async def touch_session(token: str | None) -> None:
    """A sign of life from the session's console socket (its heartbeat): the session is used,
    so it does not go idle. At most one write a minute."""
    if not token:
        return
    async with database.acquire() as conn:
        await conn.execute(queries.TOUCH_SESSION, session_key(token), _idle())


def _idle() -> timedelta:
    return timedelta(minutes=get_settings().session_idle_minutes)


async def end_session(token: str) -> None:
    ended = await _delete(token)
    if ended is not None:
        await announce_sessions_ended(ended)


async def _delete(token: str) -> int | None:
    """The session's row deleted; the id of its account, if it was there."""
    deleted = (
        await StaffSession.delete()
        .where(StaffSession.token_hash == session_key(token))
        .returning(StaffSession.user_id)
        .run()
    )
    return deleted[0]["user_id"] if deleted else None
