from okno.platform.database import sql_migration

ID = "2026-11-22T20:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Mailings: only to subjects with an advertising consent for the channel, resumable"

SQL = """
ALTER TABLE conversation ADD COLUMN tags text[] NOT NULL DEFAULT '{}';

CREATE TABLE mailing (
    id bigserial PRIMARY KEY,
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    image_id text REFERENCES attachment (id),
    links jsonb NOT NULL DEFAULT '[]',
    email boolean NOT NULL DEFAULT false,
    topics text[] NOT NULL DEFAULT '{}',
    tags text[] NOT NULL DEFAULT '{}',
    contacted_within_days integer CHECK (contacted_within_days BETWEEN 1 AND 3650),
    status text NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'scheduled', 'sending', 'sent', 'cancelled')),
    scheduled_at timestamptz,
    created_by bigint NOT NULL REFERENCES staff_user (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz
);

CREATE TABLE mailing_delivery (
    mailing_id bigint NOT NULL REFERENCES mailing (id),
    subject_id uuid NOT NULL REFERENCES subject (id),
    channel text NOT NULL CHECK (channel IN ('chat', 'email')),
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'skipped', 'failed')),
    reason text,
    conversation_id bigint REFERENCES conversation (id),
    message_seq bigint,
    delivered_at timestamptz,
    unsubscribed_at timestamptz,
    PRIMARY KEY (mailing_id, subject_id, channel)
);
CREATE INDEX mailing_delivery_pending ON mailing_delivery (mailing_id) WHERE status = 'pending';
"""


async def forwards() -> object:
    return sql_migration(ID, "mailings", DESCRIPTION, SQL)
