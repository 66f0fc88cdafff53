"""The processing log: append-only rows, sealed into a hash chain shortly after they commit.

``record`` joins the caller's transaction: the act, its rows and their places in the sealing
queue commit together, in one statement and without any lock shared with other writers. The
sealer (``seal``, run by every server process; one at a time under an advisory lock) takes the
committed rows from the queue in id order and appends them to ``processing_log_chain``, each
link holding the SHA-256 of its row and the previous link. Both tables refuse UPDATE, DELETE
and TRUNCATE; the chain catches whoever bypasses that. Rows still waiting for the sealer (a
fraction of a second old) are protected by the triggers alone.

The chain's head is anchored outside the database: ``okno log verify`` (and whoever calls
``anchor``, e.g. a destruction act) appends the head's position and hash to an anchor file in
the data folder and prints it; ``verify`` checks every anchor against the chain, so removing
the newest rows together with their links is caught too.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from okno.platform import database, metrics
from okno.platform.processing_log import queries
from okno.platform.processing_log.queries import SEAL_BATCH, WRITTEN_TYPES
from okno.platform.processing_log.schemas import LogEntry, validated
from okno.platform.processing_log.tables import ProcessingLogChain
from okno.platform.settings import get_settings
from okno.platform.subjects.fields import categories_of

logger = logging.getLogger(__name__)

SEALER_LOCK = 0x6F6B6E6F_6C6F67  # "oknolog": one sealer at a time extends the chain
SEAL_INTERVAL = 0.2  # seconds between a server's sealing rounds
SEAL_RETRY = 2.0  # seconds between rounds while the database is unavailable
GENESIS = b"\x00" * 32
# The log's columns in the order the chain hashes them (the DPO's export reads them too).
COLUMNS = queries.COLUMNS


ANCHOR_FILE = "processing-log-anchors.jsonl"


class Anchor(msgspec.Struct, frozen=True, kw_only=True):
    """The chain's head at a moment: kept outside the database, one JSON line each."""

    at: str
    position: int
    log_id: int
    hash: str  # hex SHA-256 of the head link
    source: str = ""


class VerifyResult(msgspec.Struct, frozen=True):
    ok: bool
    checked: int
    first_bad_id: int | None = None
    problem: str | None = None
    head: Anchor | None = None


def anchor_path() -> Path:
    return get_settings().data_path / ANCHOR_FILE


def anchors(path: Path | None = None) -> list[Anchor]:
    """Every anchor stored so far, oldest first."""
    path = path or anchor_path()
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return []
    return [msgspec.json.decode(line, type=Anchor) for line in lines if line.strip()]


def anchor_of(source: str) -> Anchor | None:
    """The anchor a given act or check stored (the newest, if it stored several)."""
    return next((a for a in reversed(anchors()) if a.source == source), None)


def store_anchor(anchor: Anchor, path: Path | None = None) -> Path:
    path = path or anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as file:
        file.write(msgspec.json.encode(anchor) + b"\n")
        file.flush()
        os.fsync(file.fileno())
    return path


async def set_aside_anchors_beyond(conn: asyncpg.Connection, why: str) -> int:
    """After a restore from a backup: the anchors of links the restored chain no longer has
    move to a file of their own (``<anchors>.<why>``), evidence of the rows the restore lost,
    so that ``okno log verify`` checks the restored chain against the anchors it can hold."""
    row = await conn.fetchrow(queries.CHAIN_HEAD)
    last = row["position"] if row is not None else 0
    kept: list[Anchor] = []
    beyond: list[Anchor] = []
    for anchor in await asyncio.to_thread(anchors):
        (kept if anchor.position <= last else beyond).append(anchor)
    if beyond:
        path = anchor_path()
        aside = path.with_name(f"{path.name}.{why}")
        for anchor in beyond:
            await asyncio.to_thread(store_anchor, anchor, aside)
        draft = path.with_name(f"{path.name}.new")
        draft.write_bytes(b"".join(msgspec.json.encode(anchor) + b"\n" for anchor in kept))
        draft.replace(path)
    return len(beyond)


async def head(conn: asyncpg.Connection, source: str = "") -> Anchor | None:
    """The newest link of the chain (None while it is empty)."""
    row = await conn.fetchrow(queries.CHAIN_HEAD)
    if row is None:
        return None
    return Anchor(
        at=datetime.now(UTC).isoformat(timespec="seconds"),
        position=row["position"],
        log_id=row["log_id"],
        hash=bytes(row["hash"]).hex(),
        source=source,
    )


