"""After a destruction commits, the tables it touched are rewritten so their files no longer
hold the old row versions.

An UPDATE or DELETE leaves the previous row version in the table's file (a dead tuple) until
VACUUM; a plain VACUUM frees the space but may leave the bytes in a page's free area. So each
table a destruction touched is rewritten with ``VACUUM (FULL, ANALYZE)``: a new file holding
only the live rows, new indexes, new statistics; PostgreSQL truncates the old file at once and
deletes it at the next checkpoint. VACUUM cannot run in a transaction: the destruction records
the tables in ``erasure_compaction`` in its own transaction, and the rewrite runs after commit
on a connection of its own, then again from the background job until it has succeeded (a lock
it cannot get within 2 s, ``queries.SET_LOCK_TIMEOUT``, a lost connection, a role that may not
vacuum). A rewrite holds the table's exclusive lock while it runs (writes to that table wait).

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

from okno.platform import database, job_loop
from okno.platform.erasure import queries
from okno.platform.erasure.registry import COLUMNS, SCRUBBED
from okno.platform.erasure.tables import ErasureCompaction

logger = logging.getLogger("okno.erasure")

# A batch of destructions (a retention run, a reapply) rewrites the tables once, at its end.
BATCH: ContextVar[bool] = ContextVar("okno_compaction_batch", default=False)
RETRY_INTERVAL = 60.0  # seconds between the job's rounds
ADVISORY = 0x6F6B6E6F  # "okno": one compaction at a time, across workers


def tables_of_erasers() -> list[str]:
    """Every table an eraser or a scrub may change (``subject``: its destroyed_at)."""
    tables = {column.split(".")[0] for column, how in COLUMNS.items() if how.startswith("eraser:")}
    tables |= {column.split(".")[0] for column in SCRUBBED}
    return sorted(tables | {"subject"})


async def request(act_id: int, tables: list[str]) -> None:
    """In the destruction's transaction: the act's tables wait for their rewrite."""
    await ErasureCompaction.insert(ErasureCompaction(act_id=act_id, tables=sorted(tables))).run()


async def run_pending() -> int:
    """Rewrite the tables of every act still waiting; returns the acts completed. One server
    process at a time does it (an advisory lock); the others return 0."""
    async with database.owner_connection() as conn:  # VACUUM needs the tables' owner
        if not await conn.fetchval(queries.TRY_LOCK, ADVISORY):
            return 0
        try:
            return await _run(conn)
        finally:
            await conn.execute(queries.UNLOCK, ADVISORY)


async def _run(conn: asyncpg.Connection) -> int:
    pending = await conn.fetch(queries.COMPACTION_PENDING)
    if not pending:
        return 0
    existing = {row["table_name"] for row in await conn.fetch(queries.BASE_TABLES)}
    tables = sorted({t for row in pending for t in row["tables"]} & existing)
    acts = [row["act_id"] for row in pending]
    await conn.execute(queries.SET_LOCK_TIMEOUT)
    try:
        for table in tables:
            await conn.execute(queries.vacuum_full(table))
    except (asyncpg.PostgresError, OSError) as error:
        logger.warning("destruction: rewriting the tables failed (%s)", type(error).__name__)
        with contextlib.suppress(asyncpg.PostgresError, OSError):
            await conn.execute(queries.COMPACTION_FAILED, acts, type(error).__name__)
        return 0
    finally:
        with contextlib.suppress(asyncpg.PostgresError, OSError):
            await conn.execute(queries.RESET_LOCK_TIMEOUT)
    await conn.execute(queries.COMPACTION_DONE, acts)
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
    """The act's rewrite, read on the caller's connection."""
    return await conn.fetchrow(queries.COMPACTION_STATUS, act_id)


async def job(stop: asyncio.Event) -> None:
    """Retries rewrites that did not succeed right after their destruction."""
    await job_loop.every(stop, RETRY_INTERVAL, "compaction", run_pending)


__all__ = ["job", "request", "run_pending", "status", "tables_of_erasers"]
