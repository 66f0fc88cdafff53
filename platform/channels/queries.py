"""The channels' hand-written SQL: upserts, the inbound key, the outbound queue's locks."""

# A messenger user's identity, made on their first update; two workers receiving the same
# user's first updates at once make one (the unique key decides). ``fresh``: made now.
IDENTITY = (
    "INSERT INTO channel_identity (channel_id, external_id, visitor_hash) VALUES ($1, $2, $3)"
    " ON CONFLICT (channel_id, external_id) DO UPDATE SET channel_id = EXCLUDED.channel_id"
    " RETURNING id, visitor_hash, subject_id, (xmax = 0) AS fresh"
)
# The identity's chat visitor: the chat keys a client's conversation by a visitor row.
IDENTITY_VISITOR = (
    "INSERT INTO visitor (token_hash, topic_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
)
IDENTITY_SUBJECT = "UPDATE channel_identity SET subject_id = $2 WHERE id = $1"
# The update's idempotency key: a redelivered update inserts nothing (and returns no row).
STORE_INBOUND = (
    "INSERT INTO channel_inbound (channel_id, update_key, identity_id) VALUES ($1, $2, $3)"
    " ON CONFLICT DO NOTHING RETURNING identity_id"
)
CHANNEL_HEARD = "UPDATE channel SET last_update_at = now() WHERE id = $1"
CHANNEL_FAILED = "UPDATE channel SET last_error = $2, last_error_at = now() WHERE id = $1"
CONVERSATION_OF = "SELECT id, last_version FROM conversation WHERE subject_id = $1"
CONVERSATION_SUBJECT = "SELECT subject_id FROM conversation WHERE id = $1"
# What the update's transaction leaves the conversation at, announced after it commits.
CONVERSATION_VERSION = "SELECT last_version FROM conversation WHERE id = $1"
# The latest open one-field request of the conversation: a messenger user answers it by
# writing the value, as there is no inline form in a messenger.
OPEN_FIELD_REQUEST = (
    "SELECT seq FROM message WHERE conversation_id = $1 AND author_kind = 'bot'"
    " AND form IS NOT NULL AND NOT coalesce((form ->> 'done')::boolean, false)"
    " AND form ? 'field' AND deleted_at IS NULL ORDER BY seq DESC LIMIT 1"
)

# ---------------------------------------------------------------- outbound

# Queue every staff and bot message of channel conversations not queued yet, in one
# statement for all channels: INSERT ... SELECT with the cursor moved in the same statement,
# so a message is queued once whichever worker runs it (the unique key backs it up).
QUEUE_NEW = """
WITH due AS (
    SELECT i.id AS identity_id, i.channel_id, m.conversation_id, m.seq, m.body, m.buttons,
           m.form,
           m.links
    FROM channel_identity i
    JOIN conversation c ON c.subject_id = i.subject_id
    JOIN message m ON m.conversation_id = c.id AND m.seq > i.queued_seq
    WHERE c.last_seq > i.queued_seq AND m.author_kind IN ('staff', 'bot')
      AND NOT m.internal AND m.deleted_at IS NULL
), queued AS (
    INSERT INTO channel_outbound (channel_id, identity_id, conversation_id, seq, body, buttons)
    SELECT channel_id, identity_id, conversation_id, seq, body,
           jsonb_build_object('buttons', buttons, 'links', links, 'form', form)
    FROM due ORDER BY conversation_id, seq
    ON CONFLICT (conversation_id, seq) DO NOTHING
    RETURNING identity_id, seq
)
UPDATE channel_identity i SET queued_seq = q.seq
FROM (SELECT identity_id, max(seq) AS seq FROM queued GROUP BY identity_id) q
WHERE i.id = q.identity_id AND i.queued_seq < q.seq
RETURNING i.id
"""
# Channel conversations whose cursor lags behind messages that are not to be sent (a client's
# own, internal notes): move it on so the queue statement does not re-read them.
SKIP_UNSENT = """
UPDATE channel_identity i SET queued_seq = c.last_seq
FROM conversation c
WHERE c.subject_id = i.subject_id AND c.last_seq > i.queued_seq
  AND NOT EXISTS (SELECT 1 FROM message m WHERE m.conversation_id = c.id
                  AND m.seq > i.queued_seq AND m.author_kind IN ('staff', 'bot')
                  AND NOT m.internal AND m.deleted_at IS NULL)
"""
# The oldest due message of a conversation, locked so one worker sends it. Order per
# conversation: a message is taken only when no earlier one of its conversation is queued.
TAKE_DUE = """
SELECT o.id, o.channel_id, o.conversation_id, o.seq, o.body, o.buttons, o.attempts,
       i.external_id, i.subject_id
FROM channel_outbound o JOIN channel_identity i ON i.id = o.identity_id
JOIN channel ch ON ch.id = o.channel_id AND ch.enabled
WHERE o.state = 'queued' AND o.next_attempt_at <= now()
  AND NOT EXISTS (SELECT 1 FROM channel_outbound e WHERE e.conversation_id = o.conversation_id
                  AND e.state = 'queued' AND e.seq < o.seq)
ORDER BY o.next_attempt_at, o.id
LIMIT 1
FOR UPDATE OF o SKIP LOCKED
"""
OUTBOUND_SENT = (
    "UPDATE channel_outbound SET state = 'sent', sent_at = now(), external_id = $2,"
    " attempts = attempts + 1, last_error = NULL WHERE id = $1"
)
OUTBOUND_RETRY = (
    "UPDATE channel_outbound SET attempts = attempts + 1, last_error = $2,"
    " next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1"
)
OUTBOUND_FAILED = (
    "UPDATE channel_outbound SET state = 'failed', attempts = attempts + 1, last_error = $2"
    " WHERE id = $1"
)
DELIVERIES = (
    "SELECT seq, state, last_error FROM channel_outbound WHERE conversation_id = $1 ORDER BY seq"
)
CHANNEL_QUEUE_COUNTS = (
    "SELECT channel_id, count(*) FILTER (WHERE state = 'queued') AS queued,"
    " count(*) FILTER (WHERE state = 'failed') AS failed FROM channel_outbound"
    " GROUP BY channel_id"
)

# ---------------------------------------------------------------- polling

# The lease (``$1`` a channel this worker polls; NULL: any channel nobody holds), renewed or
# taken in one conditional UPDATE, so two workers never poll the same channel.
TAKE_LEASE = """
UPDATE channel SET poll_owner = $2, poll_until = now() + make_interval(secs => $3)
WHERE id = (SELECT id FROM channel WHERE enabled AND receive = 'poll'
            AND CASE WHEN $1::integer IS NULL THEN poll_until IS NULL OR poll_until < now()
                ELSE id = $1 AND (poll_owner = $2 OR poll_until IS NULL OR poll_until < now())
                END
            ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING id, kind, api_url, secrets, poll_state, topic_id, legal_basis
"""
MOVE_MARKER = "UPDATE channel SET poll_state = $3 WHERE id = $1 AND poll_owner = $2"
RELEASE_LEASE = (
    "UPDATE channel SET poll_owner = NULL, poll_until = NULL WHERE id = $1 AND poll_owner = $2"
)

# ---------------------------------------------------------------- destruction

# A destroyed subject's channel identities go, and with them (ON DELETE CASCADE) the update
# keys received through them and every message queued for them.
ERASE_IDENTITIES = (
    "WITH gone AS (DELETE FROM channel_identity WHERE subject_id = $1 RETURNING 1)"
    " SELECT count(*) FROM gone"
)
