"""A fresh okno for one test module: its own new database, migrated and prepared by
``okno serve`` itself (as on a first install), and a server process on it.

Tests that change installation-wide state (working hours, the chat's settings) run here, so
the suite's shared server keeps its defaults.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from tests.conftest import ServerProcess, new_database


@contextmanager
def fresh_okno(database_url: str, **env: str) -> Iterator[ServerProcess]:
    """``database_url`` (the suite's fixture) only orders this after the suite's database."""
    # `okno migrate` first, as an administrator would: the server's own start then only
    # checks the schema, well within ServerProcess's wait even on a busy machine.
    with new_database() as fresh:
        server = ServerProcess(fresh.url, **{"OKNO_MIGRATION_DATABASE_URL": fresh.owner_url, **env})
        server.database_url = fresh.url  # type: ignore[attr-defined]
        server.owner_url = fresh.owner_url  # type: ignore[attr-defined]
        try:
            yield server
        finally:
            server.stop()


class ClockFile:
    """The test-only clock (OKNO_TEST_CLOCK_FILE): ``set`` moves okno's "now" at once."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def set(self, moment: str) -> None:
        datetime.fromisoformat(moment)  # a typo in a test must not read as the real time
        self.path.write_text(moment, encoding="utf-8")
