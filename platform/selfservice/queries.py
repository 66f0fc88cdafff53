"""Self-service's hand-written SQL, each statement named for what it does.

Written out where a statement reads or changes another feature's tables (the profile in
subject_field, the conversation, the visitor, rights requests), joins several, or must run on
the connection a page already holds (the query builder takes a pooled connection of its own
outside a transaction, which deadlocks at pool size). The portal's own tables (portal_session,
portal_code, portal_export, mail_outbox) are otherwise written through the query builder.
"""

# ---------------------------------------------------------------- the profile (subject_field)

# The subject's fields with their terms, and when the consent each was collected under was
# withdrawn (a withdrawal event names it), oldest first.
HELD_FIELDS = (
    "SELECT f.field, f.value, f.source, f.purpose, f.consent_id, f.collected_at,"
    " f.updated_at, f.retain_until, f.blocked_at,"
    " (SELECT w.at FROM consent_event w WHERE w.given_id = f.consent_id) AS withdrawn_at"
    " FROM subject_field f WHERE f.subject_id = $1 ORDER BY f.collected_at, f.field"
)

# The fields collected under one consent of the subject.
FIELDS_UNDER_CONSENT = "SELECT field FROM subject_field WHERE subject_id = $1 AND consent_id = $2"

# Block one field of the subject ($2), or all of them ($2 = 'all'), from now; the newly
# blocked are returned.
BLOCK_FIELDS = (
    "UPDATE subject_field SET blocked_at = now() WHERE subject_id = $1"
    " AND blocked_at IS NULL AND ($2::text = 'all' OR field = $2) RETURNING field"
)

# The subject holding an e-mail address, unless destroyed (the newest, if two held it).
SUBJECT_BY_EMAIL = (
    "SELECT f.subject_id FROM subject_field f JOIN subject s ON s.id = f.subject_id"
    " WHERE f.field = 'email' AND lower(f.value) = lower($1) AND s.destroyed_at IS NULL"
    " ORDER BY f.updated_at DESC LIMIT 1"
)

# ---------------------------------------------------------------- consents and purposes

# Every purpose's name, for the subject's pages.
PURPOSE_NAMES = "SELECT code, name FROM purpose"

# Every purpose with what the export states about it.
PURPOSES = "SELECT code, name, kind, legal_basis, retention_days, fields FROM purpose"

# Every consent the subject gave, newest first, with its document, purpose and withdrawal.
CONSENTS = (
    "SELECT g.id, g.purpose_code, p.name AS purpose_name, p.kind AS purpose_kind,"
    " p.fields AS purpose_fields, d.title, d.slug, g.version, g.document_sha256, g.at,"
    " g.channel, g.control, w.at AS withdrawn_at, w.channel AS withdrawn_channel,"
    " coalesce((w.details ->> 'superseded')::boolean, false) AS superseded"
    " FROM consent_event g JOIN consent_document d ON d.id = g.document_id"
    " JOIN purpose p ON p.code = g.purpose_code"
    " LEFT JOIN consent_event w ON w.given_id = g.id"
    " WHERE g.subject_id = $1 AND g.kind = 'given' ORDER BY g.id DESC"
)

# One consent the subject gave, with its purpose's kind, locked while it is withdrawn.
GIVEN_FOR_UPDATE = (
    "SELECT g.id, g.purpose_code, p.kind FROM consent_event g"
    " JOIN purpose p ON p.code = g.purpose_code"
    " WHERE g.id = $1 AND g.subject_id = $2 AND g.kind = 'given' FOR UPDATE OF g"
)

# Every consent in force of the subject with its purpose's kind, oldest first.
IN_FORCE_WITH_KIND = (
    "SELECT g.id, p.kind FROM consent_in_force g JOIN purpose p ON p.code = g.purpose_code"
    " WHERE g.subject_id = $1 ORDER BY g.id"
)

# The proof of the subject's consent events (IP address as text), for the export.
CONSENT_PROOF = "SELECT id, host(ip) AS ip, user_agent FROM consent_event WHERE subject_id = $1"
WITHDRAWAL_PROOF = (
    "SELECT given_id, host(ip) AS ip, user_agent FROM consent_event"
    " WHERE subject_id = $1 AND kind = 'withdrawn'"
)

