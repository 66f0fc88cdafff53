from okno.platform.database import sql_migration

ID = "2026-12-01T09:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "The staff audit log: who changed which setting, team, topic or account, old -> new"

# Append-only like the processing log: an audit trail that an admin could edit proves nothing.
# Staff changes are not processing of a client's PD, so they live apart from processing_log.
SQL = """
CREATE TABLE staff_audit (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor_id bigint REFERENCES staff_user (id),
    actor_login text NOT NULL,
    entity text NOT NULL,
    entity_key text NOT NULL,
    change text NOT NULL,
    before jsonb,
    after jsonb
);
CREATE INDEX staff_audit_at ON staff_audit (at DESC);
CREATE INDEX staff_audit_entity ON staff_audit (entity, entity_key);
CREATE FUNCTION staff_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'staff_audit is append-only';
END $$;
CREATE TRIGGER staff_audit_no_update BEFORE UPDATE OR DELETE ON staff_audit
    FOR EACH ROW EXECUTE FUNCTION staff_audit_append_only();
"""


async def forwards() -> object:
    return sql_migration(ID, "audit", DESCRIPTION, SQL)
