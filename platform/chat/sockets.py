"""The two WebSockets of docs/protocol.md: ``/ws/client`` and ``/ws/staff``.

Each frame is size-checked, rate-limited, decoded by msgspec and dispatched to a service; a
refused frame gets an ``error`` frame and changes nothing. Frames to the peer go through its
bounded queue, written by one task per socket.

A socket is opened only from okno's own pages: a browser's ``Origin`` must be okno's (its
``OKNO_PUBLIC_URL``, or the host the request is addressed to), or the handshake is refused
(HTTP 403). A staff socket lives only as long as its session and role (see the hub); every
close code is in docs/protocol.md.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar import WebSocket, websocket

from okno.platform import database
from okno.platform.chat import bot, buttons, frames, notify, routing, service, summaries
from okno.platform.chat import hub as hub_module
from okno.platform.chat.errors import AccessEndedError, ChatError
from okno.platform.chat.visitors import VISITOR_COOKIE, Visitor
from okno.platform.chat.visitors import find as find_visitor
from okno.platform.chat.visitors import reload as reload_visitor
from okno.platform.consent import chat_flow
from okno.platform.settings import get_settings
from okno.platform.staff import service as staff_service
from okno.platform.web.access import STAFF_COOKIE

logger = logging.getLogger("okno.chat.sockets")
encode = msgspec.json.Encoder().encode

CLOSE_UNAUTHORIZED = service.SESSION_ENDED  # 4401: no valid identity, or its session ended
CLOSE_FORBIDDEN = service.ROLE_WITHOUT_CHAT  # 4403: the role has no chat socket (now)
CLOSE_TRY_AGAIN = 1013  # the database is away while the socket opens: reconnect later
CLOSE_TOO_MANY = 4429  # more sockets from this IP than OKNO_WS_PER_IP
CHAT_ROLES = service.CHAT_ROLES
TYPING_INTERVAL = 2.0
# What a failed frame may be answered with ``unavailable``: only the database being away.
DATABASE_DOWN = database.UNAVAILABLE


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


async def _writer(socket: WebSocket, peer: hub_module.Peer) -> None:
    while True:
        frame = await peer.queue.get()
        await socket.send_data(frame.decode(), mode="text")


async def _serve(
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


async def _handle_safely(
    peer: hub_module.Peer, frame: Any, handle: Callable[[Any], Awaitable[None]]
) -> None:
    client_id = getattr(frame, "client_id", None)
    try:
        await handle(frame)
    except AccessEndedError as ended:
        peer.end(ended.code, str(ended))
    except ChatError as refused:
        peer.send(frames.error(refused.code, str(refused), client_id))
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
        where = traceback.extract_tb(error.__traceback__)[-1]
        logger.error(
            "frame %s failed: %s at %s:%s",
            type(frame).__name__,
            type(error).__name__,
            where.filename,
            where.lineno,
        )
        peer.send(frames.error("internal", "внутренняя ошибка сервера", client_id))


def _ack(client_id: Any, sent: service.Sent) -> bytes:
    return encode(
        {
            "type": "ack",
            "client_id": str(client_id),
            "conversation": sent.conversation,
            "seq": sent.seq,
            "version": sent.version,
        }
    )


@websocket("/ws/client", opt={"access": "subject"})
async def client_socket(socket: WebSocket) -> None:
    """A client's chat: identified by the visitor cookie set by ``GET /chat``."""
    if await _refuse_foreign_origin(socket) or await _too_many(socket):
        return
    try:
        await _client_socket(socket)
    finally:
        per_ip.release(socket)


async def _client_socket(socket: WebSocket) -> None:
    await socket.accept()
    try:
        visitor = await find_visitor(socket.cookies.get(VISITOR_COOKIE))
    except DATABASE_DOWN:
        await socket.close(CLOSE_TRY_AGAIN, "база данных недоступна, подключитесь позже")
        return
    if visitor is None:
        await socket.close(CLOSE_UNAUTHORIZED, "откройте чат заново")
        return
    hub: hub_module.Hub = socket.app.state.hub
    peer = hub_module.Peer("client", socket.close, get_settings().ws_backlog)
    session = ClientSession(hub, peer, visitor)
    session.channel = "widget" if socket.query_params.get("embed") == "1" else "chat"
    session.ip = socket.client.host if socket.client else None
    session.user_agent = socket.headers.get("user-agent")
    try:
        await _serve(socket, peer, frames.client_decoder, session.handle)
    finally:
        hub.forget(peer)


