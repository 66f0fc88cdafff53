from okno.platform.database import sql_migration

ID = "2026-11-22T16:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "The processing log: append-only (UPDATE, DELETE, TRUNCATE refused), hash-chained"

SQL = """
CREATE TABLE processing_log (
    id bigint PRIMARY KEY,
    at timestamptz NOT NULL,
    actor_kind text NOT NULL CHECK (actor_kind IN ('subject', 'staff', 'system')),
    actor_id text,
    subject_id uuid,
    action text NOT NULL CHECK (action IN (
        'collection', 'recording', 'systematization', 'accumulation', 'storage',
        'clarification', 'extraction', 'use', 'dissemination', 'provision', 'access',
        'depersonalization', 'blocking', 'deletion', 'destruction')),
    categories text[] NOT NULL,
    fields text[] NOT NULL,
    purpose text,
    legal_basis text,
    request_id bigint,
    reason text,
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL
);
CREATE INDEX processing_log_subject ON processing_log (subject_id, id);
CREATE INDEX processing_log_at ON processing_log (at);

CREATE FUNCTION processing_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'processing_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER processing_log_append_only
    BEFORE UPDATE OR DELETE ON processing_log
    FOR EACH ROW EXECUTE FUNCTION processing_log_refuse_change();
CREATE TRIGGER processing_log_no_truncate
    BEFORE TRUNCATE ON processing_log
    FOR EACH STATEMENT EXECUTE FUNCTION processing_log_refuse_change();
"""


async def forwards() -> object:
    return sql_migration(ID, "processing_log", DESCRIPTION, SQL)
