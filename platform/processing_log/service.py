"""The processing log: append-only rows, sealed into a hash chain shortly after they commit.

``record`` joins the caller's transaction: the act, its rows and their places in the sealing
queue commit together, in one statement and without any lock shared with other writers. The
sealer (``seal``, run by every server process; one at a time under an advisory lock) takes the
committed rows from the queue in id order and appends them to ``processing_log_chain``, each
link holding the SHA-256 of its row and the previous link. Both tables refuse UPDATE, DELETE
and TRUNCATE; the chain catches whoever bypasses that. Rows still waiting for the sealer (a
fraction of a second old) are protected by the triggers alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg
import msgspec

from okno.platform import database
from okno.platform.processing_log.schemas import LogEntry, validated
from okno.platform.subjects.fields import categories_of

logger = logging.getLogger(__name__)

SEALER_LOCK = 0x6F6B6E6F_6C6F67  # "oknolog": one sealer at a time extends the chain
SEAL_BATCH = 5000
SEAL_INTERVAL = 0.2  # seconds between a server's sealing rounds
SEAL_RETRY = 2.0  # seconds between rounds while the database is unavailable
GENESIS = b"\x00" * 32
# The columns a row is written with, and their types: the values are cast because rows are
# selected from VALUES (so that a statement can write them conditionally).
WRITTEN_TYPES = {
    "at": "timestamptz",
    "actor_kind": "text",
    "actor_id": "text",
    "subject_id": "uuid",
    "action": "text",
    "categories": "text[]",
    "fields": "text[]",
    "purpose": "text",
    "legal_basis": "text",
    "request_id": "bigint",
    "reason": "text",
}
WRITTEN = ", ".join(WRITTEN_TYPES)
COLUMNS = f"id, {WRITTEN}"


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


def appending(
    entries: Sequence[LogEntry], first: int, when: str = "true"
) -> tuple[str, list[object]]:
    """Two CTEs, ``written`` (with the new ids) and ``queued``, that append ``entries`` as part
    of the caller's statement, so an act done in one statement logs itself in that statement;
    parameters are numbered from ``first``. ``when`` (SQL) can make the rows conditional."""
    at = datetime.now(UTC)
    values: list[object] = []
    rows = []
    for entry in (validated(entry) for entry in entries):
        values += (
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
        start = first + len(rows) * len(WRITTEN_TYPES)
        casts = (f"${start + n}::{cast}" for n, cast in enumerate(WRITTEN_TYPES.values()))
        rows.append(f"({', '.join(casts)})")
    sql = (
        f"written AS (INSERT INTO processing_log ({WRITTEN})"
        f" SELECT * FROM (VALUES {', '.join(rows)}) AS entry WHERE {when} RETURNING id),"
        " queued AS (INSERT INTO processing_log_unsealed (log_id) SELECT id FROM written)"
    )
    return sql, values


async def record(*entries: LogEntry) -> list[int]:
    """Append ``entries`` inside the caller's transaction; returns their ids."""
    if not entries:
        return []
    conn = database.connection()
    ctes, values = appending(entries, 1)
    rows = await conn.fetch(f"WITH {ctes} SELECT id FROM written ORDER BY id", *values)
    return [row["id"] for row in rows]


async def seal(conn: asyncpg.Connection, *, wait: bool = False) -> int:
    """Chain up to a batch of committed rows; returns how many. Another sealer at work means
    this one returns 0 at once, unless ``wait``."""
    async with conn.transaction():
        if wait:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", SEALER_LOCK)
        elif not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", SEALER_LOCK):
            return 0
        rows = await conn.fetch(
            f"WITH taken AS (DELETE FROM processing_log_unsealed WHERE log_id IN"
            f" (SELECT log_id FROM processing_log_unsealed ORDER BY log_id LIMIT {SEAL_BATCH})"
            f" RETURNING log_id)"
            f" SELECT {COLUMNS} FROM processing_log WHERE id IN (SELECT log_id FROM taken)"
            f" ORDER BY id"
        )
        if not rows:
            return 0
        head = await conn.fetchrow(
            "SELECT position, hash FROM processing_log_chain ORDER BY position DESC LIMIT 1"
        )
        position, prev_hash = (head["position"], bytes(head["hash"])) if head else (0, GENESIS)
        links = []
        for row in rows:
            digest = _digest(prev_hash, tuple(row))
            position += 1
            links.append((position, row["id"], prev_hash, digest))
            prev_hash = digest
        await conn.copy_records_to_table(
            "processing_log_chain",
            records=links,
            columns=("position", "log_id", "prev_hash", "hash"),
        )
    return len(rows)


async def seal_all(conn: asyncpg.Connection) -> int:
    """Seal until the queue holds nothing committed; waits for a sealer already at work."""
    total = 0
    while sealed := await seal(conn, wait=True):
        total += sealed
    return total


async def sealer(stop: asyncio.Event) -> None:
    """The in-server sealer: a round every SEAL_INTERVAL, a full batch without pause, and a
    round every SEAL_RETRY while the database is unavailable (one warning a retry)."""
    while not stop.is_set():
        sealed, pause = 0, SEAL_INTERVAL
        try:
            async with database.acquire() as conn:
                sealed = await seal(conn)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            logger.warning("processing log: sealer paused (%s)", type(error).__name__)
            pause = SEAL_RETRY
        if sealed < SEAL_BATCH:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=pause)


async def verify(conn: asyncpg.Connection) -> VerifyResult:
    """Seal what is waiting, then walk the whole chain in order and check that every row is in
    it; name the first row that does not hold."""
    await seal_all(conn)
    prev_hash, checked = GENESIS, 0
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        query = (
            f"SELECT c.position, c.log_id, c.prev_hash, c.hash, l.{COLUMNS.replace(', ', ', l.')}"
            " FROM processing_log_chain c LEFT JOIN processing_log l ON l.id = c.log_id"
            " ORDER BY c.position"
        )
        async for link in conn.cursor(query, prefetch=2000):
            position, log_id, link_prev, link_hash, *row = tuple(link)
            if position != checked + 1:
                return VerifyResult(
                    False, checked, log_id, f"link {checked + 1} of the chain is missing"
                )
            if row[0] is None:
                return VerifyResult(False, checked, log_id, f"row {log_id} is missing")
            if bytes(link_prev) != prev_hash:
                return VerifyResult(
                    False, checked, log_id, "the link to the previous row is broken"
                )
            if _digest(prev_hash, row) != bytes(link_hash):
                return VerifyResult(False, checked, log_id, "the content does not match its hash")
            prev_hash, checked = bytes(link_hash), checked + 1
        stray = await conn.fetchval(
            "SELECT min(l.id) FROM processing_log l WHERE NOT EXISTS"
            " (SELECT 1 FROM processing_log_chain c WHERE c.log_id = l.id)"
            " AND NOT EXISTS (SELECT 1 FROM processing_log_unsealed u WHERE u.log_id = l.id)"
        )
        if stray is not None:
            return VerifyResult(False, checked, stray, f"row {stray} is not in the chain")
    return VerifyResult(True, checked)


async def subject_history(conn: asyncpg.Connection, subject_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {COLUMNS} FROM processing_log WHERE subject_id = $1 ORDER BY id", subject_id
    )
