"""A fresh okno for one test module: its own new database, migrated and prepared by
``okno serve`` itself (as on a first install), and a server process on it.

Tests that change installation-wide state (working hours, the chat's settings) run here, so
the suite's shared server keeps its defaults.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from tests.conftest import ROOT, ServerProcess, _admin_execute, _with_database


@contextmanager
def fresh_okno(database_url: str, **env: str) -> Iterator[ServerProcess]:
    name = f"okno_fresh_{secrets.token_hex(4)}"
    asyncio.run(_admin_execute(database_url, f'CREATE DATABASE "{name}"'))
    server = None
    try:
        url = _with_database(database_url, name)
        # `okno migrate` first, as an administrator would: the server's own start then only
        # checks the schema, well within ServerProcess's wait even on a busy machine.
        migrated = subprocess.run(
            [sys.executable, "-m", "okno.platform.cli", "migrate"],
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=300,
            cwd=ROOT,
        )
        assert migrated.returncode == 0, migrated.stderr
        server = ServerProcess(url, **env)
        server.database_url = url  # type: ignore[attr-defined]
        yield server
    finally:
        if server is not None:
            server.stop()
        asyncio.run(_admin_execute(database_url, f'DROP DATABASE "{name}" WITH (FORCE)'))


class ClockFile:
    """The test-only clock (OKNO_TEST_CLOCK_FILE): ``set`` moves okno's "now" at once."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def set(self, moment: str) -> None:
        datetime.fromisoformat(moment)  # a typo in a test must not read as the real time
        self.path.write_text(moment, encoding="utf-8")
