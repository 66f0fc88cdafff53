"""What both stand-ins share: a threaded HTTP server on a free local port, JSON answers, and
a condition that long polls wait on."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class Request:
    def __init__(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        split = urlsplit(handler.path)
        self.method, self.path = method, split.path
        self.query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        self.headers = handler.headers
        length = int(handler.headers.get("content-length") or 0)
        self.body = handler.rfile.read(length) if length else b""

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode()).items()}


class Answer:
    def __init__(self, status: int, body: Any, *, drop: bool = False, delay: float = 0) -> None:
        # drop: acted on, the answer lost; delay: answered after that many seconds.
        self.status, self.body, self.drop, self.delay = status, body, drop, delay


class StandIn:
    """Subclasses implement ``route(request) -> Answer``; state is guarded by ``self.lock``."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.calls: list[tuple[str, str]] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                request = Request(self, method)
                with stand_in.lock:
                    stand_in.calls.append((method, request.path))
                answer = stand_in.route(request)
                time.sleep(answer.delay)
                if answer.drop:  # the request was acted on, but its answer is lost
                    self.close_connection = True
                    self.connection.close()
                    return
                data = (
                    answer.body.encode()
                    if isinstance(answer.body, str)
                    else json.dumps(answer.body).encode()
                )
                self.send_response(answer.status)
                self.send_header("content-type", "application/json; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def route(self, request: Request) -> Answer:
        raise NotImplementedError

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
