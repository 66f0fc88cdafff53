"""VK community messages (dev.vk.com): the Bots Long Poll API (``groups.getLongPollServer``,
then ``act=a_check`` on the server it names), the Callback API (a confirmation string, a secret
key in every call), ``messages.send`` with ``random_id`` (VK's idempotency key: a repeat with
the same id is not sent again), callback buttons (``message_event``, answered with
``messages.sendMessageEventAnswer``)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import msgspec

from okno.platform.channels.errors import RejectedError, TransientError
from okno.platform.channels.schemas import Inbound, Outgoing

# httpx logs every request's URL at INFO; a long poll's URL carries VK's session key.
logging.getLogger("httpx").setLevel(logging.WARNING)

OFFICIAL_URL = "https://api.vk.ru"
VERSION = "5.199"
POLL_SECONDS = 20
CALL_SECONDS = 10.0
# VK's error codes (dev.vk.com/ru/reference/errors) okno reads: the rest refuse the message.
TRANSIENT_CODES = {
    1: "VK: неизвестная ошибка, повторим позже",
    5: "VK не принял ключ доступа сообщества: проверьте его в настройках канала",
    6: "VK: слишком много запросов в секунду, повторим позже",
    9: "VK: слишком много однотипных действий (flood control), повторим позже",
    10: "VK: внутренняя ошибка сервера, повторим позже",
}
REJECTED_CODES = {
    900: "VK: пользователь в чёрном списке сообщества",
    901: "VK: пользователь не разрешил сообществу писать ему",
    902: "VK: настройки приватности пользователя не дают написать ему",
    914: "VK: сообщение слишком длинное",
}


class VkBot:
    def __init__(self, api_url: str, secrets: dict[str, str]) -> None:
        self.api_url = api_url.rstrip("/")
        self.token = secrets["token"]
        self.group_id = secrets.get("group_id", "")
        self.call_seconds = CALL_SECONDS

    async def call(self, method: str, **params: Any) -> Any:
        form = {**params, "access_token": self.token, "v": VERSION}
        body = await _request(
            "POST", f"{self.api_url}/method/{method}", data=form, wait_seconds=self.call_seconds
        )
        error = body.get("error")
        if error is not None:
            code = int(error.get("error_code", 0))
            if code in TRANSIENT_CODES:
                raise TransientError(TRANSIENT_CODES[code])
            raise RejectedError(REJECTED_CODES.get(code, f"VK отклонил запрос (код {code})"))
        return body.get("response")

    async def poll(self, state: str) -> tuple[list[Inbound], str]:
        """One long poll; ``state`` keeps the long-poll server, its key and the last ``ts``."""
        server = msgspec.json.decode(state) if state else await self._new_server()
        body = await _request(
            "GET",
            server["server"],
            params={
                "act": "a_check",
                "key": server["key"],
                "ts": server["ts"],
                "wait": POLL_SECONDS,
            },
            wait_seconds=POLL_SECONDS + 10,
        )
        failed = body.get("failed")
        if failed == 1:  # history lost: go on from the ts VK gives
            server["ts"] = body["ts"]
            return [], msgspec.json.encode(server).decode()
        if failed in (2, 3):  # the key expired (2) or the data was lost (3): ask for a new one
            return [], msgspec.json.encode(await self._new_server()).decode()
        updates = [parsed for item in body.get("updates", []) if (parsed := parse(item))]
        server["ts"] = body.get("ts", server["ts"])
        return updates, msgspec.json.encode(server).decode()

    async def _new_server(self) -> dict[str, Any]:
        found = await self.call("groups.getLongPollServer", group_id=self.group_id)
        return {"server": found["server"], "key": found["key"], "ts": found["ts"]}

    async def send(self, user_id: str, message: Outgoing, key: int) -> str:
        """Send with ``random_id=key``; the message id VK gave."""
        params: dict[str, Any] = {"peer_id": user_id, "random_id": key, "message": message.text}
        if message.buttons:
            keyboard = {
                "inline": True,
                "buttons": [
                    [
                        {
                            "action": {
                                "type": "callback",
                                "label": button.label[:40],
                                "payload": msgspec.json.encode({"b": button.payload}).decode(),
                            }
                        }
                    ]
                    for button in message.buttons
                ],
            }
            params["keyboard"] = msgspec.json.encode(keyboard).decode()
        return str(await self.call("messages.send", **params))

    async def answer(self, update: Inbound, text: str) -> None:
        event_id, _, peer_id = (update.callback_id or "").partition("|")
        await self.call(
            "messages.sendMessageEventAnswer",
            event_id=event_id,
            user_id=update.user_id,
            peer_id=peer_id,
            event_data=msgspec.json.encode({"type": "show_snackbar", "text": text}).decode(),
        )


async def _request(
    method: str,
    url: str,
    *,
    params: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    wait_seconds: float = CALL_SECONDS,
) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(timeout=wait_seconds) as client:
            answer = await client.request(method, url, params=params, data=data)
    except httpx.TimeoutException:
        raise TransientError("VK не ответил вовремя") from None
    except httpx.HTTPError as error:
        raise TransientError(f"VK недоступен ({type(error).__name__})") from None
    if answer.status_code != 200:
        raise TransientError(f"VK временно не работает (ответ {answer.status_code})")
    try:
        body: dict[str, Any] = answer.json()
    except ValueError:
        raise TransientError("VK ответил не в формате JSON") from None
    return body


def parse(update: dict[str, Any]) -> Inbound | None:
    """okno's reading of one VK event (long poll or Callback API); ``None``: not handled."""
    kind, thing = update.get("type"), update.get("object") or {}
    if kind == "message_new":
        message = thing.get("message") or {}
        sender = message.get("from_id")
        if message.get("id") is None or not isinstance(sender, int) or sender <= 0:
            return None  # another community, or a group chat's service line
        if message.get("peer_id", sender) != sender:
            return None  # a group chat the community sits in is not a client's conversation
        return Inbound(f"message:{message['id']}", str(sender), text=message.get("text") or "")
    if kind == "message_event":
        payload = thing.get("payload")
        button = payload.get("b") if isinstance(payload, dict) else None
        if not thing.get("event_id") or thing.get("user_id") is None or not button:
            return None
        return Inbound(
            f"event:{thing['event_id']}",
            str(thing["user_id"]),
            payload=str(button),
            callback_id=f"{thing['event_id']}|{thing.get('peer_id', thing['user_id'])}",
        )
    return None
