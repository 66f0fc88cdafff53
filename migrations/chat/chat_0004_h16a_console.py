from okno.platform.database import sql_migration

ID = "2026-12-01T16:16:41:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "The operator console: snoozed conversations, each operator's notification preferences,"
    " and who has a conversation open"
)

# snoozed_until: the conversation leaves the staff lists until then (a query-time condition,
# so no job has to bring it back). console_preference: one row per staff member who changed a
# default. conversation_viewer: one row per staff socket with the conversation open; the
# socket deletes its rows when it closes, and rows of a worker that died stop counting once
# their heartbeat (seen_at) is old.
SQL = """
ALTER TABLE conversation
    ADD COLUMN snoozed_until timestamptz,
    ADD COLUMN snoozed_by bigint REFERENCES staff_user (id);
CREATE TABLE console_preference (
    staff_id bigint PRIMARY KEY REFERENCES staff_user (id),
    sound_queue boolean NOT NULL DEFAULT true,
    sound_mine boolean NOT NULL DEFAULT true,
    sound_transfer boolean NOT NULL DEFAULT true,
    volume smallint NOT NULL DEFAULT 60 CHECK (volume BETWEEN 0 AND 100),
    desktop boolean NOT NULL DEFAULT true,
    desktop_details boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE conversation_viewer (
    conversation_id bigint NOT NULL REFERENCES conversation (id) ON DELETE CASCADE,
    socket uuid NOT NULL,
    staff_id bigint NOT NULL REFERENCES staff_user (id),
    seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, socket)
);
CREATE INDEX conversation_viewer_socket ON conversation_viewer (socket);
"""


async def forwards() -> object:
    return sql_migration(ID, "chat", DESCRIPTION, SQL)
