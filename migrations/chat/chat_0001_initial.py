from okno.platform.database import sql_migration

ID = "2026-11-22T17:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "Chat: teams, topics, visitors, conversations, messages, attachments, presence, canned"
)

SQL = """
ALTER TABLE staff_user
    ADD COLUMN max_chats integer NOT NULL DEFAULT 5 CHECK (max_chats BETWEEN 0 AND 100);

CREATE TABLE team (
    id serial PRIMARY KEY,
    name text NOT NULL UNIQUE
);
CREATE TABLE team_member (
    team_id integer NOT NULL REFERENCES team (id) ON DELETE CASCADE,
    staff_id bigint NOT NULL REFERENCES staff_user (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, staff_id)
);
CREATE TABLE topic (
    id serial PRIMARY KEY,
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{1,40}$'),
    title text NOT NULL,
    team_id integer REFERENCES team (id),
    position integer NOT NULL DEFAULT 0,
    active boolean NOT NULL DEFAULT true
);
INSERT INTO team (name) VALUES ('Поддержка');
INSERT INTO topic (slug, title, team_id, position) VALUES
    ('orders', 'Заказ и доставка', 1, 1),
    ('payment', 'Оплата и возврат', 1, 2),
    ('other', 'Другой вопрос', 1, 3);

CREATE TABLE staff_presence (
    staff_id bigint PRIMARY KEY REFERENCES staff_user (id) ON DELETE CASCADE,
    status text NOT NULL CHECK (status IN ('online', 'away', 'offline')),
    seen_at timestamptz NOT NULL DEFAULT now(),
    last_assigned_at timestamptz
);

CREATE TABLE visitor (
    token_hash bytea PRIMARY KEY,
    subject_id uuid REFERENCES subject (id),
    topic_id integer REFERENCES topic (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX visitor_subject ON visitor (subject_id);

CREATE TABLE conversation (
    id bigserial PRIMARY KEY,
    subject_id uuid NOT NULL UNIQUE REFERENCES subject (id),
    topic_id integer REFERENCES topic (id),
    team_id integer REFERENCES team (id),
    status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'open', 'pending', 'resolved')),
    assignee_id bigint REFERENCES staff_user (id),
    last_seq bigint NOT NULL DEFAULT 0,
    last_version bigint NOT NULL DEFAULT 0,
    client_read_seq bigint NOT NULL DEFAULT 0,
    staff_read_seq bigint NOT NULL DEFAULT 0,
    waiting_since timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversation_queue ON conversation (team_id, waiting_since)
    WHERE assignee_id IS NULL AND status <> 'resolved';
CREATE INDEX conversation_assignee ON conversation (assignee_id) WHERE status <> 'resolved';
CREATE INDEX conversation_updated ON conversation (updated_at DESC);

CREATE TABLE attachment (
    id text PRIMARY KEY,
    conversation_id bigint REFERENCES conversation (id),
    uploader_kind text NOT NULL CHECK (uploader_kind IN ('subject', 'staff')),
    uploader_id text NOT NULL,
    name text NOT NULL,
    content_type text NOT NULL,
    size bigint NOT NULL,
    image boolean NOT NULL,
    path text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE message (
    conversation_id bigint NOT NULL REFERENCES conversation (id),
    seq bigint NOT NULL,
    version bigint NOT NULL,
    client_id uuid NOT NULL,
    author_kind text NOT NULL CHECK (author_kind IN ('subject', 'staff', 'bot', 'system')),
    author_id bigint REFERENCES staff_user (id),
    body text NOT NULL DEFAULT '',
    reply_to bigint,
    attachment_id text REFERENCES attachment (id),
    buttons jsonb NOT NULL DEFAULT '[]',
    internal boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    edited_at timestamptz,
    deleted_at timestamptz,
    PRIMARY KEY (conversation_id, seq),
    UNIQUE (conversation_id, client_id)
);
CREATE INDEX message_version ON message (conversation_id, version);

CREATE TABLE canned_reply (
    id bigserial PRIMARY KEY,
    owner_id bigint NOT NULL REFERENCES staff_user (id) ON DELETE CASCADE,
    shortcut text NOT NULL CHECK (shortcut ~ '^[a-zа-яё0-9_-]{1,30}$'),
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
    shared boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""


async def forwards() -> object:
    return sql_migration(ID, "chat", DESCRIPTION, SQL)
