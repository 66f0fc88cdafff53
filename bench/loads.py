"""okno under load, over real WebSockets: throughput, latency, idle connections."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from typing import Any

import httpx
import websockets

from bench.baselines import TEXT
from bench.harness import Operator, Server, Visitor, gather_limited, rss


async def visitors(url: str, count: int, *, start_conversation: bool) -> list[Visitor]:
    """``count`` connected client tabs; with ``start_conversation`` each has written once."""
    async with httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=50)) as transport:
        made = await gather_limited(50, [Visitor.create(url, transport) for _ in range(count)])
    await gather_limited(50, [v.open(url) for v in made])
    if start_conversation:
        await gather_limited(25, [v.say("Здравствуйте") for v in made])
    return made


async def reconnect(url: str, tabs: list[Visitor]) -> None:
    await gather_limited(50, [v.open(url) for v in tabs])


async def operators(url: str, logins: list[str], conversations: list[int]) -> list[Operator]:
    """Signed-in consoles, the conversations dealt out among them and opened."""
    consoles = [await Operator.sign_in(url, login) for login in logins]
    for console in consoles:
        await console.open(url)
    await asyncio.gather(
        *(c.watch(conversations[i :: len(consoles)]) for i, c in enumerate(consoles))
    )
    return consoles


async def close_all(peers: list[Any]) -> None:
    await gather_limited(200, [p.close() for p in peers])


def percentiles(samples: list[float]) -> dict[str, float]:
    if len(samples) < 2:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan")}
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98]}


async def throughput(
    tabs: list[Visitor], consoles: list[Operator], seconds: float
) -> dict[str, Any]:
    """Closed loop: every tab sends, waits for its ack, sends again. Counted: messages that
    were acknowledged and reached an operator's open conversation inside the window."""
    sent: dict[str, float] = {}
    stop = time.perf_counter() + seconds
    errors = 0

    async def loop(tab: Visitor) -> None:
        nonlocal errors
        while time.perf_counter() < stop:
            started = time.perf_counter()
            try:
                frame = await tab.say(TEXT)
            except (websockets.ConnectionClosed, TimeoutError):
                errors += 1
                return
            if frame["type"] == "ack":
                sent[frame["client_id"]] = started
            else:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(t) for t in tabs))
    ended = time.perf_counter()
    await _settle(consoles, sent)
    arrivals = _arrivals(consoles)
    inside = [cid for cid in sent if started <= arrivals.get(cid, float("inf")) <= ended]
    latencies = [1000 * (arrivals[cid] - sent[cid]) for cid in sent if cid in arrivals]
    return {
        "per_second": len(inside) / (ended - started),
        "acked": len(sent),
        "delivered": sum(1 for cid in sent if cid in arrivals),
        "errors": errors,
        "latency_ms": percentiles(latencies),
        "clients": len(tabs),
    }


async def latency(
    tabs: list[Visitor], consoles: list[Operator], rate: float, seconds: float
) -> dict[str, Any]:
    """Open loop: ``rate`` messages a second spread over the tabs, whatever the answers."""
    sent: dict[str, float] = {}
    total = int(rate * seconds)
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    sends: list[asyncio.Task[Any]] = []

    errors = 0

    async def send(tab: Visitor) -> None:
        nonlocal errors
        client_id = str(uuid.uuid4())
        sent[client_id] = time.perf_counter()
        try:
            await tab.send(TEXT, client_id)
        except websockets.ConnectionClosed:
            errors += 1  # counted as not delivered

    for n in range(total):
        due = started + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sends.append(loop.create_task(send(tabs[n % len(tabs)])))
    await asyncio.gather(*sends)
    offered_for = time.perf_counter() - started
    await _settle(consoles, sent)
    arrivals = _arrivals(consoles)
    latencies = [1000 * (arrivals[cid] - sent[cid]) for cid in sent if cid in arrivals]
    return {
        "offered_per_second": total / offered_for,
        "sent": len(sent),
        "errors": errors,
        "delivered": len(latencies),
        "latency_ms": percentiles(latencies),
        "clients": len(tabs),
    }


async def _settle(consoles: list[Operator], sent: dict[str, float], wait: float = 20) -> None:
    """Wait until every sent message reached an operator, or until nothing more arrives."""
    deadline = time.perf_counter() + wait
    while time.perf_counter() < deadline:
        arrivals = _arrivals(consoles)
        if all(cid in arrivals for cid in sent):
            return
        await asyncio.sleep(0.2)


def _arrivals(consoles: list[Operator]) -> dict[str, float]:
    merged: dict[str, float] = {}
    for console in consoles:
        merged.update(console.received)
    return merged


async def idle_connections(server: Server, count: int) -> dict[str, Any]:
    """Idle client tabs one worker holds, and its memory per tab.

    Half the tabs offer permessage-deflate (every browser does), half do not, so the cost of
    compression shows on its own.
    """
    (pid,) = server.worker_pids()
    async with httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=50)) as transport:
        tabs = await gather_limited(
            50, [Visitor.create(server.url, transport) for _ in range(count)]
        )
    # One round of connect and close first, so that lazily built state is not counted.
    warm = tabs[:50]
    await gather_limited(50, [t.open(server.url) for t in warm])
    await close_all(warm)
    await asyncio.sleep(1)
    before = rss(pid)
    half = count // 2
    await gather_limited(100, [t.open(server.url, compression=False) for t in tabs[:half]])
    await asyncio.sleep(1)
    middle = rss(pid)
    await gather_limited(100, [t.open(server.url, compression=True) for t in tabs[half:]])
    await asyncio.sleep(1)
    after = rss(pid)
    held = sum(1 for t in tabs if t.ws is not None and t.ws.state.name == "OPEN")
    await close_all(tabs)
    return {
        "connections": count,
        "held": held,
        "bytes_per_connection_plain": (middle - before) / half,
        "bytes_per_connection_deflate": (after - middle) / (count - half),
        "bytes_per_connection": (after - before) / count,
    }
