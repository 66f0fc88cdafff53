"""What ``/readyz``, ``/metrics`` and ``okno check`` read from the database."""

from __future__ import annotations

import functools

import asyncpg

from okno.platform import database, metrics, queries

LOG_UNSEALED = metrics.Gauge(
    "okno_processing_log_unsealed", "Processing-log rows written and not yet sealed."
)


@functools.cache
def known_migrations() -> frozenset[tuple[str, str]]:
    """Every (app, migration ID) of this code's migrations folders, read once per process."""
    # deferred: Piccolo's migration machinery takes about a second to import (migrate.py).
    from piccolo.apps.migrations.commands.base import BaseMigrationManager

    manager = BaseMigrationManager()
    known: set[tuple[str, str]] = set()
    for module in manager.get_app_modules():
        config = module.APP_CONFIG
        folder = manager.get_migration_modules(config.resolved_migrations_folder_path)
        known |= {(config.app_name, migration) for migration in manager.get_migration_ids(folder)}
    return frozenset(known)


async def pending_migrations(conn: asyncpg.Connection) -> list[str]:
    """This code's migrations the database has not applied ("app:ID"), oldest first."""
    try:
        applied = {
            (row["app_name"], row["name"]) for row in await conn.fetch(queries.APPLIED_MIGRATIONS)
        }
    except asyncpg.UndefinedTableError:  # an empty database: nothing applied yet
        applied = set()
    return sorted(
        (f"{app}:{migration}" for app, migration in known_migrations() - applied),
        key=lambda name: name.split(":", 1)[1],
    )


async def readiness() -> tuple[bool, bool]:
    """Whether the database answers, and whether every migration is applied; a failure is no."""
    try:
        async with database.acquire() as conn:
            pending = await pending_migrations(conn)
    except Exception:
        return False, False
    return True, not pending


async def scrape() -> str:
    """The metrics exposition, with what the database knows read now."""
    pool = database.engine().pool
    if pool is not None:
        idle = pool.get_idle_size()
        metrics.POOL.set(idle, state="idle")
        metrics.POOL.set(pool.get_size() - idle, state="busy")
        metrics.POOL_MAX.set(pool.get_max_size())
    try:
        async with database.acquire() as conn:
            row = await conn.fetchrow(queries.SCRAPE)
    except database.UNAVAILABLE:
        metrics.UP.set(0)
    else:
        assert row is not None
        metrics.UP.set(1)
        metrics.QUEUE_WAITING.set(row["queue_waiting"])
        metrics.QUEUE_OLDEST_WAIT.set(float(row["queue_oldest_wait"]))
        metrics.MAILINGS_DUE.set(row["mailings_due"])
        LOG_UNSEALED.set(row["log_unsealed"])
        metrics.MESSAGES_STORED.values = {(): row["messages_stored"]}
    return metrics.exposition()
