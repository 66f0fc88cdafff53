from okno.platform.database import sql_migration

ID = "2026-12-01T16:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Reports: conversation events (created, assigned, response, resolved, reopened)"

# What the reports aggregate, one row per event, with no PD: ids, times and durations.
#
# Triggers write the rows, in the transaction of the change they record, because a status
# changes in more places than a service can see: the one-statement client send
# (chat.queries.CLIENT_SEND_PLAIN) reopens a resolved conversation inside its SQL. A WHEN
# clause keeps the hot path cheap: a client's message moves the conversation's counters
# without changing its status or assignee, so no trigger function runs for it, and a message
# trigger runs only for a staff member's reply to the client.
#
# seconds: for «assigned», how long the conversation waited in the queue (null if it did not
# wait); for «response», how long the client's oldest unanswered message waited; for
# «resolved», the time since the conversation was created or last reopened.
# first: a response that is the first staff answer since the conversation was created or
# reopened. answered: for «resolved», whether staff answered since then (no: a missed chat).
# started_at: for «response» and «resolved», when the conversation was created or reopened
# (what the SLA targets count from).
SQL = """
CREATE TABLE conversation_event (
    id bigserial PRIMARY KEY,
    conversation_id bigint NOT NULL,
    kind text NOT NULL CHECK (kind IN ('created', 'assigned', 'response', 'resolved', 'reopened')),
    at timestamptz NOT NULL DEFAULT now(),
    team_id integer,
    topic_id integer,
    staff_id bigint,
    channel text NOT NULL DEFAULT 'web',
    seconds double precision,
    first boolean NOT NULL DEFAULT false,
    answered boolean,
    started_at timestamptz
);
CREATE INDEX conversation_event_at ON conversation_event (at);
CREATE INDEX conversation_event_conversation ON conversation_event (conversation_id, at);

-- Where a conversation comes from: a messenger channel's kind (channels_0001) or the web chat.
CREATE FUNCTION conversation_channel(subject uuid) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT ch.kind FROM channel_identity ci
                     JOIN channel ch ON ch.id = ci.channel_id
                     WHERE ci.subject_id = subject LIMIT 1), 'web')
$$;

CREATE FUNCTION conversation_event_started(conversation bigint) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT max(at) FROM conversation_event
    WHERE conversation_id = conversation AND kind IN ('created', 'reopened')
$$;

CREATE FUNCTION conversation_event_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO conversation_event (conversation_id, kind, at, team_id, topic_id, channel)
    VALUES (NEW.id, 'created', NEW.created_at, NEW.team_id, NEW.topic_id,
            conversation_channel(NEW.subject_id));
    RETURN NULL;
END $$;

CREATE FUNCTION conversation_event_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    started timestamptz;
BEGIN
    IF NEW.assignee_id IS NOT NULL AND NEW.assignee_id IS DISTINCT FROM OLD.assignee_id THEN
        INSERT INTO conversation_event
            (conversation_id, kind, team_id, topic_id, staff_id, seconds, channel)
        VALUES (NEW.id, 'assigned', NEW.team_id, NEW.topic_id, NEW.assignee_id,
                extract(epoch FROM now() - OLD.waiting_since),
                conversation_channel(NEW.subject_id));
    END IF;
    IF NEW.status = 'resolved' AND OLD.status <> 'resolved' THEN
        started := conversation_event_started(NEW.id);
        INSERT INTO conversation_event
            (conversation_id, kind, team_id, topic_id, staff_id, seconds, started_at, channel,
             answered)
        VALUES (NEW.id, 'resolved', NEW.team_id, NEW.topic_id, NEW.assignee_id,
                extract(epoch FROM now() - started), started,
                conversation_channel(NEW.subject_id),
                EXISTS (SELECT 1 FROM conversation_event e WHERE e.conversation_id = NEW.id
                        AND e.kind = 'response' AND e.at >= started));
    ELSIF OLD.status = 'resolved' AND NEW.status <> 'resolved' THEN
        INSERT INTO conversation_event (conversation_id, kind, team_id, topic_id, staff_id, channel)
        VALUES (NEW.id, 'reopened', NEW.team_id, NEW.topic_id, NEW.assignee_id,
                conversation_channel(NEW.subject_id));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION conversation_event_response() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    waiting timestamptz;
    started timestamptz;
    conv record;
BEGIN
    -- The client's oldest message after the last answer before this one.
    SELECT min(m.created_at) INTO waiting FROM message m
    WHERE m.conversation_id = NEW.conversation_id AND m.author_kind = 'subject'
      AND m.seq < NEW.seq
      AND m.seq > coalesce((SELECT max(s.seq) FROM message s
                            WHERE s.conversation_id = NEW.conversation_id AND s.seq < NEW.seq
                              AND s.author_kind = 'staff' AND NOT s.internal), 0);
    IF waiting IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT team_id, topic_id, conversation_channel(subject_id) AS channel INTO conv
    FROM conversation WHERE id = NEW.conversation_id;
    started := conversation_event_started(NEW.conversation_id);
    INSERT INTO conversation_event
        (conversation_id, kind, at, team_id, topic_id, channel, staff_id, seconds, started_at,
         first)
    VALUES (NEW.conversation_id, 'response', NEW.created_at, conv.team_id, conv.topic_id,
            conv.channel,
            NEW.author_id, extract(epoch FROM NEW.created_at - waiting), started,
            NOT EXISTS (SELECT 1 FROM conversation_event e
                        WHERE e.conversation_id = NEW.conversation_id AND e.kind = 'response'
                          AND e.at >= started));
    RETURN NULL;
END $$;

CREATE TRIGGER conversation_event_created AFTER INSERT ON conversation
    FOR EACH ROW EXECUTE FUNCTION conversation_event_created();
CREATE TRIGGER conversation_event_changed AFTER UPDATE OF status, assignee_id ON conversation
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id)
    EXECUTE FUNCTION conversation_event_changed();
CREATE TRIGGER conversation_event_response AFTER INSERT ON message
    FOR EACH ROW WHEN (NEW.author_kind = 'staff' AND NOT NEW.internal)
    EXECUTE FUNCTION conversation_event_response();

-- Conversations from before the reports: their creation is known, the rest is not.
INSERT INTO conversation_event (conversation_id, kind, at, team_id, topic_id, channel)
SELECT id, 'created', created_at, team_id, topic_id, conversation_channel(subject_id)
FROM conversation;

-- Service-level targets per team or topic (a topic's wins), in working minutes.
CREATE TABLE sla_policy (
    id serial PRIMARY KEY,
    team_id integer REFERENCES team (id) ON DELETE CASCADE,
    topic_id integer REFERENCES topic (id) ON DELETE CASCADE,
    first_response_minutes integer CHECK (first_response_minutes > 0),
    resolution_minutes integer CHECK (resolution_minutes > 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((team_id IS NULL) <> (topic_id IS NULL))
);
CREATE UNIQUE INDEX sla_policy_team ON sla_policy (team_id) WHERE team_id IS NOT NULL;
CREATE UNIQUE INDEX sla_policy_topic ON sla_policy (topic_id) WHERE topic_id IS NOT NULL;
"""


async def forwards() -> object:
    return sql_migration(ID, "reports", DESCRIPTION, SQL)
