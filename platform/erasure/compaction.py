"""After a destruction commits, the tables it touched are rewritten so their files no longer
hold the old row versions.

An UPDATE or DELETE leaves the previous row version in the table's file (a dead tuple) until
VACUUM; a plain VACUUM frees the space but may leave the bytes in a page's free area. So each
table a destruction touched is rewritten with ``VACUUM (FULL, ANALYZE)``: a new file holding
only the live rows, new indexes, new statistics; PostgreSQL truncates the old file at once and
deletes it at the next checkpoint. VACUUM cannot run in a transaction: the destruction records
the tables in ``erasure_compaction`` in its own transaction, and the rewrite runs after commit
on a connection of its own, then again from the background job until it has succeeded (a lock
it cannot get within ``LOCK_TIMEOUT``, a lost connection, a role that may not vacuum). A
rewrite holds the table's exclusive lock while it runs (writes to that table wait).

What this does not reach, and the act and docs/dpo.md say so: PostgreSQL's write-ahead log
(``pg_wal``) keeps the old values until its segments are recycled, and backups and WAL
archives keep them for as long as they are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

import asyncpg

from okno.platform import database
from okno.platform.erasure.registry import COLUMNS, SCRUBBED

logger = logging.getLogger("okno.erasure")

# A batch of destructions (a retention run, a reapply) rewrites the tables once, at its end.
BATCH: ContextVar[bool] = ContextVar("okno_compaction_batch", default=False)
LOCK_TIMEOUT = "2s"  # while VACUUM waits for its lock, writers queue behind it
RETRY_INTERVAL = 60.0  # seconds between the job's rounds
ADVISORY = 0x6F6B6E6F  # "okno": one compaction at a time, across workers


def tables_of_erasers() -> list[str]:
    """Every table an eraser or a scrub may change (``subject``: its destroyed_at)."""
    tables = {column.split(".")[0] for column, how in COLUMNS.items() if how.startswith("eraser:")}
    tables |= {column.split(".")[0] for column in SCRUBBED}
    return sorted(tables | {"subject"})


async def request(conn: asyncpg.Connection, act_id: int, tables: list[str]) -> None:
    """In the destruction's transaction: the act's tables wait for their rewrite."""
    await conn.execute(
        "INSERT INTO erasure_compaction (act_id, tables) VALUES ($1, $2)", act_id, sorted(tables)
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def run_pending() -> int:
    """Rewrite the tables of every act still waiting; returns the acts completed. One server
    process at a time does it (an advisory lock); the others return 0."""
    async with database.owner_connection() as conn:  # VACUUM needs the tables' owner
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY):
            return 0
        try:
            return await _run(conn)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", ADVISORY)


async def _run(conn: asyncpg.Connection) -> int:
    pending = await conn.fetch(
        "SELECT act_id, tables FROM erasure_compaction WHERE done_at IS NULL ORDER BY act_id"
    )
    if not pending:
        return 0
    existing = {
        row["table_name"]
        for row in await conn.fetch(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    }
    tables = sorted({t for row in pending for t in row["tables"]} & existing)
    acts = [row["act_id"] for row in pending]
    await conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    try:
        for table in tables:
            await conn.execute(f"VACUUM (FULL, ANALYZE) {_quote(table)}")
    except (asyncpg.PostgresError, OSError) as error:
        logger.warning("destruction: rewriting the tables failed (%s)", type(error).__name__)
        with contextlib.suppress(asyncpg.PostgresError, OSError):
            await conn.execute(
                "UPDATE erasure_compaction SET attempts = attempts + 1, last_error = $2"
                " WHERE act_id = ANY($1::bigint[])",
                acts,
                type(error).__name__,
            )
        return 0
    finally:
        with contextlib.suppress(asyncpg.PostgresError, OSError):
            await conn.execute("RESET lock_timeout")
    await conn.execute(
        "UPDATE erasure_compaction SET attempts = attempts + 1, last_error = NULL,"
        " done_at = now() WHERE act_id = ANY($1::bigint[])",
        acts,
    )
    return len(acts)


@asynccontextmanager
async def batch() -> AsyncIterator[None]:
    """Destructions inside leave their rewrite to the end of the block (or to the job)."""
    token = BATCH.set(True)
    try:
        yield
    finally:
        BATCH.reset(token)
    try:
        await run_pending()
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        logger.warning("destruction: compaction left to the job (%s)", type(error).__name__)


async def status(conn: asyncpg.Connection, act_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT tables, requested_at, attempts, last_error, done_at FROM erasure_compaction"
        " WHERE act_id = $1",
        act_id,
    )


async def job(stop: asyncio.Event) -> None:
    """Retries rewrites that did not succeed right after their destruction."""
    while not stop.is_set():
        try:
            await run_pending()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            logger.warning("destruction: compaction job paused (%s)", type(error).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=RETRY_INTERVAL)


__all__ = ["job", "request", "run_pending", "status", "tables_of_erasers"]
