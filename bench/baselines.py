"""The limits okno is compared with, measured in the same run on the same machine.

- the database's: the message row inserted by raw asyncpg at the same concurrency;
- the transport's: a bare ``websockets`` echo server (``bench.echo``), one process;
- and, to price the processing log, okno's own message transaction with and without its
  processing-log rows, run directly against the database.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from typing import Any

import asyncpg

from bench.harness import ROOT, free_port, gather_limited, rss

TEXT = "Здравствуйте! Где мой заказ номер 12345? Жду с утра."


async def _conversations(url: str, count: int) -> list[tuple[int, uuid.UUID]]:
    conn = await asyncpg.connect(url)
    try:
        made = []
        for _ in range(count):
            subject = uuid.uuid4()
            await conn.execute("INSERT INTO subject (id) VALUES ($1)", subject)
            conversation = await conn.fetchval(
                "INSERT INTO conversation (subject_id, team_id)"
                " VALUES ($1, (SELECT min(id) FROM team)) RETURNING id",
                subject,
            )
            made.append((conversation, subject))
        return made
    finally:
        await conn.close()


async def _run_for(seconds: float, workers: list[Any]) -> tuple[int, float]:
    """Run each worker coroutine function in a loop for ``seconds``; count iterations."""
    stop = time.perf_counter() + seconds
    counts = [0] * len(workers)

    async def loop(index: int, work: Any) -> None:
        while time.perf_counter() < stop:
            await work()
            counts[index] += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(i, w) for i, w in enumerate(workers)))
    return sum(counts), time.perf_counter() - started


async def raw_insert(url: str, concurrency: int, seconds: float) -> dict[str, float]:
    """INSERT of the same message row, autocommit, one conversation per concurrent writer."""
    conversations = await _conversations(url, concurrency)
    pool = await asyncpg.create_pool(url, min_size=concurrency, max_size=concurrency)

    def writer(conversation: int) -> Any:
        seq = 0

        async def insert() -> None:
            nonlocal seq
            seq += 1
            async with pool.acquire() as conn:
                await conn.execute(
                    "INSERT INTO message (conversation_id, seq, version, client_id, author_kind,"
                    " author_id, body, reply_to, attachment_id, buttons, internal)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    conversation,
                    seq,
                    seq,
                    uuid.uuid4(),
                    "subject",
                    None,
                    TEXT,
                    None,
                    None,
                    "[]",
                    False,
                )

        return insert

    try:
        count, elapsed = await _run_for(seconds, [writer(c) for c, _ in conversations])
    finally:
        await pool.close()
    return {"per_second": count / elapsed, "concurrency": concurrency}


async def message_transactions(url: str, concurrency: int, seconds: float) -> dict[str, Any]:
    """okno's message transaction (lock, counters, row) without and with its log rows.

    The log rows are written by okno's own ``processing_log.record``, exactly as
    ``service.client_send`` does, while okno's sealer chains them alongside as it does in the
    server: the difference is their price per message.
    """
    os.environ["DATABASE_URL"] = url
    from okno.platform import database
    from okno.platform.chat.compliance import Actor, entries
    from okno.platform.processing_log import service as processing_log
    from okno.platform.processing_log.actions import Action
    from okno.platform.settings import get_settings

    get_settings.cache_clear()
    await database.start_pool(concurrency)
    results: dict[str, Any] = {"concurrency": concurrency}
    try:
        for variant in ("without_log", "with_log"):
            conversations = await _conversations(url, concurrency)

            def writer(conversation: int, subject: uuid.UUID, log: bool) -> Any:
                async def transaction() -> None:
                    async with database.transaction():
                        conn = database.connection()
                        await conn.fetchrow(
                            "SELECT id FROM conversation WHERE id = $1 FOR UPDATE", conversation
                        )
                        counters = await conn.fetchrow(
                            "UPDATE conversation SET last_seq = last_seq + 1,"
                            " last_version = last_version + 1, updated_at = now()"
                            " WHERE id = $1 RETURNING last_seq, last_version",
                            conversation,
                        )
                        await conn.execute(
                            "INSERT INTO message (conversation_id, seq, version, client_id,"
                            " author_kind, body) VALUES ($1, $2, $3, $4, 'subject', $5)",
                            conversation,
                            counters["last_seq"],
                            counters["last_version"],
                            uuid.uuid4(),
                            TEXT,
                        )
                        if log:
                            await processing_log.record(
                                *entries(
                                    Actor.subject(),
                                    subject,
                                    (Action.RECORDING, Action.STORAGE),
                                    ("message_text",),
                                )
                            )

                return transaction

            workers = [writer(c, s, variant == "with_log") for c, s in conversations]
            stop_sealer = asyncio.Event()
            sealer = asyncio.create_task(processing_log.sealer(stop_sealer))
            try:
                count, elapsed = await _run_for(seconds, workers)
            finally:
                stop_sealer.set()
                await sealer
            results[variant] = count / elapsed
    finally:
        await database.close_pool()
    results["log_share"] = 1 - results["with_log"] / results["without_log"]
    results["log_cost_ms"] = 1000 * (1 / results["with_log"] - 1 / results["without_log"])
    return results


# ---------------------------------------------------------------- the transport


class EchoServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            [sys.executable, "-m", "bench.echo", str(self.port)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the echo server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


async def echo_round_trips(concurrency: int, seconds: float) -> dict[str, float]:
    """Round trips a second through the bare echo server at ``concurrency`` sockets."""
    import websockets

    from bench.harness import encode

    server = EchoServer()
    frame = encode({"type": "send", "client_id": str(uuid.uuid4()), "text": TEXT})
    sockets = []
    try:
        for _ in range(concurrency):
            sockets.append(await websockets.connect(server.url, ping_interval=None))

        def round_trip(ws: Any) -> Any:
            async def once() -> None:
                await ws.send(frame)
                await ws.recv()

            return once

        count, elapsed = await _run_for(seconds, [round_trip(ws) for ws in sockets])
    finally:
        for ws in sockets:
            await ws.close()
        server.stop()
    return {"per_second": count / elapsed, "concurrency": concurrency}


async def echo_idle_memory(count: int, *, compression: bool = True) -> dict[str, float]:
    """Memory per idle connection held by the bare echo server."""
    import websockets

    server = EchoServer()
    sockets: list[Any] = []
    try:
        await asyncio.sleep(0.5)
        before = rss(server.process.pid)

        async def connect() -> None:
            sockets.append(
                await websockets.connect(
                    server.url,
                    ping_interval=None,
                    compression="deflate" if compression else None,
                    open_timeout=60,
                )
            )

        await gather_limited(100, [connect() for _ in range(count)])
        await asyncio.sleep(1)
        after = rss(server.process.pid)
    finally:
        await gather_limited(200, [ws.close() for ws in sockets])
        server.stop()
    return {"connections": len(sockets), "bytes_per_connection": (after - before) / count}
