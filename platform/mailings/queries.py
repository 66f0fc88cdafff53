"""The mailings' hand-written SQL, each statement named for what it does.

Written out where the query builder cannot say it (joins across features' tables, FILTER
aggregates, FOR UPDATE OF one table with SKIP LOCKED) or where the statement is a batch
(``executemany``) that one builder INSERT with a parameter per value would overflow.
"""

# Who a mailing's audience holds, with whether each can be reached: conversations matching the
# topics ($1), tags ($2) and last contact ($3, days), of subjects not destroyed; blocked
# subjects and the presence of an unblocked e-mail address come along for the counts.
AUDIENCE = """
SELECT c.subject_id, c.id AS conversation_id, s.blocked_at IS NOT NULL AS blocked,
       EXISTS (SELECT 1 FROM subject_field f WHERE f.subject_id = c.subject_id AND f.field = 'email'
               AND f.blocked_at IS NULL) AS has_email
FROM conversation c JOIN subject s ON s.id = c.subject_id
LEFT JOIN topic t ON t.id = c.topic_id
WHERE s.destroyed_at IS NULL
  AND (cardinality($1::text[]) = 0 OR t.slug = ANY($1::text[]))
  AND (cardinality($2::text[]) = 0 OR c.tags && $2::text[])
  AND ($3::int IS NULL OR c.updated_at >= now() - make_interval(days => $3::int))
"""

# A mailing's deliveries counted by outcome, and how many chat deliveries the client has read
# (the conversation's read mark has passed the delivered message).
REPORT = (
    "SELECT count(*) FILTER (WHERE d.status = 'delivered') AS delivered,"
    " count(*) FILTER (WHERE d.status = 'skipped') AS skipped,"
    " count(*) FILTER (WHERE d.status = 'pending') AS pending,"
    " count(*) FILTER (WHERE d.status = 'failed') AS failed,"
    " count(*) FILTER (WHERE d.unsubscribed_at IS NOT NULL) AS unsubscribed,"
    " count(*) FILTER (WHERE d.channel = 'chat' AND d.status = 'delivered'"
    "   AND c.client_read_seq >= d.message_seq) AS read"
    " FROM mailing_delivery d LEFT JOIN conversation c ON c.id = d.conversation_id"
    " WHERE d.mailing_id = $1"
)

# Why deliveries failed or were skipped, with how many each time.
FAILURES = (
    "SELECT status, channel, reason, count(*) AS n FROM mailing_delivery"
    " WHERE mailing_id = $1 AND status IN ('failed', 'skipped')"
    " GROUP BY status, channel, reason ORDER BY status, channel, reason"
)

# One pending delivery of the audience (executemany, one row per subject and channel); a
# delivery made before a restart stays as it is.
ADD_DELIVERY = (
    "INSERT INTO mailing_delivery (mailing_id, subject_id, channel, conversation_id)"
    " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
)

# The next pending delivery of a mailing that is sending, locked so that no other sender takes
# it, with the mailing's contents and whether its subject can still be reached.
NEXT_DELIVERY = (
    "SELECT d.mailing_id, d.subject_id, d.channel, d.conversation_id, m.title, m.body,"
    " m.links, m.image_id, s.blocked_at IS NOT NULL OR s.destroyed_at IS NOT NULL AS"
    " unreachable"
    " FROM mailing_delivery d JOIN mailing m ON m.id = d.mailing_id AND m.status ="
    " 'sending'"
    " JOIN subject s ON s.id = d.subject_id WHERE d.status = 'pending'"
    " ORDER BY d.mailing_id LIMIT 1 FOR UPDATE OF d SKIP LOCKED"
)

# Mailings whose every delivery is made are sent.
FINISH_SENT = (
    "UPDATE mailing SET status = 'sent', finished_at = now() WHERE status = 'sending'"
    " AND NOT EXISTS (SELECT 1 FROM mailing_delivery d WHERE d.mailing_id = mailing.id"
    " AND d.status = 'pending')"
)

# The mailings' eraser (mailings/erasure.py). Hand-written: it runs on the connection of
# destruction's transaction, and counts what it changed in the same statement (a CTE).

# A failed delivery's reason (a mail server's answer may quote the address) becomes $2.
DELIVERY_REASONS_ERASE = (
    "WITH e AS (UPDATE mailing_delivery SET reason = $2 WHERE subject_id = $1"
    " AND reason IS NOT NULL AND reason <> $2 RETURNING 1) SELECT count(*) FROM e"
)
