from okno.platform.database import sql_migration

ID = "2026-11-22T21:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "The processing log: rows are written unchained with the act; a sealer chains them after"
    " commit into processing_log_chain, which is append-only too"
)

# Chaining at write time made every PD-touching commit in the system wait for one lock. Rows
# now take ids from a sequence and are queued in processing_log_unsealed in the act's own
# statement; the sealer (platform/processing_log/service.py) moves them into the chain. The
# existing chain is carried over unchanged: the digest formula is the same, position = id.
SQL = """
CREATE SEQUENCE processing_log_id_seq OWNED BY processing_log.id;
SELECT setval(
    'processing_log_id_seq', COALESCE((SELECT max(id) FROM processing_log), 0) + 1, false
);
ALTER TABLE processing_log ALTER COLUMN id SET DEFAULT nextval('processing_log_id_seq');

CREATE TABLE processing_log_chain (
    position bigint PRIMARY KEY,
    log_id bigint NOT NULL UNIQUE,
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL
);
INSERT INTO processing_log_chain (position, log_id, prev_hash, hash)
    SELECT id, id, prev_hash, hash FROM processing_log;
ALTER TABLE processing_log DROP COLUMN prev_hash, DROP COLUMN hash;

CREATE TABLE processing_log_unsealed (log_id bigint PRIMARY KEY);

CREATE OR REPLACE FUNCTION processing_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER processing_log_chain_append_only
    BEFORE UPDATE OR DELETE ON processing_log_chain
    FOR EACH ROW EXECUTE FUNCTION processing_log_refuse_change();
CREATE TRIGGER processing_log_chain_no_truncate
    BEFORE TRUNCATE ON processing_log_chain
    FOR EACH STATEMENT EXECUTE FUNCTION processing_log_refuse_change();
"""


async def forwards() -> object:
    return sql_migration(ID, "processing_log", DESCRIPTION, SQL)
