from okno.platform.database import sql_migration

ID = "2026-12-01T10:41:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Signing out of «Мои данные» closes the chat browser's way in"

SQL = """
-- Set when the client signs out of the portal in this browser: the visitor cookie then no
-- longer opens a portal session; a one-time code by e-mail does, and clears it.
ALTER TABLE visitor ADD COLUMN portal_closed_at timestamptz;
"""


async def forwards() -> object:
    return sql_migration(ID, "selfservice", DESCRIPTION, SQL)
