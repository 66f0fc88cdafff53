"""Visitors: a browser known by a random token in an HttpOnly cookie (only its hash is kept)."""

from __future__ import annotations

import hashlib
import secrets
import uuid

import msgspec

from okno.platform.chat import queries, tables

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
    rows = (
        await tables.Visitor.update({tables.Visitor.last_seen_at: queries.NOW})
        .where(tables.Visitor.token_hash == token_hash(token))
        .returning(tables.Visitor.token_hash, tables.Visitor.subject_id, tables.Visitor.topic_id)
        .run()
    )
    if not rows:
        return None
    return Visitor(bytes(rows[0]["token_hash"]), rows[0]["subject_id"], rows[0]["topic_id"])


async def create() -> str:
    token = secrets.token_urlsafe(32)
    row = tables.Visitor(
        token_hash=token_hash(token), created_at=queries.NOW, last_seen_at=queries.NOW
    )
    await tables.Visitor.insert(row).run()
    return token


async def reload(visitor: Visitor) -> Visitor:
    row = (
        await tables.Visitor.select(tables.Visitor.subject_id, tables.Visitor.topic_id)
        .where(tables.Visitor.token_hash == visitor.token_hash)
        .first()
        .run()
    )
    if row is None:
        return visitor
    return Visitor(visitor.token_hash, row["subject_id"], row["topic_id"])
