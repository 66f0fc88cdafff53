"""What every measurement needs: a database, an okno server process, and real peers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import websockets

ROOT = Path(__file__).resolve().parent.parent
STAFF_PASSWORD = "bench-password-123"  # noqa: S105 - a throwaway account in a throwaway database
decode = msgspec.json.decode
encode = msgspec.json.encode


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- the database


@contextlib.contextmanager
def database(data_dir: Path) -> Iterator[str]:
    """A fresh database: a new one on ``DATABASE_URL``'s server, or an embedded PostgreSQL."""
    shared = os.environ.get("DATABASE_URL")
    if shared:
        name = f"okno_bench_{secrets.token_hex(4)}"
        asyncio.run(_admin(shared, f'CREATE DATABASE "{name}"'))
        base, _, query = shared.partition("?")
        url = re.sub(r"/[^/]*$", f"/{name}", base) + (f"?{query}" if query else "")
        try:
            yield url
        finally:
            asyncio.run(_admin(shared, f'DROP DATABASE "{name}" WITH (FORCE)'))
        return
    from okno.platform import embedded_db

    server = embedded_db.start(data_dir / "postgres", keep=False)
    try:
        yield embedded_db.url(server)
    finally:
        server.cleanup()


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def okno_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "OKNO_DATA_DIR": str(data_dir),
        "OKNO_ADMIN_PASSWORD": "bench-admin-password",
        "OKNO_LOG_LEVEL": "warning",
        # The bench's senders are machines: lift the per-socket flood limit (20/s by default).
        "OKNO_WS_RATE": "10000",
        # Every bench client comes from 127.0.0.1: lift the per-address caps too.
        "OKNO_WS_PER_IP": "100000",
        "OKNO_CONVERSATIONS_PER_IP_HOUR": "100000",
        **extra,
    }


def migrate(database_url: str, data_dir: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "okno.platform.cli", "migrate"],
        env=okno_env(database_url, data_dir),
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


# ---------------------------------------------------------------- the server


