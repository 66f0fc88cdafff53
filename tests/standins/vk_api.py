"""A stand-in of the VK API for community messages (dev.vk.com), as far as okno uses it.

Written from the public documentation: ``POST /method/<name>`` with ``access_token`` and ``v``,
answering ``{"response": ...}`` or ``{"error": {"error_code", "error_msg"}}`` (5 authorization
failed, 6 too many requests per second, 9 flood control, 10 internal error, 100 a parameter
missing or invalid, 901 the user has not allowed the community to write). The Bots Long Poll
API: ``groups.getLongPollServer`` gives ``server``, ``key`` and ``ts``; ``act=a_check`` answers
``{"ts", "updates"}`` or ``{"failed": 1|2|3}``. Events ``message_new`` (``object.message``) and
``message_event`` (a callback button: ``event_id``, ``payload`` as an object).
``messages.send`` needs ``random_id``: a repeat with a ``random_id`` already used for that
peer is not sent again and answers the first message's id. The Callback API: ``confirmation``
answered with the community's string, other events carry ``secret``. Fidelity notes:
docs/channels.md.
"""

from __future__ import annotations

import json
import secrets
import urllib.request
from typing import Any

from tests.standins.common import Answer, Request, StandIn

LONG_POLL_CAP_SECONDS = 1.0  # the real server waits up to ``wait`` (90 s at most)


def error(code: int, message: str) -> Answer:
    return Answer(200, {"error": {"error_code": code, "error_msg": message, "request_params": []}})


class VkApi(StandIn):
    def __init__(self, token: str, group_id: int) -> None:
        self.token, self.group_id = token, group_id
        self.key = secrets.token_hex(8)
        self.events: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.random_ids: dict[tuple[int, int], int] = {}
        self.event_answers: list[dict[str, str]] = []
        self.allowed: set[int] = set()
        self.faults: list[Answer] = []  # answers to the next messages.send calls
        self.message_ids = 0
        super().__init__()

    # ------------------------------------------------ what a user does in VK

    def user_writes(self, user_id: int, text: str) -> dict[str, Any]:
        with self.lock:
            self.message_ids += 1
            message_id = self.message_ids
        event = self._event(
            "message_new",
            {
                "message": {
                    "id": message_id,
                    "date": 0,
                    "from_id": user_id,
                    "peer_id": user_id,
                    "text": text,
                    "conversation_message_id": message_id,
                },
                "client_info": {"button_actions": ["text", "callback"], "keyboard": True},
            },
        )
        self._add(event, user_id)
        return event

    def user_presses(self, user_id: int, payload: str) -> dict[str, Any]:
        event = self._event(
            "message_event",
            {
                "user_id": user_id,
                "peer_id": user_id,
                "event_id": secrets.token_hex(6),
                "payload": json.loads(payload),
                "conversation_message_id": 1,
            },
        )
        self._add(event, user_id)
        return event

    def _event(self, kind: str, thing: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": kind,
            "object": thing,
            "group_id": self.group_id,
            "event_id": secrets.token_hex(20),
            "v": "5.199",
        }

    def _add(self, event: dict[str, Any], user_id: int | None) -> None:
        with self.lock:
            if user_id is not None:
                self.allowed.add(user_id)
            self.events.append(event)
            self.lock.notify_all()

    def redeliver(self, event: dict[str, Any]) -> None:
        self._add(event, None)

    def post_callback(self, url: str, event: dict[str, Any], secret: str | None) -> tuple[int, str]:
        """Deliver ``event`` as the Callback API does (``secret`` in the body)."""
        body = {**event, **({"secret": secret} if secret is not None else {})}
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return int(answer.status), answer.read().decode()
        except urllib.error.HTTPError as failed:
            return int(failed.code), failed.read().decode()

    def sent_to(self, user_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.sent if m["peer_id"] == user_id]

    # ------------------------------------------------ the API

    def route(self, request: Request) -> Answer:
        if request.path == "/lp":
            return self._long_poll(request)
        if not request.path.startswith("/method/"):
            return Answer(404, "not found")
        params = {**request.query, **request.form()}
        if params.get("access_token") != self.token:
            return error(5, "User authorization failed: invalid access_token (4).")
        if not params.get("v"):
            return error(8, "Invalid request: v (version) is required")
        method = request.path.removeprefix("/method/")
        if method == "groups.getLongPollServer":
            if params.get("group_id") != str(self.group_id):
                return error(100, "One of the parameters specified was missing or invalid")
            return Answer(
                200, {"response": {"key": self.key, "server": f"{self.url}/lp", "ts": "0"}}
            )
        if method == "messages.send":
            return self._send(params)
        if method == "messages.sendMessageEventAnswer":
            with self.lock:
                self.event_answers.append(params)
            return Answer(200, {"response": 1})
        return error(3, "Unknown method passed")

    def _long_poll(self, request: Request) -> Answer:
        if request.query.get("act") != "a_check" or request.query.get("key") != self.key:
            return Answer(200, {"failed": 2})
        ts = int(request.query.get("ts") or 0)
        wait = min(float(request.query.get("wait") or 25), LONG_POLL_CAP_SECONDS)
        with self.lock:
            self.lock.wait_for(lambda: len(self.events) > ts, timeout=wait)
            return Answer(200, {"ts": str(len(self.events)), "updates": self.events[ts:]})

    def _send(self, params: dict[str, str]) -> Answer:
        if "random_id" not in params or not params.get("peer_id", "").lstrip("-").isdigit():
            return error(100, "One of the parameters specified was missing or invalid: random_id")
        peer, random_id = int(params["peer_id"]), int(params["random_id"])
        if len(params.get("message", "")) > 4096:
            return error(914, "Message is too long")
        if "keyboard" in params:
            keyboard = json.loads(params["keyboard"])
            for row in keyboard["buttons"]:
                for button in row:
                    action = button["action"]
                    if action["type"] != "callback" or len(action["payload"]) > 255:
                        return error(911, "Keyboard format is invalid")
        with self.lock:
            fault = self.faults.pop(0) if self.faults else None
            if fault is not None and not fault.drop:
                return fault
            if peer not in self.allowed:
                return error(901, "Can't send messages for users without permission")
            if (peer, random_id) in self.random_ids:  # VK's idempotency: not sent again
                message_id = self.random_ids[(peer, random_id)]
            else:
                self.message_ids += 1
                message_id = self.random_ids[(peer, random_id)] = self.message_ids
                self.sent.append(
                    {
                        "id": message_id,
                        "peer_id": peer,
                        "random_id": random_id,
                        "message": params.get("message", ""),
                        "keyboard": json.loads(params["keyboard"])
                        if "keyboard" in params
                        else None,
                    }
                )
        if fault is not None:
            return fault
        return Answer(200, {"response": message_id})
