"""``/ws/client``: a client's chat over one WebSocket (docs/protocol.md).

The handshake's checks and the frame loop are okno.platform.web.sockets'; this module knows
what each client frame does.
"""

from __future__ import annotations

import time
from typing import Any

from litestar import WebSocket, websocket

from okno.platform.chat import bot, buttons, frames, notify, routing, service, welcome
from okno.platform.chat import hub as hub_module
from okno.platform.chat.errors import ChatError
from okno.platform.chat.schemas import Synced
from okno.platform.chat.visitors import VISITOR_COOKIE, Visitor
from okno.platform.chat.visitors import find as find_visitor
from okno.platform.chat.visitors import reload as reload_visitor
from okno.platform.consent import chat_flow
from okno.platform.settings import get_settings
from okno.platform.web.sockets import (
    CLOSE_TRY_AGAIN,
    CLOSE_UNAUTHORIZED,
    DATABASE_DOWN,
    TYPING_INTERVAL,
    ack,
    admitted,
    per_ip,
    serve,
)


@websocket("/ws/client", opt={"access": "subject"})
async def client_socket(socket: WebSocket) -> None:
    """A client's chat: identified by the visitor cookie set by ``GET /chat``."""
    await admitted(socket, _client_socket)


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
        await serve(socket, peer, frames.client_decoder, session.handle)
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
            reached = after
        else:
            reached = await self.hub.watch(self.peer, conversation, after, for_client=True)
        self.peer.send(frames.encode(Synced(reached)))

    async def handle(self, frame: Any) -> None:
        match frame:
            case frames.Resume(after=after):
                await self._watch(after)
            case frames.ChooseTopic(slug=slug):
                await service.choose_topic(self.visitor, slug)
                conversation = await self._conversation()
                if conversation is None:
                    self.peer.send(frames.encode(await welcome.lobby_state(slug)))
                else:
                    await self.hub.send_state_to(self.peer, conversation)
            case frames.ClientSend():
                await self._send(frame)
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
                self.peer.send(frames.PONG)

    async def _send(self, frame: frames.ClientSend) -> None:
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
        self.peer.send(ack(frame.client_id, sent))
        if sent.masked:
            await chat_flow.explain_masking(sent.conversation, sent.masked)
        if first:
            per_ip.conversation_started(self.ip)
            # This tab watches its new conversation now (if it has resumed; if not, its
            # resume will); other tabs of the visitor, on any worker, are told through the
            # lobby.
            self.hub.forget(self.peer)
            self.peer.conversation = sent.conversation
            if self.peer.resumed:
                await self._watch(0)
            await notify.publish({"n": self.visitor.token_hash.hex()})
            await routing.assign_waiting()
            await bot.tell_if_closed(sent.conversation)
