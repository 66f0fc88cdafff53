from okno.platform.database import sql_migration

ID = "2026-11-22T21:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Conversation: a stored unread count for staff; room for in-place (HOT) updates"

# Every message updates its conversation's counters. conversation_updated made each of those
# updates a new index entry in every index of the table (updated_at was indexed, and no query
# could use that index: lists sort by status first); without it and with free room on the page,
# PostgreSQL updates the row in place. staff_unread replaces a count over the conversation's
# messages that every summary ran.
SQL = """
DROP INDEX conversation_updated;
ALTER TABLE conversation SET (fillfactor = 70);
ALTER TABLE conversation ADD COLUMN staff_unread integer NOT NULL DEFAULT 0;
UPDATE conversation c SET staff_unread = (
    SELECT count(*) FROM message m
    WHERE m.conversation_id = c.id AND m.author_kind = 'subject' AND m.seq > c.staff_read_seq
);
"""


async def forwards() -> object:
    return sql_migration(ID, "chat", DESCRIPTION, SQL)
