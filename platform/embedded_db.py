"""The embedded PostgreSQL (pgserver) used when DATABASE_URL is not set.

okno sets up both roles itself: the server's own superuser (reached only through the Unix socket
in the data folder) owns the schema and runs the migrations; the application signs in as
``okno_app``, which owns nothing (see ``okno.platform.queries.APP_GRANTS``).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import warnings
from pathlib import Path
from typing import Any

import asyncpg

from okno.platform import queries
from okno.platform.migrate import quote_ident

APP_ROLE = "okno_app"


def start(folder: Path, *, keep: bool = True) -> Any:
    """Start (or join) the server whose data live in ``folder`` and return its handle.

    With ``keep`` the data stay for the next start; otherwise the folder is removed when the
    last process using it exits (a test run's fresh database).
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset, which is normal on servers.
        warnings.simplefilter("ignore")
        # deferred: its import warns (silenced here), and only the embedded database needs it.
        import pgserver
    # pgserver narrates every command at INFO, also from exit handlers after stdout is gone.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    folder.mkdir(parents=True, exist_ok=True)
    return pgserver.get_server(folder, cleanup_mode="stop" if keep else "delete")


def url(server: Any, database: str = "postgres") -> str:
    """A libpq URL for asyncpg, as the owner (pgserver listens on a Unix socket only)."""
    return str(server.get_uri(database))


def app_url(server: Any, database: str = "postgres") -> str:
    """The URL the application uses: ``okno_app``, made on first use (trust on the socket)."""
    asyncio.run(ensure_role(url(server, database), APP_ROLE))
    return str(server.get_postmaster_info().get_uri(user=APP_ROLE, database=database))


async def ensure_role(owner_url: str, role: str, password: str | None = None) -> None:
    """Create the login role ``role`` unless it exists (several starters at once are fine)."""
    conn = await asyncpg.connect(owner_url)
    try:
        if await conn.fetchval(queries.ROLE_EXISTS, role):
            return
        quoted = None if password is None else await conn.fetchval(queries.QUOTE_LITERAL, password)
        statement = queries.create_role(quote_ident(role), quoted)
        # Another starter may have made it first.
        with contextlib.suppress(asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
            await conn.execute(statement)
    finally:
        await conn.close()


def client_tools() -> Path | None:
    """The folder of the embedded server's own pg_dump and pg_restore (PostgreSQL 16), found
    without importing pgserver (its import warns and takes time)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return folder if folder.is_dir() else None
