from okno.platform.database import sql_migration

ID = "2026-12-01T10:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Destruction: the tables each act touched are rewritten (VACUUM FULL) after commit"

SQL = """
-- VACUUM cannot run in the destruction's transaction: the act records the tables to rewrite
-- here, in the same transaction, and the rewrite runs after commit on its own connection (and
-- again from the background job until it has succeeded). No PD: table names and times only.
CREATE TABLE erasure_compaction (
    act_id bigint PRIMARY KEY REFERENCES destruction_act (id) ON DELETE CASCADE,
    tables text[] NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    done_at timestamptz
);
CREATE INDEX erasure_compaction_pending ON erasure_compaction (requested_at)
    WHERE done_at IS NULL;
"""


async def forwards() -> object:
    return sql_migration(ID, "erasure", DESCRIPTION, SQL)
