"""The database: one Piccolo engine whose asyncpg pool the app's lifespan owns.

Services open a transaction with ``transaction()``; Piccolo queries inside it and raw SQL on
``connection()`` share it, so an act and its processing-log rows commit together or not at all.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.querystring import QueryString

from okno.platform.settings import get_settings

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from piccolo.engine.postgres import PostgresEngine, PostgresTransaction

os.environ.setdefault("PICCOLO_CONF", "okno.platform.piccolo_conf")

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


# The database is away (refused, dropped, restarting, out of connections): the request or frame
# may succeed if sent again. Errors about the values themselves (DataError, ...) are not here.
UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,  # refused, reset, and TimeoutError (a pool that cannot connect)
    asyncpg.InterfaceError,  # the connection was closed under the query
    asyncpg.InternalClientError,  # a connection broken mid-operation ("another operation ...")
    asyncpg.PostgresConnectionError,  # class 08
    asyncpg.OperatorInterventionError,  # class 57: shutdown, cannot connect now
    asyncpg.InsufficientResourcesError,  # class 53: too many connections, out of memory
)


# The database's clock, for the builder's writes: every row okno stamps, through Piccolo or in
# SQL, takes its time from one clock (the processing log's), whichever host runs the app.
NOW = QueryString("now()")


def now_plus(delta: timedelta) -> QueryString:
    """The database's ``now()`` moved by ``delta`` (a negative one for the past)."""
    return QueryString("now() + {}::interval", delta)


class DatabaseNow(TimestamptzNow):
    """A Table column's default that is the database's ``now()``, as the migration's own
    default is; Piccolo's ``TimestamptzNow`` would stamp the row by the app host's clock."""

    def python(self) -> QueryString:
        return NOW


class NoTransactionError(RuntimeError):
    """Raised when code that must join the caller's transaction finds none."""


def engine() -> PostgresEngine:
    # deferred: piccolo_conf's app registry imports every feature's piccolo_app, and those
    # import this module (migrations_folder, DatabaseNow).
    from okno.platform.piccolo_conf import DB

    return DB


def with_role(database_url: str, role: str, password: str | None = None) -> str:
    """``database_url`` signing in as ``role`` (and ``password``) instead of its own user."""
    parts = urllib.parse.urlsplit(database_url)
    host = parts.netloc.rpartition("@")[2]
    user = urllib.parse.quote(role, safe="")
    if password is not None:
        user += ":" + urllib.parse.quote(password, safe="")
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}@{host}"))


def bind(database_url: str) -> None:
    """Point the engine at ``database_url`` (set before any query)."""
    engine().config = {"dsn": database_url}


async def start_pool(size: int) -> None:
    url = get_settings().database_url
    if not url:
        raise RuntimeError("DATABASE_URL is not set: okno serve starts the embedded database")
    bind(url)
    await engine().start_connection_pool(min_size=1, max_size=size, reset=keep_session)


async def keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset on release: asyncpg has already rolled back any open transaction.

    Its default reset also runs ``RESET ALL; UNLISTEN *; CLOSE ALL; pg_advisory_unlock_all()``,
    a round trip on every release (three or four per chat message). Pooled connections never
    carry that state: settings are ``SET LOCAL``, cursors live in transactions, and LISTEN and
    session advisory locks use connections of their own.
    """


async def close_pool() -> None:
    if engine().pool is not None:
        await engine().close_connection_pool()


def transaction() -> AbstractAsyncContextManager[PostgresTransaction, None]:
    """A new transaction, or a savepoint-free join of the one already open."""
    # Typed as never swallowing an exception, which it does not: piccolo annotates __aexit__
    # as returning bool (it returns `exception is None`), so a type checker assumed the code
    # after an `async with transaction()` block that ends in `return` or `raise` could run.
    return engine().transaction()  # type: ignore[return-value]


def in_transaction() -> bool:
    """Whether the caller holds a transaction (a call made inside it joins it)."""
    return engine().current_transaction.get() is not None


def current_transaction() -> PostgresTransaction:
    active = engine().current_transaction.get()
    if active is None:
        raise NoTransactionError("this call must run inside a database transaction")
    return active


async def fetch_one(conn: asyncpg.Connection, query: str, *args: object) -> asyncpg.Record:
    """``conn.fetchrow`` where the row cannot be missing: an INSERT or UPDATE ... RETURNING of
    a row the caller made or holds locked, an aggregate, a row a foreign key keeps."""
    row = await conn.fetchrow(query, *args)
    if row is None:
        raise RuntimeError("the statement returned no row where one must exist")
    return row


def connection() -> asyncpg.Connection:
    """The asyncpg connection of the transaction the caller holds."""
    return current_transaction().connection


@asynccontextmanager
async def acquire() -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection outside any transaction (reads, LISTEN, health)."""
    pool = engine().pool
    if pool is None:
        raise RuntimeError("the connection pool is not started")
    async with pool.acquire() as conn:
        # A PoolConnectionProxy: it forwards every Connection method, and asyncpg makes
        # isinstance(conn, asyncpg.Connection) true for it; the stubs cannot say so.
        yield conn  # type: ignore[misc]


@asynccontextmanager
async def owner_connection() -> AsyncIterator[asyncpg.Connection]:
    """A connection as the schema's owner, outside the pool, for what only the owner may do
    (VACUUM after a destruction: the server's own role owns no table). Uses
    OKNO_MIGRATION_DATABASE_URL, or DATABASE_URL when that is unset (then it is the owner)."""
    settings = get_settings()
    url = settings.migration_database_url or settings.database_url
    if not url:
        raise RuntimeError("DATABASE_URL is not set")
    conn = await asyncpg.connect(url)
    try:
        yield conn
    finally:
        await conn.close()


async def execute_script(sql: str) -> None:
    """Run several SQL statements in the current transaction (used by migrations)."""
    await connection().execute(sql)


def migrations_folder(app_name: str) -> str:
    return str(MIGRATIONS / app_name)


def sql_migration(migration_id: str, app_name: str, description: str, sql: str) -> object:
    """A Piccolo migration that runs ``sql`` in the migration's transaction."""
    # deferred: Piccolo's migration machinery takes about a second to import, and only the
    # migration runner, never a serving process, loads the migration modules that call this.
    from piccolo.apps.migrations.auto.migration_manager import MigrationManager

    manager = MigrationManager(
        migration_id=migration_id, app_name=app_name, description=description
    )

    async def run() -> None:
        await execute_script(sql)

    manager.add_raw(run)
    return manager
