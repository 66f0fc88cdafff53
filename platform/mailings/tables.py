"""Mailings and their deliveries, declared once for Piccolo (migrations/mailings/ creates them)."""

from __future__ import annotations

from piccolo.columns import (
    JSONB,
    UUID,
    Array,
    BigInt,
    BigSerial,
    Boolean,
    Integer,
    Text,
    Timestamptz,
)
from piccolo.table import Table

from okno.platform.database import DatabaseNow


class Mailing(Table, tablename="mailing"):
    id = BigSerial(primary_key=True)
    title = Text()
    body = Text()
    image_id = Text(null=True, default=None)
    links = JSONB(default="[]")
    email = Boolean(default=False)  # also by e-mail, besides the chat
    topics = Array(Text(), default=list)
    tags = Array(Text(), default=list)
    contacted_within_days = Integer(null=True, default=None)
    status = Text(default="draft")  # draft, scheduled, sending, sent, cancelled
    scheduled_at = Timestamptz(null=True, default=None)
    created_by = BigInt()
    created_at = Timestamptz(default=DatabaseNow())
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)


class MailingDelivery(Table, tablename="mailing_delivery"):
    # The real key is (mailing_id, subject_id, channel); Piccolo has no composite keys, so
    # mailing_id stands in for the builder (every query here names all three columns).
    mailing_id = BigInt(primary_key=True)
    subject_id = UUID()
    channel = Text()  # chat, email
    status = Text(default="pending")  # pending, delivered, skipped, failed
    reason = Text(null=True, default=None)
    conversation_id = BigInt(null=True, default=None)
    message_seq = BigInt(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)
    unsubscribed_at = Timestamptz(null=True, default=None)
