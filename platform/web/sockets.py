"""What both WebSockets of docs/protocol.md share: the handshake's checks and the serve loop.

``/ws/client`` (okno.portal.controllers.chat_socket) and ``/ws/staff``
(okno.admin.controllers.staff_socket) each open through ``admitted``: a socket is opened only
from okno's own pages (a browser's ``Origin`` must be okno's: its ``OKNO_PUBLIC_URL``, or the
host the request is addressed to; otherwise HTTP 403), and no IP holds more than
``OKNO_WS_PER_IP`` of them. Then ``serve`` reads frames: each is size-checked, rate-limited,
decoded by msgspec and handed to the socket's session; a refused frame gets an ``error`` frame
and changes nothing. Frames to the peer go through its bounded queue, written by one task per
socket. Every close code is in docs/protocol.md.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar import WebSocket

from okno.platform import database, metrics
from okno.platform.chat import access, frames, service
from okno.platform.chat import hub as hub_module
from okno.platform.chat.errors import AccessEndedError, ChatError
from okno.platform.chat.schemas import Ack
from okno.platform.errors import Refused
from okno.platform.settings import get_settings

logger = logging.getLogger("okno.web.sockets")

CLOSE_UNAUTHORIZED = access.SESSION_ENDED  # 4401: no valid identity, or its session ended
CLOSE_FORBIDDEN = access.ROLE_WITHOUT_CHAT  # 4403: the role has no chat socket (now)
CLOSE_TRY_AGAIN = 1013  # the database is away while the socket opens: reconnect later
CLOSE_TOO_MANY = 4429  # more sockets from this IP than OKNO_WS_PER_IP
TYPING_INTERVAL = 2.0
# What a failed frame may be answered with ``unavailable``: only the database being away.
DATABASE_DOWN = database.UNAVAILABLE
# The protocol's error code for a refusal that is not a chat error, by its HTTP status.
CODE_OF_STATUS = {
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "too_large",
    429: "rate_limited",
}


class RateLimit:
    """A token bucket: ``rate`` frames a second, bursts of twice that."""

    def __init__(self, rate: int) -> None:
        self.rate, self.capacity = rate, 2 * rate
        self.tokens, self.stamp = float(self.capacity), time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _origin_allowed(socket: WebSocket) -> bool:
    """Whether the page that opens this socket is okno's own.

    Browsers always send ``Origin`` with a WebSocket handshake, and a page on another site
    (or a sibling host of the same site, which the cookies also reach) cannot change it. A
    request without one is not from a browser page, so no visitor's cookie rides along.
    The widget's socket is opened by okno's own page in its iframe: okno's origin too.
    """
    origin = socket.headers.get("origin")
    if origin is None:
        return True
    origin = origin.strip().lower()
    public_url = get_settings().public_url
    if public_url:
        own = urlsplit(public_url.strip().lower())
        if origin == f"{own.scheme}://{own.netloc}":
            return True
    host = (socket.headers.get("host") or "").strip().lower()
    parts = urlsplit(origin)
    return bool(host) and parts.scheme in ("http", "https") and parts.netloc == host


async def _refuse_foreign_origin(socket: WebSocket) -> bool:
    """Refuse the handshake (HTTP 403) of a socket opened by another site's page."""
    if _origin_allowed(socket):
        return False
    logger.warning("refused a %s socket from a foreign origin", socket.url.path)
    await socket.close(CLOSE_FORBIDDEN, "чужой источник")
    return True


class PerIp:
    """This worker's open sockets and recent new conversations, by client IP."""

    def __init__(self) -> None:
        self.sockets: dict[str, int] = {}
        self.started: dict[str, collections.deque[float]] = {}

    def _ip(self, socket: WebSocket) -> str:
        return socket.client.host if socket.client else "-"

    def admit(self, socket: WebSocket) -> bool:
        ip = self._ip(socket)
        if self.sockets.get(ip, 0) >= get_settings().ws_per_ip:
            return False
        self.sockets[ip] = self.sockets.get(ip, 0) + 1
        return True

    def release(self, socket: WebSocket) -> None:
        ip = self._ip(socket)
        left = self.sockets.get(ip, 1) - 1
        if left > 0:
            self.sockets[ip] = left
        else:
            self.sockets.pop(ip, None)

    def may_start_conversation(self, ip: str | None) -> bool:
        """Whether ``ip`` is below OKNO_CONVERSATIONS_PER_IP_HOUR new conversations."""
        recent = self.started.get(ip or "-")
        if recent is None:
            return True
        hour_ago = time.monotonic() - 3600
        while recent and recent[0] < hour_ago:
            recent.popleft()
        return len(recent) < get_settings().conversations_per_ip_hour

    def conversation_started(self, ip: str | None) -> None:
        recent = self.started.setdefault(ip or "-", collections.deque())
        recent.append(time.monotonic())
        if len(self.started) > 100_000:  # bounded: forget the quietest addresses
            for key in [k for k, v in self.started.items() if len(v) <= 1][:50_000]:
                del self.started[key]


