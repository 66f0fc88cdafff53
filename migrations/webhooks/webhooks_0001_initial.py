from okno.platform.database import sql_migration

ID = "2026-12-01T15:25:17:000000"
VERSION = "1.38.0"
DESCRIPTION = "Webhooks: the endpoints an admin registers, and the outbox of their deliveries"

SQL = """
CREATE TABLE webhook_endpoint (
    id bigserial PRIMARY KEY,
    url text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
    events text[] NOT NULL CHECK (cardinality(events) > 0),
    pd_scope text NOT NULL DEFAULT 'ids' CHECK (pd_scope IN ('ids', 'pd')),
    -- The signing secret, encrypted with a key derived from the server's secret key.
    secret bytea NOT NULL,
    paused_at timestamptz,
    -- 'admin' paused it on the page; 'failures' the delivery worker did (the admin is told).
    paused_by text CHECK (paused_by IN ('admin', 'failures')),
    failures integer NOT NULL DEFAULT 0,
    last_attempt_at timestamptz,
    last_status integer,
    last_response text NOT NULL DEFAULT '',
    created_by bigint NOT NULL REFERENCES staff_user (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((paused_at IS NULL) = (paused_by IS NULL))
);

-- One row per event and endpoint, written in the transaction of the change it reports.
CREATE TABLE webhook_delivery (
    seq bigserial PRIMARY KEY,
    event_id uuid NOT NULL,
    endpoint_id bigint NOT NULL REFERENCES webhook_endpoint (id) ON DELETE CASCADE,
    event text NOT NULL,
    conversation_id bigint,
    subject_id uuid,
    payload jsonb NOT NULL,
    -- The personal data the endpoint's scope adds to the payload; destruction empties it.
    pd jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    last_status integer,
    last_response text NOT NULL DEFAULT '',
    UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_delivery_due ON webhook_delivery (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_delivery_order ON webhook_delivery (endpoint_id, conversation_id, seq)
    WHERE status = 'pending';
CREATE INDEX webhook_delivery_subject_order ON webhook_delivery (endpoint_id, subject_id, seq)
    WHERE status = 'pending';
CREATE INDEX webhook_delivery_subject ON webhook_delivery (subject_id);
CREATE INDEX webhook_delivery_done ON webhook_delivery (created_at) WHERE status <> 'pending';
"""


async def forwards() -> object:
    return sql_migration(ID, "webhooks", DESCRIPTION, SQL)
