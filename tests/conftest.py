"""The suite runs against a fresh database and a real okno server process.

With TEST_DATABASE_URL a new database is made on that server (and dropped afterwards);
otherwise an embedded PostgreSQL is started in a temporary folder.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import asyncpg
import httpx
import pytest

DATA_DIR = Path(tempfile.mkdtemp(prefix="okno-test-"))
os.environ.update(
    OKNO_DATA_DIR=str(DATA_DIR),
    OKNO_ADMIN_PASSWORD="admin-password-for-tests",
    OKNO_LOG_LEVEL="warning",
    # Every test client comes from 127.0.0.1: the per-IP caps are tested on servers of their own.
    OKNO_WS_PER_IP="100000",
    OKNO_CONVERSATIONS_PER_IP_HOUR="100000",
)
os.environ.pop("DATABASE_URL", None)

from okno.platform import database, embedded_db  # noqa: E402
from okno.platform.migrate import migrate  # noqa: E402
from okno.platform.settings import get_settings  # noqa: E402
from okno.platform.staff import accounts  # noqa: E402
from okno.platform.staff.roles import Role  # noqa: E402
from okno.platform.staff.schemas import StaffUser  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ADMIN_PASSWORD = os.environ["OKNO_ADMIN_PASSWORD"]
STAFF_PASSWORD = "staff-password-123"


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    base = re.sub(r"/[^/]*$", f"/{name}", base)
    return f"{base}?{query}" if query else base


async def _admin_execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """The application's URL: a role that owns nothing, as okno serves in production.

    The schema's owner (who migrates, and whom tests use to tamper) is in
    ``OKNO_MIGRATION_DATABASE_URL``; see ``owner_connection``.
    """
    server = None
    if shared := os.environ.get("TEST_DATABASE_URL"):
        name = f"okno_test_{secrets.token_hex(4)}"
        asyncio.run(_admin_execute(shared, f'CREATE DATABASE "{name}"'))
        owner = _with_database(shared, name)
        role, password = f"{name}_app", secrets.token_hex(16)
        asyncio.run(embedded_db.ensure_role(owner, role, password))
        url = database.with_role(owner, role, password)
    else:
        # In this run's own folder: pytest's numbered temp folders are pruned by other runs.
        server = embedded_db.start(DATA_DIR / "postgres", keep=False)
        owner = embedded_db.url(server)
        url = embedded_db.app_url(server)
    os.environ["OKNO_MIGRATION_DATABASE_URL"] = owner
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    asyncio.run(migrate(owner, url))
    yield url
    if shared:
        asyncio.run(_admin_execute(shared, f'DROP DATABASE "{name}" WITH (FORCE)'))
        asyncio.run(_admin_execute(shared, f'DROP ROLE "{role}"'))
    del server


@asynccontextmanager
async def owner_connection() -> AsyncIterator[asyncpg.Connection]:
    """A connection as the schema's owner: only for tampering and fault injection in tests."""
    conn = await asyncpg.connect(os.environ["OKNO_MIGRATION_DATABASE_URL"])
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[None]:
    """okno's pool in the test's own event loop, for calling services directly."""
    await database.start_pool(10)
    yield
    await database.close_pool()


class FreshDatabase(NamedTuple):
    url: str  # the application role's
    owner_url: str

    def env(self) -> dict[str, str]:
        """What a server or command on this database is started with."""
        return {"DATABASE_URL": self.url, "OKNO_MIGRATION_DATABASE_URL": self.owner_url}


@contextmanager
def new_database(*, migrate: bool = True) -> Iterator[FreshDatabase]:
    """Another new database on the suite's server, owned like the suite's own (the owner
    migrates, the application role serves), dropped afterwards. ``migrate=False`` leaves it
    empty, as on a first install where ``okno serve`` migrates it."""
    owner = os.environ["OKNO_MIGRATION_DATABASE_URL"]
    name = f"okno_test_{secrets.token_hex(4)}"
    _in_own_loop(_admin_execute(owner, f'CREATE DATABASE "{name}"'))
    fresh = FreshDatabase(
        _with_database(os.environ["DATABASE_URL"], name), _with_database(owner, name)
    )
    try:
        if migrate:
            subprocess.run(
                [sys.executable, "-m", "okno.platform.cli", "migrate"],
                env={**os.environ, **fresh.env()},
                check=True,
                capture_output=True,
                timeout=300,
                cwd=ROOT,
            )
        yield fresh
    finally:
        _in_own_loop(_admin_execute(owner, f'DROP DATABASE "{name}" WITH (FORCE)'))


