"""Webhook endpoints and their deliveries (the outbox), declared once for Piccolo
(migrations/webhooks/ creates the tables)."""

from __future__ import annotations

from piccolo.columns import (
    JSONB,
    UUID,
    Array,
    BigInt,
    BigSerial,
    Bytea,
    Integer,
    Text,
    Timestamptz,
)
from piccolo.table import Table

from okno.platform.database import DatabaseNow


class WebhookEndpoint(Table, tablename="webhook_endpoint"):
    id = BigSerial(primary_key=True)
    url = Text()
    events = Array(base_column=Text())  # names from okno.platform.webhooks.events.EVENTS
    pd_scope = Text(default="ids")
    secret = Bytea()  # encrypted (okno.platform.webhooks.signing)
    paused_at = Timestamptz(null=True, default=None)
    paused_by = Text(null=True, default=None)
    failures = Integer(default=0)  # consecutive failed attempts
    last_attempt_at = Timestamptz(null=True, default=None)
    last_status = Integer(null=True, default=None)
    last_response = Text(default="")
    created_by = BigInt()
    created_at = Timestamptz(default=DatabaseNow())


class WebhookDelivery(Table, tablename="webhook_delivery"):
    seq = BigSerial(primary_key=True)
    event_id = UUID()
    endpoint_id = BigInt()
    event = Text()
    conversation_id = BigInt(null=True, default=None)
    subject_id = UUID(null=True, default=None)
    payload = JSONB()
    pd = JSONB(default="{}")
    created_at = Timestamptz(default=DatabaseNow())
    status = Text(default="pending")
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=DatabaseNow())
    delivered_at = Timestamptz(null=True, default=None)
    last_status = Integer(null=True, default=None)
    last_response = Text(default="")
