"""``/ws/staff``: an operator's console over one WebSocket (docs/protocol.md).

The handshake's checks and the frame loop are okno.platform.web.sockets'; this module knows
who may open the socket and what each staff frame does.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from typing import Any

from litestar import WebSocket, websocket

from okno.platform.chat import access, bot, frames, notify, routing, service, viewers
from okno.platform.chat import hub as hub_module
from okno.platform.chat.errors import AccessEndedError, ChatError
from okno.platform.chat.schemas import Synced
from okno.platform.chat.scope import CHAT_ROLES, Scope
from okno.platform.consent import chat_flow
from okno.platform.settings import get_settings
from okno.platform.staff import sessions
from okno.platform.staff.schemas import StaffUser
from okno.platform.web.access import STAFF_COOKIE
from okno.platform.web.sockets import (
    CLOSE_FORBIDDEN,
    CLOSE_TRY_AGAIN,
    CLOSE_UNAUTHORIZED,
    DATABASE_DOWN,
    TYPING_INTERVAL,
    ack,
    admitted,
    serve,
)


@websocket("/ws/staff", opt={"access": CHAT_ROLES})
async def staff_socket(socket: WebSocket) -> None:
    """An operator's console: the staff session cookie; operators, supervisors and admins.

    The socket is bound to its session: it is closed when the session ends (sign-out, a
    password change, the account disabled, expiry: 4401) or the role loses chat (4403)."""
    await admitted(socket, _staff_socket)


async def _staff_socket(socket: WebSocket) -> None:
    refusal = None
    token = socket.cookies.get(STAFF_COOKIE)
    # Who it is, before the handshake completes: once the peer sees it open, the socket is
    # registered and receives every summary from then on.
    try:
        user = await sessions.session_user(token) if token else None
        if user is None:
            refusal = (CLOSE_UNAUTHORIZED, "войдите как сотрудник")
        elif user.role not in CHAT_ROLES:
            refusal = (CLOSE_FORBIDDEN, "у вашей роли нет доступа к диалогам")
        else:
            assert token is not None
            now = await access.session_now(sessions.session_key(token))
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
        await serve(socket, peer, frames.staff_decoder, session.handle)
    finally:
        hub.forget(peer)
        with contextlib.suppress(*DATABASE_DOWN):  # else their heartbeat stops counting
            await viewers.closed(session.socket_id)
        if not any(p.scope and p.scope.staff_id == user.id for p in hub.staff):
            with contextlib.suppress(*DATABASE_DOWN):
                await routing.set_presence(user.id, "offline")


class StaffSession:
    def __init__(self, hub: hub_module.Hub, peer: hub_module.Peer, user: StaffUser) -> None:
        self.hub, self.peer, self.user = hub, peer, user
        self.presence = "online"
        self.last_typing = 0.0
        self.token: str | None = None
        self.socket_id = uuid.uuid4()  # its rows among the conversations' viewers

    @property
    def scope(self) -> Scope:
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
                self.hub.end_access(self.peer, conversation)
            raise

    async def _handle(self, frame: Any) -> None:
        match frame:
            case frames.Open(conversation=conversation, after=after):
                await service.open_conversation(self.scope, conversation)
                reached = await self.hub.watch(self.peer, conversation, after, for_client=False)
                self.peer.send(frames.encode(Synced(reached, conversation)))
                await viewers.viewing(conversation, self.socket_id, self.user.id)
            case frames.Leave(conversation=conversation):
                self.hub.unwatch(self.peer, conversation)
                await viewers.left(conversation, self.socket_id)
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
                self.peer.send(ack(frame.client_id, sent))
            case frames.StaffEdit(conversation=conversation, seq=seq, text=text):
                await service.staff_edit(self.scope, conversation, seq, text)
            case frames.StaffDelete(conversation=conversation, seq=seq):
                await service.staff_edit(self.scope, conversation, seq, None)
            case frames.StaffRead(conversation=conversation, seq=seq):
                await access.visible_conversation(self.scope, conversation)
                await service.mark_read("staff", conversation, seq)
            case frames.StaffTyping(conversation=conversation):
                await access.visible_conversation(self.scope, conversation)
                if time.monotonic() - self.last_typing > TYPING_INTERVAL:
                    self.last_typing = time.monotonic()
                    await notify.publish(
                        {
                            "t": conversation,
                            "s": "staff",
                            "n": self.user.display_name,
                            "i": self.user.id,
                        }
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
                await access.visible_conversation(self.scope, conversation)
                await chat_flow.offer(conversation, purpose)
            case frames.Presence(status=status):
                await self._session_now()
                self.presence = status
                await routing.set_presence(self.user.id, status)
            case frames.Ping():
                await sessions.touch_session(self.token)  # OKNO_SESSION_IDLE_MINUTES
                await self._session_now()
                await viewers.heartbeat(self.socket_id)
                await routing.set_presence(self.user.id, self.presence)
                self.peer.send(frames.PONG)

    async def _session_now(self) -> None:
        """The session, role and teams as they are now (``AccessEndedError`` if it ended)."""
        assert self.scope.session is not None
        now = await access.session_now(self.scope.session)
        self.peer.scope = now.scope
        self.hub.arm(self.peer, now.expires_at)