class Server:
    """``okno serve --workers N`` in a child process."""

    def __init__(self, database_url: str, data_dir: Path, workers: int, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log = (data_dir / f"server-{self.port}.log").open("w")
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
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
            env=okno_env(database_url, data_dir, **env),
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"okno serve exited; see {self.log.name}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"okno serve did not start; see {self.log.name}")
        time.sleep(0.5 * workers)  # every worker's lifespan (pool, LISTEN) is up

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: the server itself with one worker."""
        import psutil

        if self.workers == 1:
            return [self.process.pid]
        children = psutil.Process(self.process.pid).children(recursive=True)
        return [c.pid for c in children if "multiprocessing" not in " ".join(c.cmdline())]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def rss(pid: int) -> int:
    """Resident memory of ``pid`` in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


# ---------------------------------------------------------------- peers


class Peer:
    """One WebSocket with a reader task; subclasses decide what each frame means."""

    ws: Any = None

    async def connect(self, url: str, path: str, cookie: str, *, compression: bool = True) -> None:
        self.ws = await websockets.connect(
            url.replace("http", "ws") + path,
            additional_headers={"cookie": cookie},
            compression="deflate" if compression else None,
            open_timeout=60,
            ping_interval=None,
            max_queue=None,
        )
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                self.on_frame(decode(raw), time.perf_counter())
        self.close_code = self.ws.close_code

    close_code: int | None = None

    def on_frame(self, frame: dict[str, Any], at: float) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
            self.reader.cancel()


class Visitor(Peer):
    """A client tab: sends messages and resolves each ``ack`` by ``client_id``."""

    def __init__(self, cookie: str) -> None:
        self.cookie = cookie
        self.conversation: int | None = None
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.synced: asyncio.Future[None] | None = None
        self.errors = 0

    @classmethod
    async def create(cls, url: str, transport: httpx.AsyncHTTPTransport) -> Visitor:
        # A client (cookie jar) of its own per visitor, sharing the transport's connections;
        # not closed, since closing a client closes its transport.
        http = httpx.AsyncClient(base_url=url, transport=transport, timeout=60)
        response = await http.get("/chat")
        response.raise_for_status()
        return cls(f"okno_visitor={response.cookies['okno_visitor']}")

    async def open(self, url: str, *, compression: bool = True, wait_synced: bool = True) -> None:
        await self.connect(url, "/ws/client", self.cookie, compression=compression)
        self.synced = asyncio.get_running_loop().create_future()
        await self.ws.send(encode({"type": "resume", "after": 0}))
        if wait_synced:
            await asyncio.wait_for(self.synced, 60)

    def on_frame(self, frame: dict[str, Any], at: float) -> None:
        kind = frame["type"]
        if kind in ("ack", "error"):
            waiter = self.pending.pop(frame.get("client_id") or "", None)
            if kind == "error":
                self.errors += 1
            if waiter is not None and not waiter.done():
                waiter.set_result(frame)
        elif kind == "synced" and self.synced is not None and not self.synced.done():
            self.synced.set_result(None)

    async def send(self, text: str, client_id: str | None = None) -> str:
        client_id = client_id or str(uuid.uuid4())
        await self.ws.send(encode({"type": "send", "client_id": client_id, "text": text}))
        return client_id

    async def say(self, text: str, wait: float = 60) -> dict[str, Any]:
        client_id = str(uuid.uuid4())
        waiter = asyncio.get_running_loop().create_future()
        self.pending[client_id] = waiter
        await self.send(text, client_id)
        frame = await asyncio.wait_for(waiter, wait)
        if frame["type"] == "ack":
            self.conversation = frame["conversation"]
        return frame


class Operator(Peer):
    """A signed-in staff console: records when each client message arrives, by ``client_id``."""

    def __init__(self, cookie: str) -> None:
        self.cookie = cookie
        self.received: dict[str, float] = {}
        self.synced: dict[int, asyncio.Future[None]] = {}
        self.frames = 0

    @classmethod
    async def sign_in(cls, url: str, login: str) -> Operator:
        async with httpx.AsyncClient(base_url=url, headers={"accept": "text/html"}) as http:
            page = await http.get("/admin/login")
            token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
            assert token, "the login page carries no CSRF token"
            response = await http.post(
                "/admin/login",
                data={"login": login, "password": STAFF_PASSWORD, "_csrf_token": token.group(1)},
            )
            if response.status_code != 303:
                raise RuntimeError(f"sign-in failed: {response.status_code}")
            return cls(f"okno_staff={http.cookies['okno_staff']}")

    async def open(self, url: str) -> None:
        await self.connect(url, "/ws/staff", self.cookie)

    async def watch(self, conversations: list[int]) -> None:
        loop = asyncio.get_running_loop()
        for conversation in conversations:
            self.synced[conversation] = loop.create_future()
            await self.ws.send(encode({"type": "open", "conversation": conversation, "after": 0}))
        await asyncio.wait_for(asyncio.gather(*self.synced.values()), 120)

    def on_frame(self, frame: dict[str, Any], at: float) -> None:
        self.frames += 1
        kind = frame["type"]
        if kind == "message":
            message = frame["message"]
            if message["author"]["kind"] == "subject":
                self.received.setdefault(message["client_id"], at)
        elif kind == "synced":
            waiter = self.synced.get(frame.get("conversation") or 0)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)


async def create_staff(database_url: str, count: int, role: str = "supervisor") -> list[str]:
    """Staff accounts made through okno's own service, in this process."""
    os.environ["DATABASE_URL"] = database_url
    from okno.platform import database as okno_database
    from okno.platform.settings import get_settings
    from okno.platform.staff import accounts
    from okno.platform.staff.roles import Role

    get_settings.cache_clear()
    await okno_database.start_pool(2)
    try:
        logins = []
        for _ in range(count):
            login = f"bench-{secrets.token_hex(3)}"
            await accounts.create_user(login, Role(role), STAFF_PASSWORD)
            logins.append(login)
        return logins
    finally:
        await okno_database.close_pool()


async def gather_limited(limit: int, coroutines: list[Any]) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def one(coroutine: Any) -> Any:
        async with semaphore:
            return await coroutine

    return await asyncio.gather(*(one(c) for c in coroutines))


def temp_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="okno-bench-"))
