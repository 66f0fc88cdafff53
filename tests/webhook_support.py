"""A real webhook receiver for tests, and the console steps that register an endpoint.

The receiver is an HTTP server on a thread of the test process: it records every request in
arrival order and answers what the test tells it (a status for the next requests, or hold a
request unanswered until released), as a company's CRM would.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.admin_support import Console


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int = 0  # the status the receiver gave (0: none, the connection was dropped)

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def id(self) -> str:
        return self.headers["okno-event-id"]


def verify(secret: str, header: str, body: bytes, tolerance: float = 300) -> bool:
    """What a receiver does: recompute HMAC-SHA256 over "<t>.<body>" and compare; refuse an old
    timestamp (a replay)."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    timestamp = int(parts["t"])
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - timestamp) < tolerance


# A status that means: keep the request waiting, then drop it unanswered (``release``).
HOLD = 0


@dataclass
class Receiver:
    requests: list[Received] = field(default_factory=list)
    statuses: deque[int] = field(default_factory=deque)  # for the next requests; then 200
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def release(self) -> None:
        """Held requests end, unanswered."""
        self.released.set()

    def delivered(self) -> list[Received]:
        """The requests answered 2xx, in arrival order."""
        with self.lock:
            return [r for r in self.requests if 200 <= r.answered < 300]

    def all(self) -> list[Received]:
        with self.lock:
            return list(self.requests)

    async def until(self, done: Callable[[Receiver], bool], wait: float = 20) -> None:
        deadline = time.monotonic() + wait
        while not done(self):
            if time.monotonic() > deadline:
                got = [(r.headers.get("okno-event"), r.answered) for r in self.all()]
                raise AssertionError(f"the receiver did not get what was expected: {got}")
            await asyncio.sleep(0.1)


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got = Received({k.lower(): v for k, v in self.headers.items()}, body)
            with state.lock:
                state.requests.append(got)
                status = state.statuses.popleft() if state.statuses else 200
            if status == HOLD:
                state.released.wait(60)
                self.close_connection = True
                return
            answer = b"ok" if status < 300 else "получатель упал: база CRM недоступна".encode()
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:
                return  # the sender went away while this request was held
            got.answered = status

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/okno/events"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release()
        server.shutdown()
        server.server_close()


async def register(
    console: Console, url: str, events: list[str], scope: str = "ids"
) -> tuple[int, str]:
    """The admin registers an endpoint on «Вебхуки»: its number and the secret shown once."""
    response = await console.submit("/admin/webhooks/", url=url, events=events, pd_scope=scope)  # type: ignore[arg-type]
    assert response.status_code == 200, console.alert() or response.text[:2000]
    number = re.search(r"Вебхук №(\d+) создан", console.page)
    secret = re.search(r'<code class="secret" id="webhook-secret">([^<]+)</code>', console.page)
    assert number, console.alert() or console.page[:3000]
    assert secret, console.page[:3000]
    return int(number.group(1)), html.unescape(secret.group(1))


async def remove(console: Console, endpoint_id: int) -> None:
    response = await console.submit(
        f"/admin/webhooks/{endpoint_id}", f"/admin/webhooks/{endpoint_id}/remove"
    )
    assert response.status_code == 303, response.text[:2000]