class ClientSession:
    def __init__(self, hub: hub_module.Hub, peer: hub_module.Peer, visitor: Visitor) -> None:
        self.hub, self.peer, self.visitor = hub, peer, visitor
        self.last_typing = 0.0
        self.channel = "chat"
        self.ip: str | None = None
        self.user_agent: str | None = None

    async def _conversation(self) -> int | None:
        if self.peer.conversation is None:
            self.peer.conversation = await service.client_conversation(await self._fresh_visitor())
        return self.peer.conversation

    async def _fresh_visitor(self) -> Visitor:
        # Another tab may have created the subject since this socket opened.
        if self.visitor.subject_id is None:
            self.visitor = await reload_visitor(self.visitor)
        return self.visitor

    async def _watch(self, after: int) -> None:
        self.peer.resumed = True
        conversation = await self._conversation()
        if conversation is None:
            self.hub.lobby.setdefault(self.visitor.token_hash, set()).add(self.peer)
            await self.hub.send_state_to(self.peer, None)
            self.peer.send(encode({"type": "synced", "version": after}))
            return
        reached = await self.hub.watch(self.peer, conversation, after, for_client=True)
        self.peer.send(encode({"type": "synced", "version": reached}))

    async def handle(self, frame: Any) -> None:
        match frame:
            case frames.Resume(after=after):
                await self._watch(after)
            case frames.ChooseTopic(slug=slug):
                await service.choose_topic(self.visitor, slug)
                conversation = await self._conversation()
                if conversation is None:
                    async with database.acquire() as conn:
                        state = await summaries.client_state(conn, None)
                    self.peer.send(encode({**state, "topic": slug}))
                else:
                    await self.hub.send_state_to(self.peer, conversation)
            case frames.ClientSend():
                first = await self._conversation() is None
                if first and not per_ip.may_start_conversation(self.ip):
                    raise ChatError(
                        "rate_limited",
                        "слишком много новых обращений с вашего адреса, попробуйте позже",
                    )
                sent = await service.client_send(
                    await self._fresh_visitor(),
                    frame.client_id,
                    frame.text,
                    frame.reply_to,
                    frame.attachment,
                )
                self.peer.send(_ack(frame.client_id, sent))
                if sent.masked:
                    await chat_flow.explain_masking(sent.conversation, sent.masked)
                if first:
                    per_ip.conversation_started(self.ip)
                    # This tab watches its new conversation now (if it has resumed; if not,
                    # its resume will); other tabs of the visitor, on any worker, are told
                    # through the lobby.
                    self.hub.forget(self.peer)
                    self.peer.conversation = sent.conversation
                    if self.peer.resumed:
                        await self._watch(0)
                    await notify.publish({"n": self.visitor.token_hash.hex()})
                    await routing.assign_waiting()
                    await bot.tell_if_closed(sent.conversation)
            case frames.ClientEdit(seq=seq, text=text):
                edited = await service.client_edit(await self._fresh_visitor(), seq, text)
                if edited.masked:
                    await chat_flow.explain_masking(edited.conversation, edited.masked)
            case frames.ClientDelete(seq=seq):
                await service.client_edit(await self._fresh_visitor(), seq, None)
            case frames.ClientRead(seq=seq):
                if (conversation := await self._conversation()) is not None:
                    await service.mark_read("client", conversation, seq)
            case frames.ClientTyping():
                conversation = await self._conversation()
                if (
                    conversation is not None
                    and time.monotonic() - self.last_typing > TYPING_INTERVAL
                ):
                    self.last_typing = time.monotonic()
                    await notify.publish({"t": conversation, "s": "client"})
            case frames.PressButton(seq=seq, button=button):
                conversation = await self._conversation()
                if conversation is None:
                    raise ChatError("not_found", "сообщение не найдено")
                click = buttons.Press(
                    await self._fresh_visitor(),
                    conversation,
                    seq,
                    button,
                    self.channel,
                    self.ip,
                    self.user_agent,
                )
                await buttons.press(click)
            case frames.FillField(seq=seq, value=value):
                conversation = await self._conversation()
                if conversation is None:
                    raise ChatError("not_found", "этот запрос уже не действует")
                await chat_flow.submit_field(conversation, seq, value)
            case frames.Ping():
                self.peer.send(encode({"type": "pong"}))


@websocket("/ws/staff", opt={"access": CHAT_ROLES})
async def staff_socket(socket: WebSocket) -> None:
    """An operator's console: the staff session cookie; operators, supervisors and admins.

    The socket is bound to its session: it is closed when the session ends (sign-out, a
    password change, the account disabled, expiry: 4401) or the role loses chat (4403)."""
    if await _refuse_foreign_origin(socket) or await _too_many(socket):
        return
    try:
        await _staff_socket(socket)
    finally:
        per_ip.release(socket)