# ---------------------------------------------------------------- conversations

# The subject's conversations with their topic and what they hold, oldest first.
CONVERSATIONS = (
    "SELECT c.id, c.status, c.created_at, c.updated_at, t.title AS topic,"
    " (SELECT count(*) FROM message m WHERE m.conversation_id = c.id AND NOT m.internal"
    "  AND m.deleted_at IS NULL) AS messages,"
    " (SELECT count(*) FROM message m WHERE m.conversation_id = c.id"
    "  AND m.author_kind = 'subject' AND m.deleted_at IS NULL) AS yours,"
    " (SELECT count(*) FROM message m WHERE m.conversation_id = c.id"
    "  AND m.attachment_id IS NOT NULL AND m.deleted_at IS NULL AND NOT m.internal)"
    "  AS attachments"
    " FROM conversation c LEFT JOIN topic t ON t.id = c.topic_id WHERE c.subject_id = $1"
    " ORDER BY c.id"
)

# A conversation's messages the subject may see (no internal notes), staff by role and
# pseudonym, attachments of messages not deleted.
MESSAGES = (
    "SELECT m.seq, m.author_kind, u.role, u.pseudonym, m.body, m.created_at, m.edited_at,"
    " m.deleted_at, a.name AS attachment_name, a.size AS attachment_size,"
    " a.content_type AS attachment_type FROM message m"
    " LEFT JOIN staff_user u ON u.id = m.author_id"
    " LEFT JOIN attachment a ON a.id = m.attachment_id AND m.deleted_at IS NULL"
    " WHERE m.conversation_id = $1 AND NOT m.internal ORDER BY m.seq"
)

# ---------------------------------------------------------------- the processing history

# The subject's processing-log rows, newest first, with the staff member's role and pseudonym.
HISTORY = (
    "SELECT l.id, l.at, l.actor_kind, l.actor_id, l.action, l.fields, l.purpose,"
    " l.legal_basis, l.reason, u.role, u.pseudonym FROM processing_log l"
    " LEFT JOIN staff_user u ON l.actor_kind = 'staff' AND u.id::text = l.actor_id"
    " WHERE l.subject_id = $1 ORDER BY l.id DESC LIMIT $2"
)

# ---------------------------------------------------------------- sessions and codes

# A live session of a subject not destroyed.
LIVE_SESSION = (
    "SELECT s.token_hash, s.subject_id, s.via, s.expires_at FROM portal_session s"
    " JOIN subject j ON j.id = s.subject_id"
    " WHERE s.token_hash = $1 AND s.expires_at > now() AND j.destroyed_at IS NULL"
)

# Whether the chat's visitor cookie may not open a session: the subject is destroyed, or the
# client signed out of the portal in that browser.
VISITOR_CLOSED = (
    "SELECT j.destroyed_at IS NOT NULL OR v.portal_closed_at IS NOT NULL"
    " FROM subject j, visitor v WHERE j.id = $1 AND v.token_hash = $2"
)

# Signed in by code: the browser's visitor cookie opens the portal again, if it is the same
# subject's as the new session ($2).
REOPEN_VISITOR = (
    "UPDATE visitor v SET portal_closed_at = NULL FROM portal_session s"
    " WHERE v.token_hash = $1 AND s.token_hash = $2 AND v.subject_id = s.subject_id"
)

# Codes asked for in the last hour for an address ($1) and from an IP address ($2).
RECENT_CODES = (
    "SELECT count(*) FILTER (WHERE address_hash = $1) AS address,"
    " count(*) FILTER (WHERE ip_hash = $2) AS ip FROM portal_code"
    " WHERE created_at > now() - interval '1 hour' AND (address_hash = $1 OR ip_hash = $2)"
)

# ---------------------------------------------------------------- rights requests

# The subject's «Удалить мои данные» request still on its way, if any.
PENDING_DELETION = (
    "SELECT id FROM rights_request WHERE subject_id = $1 AND kind = 'consent_withdrawn'"
    " AND details->>'scope' = 'all' AND status NOT IN ('refused', 'done')"
)
