"""The messenger channels' tables, declared once for Piccolo (migrations/channels/ creates
them): the channels an admin connected, their users, the updates received and the messages
queued for them."""

from __future__ import annotations

from piccolo.columns import (
    JSONB,
    UUID,
    BigInt,
    BigSerial,
    Boolean,
    Bytea,
    Integer,
    Serial,
    Text,
    Timestamptz,
)
from piccolo.table import Table

from okno.platform.database import DatabaseNow


class Channel(Table, tablename="channel"):
    """A connected MAX bot or VK community, with its health."""

    id = Serial(primary_key=True)
    kind = Text()  # max, vk
    name = Text()
    topic_id = Integer(null=True, default=None)
    api_url = Text()
    receive = Text(default="poll")  # poll, webhook
    legal_basis = Text(default="152-fz:6.1.5")
    secrets = Bytea()  # AES-GCM ciphertext (channels.secrets), never shown again
    enabled = Boolean(default=True)
    poll_state = Text(default="")  # MAX's marker, VK's long-poll ts
    poll_owner = Text(null=True, default=None)
    poll_until = Timestamptz(null=True, default=None)
    last_update_at = Timestamptz(null=True, default=None)
    last_error = Text(null=True, default=None)
    last_error_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=DatabaseNow())


class ChannelIdentity(Table, tablename="channel_identity"):
    """One messenger user of one channel: their chat visitor and, once they wrote, subject."""

    id = BigSerial(primary_key=True)
    channel_id = Integer()
    external_id = Text()
    visitor_hash = Bytea()
    subject_id = UUID(null=True, default=None)
    queued_seq = BigInt(default=0)  # the last message of the conversation queued outbound
    created_at = Timestamptz(default=DatabaseNow())


class ChannelInbound(Table, tablename="channel_inbound"):
    # The real key is (channel_id, update_key); Piccolo has no composite keys.
    channel_id = Integer()
    update_key = Text(primary_key=True)
    identity_id = BigInt()
    received_at = Timestamptz(default=DatabaseNow())


class ChannelOutbound(Table, tablename="channel_outbound"):
    """A staff or bot message to send to the channel, and how its delivery went."""

    id = BigSerial(primary_key=True)
    channel_id = Integer()
    identity_id = BigInt()
    conversation_id = BigInt()
    seq = BigInt()
    body = Text()
    buttons = JSONB(default="[]")
    state = Text(default="queued")  # queued, sent, failed
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=DatabaseNow())
    last_error = Text(null=True, default=None)
    external_id = Text(null=True, default=None)
    created_at = Timestamptz(default=DatabaseNow())
    sent_at = Timestamptz(null=True, default=None)
