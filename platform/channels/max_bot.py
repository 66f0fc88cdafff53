"""The MAX Bot API (dev.max.ru/docs-api): long polling ``GET /updates`` with a marker, webhook
updates carrying ``X-Max-Bot-Api-Secret``, ``POST /messages?user_id=`` with an inline keyboard,
``POST /answers`` for a button press. The token goes in the ``Authorization`` header.

MAX has no idempotency key for sending: a send whose answer was lost (a time-out after the
request left) is the one case where a retry could show a message twice; docs/channels.md.
"""

from __future__ import annotations

from typing import Any

import httpx

from okno.platform.channels.errors import RejectedError, TransientError
from okno.platform.channels.schemas import Inbound, Outgoing

OFFICIAL_URL = "https://platform-api.max.ru"
SECRET_HEADER = "x-max-bot-api-secret"  # noqa: S105 — a header name, not a secret
UPDATE_TYPES = "message_created,message_callback"
POLL_SECONDS = 20
CALL_SECONDS = 10.0


class MaxBot:
    def __init__(self, api_url: str, secrets: dict[str, str]) -> None:
        self.api_url = api_url.rstrip("/")
        self.token = secrets["token"]
        self.call_seconds = CALL_SECONDS

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        wait_seconds: float | None = None,
    ) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=wait_seconds or self.call_seconds) as client:
                answer = await client.request(
                    method,
                    self.api_url + path,
                    params=params,
                    json=json,
                    headers={"Authorization": self.token},
                )
        except httpx.TimeoutException:
            raise TransientError("MAX не ответил вовремя") from None
        except httpx.HTTPError as error:
            raise TransientError(f"MAX недоступен ({type(error).__name__})") from None
        if answer.status_code == 200:
            body: dict[str, Any] = answer.json()
            return body
        code = _error_code(answer)
        if answer.status_code == 429:
            raise TransientError("MAX: слишком много запросов, повторим позже")
        if answer.status_code == 401:
            raise TransientError("MAX не принял токен бота: проверьте его в настройках канала")
        if answer.status_code >= 500:
            raise TransientError(f"MAX временно не работает (ответ {answer.status_code})")
        if answer.status_code in (403, 404):
            raise RejectedError(f"MAX не даёт написать этому пользователю ({code})")
        raise RejectedError(f"MAX отклонил запрос ({code})")

    async def poll(self, state: str) -> tuple[list[Inbound], str]:
        """One long poll: the updates after ``state`` (the marker) and the next marker."""
        params: dict[str, Any] = {"timeout": POLL_SECONDS, "types": UPDATE_TYPES}
        if state:
            params["marker"] = state
        body = await self._call("GET", "/updates", params=params, wait_seconds=POLL_SECONDS + 10)
        updates = [parsed for item in body.get("updates", []) if (parsed := parse(item))]
        marker = body.get("marker")
        return updates, str(marker) if marker is not None else state

    async def send(self, user_id: str, message: Outgoing, key: int) -> str:
        """Send; the message id MAX gave. (``key`` is unused: MAX takes no idempotency key.)"""
        payload: dict[str, Any] = {"text": message.text}
        if message.buttons:
            rows = [
                [{"type": "callback", "text": button.label, "payload": button.payload}]
                for button in message.buttons
            ]
            payload["attachments"] = [{"type": "inline_keyboard", "payload": {"buttons": rows}}]
        body = await self._call("POST", "/messages", params={"user_id": user_id}, json=payload)
        return str(body.get("message", {}).get("body", {}).get("mid", ""))

    async def answer(self, update: Inbound, text: str) -> None:
        """Tell MAX the press was handled (the user sees ``text`` as a notification)."""
        await self._call(
            "POST",
            "/answers",
            params={"callback_id": update.callback_id},
            json={"notification": text},
        )


def _error_code(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("code", answer.status_code))
    except ValueError:
        return str(answer.status_code)


def parse(update: dict[str, Any]) -> Inbound | None:
    """okno's reading of one MAX Update; ``None`` for what okno does not handle."""
    kind = update.get("update_type")
    if kind == "message_created":
        message = update.get("message") or {}
        if (message.get("recipient") or {}).get("chat_type", "dialog") != "dialog":
            return None  # a group chat the bot sits in is not a client's conversation
        body, sender = message.get("body") or {}, message.get("sender") or {}
        if not body.get("mid") or sender.get("user_id") is None or sender.get("is_bot"):
            return None
        return Inbound(f"mid:{body['mid']}", str(sender["user_id"]), text=body.get("text") or "")
    if kind == "message_callback":
        callback = update.get("callback") or {}
        user = callback.get("user") or {}
        if not callback.get("callback_id") or user.get("user_id") is None:
            return None
        return Inbound(
            f"callback:{callback['callback_id']}",
            str(user["user_id"]),
            payload=str(callback.get("payload") or ""),
            callback_id=str(callback["callback_id"]),
        )
    return None
