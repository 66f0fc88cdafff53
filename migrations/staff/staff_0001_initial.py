from okno.platform.database import sql_migration

ID = "2026-11-22T16:50:02:000000"
VERSION = "1.38.0"
DESCRIPTION = "Staff accounts with roles, and their server-side sessions"

SQL = """
CREATE TABLE staff_user (
    id bigserial PRIMARY KEY,
    login text NOT NULL UNIQUE CHECK (login ~ '^[a-z0-9][a-z0-9._-]{1,39}$'),
    display_name text NOT NULL,
    pseudonym text NOT NULL UNIQUE,
    role text NOT NULL CHECK (role IN ('operator', 'supervisor', 'dpo', 'admin')),
    password_hash text NOT NULL,
    must_change_password boolean NOT NULL DEFAULT false,
    disabled_at timestamptz,
    failed_logins integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE staff_session (
    token_hash bytea PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES staff_user (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_session_user ON staff_session (user_id);
"""


async def forwards() -> object:
    return sql_migration(ID, "staff", DESCRIPTION, SQL)
