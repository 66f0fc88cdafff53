from okno.platform.database import sql_migration

ID = "2026-12-01T10:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Sign-in back-off per login and per address, and a staff session's idle time"

SQL = """
-- One row per failed sign-in, also for logins nobody holds: the back-off is then the same
-- whether a login exists or not. Login and IP are kept only as keyed hashes.
CREATE TABLE staff_login_failure (
    id bigserial PRIMARY KEY,
    login_hash bytea NOT NULL,
    ip_hash bytea,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_login_failure_login ON staff_login_failure (login_hash, at);
CREATE INDEX staff_login_failure_ip ON staff_login_failure (ip_hash, at);
"""


async def forwards() -> object:
    return sql_migration(ID, "staff", DESCRIPTION, SQL)
