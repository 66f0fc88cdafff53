from okno.platform.database import sql_migration

ID = "2026-12-01T16:52:17:000000"
VERSION = "1.38.0"
DESCRIPTION = "Reports: staff presence spans (online, away), for the operators' occupancy"

# One row per stretch of «в сети» or «отошёл» of a staff member, with no PD: ids and times.
#
# A trigger on staff_presence writes them, like conversation_event's: the status changes in
# the heartbeat upsert and in the hub's sweep (chat.queries.HEARTBEAT, SWEEP_PRESENCE), and
# the WHEN clause keeps a heartbeat that changes nothing free of any trigger function, so a
# span costs one row per change, not per ping. The open span ends at the new row's seen_at:
# the moment of the change for a heartbeat, and the last heartbeat for the sweep of an
# operator whose worker died (or whose heartbeats stopped), so a crash is not counted as time
# online. At most one span per staff member is open (ended_at null).
SQL = """
CREATE TABLE presence_span (
    id bigserial PRIMARY KEY,
    staff_id bigint NOT NULL,
    status text NOT NULL CHECK (status IN ('online', 'away')),
    started_at timestamptz NOT NULL,
    ended_at timestamptz,
    CHECK (ended_at >= started_at)
);
CREATE INDEX presence_span_started ON presence_span (started_at);
CREATE UNIQUE INDEX presence_span_open ON presence_span (staff_id) WHERE ended_at IS NULL;

CREATE FUNCTION presence_span_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    moment timestamptz := coalesce(NEW.seen_at, now());
BEGIN
    UPDATE presence_span SET ended_at = greatest(started_at, moment)
    WHERE staff_id = NEW.staff_id AND ended_at IS NULL;
    IF NEW.status IN ('online', 'away') THEN
        INSERT INTO presence_span (staff_id, status, started_at)
        VALUES (NEW.staff_id, NEW.status, moment);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER presence_span_inserted AFTER INSERT ON staff_presence
    FOR EACH ROW WHEN (NEW.status <> 'offline') EXECUTE FUNCTION presence_span_changed();
CREATE TRIGGER presence_span_updated AFTER UPDATE OF status ON staff_presence
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION presence_span_changed();

-- The total length of a set of time ranges, in seconds (0 for none).
CREATE FUNCTION multirange_seconds(ranges tstzmultirange) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(sum(extract(epoch FROM upper(r) - lower(r))), 0)::double precision
    FROM unnest(ranges) r
$$;
"""


async def forwards() -> object:
    return sql_migration(ID, "reports", DESCRIPTION, SQL)
