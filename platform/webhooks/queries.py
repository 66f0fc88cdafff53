"""The webhooks' hand-written SQL."""

# Every event some endpoint subscribes to, for the in-memory check before a change queues one.
WANTED_EVENTS = "SELECT array_agg(DISTINCT e) FROM webhook_endpoint, unnest(events) AS e"

# One event for every endpoint that wants it, in one statement (the builder has no
# INSERT…SELECT); all rows share the event's id. A paused endpoint still queues, to be sent
# when resumed. $1 event, $2 conversation, $3 subject, $4 ids-only data, $5 the PD part.
ENQUEUE = """
WITH event AS MATERIALIZED (SELECT gen_random_uuid() AS id)
INSERT INTO webhook_delivery (event_id, endpoint_id, event, conversation_id, subject_id,
                              payload, pd)
SELECT event.id, e.id, $1, $2, $3, $4::jsonb,
       CASE WHEN e.pd_scope = 'pd' THEN $5::jsonb ELSE '{}'::jsonb END
FROM event, webhook_endpoint AS e
WHERE $1 = ANY (e.events)
"""

# The same for a client's message stored by chat.queries.CLIENT_SEND_PLAIN, as two more of its
# CTEs, so the common send stays one statement ($3 is its text; ``stored`` its new row). Added
# only while some endpoint wants message.created.
CLIENT_MESSAGE_CTES = """,
webhook_event AS MATERIALIZED (SELECT gen_random_uuid() AS id),
webhook_queued AS (
    INSERT INTO webhook_delivery (event_id, endpoint_id, event, conversation_id, subject_id,
                                  payload, pd)
    SELECT ev.id, e.id, 'message.created', s.conversation_id, c.subject_id,
           jsonb_build_object('conversation_id', s.conversation_id, 'seq', s.seq,
                              'author', 'client', 'subject_id', c.subject_id),
           CASE WHEN e.pd_scope = 'pd' THEN jsonb_build_object('text', $3::text)
                ELSE '{}'::jsonb END
    FROM stored AS s JOIN conversation AS c ON c.id = s.conversation_id,
         webhook_event AS ev, webhook_endpoint AS e
    WHERE 'message.created' = ANY (e.events))"""

# The next delivery that is due, locked (SKIP LOCKED: several workers never take one twice),
# of an active endpoint, and the first pending one of its conversation (and of its subject) for
# that endpoint: an event waits until every earlier one of the same conversation or subject is
# delivered or given up. Events of one conversation are queued under its row lock, so their
# seq order is their commit order.
CLAIM_NEXT = """
SELECT d.seq, d.event_id, d.endpoint_id, d.event, d.conversation_id, d.subject_id,
       d.payload, d.pd, d.created_at, d.attempts,
       e.url, e.secret, e.pd_scope
FROM webhook_delivery AS d
JOIN webhook_endpoint AS e ON e.id = d.endpoint_id
WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND e.paused_at IS NULL
  AND NOT EXISTS (
      SELECT 1 FROM webhook_delivery AS p
      WHERE p.endpoint_id = d.endpoint_id
        AND (p.conversation_id = d.conversation_id OR p.subject_id = d.subject_id)
        AND p.status = 'pending' AND p.seq < d.seq)
ORDER BY d.seq
LIMIT 1
FOR UPDATE OF d SKIP LOCKED
"""

# After a failed attempt: the next one after the back-off (doubling, at most an hour), or given
# up once a day has passed since the event. $1 seq, $2 status, $3 response, $4 first back-off
# in seconds.
RETRY_LATER = """
UPDATE webhook_delivery
SET attempts = attempts + 1, last_status = $2, last_response = $3,
    next_attempt_at = now() + least(make_interval(secs => $4 * 2 ^ least(attempts, 20)),
                                    interval '1 hour'),
    status = CASE WHEN created_at + interval '1 day' <= now() THEN 'failed' ELSE 'pending' END
WHERE seq = $1
"""

# The endpoint's consecutive failures, and paused by the worker once they reach $4.
# $1 endpoint, $2 status, $3 response.
ENDPOINT_FAILED = """
UPDATE webhook_endpoint
SET failures = failures + 1, last_attempt_at = now(), last_status = $2, last_response = $3,
    paused_at = CASE WHEN failures + 1 >= $4 AND paused_at IS NULL THEN now() ELSE paused_at END,
    paused_by = CASE WHEN failures + 1 >= $4 AND paused_at IS NULL THEN 'failures'
                     ELSE paused_by END
WHERE id = $1
RETURNING paused_by = 'failures' AND failures = $4 AS paused_now
"""

# Delivered and given-up rows are kept a week for the page, then removed.
PURGE_OLD = """
DELETE FROM webhook_delivery
WHERE status <> 'pending' AND created_at < now() - interval '7 days'
"""

# Destruction: the PD a subject's deliveries would carry goes, delivered or not; the ids stay.
PD_ERASE = """
WITH erased AS (
    UPDATE webhook_delivery SET pd = '{}'::jsonb, last_response = ''
    WHERE subject_id = $1 AND (pd <> '{}'::jsonb OR last_response <> '')
    RETURNING 1)
SELECT count(*) FROM erased
"""

# Deliveries by endpoint and status, for the page (one endpoint's, or every one's with NULL).
COUNTS = """
SELECT endpoint_id, status, count(*) AS n FROM webhook_delivery
WHERE $1::bigint IS NULL OR endpoint_id = $1
GROUP BY 1, 2
"""
