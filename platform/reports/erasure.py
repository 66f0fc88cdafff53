"""The reports' columns, declared to destruction: event kinds and channels, no PD."""

from __future__ import annotations

from okno.platform.erasure.registry import not_pd

not_pd(
    "conversation_event.kind",
    "conversation_event.channel",
    reason="what happened to a conversation and when, by ids: the reports' aggregates",
)
not_pd(
    "presence_span.status",
    reason="when a staff member was online or away: their own working time, not a client's data",
)
