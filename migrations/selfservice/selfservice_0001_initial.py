from okno.platform.database import sql_migration

ID = "2026-11-22T20:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "The subject's portal: sessions, one-time e-mail codes, exports, the mail outbox"

SQL = """
CREATE TABLE portal_session (
    token_hash bytea PRIMARY KEY,
    subject_id uuid NOT NULL REFERENCES subject (id),
    via text NOT NULL CHECK (via IN ('visitor', 'code')),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX portal_session_subject ON portal_session (subject_id);

-- One row per code asked for, also for addresses nobody holds (subject_id NULL): the rate
-- limits and the answers are then the same whether an address is known or not. Address and IP
-- are kept only as keyed hashes, the code only as a keyed hash.
CREATE TABLE portal_code (
    id bigserial PRIMARY KEY,
    login_hash bytea NOT NULL UNIQUE,
    subject_id uuid REFERENCES subject (id),
    address_hash bytea NOT NULL,
    ip_hash bytea,
    code_hash bytea NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX portal_code_address ON portal_code (address_hash, created_at);
CREATE INDEX portal_code_ip ON portal_code (ip_hash, created_at);
CREATE INDEX portal_code_subject ON portal_code (subject_id);

CREATE TABLE portal_export (
    id text PRIMARY KEY,
    subject_id uuid NOT NULL REFERENCES subject (id),
    format text NOT NULL CHECK (format IN ('json', 'html')),
    body bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX portal_export_subject ON portal_export (subject_id);

-- Mail written to the outbox folder when no SMTP server is configured: one file per message,
-- named by a random id, so that destruction can remove a subject's letters.
CREATE TABLE mail_outbox (
    id text PRIMARY KEY,
    subject_id uuid REFERENCES subject (id),
    path text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mail_outbox_subject ON mail_outbox (subject_id);
"""


async def forwards() -> object:
    return sql_migration(ID, "selfservice", DESCRIPTION, SQL)