def _in_own_loop(work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` to its end from sync or async code alike (a thread has no running loop)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, work).result()


@pytest.fixture
def fresh_database(database_url: str) -> Iterator[FreshDatabase]:
    """A new migrated database: for a server process whose background jobs (mailings,
    retention) must not race the session server's."""
    with new_database() as fresh:
        yield fresh


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """``okno serve`` in a child process, as a user runs it."""

    def __init__(
        self, database_url: str, workers: int = 1, unset: tuple[str, ...] = (), **env: str
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        data_dir = Path(env.get("OKNO_DATA_DIR", DATA_DIR))
        self.log = data_dir / f"server-{self.port}.log"
        environment = {**os.environ, "DATABASE_URL": database_url, **env}
        if (
            database_url != os.environ.get("DATABASE_URL")
            and "OKNO_MIGRATION_DATABASE_URL" not in env
        ):
            # Another database than the suite's: its URL is its owner's too (the suite's owner
            # URL would migrate the suite's database instead).
            environment.pop("OKNO_MIGRATION_DATABASE_URL", None)
        for name in unset:  # e.g. OKNO_ADMIN_PASSWORD, to start as a fresh install does
            environment.pop(name, None)
        data_dir.mkdir(parents=True, exist_ok=True)  # a shared /tmp may have been cleaned
        self.output = self.log.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "okno.platform.cli",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            env=environment,
            stdout=self.output,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        try:
            self.wait_ready()
        except RuntimeError:
            self.stop()  # no process and no open log left behind for a later test to trip on
            raise

    # Generous: on a shared, loaded machine importing the app alone has taken 15-30 s.
    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"okno serve exited: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"okno serve did not start: {self.log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.output.close()


@pytest.fixture(scope="session")
def server(database_url: str) -> Iterator[ServerProcess]:
    process = ServerProcess(database_url)
    # Helpers that act as the admin (tests/chat_support.py's team helpers) find it here.
    os.environ["TEST_SESSION_SERVER_URL"] = process.url
    yield process
    process.stop()


@pytest.fixture(scope="session")
def base_url(server: ServerProcess) -> str:
    return server.url


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "the page carries no CSRF token"
    return match.group(1)


async def staff_client(
    base_url: str, login: str, password: str = STAFF_PASSWORD
) -> httpx.AsyncClient:
    """A browser-like client signed in as ``login``, with its CSRF token in ``.csrf``."""
    client = httpx.AsyncClient(base_url=base_url, headers={"accept": "text/html"})
    page = await client.get("/admin/login")
    response = await client.post(
        "/admin/login",
        data={"login": login, "password": password, "_csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 303, response.text
    client.csrf = csrf_from((await client.get("/admin/password")).text)  # type: ignore[attr-defined]
    return client


async def add_staff(admin: httpx.AsyncClient, login: str, role: str) -> None:
    """An account added on the admin's page (``admin``: a staff_client of an admin)."""
    added = await admin.post(
        "/admin/staff/",
        data={
            "login": login,
            "display_name": login,
            "role": role,
            "password": STAFF_PASSWORD,
            "_csrf_token": admin.csrf,  # type: ignore[attr-defined]
        },
    )
    assert added.status_code == 303, added.text


# A module with an okno of its own (tests/fresh_okno.py) names it ``okno``; these reach it.


@pytest.fixture
async def admin(okno: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    """The first admin, signed in to the module's own okno."""
    client = await staff_client(okno.url, "admin", ADMIN_PASSWORD)
    yield client
    await client.aclose()


@pytest.fixture
async def okno_db(okno: ServerProcess) -> AsyncIterator[asyncpg.Connection]:
    """The module's own okno's database, for assertions only."""
    conn = await asyncpg.connect(okno.database_url)  # type: ignore[attr-defined]
    yield conn
    await conn.close()


@pytest.fixture
async def make_staff(db: None) -> object:
    """Creates staff accounts with unique logins: ``await make_staff(Role.DPO)``."""

    async def make(role: Role, password: str = STAFF_PASSWORD) -> StaffUser:
        login = f"{role.value}-{secrets.token_hex(3)}"
        return await accounts.create_user(login, role, password)

    return make


@pytest.fixture
async def supervisor(base_url: str, make_staff: object) -> AsyncIterator[object]:
    """A supervisor on the staff socket: sees every conversation, belongs to no team."""
    from tests.chat_support import Staff

    user = await make_staff(Role.SUPERVISOR)  # type: ignore[operator]
    staff = await Staff.open(base_url, user.login)
    yield staff
    await staff.close()