per_ip = PerIp()


async def _too_many(socket: WebSocket) -> bool:
    """Close (4429) a socket beyond this IP's cap; otherwise count it (``release`` later)."""
    if per_ip.admit(socket):
        return False
    await socket.accept()
    await socket.close(CLOSE_TOO_MANY, "слишком много соединений с вашего адреса")
    return True


async def admitted(socket: WebSocket, run: Callable[[WebSocket], Awaitable[None]]) -> None:
    """Run the socket (``run``) if its origin is okno's and its IP is below the cap."""
    if await _refuse_foreign_origin(socket) or await _too_many(socket):
        return
    kind = socket.scope["path"].rsplit("/", 1)[-1]  # /ws/client, /ws/staff
    metrics.SOCKETS_OPEN.add(1, kind=kind)
    try:
        await run(socket)
    finally:
        metrics.SOCKETS_OPEN.add(-1, kind=kind)
        per_ip.release(socket)


async def _writer(socket: WebSocket, peer: hub_module.Peer) -> None:
    while True:
        frame = await peer.queue.get()
        await socket.send_data(frame.decode(), mode="text")
        metrics.FRAMES.inc(direction="out")


async def serve(
    socket: WebSocket,
    peer: hub_module.Peer,
    decoder: msgspec.json.Decoder[Any],
    handle: Callable[[Any], Awaitable[None]],
) -> None:
    """Read frames until the peer leaves; each one is checked, limited, decoded and handled."""
    settings = get_settings()
    limit = RateLimit(settings.ws_rate)
    writer = asyncio.get_running_loop().create_task(_writer(socket, peer))
    try:
        while not peer.closed:
            message = await socket.receive()
            if message["type"] == "websocket.disconnect":
                break
            metrics.FRAMES.inc(direction="in")
            text, data = message.get("text"), message.get("bytes")
            # Text and binary frames alike: UTF-8 JSON (docs/protocol.md).
            raw = text if isinstance(text, str) else data if isinstance(data, bytes) else b""
            if len(raw) > frames.MAX_FRAME_BYTES:
                peer.send(frames.error("too_large", "кадр больше 64 КиБ"))
                continue
            if not limit.allow():
                # Named like the dropped frame, so a client knows which send or open to repeat.
                dropped = frames.names_of(raw)
                peer.send(
                    frames.error(
                        "rate_limited",
                        "слишком много сообщений подряд, подождите немного",
                        dropped.client_id,
                        dropped.conversation,
                    )
                )
                continue
            try:
                frame = decoder.decode(raw)
            except (msgspec.ValidationError, msgspec.DecodeError) as problem:
                peer.send(frames.error("invalid_frame", str(problem)))
                continue
            await _handle_safely(peer, frame, handle)
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer


def error_code(refused: Refused) -> str:
    """The protocol's error code of a refusal (docs/protocol.md, error codes)."""
    if isinstance(refused, ChatError):
        return refused.code
    return CODE_OF_STATUS.get(refused.status_code, "invalid_value")


async def _handle_safely(
    peer: hub_module.Peer, frame: Any, handle: Callable[[Any], Awaitable[None]]
) -> None:
    """Handle one frame; whatever it raises becomes the one answer the protocol names for it."""
    client_id = getattr(frame, "client_id", None)
    try:
        await handle(frame)
    except AccessEndedError as ended:
        peer.end(ended.code, str(ended))
    except Refused as refused:
        peer.send(frames.error(error_code(refused), refused.message, client_id))
    except DATABASE_DOWN as error:
        logger.warning(
            "frame %s failed: database unavailable (%s)", type(frame).__name__, type(error).__name__
        )
        peer.send(
            frames.error(
                "unavailable",
                "база данных недоступна, ничего не сохранено: отправьте ещё раз",
                client_id,
            )
        )
    except Exception as error:
        metrics.ERRORS.inc(where="socket")
        where = traceback.extract_tb(error.__traceback__)[-1]
        logger.error(
            "frame %s failed: %s at %s:%s",
            type(frame).__name__,
            type(error).__name__,
            where.filename,
            where.lineno,
        )
        peer.send(frames.error("internal", "внутренняя ошибка сервера", client_id))


def ack(client_id: uuid.UUID, sent: service.Sent) -> bytes:
    """The ``ack`` frame of a stored send: where the message landed."""
    return frames.encode(Ack(str(client_id), sent.conversation, sent.seq, sent.version))
