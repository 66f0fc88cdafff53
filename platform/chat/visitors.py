"""Visitors: a browser known by a random token in an HttpOnly cookie (only its hash is kept)."""

from __future__ import annotations

import hashlib
import secrets
import uuid

import msgspec

from okno.platform import database

VISITOR_COOKIE = "okno_visitor"


class Visitor(msgspec.Struct, frozen=True):
    token_hash: bytes
    subject_id: uuid.UUID | None
    topic_id: int | None


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def find(token: str | None) -> Visitor | None:
    if not token or len(token) > 100:
        return None
    async with database.acquire() as conn:
        row = await conn.fetchrow(
            "UPDATE visitor SET last_seen_at = now() WHERE token_hash = $1"
            " RETURNING token_hash, subject_id, topic_id",
            token_hash(token),
        )
    return Visitor(bytes(row["token_hash"]), row["subject_id"], row["topic_id"]) if row else None


async def create() -> str:
    token = secrets.token_urlsafe(32)
    async with database.acquire() as conn:
        await conn.execute("INSERT INTO visitor (token_hash) VALUES ($1)", token_hash(token))
    return token


async def reload(visitor: Visitor) -> Visitor:
    async with database.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT subject_id, topic_id FROM visitor WHERE token_hash = $1", visitor.token_hash
        )
    if row is None:
        return visitor
    return Visitor(visitor.token_hash, row["subject_id"], row["topic_id"])
