"""A stand-in of the MAX Bot API (dev.max.ru/docs-api), as far as okno uses it.

Written from the public documentation: the token in the ``Authorization`` header (401
``verify.token`` otherwise); ``GET /updates`` long polling with ``marker`` and ``timeout``
answering ``{"updates": [...], "marker": N}``; Update objects ``message_created`` (``message``
with ``sender``, ``recipient`` and ``body.mid``/``body.text``) and ``message_callback``
(``callback.callback_id``, ``callback.payload``, ``callback.user``); ``POST /messages?user_id=``
with ``text`` and an ``inline_keyboard`` attachment of callback buttons, answering
``{"message": {...}}``; ``POST /answers?callback_id=``; webhook calls (a subscription's POST
with ``X-Max-Bot-Api-Secret``); errors as
``{"code", "message"}``; 429 ``too.many.requests`` for the rate limit. The bot may write only to
a user who wrote to it (403 ``chat.denied``). Fidelity notes: docs/channels.md.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.request
from typing import Any

from tests.standins.common import Answer, Request, StandIn

LONG_POLL_CAP_SECONDS = 1.0  # the real API waits up to ``timeout`` (90 s at most)


class MaxApi(StandIn):
    def __init__(self, token: str) -> None:
        self.token = token
        self.updates: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []  # every accepted message, in order
        self.answers: list[dict[str, Any]] = []
        self.wrote: set[int] = set()
        self.faults: list[Answer] = []  # answers to the next sends, instead of accepting
        self.polling = self.most_polling = 0  # long polls in flight now, and at most
        super().__init__()

    # ------------------------------------------------ what a user does in MAX

    def user_writes(self, user_id: int, text: str) -> dict[str, Any]:
        update = {
            "update_type": "message_created",
            "timestamp": int(time.time() * 1000),
            "message": {
                "sender": {"user_id": user_id, "name": "Клиент", "is_bot": False},
                "recipient": {"chat_id": user_id, "chat_type": "dialog"},
                "timestamp": int(time.time() * 1000),
                "body": {
                    "mid": f"mid.{secrets.token_hex(8)}",
                    "seq": len(self.updates),
                    "text": text,
                },
            },
        }
        self._add(update, user_id)
        return update

    def user_presses(self, user_id: int, payload: str) -> dict[str, Any]:
        update = {
            "update_type": "message_callback",
            "timestamp": int(time.time() * 1000),
            "callback": {
                "callback_id": f"cb.{secrets.token_hex(8)}",
                "payload": payload,
                "user": {"user_id": user_id, "name": "Клиент"},
                "timestamp": int(time.time() * 1000),
            },
        }
        self._add(update, user_id)
        return update

    def redeliver(self, update: dict[str, Any]) -> None:
        """MAX delivers an update again (after a lost answer): the same ids."""
        self._add(update, None)

    def _add(self, update: dict[str, Any], user_id: int | None) -> None:
        with self.lock:
            if user_id is not None:
                self.wrote.add(user_id)
            self.updates.append(update)
            self.lock.notify_all()

    def post_webhook(self, url: str, secret: str, update: dict[str, Any]) -> int:
        """Deliver ``update`` as MAX does to a subscription: POST with the secret header."""
        request = urllib.request.Request(
            url,
            data=json.dumps(update).encode(),
            headers={"content-type": "application/json", "X-Max-Bot-Api-Secret": secret},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    def sent_to(self, user_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.sent if m["recipient"]["user_id"] == user_id]

    # ------------------------------------------------ the API

    def route(self, request: Request) -> Answer:
        if request.headers.get("authorization") != self.token:
            return Answer(401, {"code": "verify.token", "message": "Invalid access_token"})
        if request.method == "GET" and request.path == "/updates":
            return self._updates(request)
        if request.method == "POST" and request.path == "/messages":
            return self._send(request)
        if request.method == "POST" and request.path == "/answers":
            if not request.query.get("callback_id"):
                return Answer(400, {"code": "proto.payload", "message": "callback_id is required"})
            with self.lock:
                self.answers.append({"callback_id": request.query["callback_id"], **request.json()})
            return Answer(200, {"success": True})
        return Answer(404, {"code": "not.found", "message": "Path not found"})

    def _updates(self, request: Request) -> Answer:
        marker = int(request.query.get("marker") or 0)
        wait = min(float(request.query.get("timeout") or 30), LONG_POLL_CAP_SECONDS)
        types = set((request.query.get("types") or "").split(",")) - {""}
        with self.lock:
            self.polling += 1
            self.most_polling = max(self.most_polling, self.polling)
            self.lock.wait_for(lambda: len(self.updates) > marker, timeout=wait)
            self.polling -= 1
            batch = [u for u in self.updates[marker:] if not types or u["update_type"] in types]
            return Answer(200, {"updates": batch, "marker": len(self.updates)})

    def _send(self, request: Request) -> Answer:
        user_id = int(request.query.get("user_id") or 0)
        body = request.json()
        text = body.get("text") or ""
        if len(text) > 4000:
            return Answer(400, {"code": "proto.payload", "message": "text: size must be <= 4000"})
        for attachment in body.get("attachments") or []:
            if attachment.get("type") != "inline_keyboard":
                return Answer(400, {"code": "proto.payload", "message": "unknown attachment"})
            for row in attachment["payload"]["buttons"]:
                for button in row:
                    if button.get("type") != "callback" or not button.get("payload"):
                        return Answer(400, {"code": "proto.payload", "message": "bad button"})
        with self.lock:
            fault = self.faults.pop(0) if self.faults else None
            if fault is not None and not fault.drop:
                return fault  # refused before acting: nothing was sent
            if user_id not in self.wrote:
                return Answer(403, {"code": "chat.denied", "message": "dialog is not started"})
            message = {
                "sender": {"user_id": 1, "name": "okno", "is_bot": True},
                "recipient": {"user_id": user_id, "chat_type": "dialog"},
                "timestamp": int(time.time() * 1000),
                "body": {
                    "mid": f"mid.{secrets.token_hex(8)}",
                    "seq": len(self.sent),
                    "text": text,
                    "attachments": body.get("attachments") or [],
                },
            }
            self.sent.append(message)
        if fault is not None:
            return fault  # sent, but the answer is lost on the way back
        return Answer(200, {"message": message})
