"""Apply the Piccolo migrations of every okno app, once, even with several starters at once."""

from __future__ import annotations

import contextlib
import io

import asyncpg

from okno.platform import database

MIGRATION_LOCK = 0x6F6B6E6F_6D6967  # "oknomig"


class MigrationError(RuntimeError):
    pass


async def migrate(database_url: str) -> str:
    """Bring the schema up to date; returns Piccolo's report."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    database.bind(database_url)
    lock_holder = await asyncpg.connect(database_url)
    try:
        await lock_holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        report = io.StringIO()
        with contextlib.redirect_stdout(report):
            result = await run_forwards(app_name="all")
        if not result.success:
            raise MigrationError(result.message or report.getvalue())
        return report.getvalue()
    finally:
        await lock_holder.close()
