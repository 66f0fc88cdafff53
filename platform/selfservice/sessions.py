"""Portal sessions: a random token in the ``okno_portal`` cookie, only its SHA-256 stored.

A session is opened from the chat's visitor cookie (the browser the client writes from) or by a
one-time code sent to an e-mail address on file. It is separate from staff sessions in every way:
its own table, cookie and guard.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import BaseRouteHandler

from okno.platform import database
from okno.platform.chat import visitors
from okno.platform.chat.tables import Visitor
from okno.platform.processing_log import service as processing_log
from okno.platform.processing_log.actions import Action, ActorKind
from okno.platform.selfservice import queries
from okno.platform.selfservice.compliance import entry
from okno.platform.selfservice.tables import PortalSession
from okno.platform.settings import get_settings

PORTAL_COOKIE = "okno_portal"


class Session(msgspec.Struct, frozen=True):
    """A live portal session: whose it is, how it was opened, until when."""

    token_hash: bytes
    subject_id: uuid.UUID
    via: str
    expires_at: datetime


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def start(subject_id: uuid.UUID, via: str) -> str:
    """Open a session for the subject in the caller's transaction; returns the cookie's token."""
    token = secrets.token_urlsafe(32)
    ttl = timedelta(minutes=get_settings().portal_session_minutes)
    database.current_transaction()  # raises outside one: the session opens with its act
    await PortalSession.delete().where(PortalSession.expires_at < database.NOW).run()
    await PortalSession.insert(
        PortalSession(
            token_hash=_hash(token),
            subject_id=subject_id,
            via=via,
            expires_at=database.now_plus(ttl),
        )
    ).run()
    return token


async def from_visitor(visitor_token: str | None) -> str | None:
    """A session for the chat's visitor, if that browser has written (has a subject) and the
    client has not signed out of the portal in it since (``sign_out``)."""
    visitor = await visitors.find(visitor_token)
    if visitor is None or visitor.subject_id is None:
        return None
    async with database.transaction():
        closed = await database.connection().fetchval(
            queries.VISITOR_CLOSED, visitor.subject_id, visitor.token_hash
        )
        if closed:
            return None
        token = await start(visitor.subject_id, "visitor")
        await processing_log.record(
            entry(
                Action.USE,
                ActorKind.SYSTEM,
                visitor.subject_id,
                ("visitor_token",),
                reason="вход в «Мои данные» из браузера, где идёт чат",
            )
        )
    return token


async def find(token: str | None) -> Session | None:
    if not token or len(token) > 100:
        return None
    async with database.acquire() as conn:
        row = await conn.fetchrow(queries.LIVE_SESSION, _hash(token))
    if row is None:
        return None
    return Session(bytes(row["token_hash"]), row["subject_id"], row["via"], row["expires_at"])


async def end(token: str | None) -> None:
    if not token:
        return
    await PortalSession.delete().where(PortalSession.token_hash == _hash(token)).run()


async def sign_out(token: str | None, visitor_token: str | None) -> None:
    """Sign-out: the session ends, and the chat's visitor cookie in this browser no longer opens
    a new one (the chat itself goes on). A one-time code by e-mail opens the portal again."""
    async with database.transaction():
        if token:
            await PortalSession.delete().where(PortalSession.token_hash == _hash(token)).run()
        if visitor_token and len(visitor_token) <= 100:
            await (
                Visitor.update({Visitor.portal_closed_at: database.NOW})
                .where(Visitor.token_hash == visitors.token_hash(visitor_token))
                .run()
            )


async def reopen_visitor(visitor_token: str | None, session_token: str) -> None:
    """After a sign-in by code, this browser's visitor cookie may open the portal again, if it
    is the same client's."""
    if not visitor_token or len(visitor_token) > 100:
        return
    async with database.acquire() as conn:
        await conn.execute(
            queries.REOPEN_VISITOR, visitors.token_hash(visitor_token), _hash(session_token)
        )


async def subject_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Admits a browser holding a live portal session; the subject is ``state.portal``."""
    session = await find(connection.cookies.get(PORTAL_COOKIE))
    if session is None:
        raise NotAuthorizedException("войдите в «Мои данные»")
    connection.state.portal = session


subject_guard.access = "subject"  # type: ignore[attr-defined]
