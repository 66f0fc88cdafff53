"""What the webhooks' console page shows."""

from __future__ import annotations

from datetime import datetime

import msgspec


class Failure(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    event_id: str
    event: str
    attempts: int
    status: str  # pending (to be retried) or failed (given up after a day)
    last_status: int | None
    last_response: str
    next_attempt_at: datetime
    created_at: datetime


class Endpoint(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    url: str
    events: tuple[str, ...]
    pd_scope: str
    paused_at: datetime | None
    paused_by: str | None
    failures: int
    last_attempt_at: datetime | None
    last_status: int | None
    last_response: str
    pending: int
    delivered: int
    failed: int
    recent_failures: tuple[Failure, ...] = ()


class Created(msgspec.Struct, frozen=True):
    """A new endpoint and its secret: the only time the secret is shown."""

    id: int
    secret: str
