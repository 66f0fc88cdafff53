from okno.platform.database import sql_migration

ID = "2026-12-01T15:40:19:000000"
VERSION = "1.38.0"
DESCRIPTION = "Messenger channels (MAX, VK): their identities, inbound updates, outbound queue"

# channel: what an admin connected. ``secrets`` is AES-GCM ciphertext under a key derived from
# the server's secret key (okno.platform.channels.secrets); it is never shown again.
# The lease (poll_owner, poll_until) lets one worker at a time long-poll a channel.
# channel_identity: one messenger user of one channel, bound to a visitor row (the chat keys
# conversations by visitor) and, after the first message, to its subject.
# channel_inbound: the channel's own update ids, so a redelivered update is stored once.
# channel_outbound: staff and bot messages queued for the channel, one row per message.
SQL = """
CREATE TABLE channel (
    id serial PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('max', 'vk')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    topic_id integer REFERENCES topic (id),
    api_url text NOT NULL,
    receive text NOT NULL DEFAULT 'poll' CHECK (receive IN ('poll', 'webhook')),
    legal_basis text NOT NULL DEFAULT '152-fz:6.1.5',
    secrets bytea NOT NULL,
    enabled boolean NOT NULL DEFAULT true,
    poll_state text NOT NULL DEFAULT '',
    poll_owner text,
    poll_until timestamptz,
    last_update_at timestamptz,
    last_error text,
    last_error_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE channel_identity (
    id bigserial PRIMARY KEY,
    channel_id integer NOT NULL REFERENCES channel (id),
    external_id text NOT NULL,
    visitor_hash bytea NOT NULL UNIQUE,
    subject_id uuid,
    queued_seq bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel_id, external_id)
);
CREATE INDEX channel_identity_subject ON channel_identity (subject_id);
CREATE TABLE channel_inbound (
    channel_id integer NOT NULL REFERENCES channel (id),
    update_key text NOT NULL,
    identity_id bigint NOT NULL REFERENCES channel_identity (id) ON DELETE CASCADE,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, update_key)
);
CREATE TABLE channel_outbound (
    id bigserial PRIMARY KEY,
    channel_id integer NOT NULL REFERENCES channel (id),
    identity_id bigint NOT NULL REFERENCES channel_identity (id) ON DELETE CASCADE,
    conversation_id bigint NOT NULL,
    seq bigint NOT NULL,
    body text NOT NULL,
    buttons jsonb NOT NULL DEFAULT '[]',
    state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    external_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    UNIQUE (conversation_id, seq)
);
-- A consent given with a messenger's inline button names that messenger as its channel.
ALTER TABLE consent_event DROP CONSTRAINT consent_event_channel_check,
    ADD CONSTRAINT consent_event_channel_check CHECK (channel IN ('chat', 'widget',
    'prechat_form', 'portal', 'operator', 'max', 'vk'));
CREATE INDEX channel_outbound_due ON channel_outbound (next_attempt_at) WHERE state = 'queued';
"""


async def forwards() -> object:
    return sql_migration(ID, "channels", DESCRIPTION, SQL)
