"""The processing log: append-only rows, each hash-chained to the one before.

``record`` joins the caller's transaction, so the act and its rows commit together. It takes a
transaction-scoped advisory lock before reading the chain's head: concurrent writers queue for
the head instead of forking the chain, and the lock is released by their commit. Call it as the
last statement of a transaction so the lock is held only through the commit.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg
import msgspec

from okno.platform import database
from okno.platform.processing_log.schemas import LogEntry, validated
from okno.platform.subjects.fields import categories_of

CHAIN_LOCK = 0x6F6B6E6F_6C6F67  # "oknolog": the advisory-lock key of the chain's head
GENESIS = b"\x00" * 32
COLUMNS = (
    "id, at, actor_kind, actor_id, subject_id, action, categories, fields, purpose,"
    " legal_basis, request_id, reason"
)


class VerifyResult(msgspec.Struct, frozen=True):
    ok: bool
    checked: int
    first_bad_id: int | None = None
    problem: str | None = None


def _digest(prev_hash: bytes, row: Sequence[object]) -> bytes:
    (row_id, at, actor_kind, actor_id, subject_id, action, categories, fields, *rest) = row
    assert isinstance(at, datetime)
    canonical = msgspec.json.encode(
        [
            row_id,
            at.astimezone(UTC).isoformat(timespec="microseconds"),
            actor_kind,
            actor_id,
            str(subject_id) if subject_id is not None else None,
            action,
            list(categories),
            list(fields),
            *rest,
        ]
    )
    return hashlib.sha256(prev_hash + canonical).digest()


async def record(*entries: LogEntry) -> list[int]:
    """Append ``entries`` inside the caller's transaction; returns their ids."""
    if not entries:
        return []
    checked = [validated(entry) for entry in entries]
    conn = database.connection()
    await conn.execute("SELECT pg_advisory_xact_lock($1)", CHAIN_LOCK)
    head = await conn.fetchrow("SELECT id, hash FROM processing_log ORDER BY id DESC LIMIT 1")
    last_id, prev_hash = (head["id"], bytes(head["hash"])) if head else (0, GENESIS)
    at = datetime.now(UTC)
    rows = []
    for offset, entry in enumerate(checked, start=1):
        row = (
            last_id + offset,
            at,
            entry.actor_kind.value,
            entry.actor_id,
            entry.subject_id,
            entry.action.value,
            [c.value for c in categories_of(entry.fields)],
            list(entry.fields),
            entry.purpose,
            entry.legal_basis,
            entry.request_id,
            entry.reason,
        )
        digest = _digest(prev_hash, row)
        rows.append((*row, prev_hash, digest))
        prev_hash = digest
    await conn.executemany(
        f"INSERT INTO processing_log ({COLUMNS}, prev_hash, hash)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        rows,
    )
    return [row[0] for row in rows]


async def verify(conn: asyncpg.Connection) -> VerifyResult:
    """Walk the whole chain in order; name the first row that does not hold."""
    expected_id, prev_hash, checked = 1, GENESIS, 0
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        query = f"SELECT {COLUMNS}, prev_hash, hash FROM processing_log ORDER BY id"
        async for record_ in conn.cursor(query, prefetch=2000):
            row = tuple(record_)
            row_id = row[0]
            if row_id != expected_id:
                return VerifyResult(False, checked, expected_id, f"row {expected_id} is missing")
            if bytes(row[12]) != prev_hash:
                return VerifyResult(
                    False, checked, row_id, "the link to the previous row is broken"
                )
            if _digest(prev_hash, row[:12]) != bytes(row[13]):
                return VerifyResult(False, checked, row_id, "the content does not match its hash")
            prev_hash, expected_id, checked = bytes(row[13]), row_id + 1, checked + 1
    return VerifyResult(True, checked)


async def subject_history(conn: asyncpg.Connection, subject_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {COLUMNS} FROM processing_log WHERE subject_id = $1 ORDER BY id", subject_id
    )