async def _staff_socket(socket: WebSocket) -> None:
    refusal = None
    token = socket.cookies.get(STAFF_COOKIE)
    # Who it is, before the handshake completes: once the peer sees it open, the socket is
    # registered and receives every summary from then on.
    try:
        user = await staff_service.session_user(token) if token else None
        if user is None:
            refusal = (CLOSE_UNAUTHORIZED, "войдите как сотрудник")
        elif user.role not in CHAT_ROLES:
            refusal = (CLOSE_FORBIDDEN, "у вашей роли нет доступа к диалогам")
        else:
            assert token is not None
            now = await service.session_now(staff_service.session_key(token))
    except AccessEndedError as ended:
        refusal = (ended.code, str(ended))
    except DATABASE_DOWN:
        refusal = (CLOSE_TRY_AGAIN, "база данных недоступна, подключитесь позже")
    await socket.accept()
    if refusal is not None:
        await socket.close(*refusal)
        return
    assert user is not None
    hub: hub_module.Hub = socket.app.state.hub
    peer = hub_module.Peer("staff", socket.close, get_settings().ws_backlog)
    peer.scope = now.scope
    peer.name = user.display_name
    session = StaffSession(hub, peer, user)
    session.token = token  # the heartbeat keeps the session from going idle
    hub.staff.add(peer)
    hub.arm(peer, now.expires_at)
    try:
        with contextlib.suppress(*DATABASE_DOWN):  # presence follows with the next ping
            await routing.set_presence(user.id, "online")
        await _serve(socket, peer, frames.staff_decoder, session.handle)
    finally:
        hub.forget(peer)
        if not any(p.scope and p.scope.staff_id == user.id for p in hub.staff):
            with contextlib.suppress(*DATABASE_DOWN):
                await routing.set_presence(user.id, "offline")


class StaffSession:
    def __init__(
        self, hub: hub_module.Hub, peer: hub_module.Peer, user: staff_service.StaffUser
    ) -> None:
        self.hub, self.peer, self.user = hub, peer, user
        self.presence = "online"
        self.last_typing = 0.0
        self.token: str | None = None

    @property
    def scope(self) -> service.Scope:
        assert self.peer.scope is not None
        return self.peer.scope

    async def handle(self, frame: Any) -> None:
        try:
            await self._handle(frame)
        except ChatError as refused:
            # Refused a conversation it still watches: its access ended (a team left, say,
            # before the announcement came): it stops delivering now.
            conversation = getattr(frame, "conversation", None)
            if refused.code == "not_found" and conversation in self.peer.watching:
                self.hub.unwatch(self.peer, conversation)
                self.peer.send(encode({"type": "access_ended", "conversation": conversation}))
            raise

    async def _handle(self, frame: Any) -> None:
        match frame:
            case frames.Open(conversation=conversation, after=after):
                await service.open_conversation(self.scope, conversation)
                reached = await self.hub.watch(self.peer, conversation, after, for_client=False)
                self.peer.send(
                    encode({"type": "synced", "conversation": conversation, "version": reached})
                )
            case frames.Leave(conversation=conversation):
                self.hub.unwatch(self.peer, conversation)
            case frames.StaffSend():
                sent = await service.staff_send(
                    self.scope,
                    frame.conversation,
                    frame.client_id,
                    frame.text,
                    frame.reply_to,
                    frame.attachment,
                    frame.internal,
                )
                self.peer.send(_ack(frame.client_id, sent))
            case frames.StaffEdit(conversation=conversation, seq=seq, text=text):
                await service.staff_edit(self.scope, conversation, seq, text)
            case frames.StaffDelete(conversation=conversation, seq=seq):
                await service.staff_edit(self.scope, conversation, seq, None)
            case frames.StaffRead(conversation=conversation, seq=seq):
                await service.visible_conversation(self.scope, conversation)
                await service.mark_read("staff", conversation, seq)
            case frames.StaffTyping(conversation=conversation):
                await service.visible_conversation(self.scope, conversation)
                if time.monotonic() - self.last_typing > TYPING_INTERVAL:
                    self.last_typing = time.monotonic()
                    await notify.publish(
                        {"t": conversation, "s": "staff", "n": self.user.display_name}
                    )
            case frames.Take(conversation=conversation):
                await service.take(self.scope, conversation)
            case frames.Transfer(conversation=conversation, to_staff=to_staff, to_team=to_team):
                await service.transfer(self.scope, conversation, to_staff, to_team)
            case frames.SetStatus(conversation=conversation, status=status):
                await service.set_status(self.scope, conversation, status)
                if status == "resolved":
                    await bot.ask_if_resolved(conversation)
            case frames.RequestField(conversation=conversation, field=field):
                await chat_flow.request_field(self.scope, conversation, field)
            case frames.OfferConsent(conversation=conversation, purpose=purpose):
                await service.visible_conversation(self.scope, conversation)
                await chat_flow.offer(conversation, purpose)
            case frames.Presence(status=status):
                await self._session_now()
                self.presence = status
                await routing.set_presence(self.user.id, status)
            case frames.Ping():
                await staff_service.touch_session(self.token)  # OKNO_SESSION_IDLE_MINUTES
                await self._session_now()
                await routing.set_presence(self.user.id, self.presence)
                self.peer.send(encode({"type": "pong"}))

    async def _session_now(self) -> None:
        """The session, role and teams as they are now (``AccessEndedError`` if it ended)."""
        assert self.scope.session is not None
        now = await service.session_now(self.scope.session)
        self.peer.scope = now.scope
        self.hub.arm(self.peer, now.expires_at)


route_handlers = [client_socket, staff_socket]
