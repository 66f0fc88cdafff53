"""Apply the Piccolo migrations of every okno app, once, even with several starters at once.

Migrations run as the owner role (``OKNO_MIGRATION_DATABASE_URL``, or ``DATABASE_URL`` when that
is unset). When the server's role (``DATABASE_URL``) is another one, the owner then grants it
what the application needs and no more (``queries.APP_GRANTS``): it owns nothing, so it cannot
disable the processing log's triggers, and it may not UPDATE or DELETE the log or its chain.
"""

from __future__ import annotations

import contextlib
import io

import asyncpg

from okno.platform import database, queries

MIGRATION_LOCK = 0x6F6B6E6F_6D6967  # "oknomig"


class MigrationError(RuntimeError):
    pass


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def role_of(database_url: str) -> str:
    """The role a URL signs in as (connecting checks the credentials, too)."""
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(queries.CURRENT_ROLE)
    finally:
        await conn.close()


async def migrate(database_url: str, app_database_url: str | None = None) -> str:
    """Bring the schema up to date as the owner at ``database_url``; returns Piccolo's report.

    With ``app_database_url`` signing in as another role, that role gets ``queries.APP_GRANTS``.
    """
    # deferred: Piccolo's migration runner takes about a second to import, and the CLI's
    # other commands (which import this module) never run it.
    from piccolo.apps.migrations.commands.forwards import run_forwards

    app_role = None
    if app_database_url and app_database_url != database_url:
        app_role = await role_of(app_database_url)
    database.bind(database_url)
    lock_holder = await asyncpg.connect(database_url)
    try:
        await lock_holder.execute(queries.ADVISORY_LOCK, MIGRATION_LOCK)
        report = io.StringIO()
        with contextlib.redirect_stdout(report):
            result = await run_forwards(app_name="all")
        if not result.success:
            raise MigrationError(result.message or report.getvalue())
        if app_role is not None and app_role != await lock_holder.fetchval(queries.CURRENT_ROLE):
            # Under the lock: concurrent GRANTs on one object fail ("tuple concurrently updated").
            await lock_holder.execute(queries.APP_GRANTS.format(role=quote_ident(app_role)))
        return report.getvalue()
    finally:
        await lock_holder.close()


async def guarding_problem(conn: asyncpg.Connection) -> str | None:
    """Why the role of ``conn`` could rewrite the processing log behind its triggers, if it can."""
    row = await conn.fetchrow(queries.LOG_GUARDING)
    assert row is not None
    if row["rolsuper"]:
        return "сервер подключён к базе как суперпользователь"
    if row["owns"]:
        return "сервер подключён к базе как владелец таблиц"
    return None