async def anchor(conn: asyncpg.Connection, source: str) -> Anchor | None:
    """Store the chain's current head in the anchor file and return it (to print or cite)."""
    current = await head(conn, source)
    if current is not None:
        await asyncio.to_thread(store_anchor, current)
    return current


def _digest(prev_hash: bytes, row: Sequence[Any]) -> bytes:
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
    rows: list[str] = []
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
    return queries.append_ctes(rows, when), values


async def record(*entries: LogEntry) -> list[int]:
    """Append ``entries`` inside the caller's transaction; returns their ids."""
    if not entries:
        return []
    conn = database.connection()
    ctes, values = appending(entries, 1)
    rows = await conn.fetch(queries.record(ctes), *values)
    return [row["id"] for row in rows]


async def seal(conn: asyncpg.Connection, *, wait: bool = False) -> int:
    """Chain up to a batch of committed rows; returns how many. Another sealer at work means
    this one returns 0 at once, unless ``wait``."""
    async with conn.transaction():
        if wait:
            await conn.execute(queries.SEALER_WAIT, SEALER_LOCK)
        elif not await conn.fetchval(queries.SEALER_TRY, SEALER_LOCK):
            return 0
        rows = await conn.fetch(queries.SEAL_TAKE)
        if not rows:
            return 0
        head = await conn.fetchrow(queries.SEAL_HEAD)
        position, prev_hash = (head["position"], bytes(head["hash"])) if head else (0, GENESIS)
        links = []
        for row in rows:
            digest = _digest(prev_hash, tuple(row))
            position += 1
            links.append((position, row["id"], prev_hash, digest))
            prev_hash = digest
        await conn.copy_records_to_table(
            ProcessingLogChain._meta.tablename,
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
            metrics.JOB_RUNS.inc(job="sealer", outcome="ok")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            metrics.JOB_RUNS.inc(job="sealer", outcome="database_unavailable")
            logger.warning("processing log: sealer paused (%s)", type(error).__name__)
            pause = SEAL_RETRY
        if sealed < SEAL_BATCH:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=pause)


async def verify(conn: asyncpg.Connection, known: Sequence[Anchor] = ()) -> VerifyResult:
    """Seal what is waiting, then walk the whole chain in order and check that every row is in
    it and that every ``known`` anchor is still a link of it; name the first row that does not
    hold. The result's ``head`` is the newest link."""
    await seal_all(conn)
    expected: dict[int, Anchor] = {}
    for known_anchor in known:
        expected.setdefault(known_anchor.position, known_anchor)
    prev_hash, checked, last_id = GENESIS, 0, None
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        async for link in conn.cursor(queries.CHAIN_WALK, prefetch=2000):
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
            anchored = expected.get(position)
            if anchored is not None and anchored.hash != bytes(link_hash).hex():
                return VerifyResult(
                    False,
                    checked,
                    log_id,
                    f"link {position} differs from its anchor of {anchored.at}",
                )
            prev_hash, checked, last_id = bytes(link_hash), checked + 1, log_id
        if expected and max(expected) > checked:
            lost = expected[max(expected)]
            return VerifyResult(
                False,
                checked,
                lost.log_id,
                f"the chain ends at link {checked}, but its anchor of {lost.at} is link"
                f" {lost.position}: the newest rows were removed",
            )
        stray = await conn.fetchval(queries.STRAY_ROW)
        if stray is not None:
            return VerifyResult(False, checked, stray, f"row {stray} is not in the chain")
    current = None
    if last_id is not None:
        current = Anchor(
            at=datetime.now(UTC).isoformat(timespec="seconds"),
            position=checked,
            log_id=last_id,
            hash=prev_hash.hex(),
        )
    return VerifyResult(True, checked, head=current)


async def verify_and_anchor(conn: asyncpg.Connection, source: str) -> VerifyResult:
    """``verify`` against every stored anchor; when the chain holds, anchor its head."""
    known = await asyncio.to_thread(anchors)
    result = await verify(conn, known)
    if result.ok and result.head is not None:
        anchored = msgspec.structs.replace(result.head, source=source)
        last = known[-1] if known else None
        if last is None or (last.position, last.hash) != (anchored.position, anchored.hash):
            await asyncio.to_thread(store_anchor, anchored)
        result = msgspec.structs.replace(result, head=anchored)
    return result


async def subject_history(conn: asyncpg.Connection, subject_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(queries.SUBJECT_ROWS, subject_id)
