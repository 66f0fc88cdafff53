from okno.platform.database import sql_migration

ID = "2026-12-01T10:21:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Chat and widget settings edited in the console: title, greeting, colour, origins"

# Key -> JSON value; a missing key has okno's default. The keys and their checks live in
# okno.platform.chatsettings.service, where the console's form is validated.
SQL = """
CREATE TABLE chat_setting (
    key text PRIMARY KEY CHECK (key ~ '^[a-z_]{1,40}$'),
    value jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
"""


async def forwards() -> object:
    return sql_migration(ID, "chatsettings", DESCRIPTION, SQL)
