"""The chat settings' columns, declared to destruction: an admin's texts for every client."""

from __future__ import annotations

from okno.platform.erasure.registry import not_pd

not_pd(
    "chat_setting.key",
    "chat_setting.value",
    reason="the chat's title, greeting and widget settings, written by an admin for every client",
)
