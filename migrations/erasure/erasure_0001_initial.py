from okno.platform.database import sql_migration

ID = "2026-11-22T21:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Destruction acts (RKN Order 179), kept 3 years apart from the data; retention runs"

SQL = """
-- An act and its log extract, kept apart from the data they describe: no foreign key to the
-- subject (a pseudonymous id only) and never any destroyed value. Immutable; deleted only by
-- the retention job once purge_after has passed.
CREATE TABLE destruction_act (
    id bigserial PRIMARY KEY,
    subject_id uuid NOT NULL,
    request_id bigint,
    scope text NOT NULL CHECK (scope IN ('subject', 'fields')),
    act jsonb NOT NULL,
    extract jsonb NOT NULL,
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    destroyed_by bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    purge_after timestamptz NOT NULL
);
CREATE INDEX destruction_act_subject ON destruction_act (subject_id, created_at DESC);
CREATE INDEX destruction_act_purge ON destruction_act (purge_after);

CREATE FUNCTION destruction_act_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.purge_after <= now() THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'destruction acts are immutable and kept until purge_after: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER destruction_act_guard
    BEFORE UPDATE OR DELETE ON destruction_act
    FOR EACH ROW EXECUTE FUNCTION destruction_act_guard();
CREATE TRIGGER destruction_act_no_truncate
    BEFORE TRUNCATE ON destruction_act
    FOR EACH STATEMENT EXECUTE FUNCTION processing_log_refuse_change();

-- What each run of the retention job did (counts only).
CREATE TABLE retention_run (
    id bigserial PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    started_by text NOT NULL CHECK (started_by IN ('schedule', 'cli', 'console')),
    summary jsonb NOT NULL DEFAULT '{}',
    error text
);

-- The events of a rights request stay append-only, except that destruction may replace the free
-- texts written about the subject (note, notice) with a fixed marker.
CREATE FUNCTION rights_request_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (NEW.id, NEW.request_id, NEW.at, NEW.actor_kind, NEW.actor_id, NEW.from_status,
            NEW.to_status)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.request_id, OLD.at, OLD.actor_kind, OLD.actor_id, OLD.from_status,
            OLD.to_status)
       AND (NEW.note IS NOT DISTINCT FROM OLD.note OR NEW.note = '[удалено]')
       AND (NEW.notice_to_subject IS NOT DISTINCT FROM OLD.notice_to_subject
            OR NEW.notice_to_subject = '[удалено]')
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'rights request events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
DROP TRIGGER rights_request_event_append_only ON rights_request_event;
CREATE TRIGGER rights_request_event_append_only
    BEFORE UPDATE OR DELETE ON rights_request_event
    FOR EACH ROW EXECUTE FUNCTION rights_request_event_guard();
"""


async def forwards() -> object:
    return sql_migration(ID, "erasure", DESCRIPTION, SQL)
