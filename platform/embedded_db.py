"""The embedded PostgreSQL (pgserver) used when DATABASE_URL is not set."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any


def start(folder: Path, *, keep: bool = True) -> Any:
    """Start (or join) the server whose data live in ``folder`` and return its handle.

    With ``keep`` the data stay for the next start; otherwise the folder is removed when the
    last process using it exits (a test run's fresh database).
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset, which is normal on servers.
        warnings.simplefilter("ignore")
        import pgserver
    # pgserver narrates every command at INFO, also from exit handlers after stdout is gone.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    folder.mkdir(parents=True, exist_ok=True)
    return pgserver.get_server(folder, cleanup_mode="stop" if keep else "delete")


def url(server: Any, database: str = "postgres") -> str:
    """A libpq URL for asyncpg (pgserver listens on a Unix socket only)."""
    return str(server.get_uri(database))
