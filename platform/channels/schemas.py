"""What crosses the channels' boundaries: an update as okno reads it from any messenger, a
message as it goes out, and what the console shows of a channel."""

from __future__ import annotations

from datetime import datetime

import msgspec

KIND_LABELS = {"max": "MAX", "vk": "ВКонтакте"}


class Inbound(msgspec.Struct, frozen=True):
    """One update from a messenger: a message, or a press on one of okno's inline buttons."""

    update_key: str  # the messenger's own id of the update: the idempotency key
    user_id: str
    text: str = ""
    payload: str | None = None  # a press: "<seq>|<button id>"
    callback_id: str | None = None  # what the messenger wants answered for a press


class Button(msgspec.Struct, frozen=True):
    payload: str  # "<seq>|<button id>"
    label: str


class Outgoing(msgspec.Struct, frozen=True):
    text: str
    buttons: tuple[Button, ...] = ()


class ChannelForm(msgspec.Struct, frozen=True, kw_only=True):
    """An admin's connection of a channel (secrets included; they are sealed at once)."""

    kind: str
    name: str
    topic: int | None = None
    receive: str = "poll"
    api_url: str = ""
    token: str = ""
    group_id: str = ""  # VK's community id
    webhook_secret: str = ""  # MAX: X-Max-Bot-Api-Secret; VK: the Callback API secret key
    confirmation: str = ""  # VK's Callback API confirmation string


class ChannelHealth(msgspec.Struct, frozen=True):
    id: int
    kind: str
    kind_label: str
    name: str
    topic: str | None
    receive: str
    enabled: bool
    last_update_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    queued: int
    failed: int
    webhook_path: str


class Delivery(msgspec.Struct, frozen=True):
    """An outbound message's state as the operator sees it."""

    seq: int
    state: str  # queued, sent, failed
    mark: str  # ⏳, ✓, «не доставлено»
    reason: str | None
